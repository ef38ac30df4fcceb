"""The channels a notification leaves the app by: SMS through a cloud provider, and the group
robots of 企业微信 (WeCom) and 钉钉 (DingTalk).

SMS providers share one small interface (``SmsProvider.send``): an approved template and its
values, because Chinese SMS platforms send only pre-approved templates. Which provider, its
keys, sign name, templates and endpoint come from the configuration (environment), so a test
or a closed network can point them at another server. A failure of any kind is raised as
``DeliveryError`` with the provider's own words, for the delivery record.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from alibabacloud_dysmsapi20170525 import models as aliyun_models
from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_tea_openapi.utils_models import Config as AliyunConfig
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as tencent_models
from tencentcloud.sms.v20210111.sms_client import SmsClient as TencentClient

from app.models import RobotWebhook
from app.models.vocab import NotifyChannel


class DeliveryError(Exception):
    """A message was not accepted; the text says why, in the provider's words."""


class SmsProvider(Protocol):
    """A cloud SMS service: sends one approved template with its values to one phone."""

    name: str

    def send(self, phone: str, template: str, params: dict[str, str]) -> None:
        """Send, or raise DeliveryError."""


class AliyunSms:
    """Aliyun SMS (阿里云短信服务, API 2017-05-25) through its official SDK."""

    name = "aliyun"

    def __init__(self, config: dict):
        self._sign_name = config["SMS_SIGN_NAME"]
        timeout_ms = int(float(config["NOTIFY_TIMEOUT_S"]) * 1000)
        self._client = AliyunClient(AliyunConfig(
            access_key_id=config["SMS_ACCESS_KEY_ID"], access_key_secret=config["SMS_ACCESS_KEY_SECRET"],
            endpoint=config["SMS_ENDPOINT"] or "dysmsapi.aliyuncs.com", protocol=config["SMS_PROTOCOL"],
            connect_timeout=timeout_ms, read_timeout=timeout_ms,
        ))

    def send(self, phone: str, template: str, params: dict[str, str]) -> None:
        """SendSms with the template's named values; anything but Code OK is a failure."""
        request = aliyun_models.SendSmsRequest(phone_numbers=phone, sign_name=self._sign_name, template_code=template,
                                               template_param=json.dumps(params, ensure_ascii=False))
        try:
            body = self._client.send_sms(request).body
        except Exception as exc:  # the SDK raises its own exception types for HTTP and network errors
            raise DeliveryError(f"阿里云短信：{_first_line(exc)}") from exc
        if body.code != "OK":
            raise DeliveryError(f"阿里云短信：{body.code} {body.message}")


class TencentSms:
    """Tencent Cloud SMS (腾讯云短信, API 2021-01-11) through its official SDK."""

    name = "tencent"

    def __init__(self, config: dict):
        self._sign_name, self._app_id = config["SMS_SIGN_NAME"], config["SMS_SDK_APP_ID"]
        http = HttpProfile(protocol=config["SMS_PROTOCOL"],
                           endpoint=config["SMS_ENDPOINT"] or "sms.tencentcloudapi.com",
                           reqTimeout=int(float(config["NOTIFY_TIMEOUT_S"])))
        keys = credential.Credential(config["SMS_ACCESS_KEY_ID"], config["SMS_ACCESS_KEY_SECRET"])
        self._client = TencentClient(keys, config["SMS_REGION"], ClientProfile(httpProfile=http))

    def send(self, phone: str, template: str, params: dict[str, str]) -> None:
        """SendSms with the template's values in order; anything but Code Ok is a failure."""
        request = tencent_models.SendSmsRequest()
        request.SmsSdkAppId, request.SignName, request.TemplateId = self._app_id, self._sign_name, template
        request.TemplateParamSet = list(params.values())
        request.PhoneNumberSet = [phone if phone.startswith("+") else f"+86{phone}"]
        try:
            statuses = self._client.SendSms(request).SendStatusSet
        except Exception as exc:  # TencentCloudSDKException, or the network's own errors
            raise DeliveryError(f"腾讯云短信：{_first_line(exc)}") from exc
        if not statuses or statuses[0].Code != "Ok":
            status = statuses[0] if statuses else None
            raise DeliveryError(f"腾讯云短信：{status.Code} {status.Message}" if status else "腾讯云短信：无发送结果")


SMS_PROVIDERS = {"aliyun": AliyunSms, "tencent": TencentSms}


def sms_provider(config: dict) -> SmsProvider | None:
    """The configured SMS provider, or None when SMS is not set up (no SMS is then queued)."""
    name = config.get("SMS_PROVIDER") or ""
    if not name:
        return None
    if name not in SMS_PROVIDERS:
        raise ValueError(f"SMS_PROVIDER must be one of {sorted(SMS_PROVIDERS)}, not {name!r}")
    return SMS_PROVIDERS[name](config)


def post_to_robot(robot: RobotWebhook, text: str, timeout_s: float) -> None:
    """Post a text message to a group robot; 钉钉 robots with a secret get the signed URL."""
    url = robot.url
    if robot.platform == NotifyChannel.DINGTALK and robot.secret:
        url = signed_dingtalk_url(url, robot.secret, int(time.time() * 1000))
    payload = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=payload, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    label = NotifyChannel(robot.platform).label
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            answer = json.loads(response.read().decode() or "{}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{label}：HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"{label}：{_first_line(exc)}") from exc
    if answer.get("errcode") != 0:
        raise DeliveryError(f"{label}：{answer.get('errcode')} {answer.get('errmsg', '')}")


def signed_dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    """钉钉's 加签: HMAC-SHA256 of "timestamp\\nsecret" keyed with the secret, Base64, URL-encoded,
    appended with the timestamp (milliseconds; the platform refuses one more than an hour off)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def _first_line(exc: Exception) -> str:
    """An exception's message, first line only and bounded (SDK messages can be long)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
