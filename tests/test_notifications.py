"""Notifications as an outbox: each event that gives someone work tells the right people in
the app, by SMS and in their work group's robot, through a local fake provider; failures are
retried with pauses and recorded; quiet hours, preferences and the daily digest hold."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, DeliveryAttempt, Grid, Notification, NotificationDelivery, RobotWebhook, User
from app.models.vocab import DeliveryStatus, NotificationKind, Role
from app.services import clock
from app.services.cases.deadlines import sweep_warnings
from app.services.notify import delivery, preferences
from app.services.notify.channels import signed_dingtalk_url
from app.services.notify.outbox import notify
from app.services.settings import set_setting
from tests.helpers import REPLY, Desk, register, sign_in_pages, walk_to_handling, wire_notifications

PHONES = {"officer_env": "13700000001", "sup_T1": "13700000002", "insp_V11": "13700000003",
          "command": "13700000004"}
PETITIONER = {"petitioner_name": "李四", "petitioner_phone": "13900001111", "address": "V11村工业路8号"}


@pytest.fixture
def notifying(app, city, fake_providers, monkeypatch):
    """SMS through Aliyun's SDK to the fake, a 企业微信 robot for the environment bureau and a
    signed 钉钉 robot for town T1; staff with mobile phones; no quiet hours."""
    wire_notifications(app, city, fake_providers, monkeypatch, PHONES)
    fake_providers.dingtalk_secret = "SECtest"
    db.session.add(RobotWebhook(platform="dingtalk", name="T1镇工作群", grid_id=city.grids["T1"].id,
                                url=fake_providers.url("/robot/send?access_token=t1"), secret="SECtest"))
    db.session.commit()
    return fake_providers


def _kinds(username: str) -> list[str]:
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.username == username))
    return [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                               .order_by(Notification.id))]


def _user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def _grid_id(code: str) -> int:
    return db.session.scalar(select(Grid.id).where(Grid.code == code))


def _assign(app):
    desk = Desk(app)
    case = register(desk)["case"]
    desk.act("command", case["id"], "accept", legal_track="petition", notice_text="您反映的问题已受理。")
    return desk, case


def test_assigning_a_case_tells_the_department_by_app_sms_and_its_work_group(app, notifying):
    desk, case = _assign(app)
    notifying.received.clear()
    desk.act("sup_T1", case["id"], "assign")
    assert _kinds("officer_env") == ["assigned"]
    assert _kinds("insp_V11") == ["field_task"]
    (sms,) = [r for r in notifying.delivered("aliyun") if r["to"] == [PHONES["officer_env"]]]
    assert sms["texts"] == ["交办", case["number"]]
    (wecom,) = notifying.delivered("wecom")
    assert case["number"] in wecom["texts"][0] and "交办" in wecom["texts"][0]
    # The inspector's task reaches their town's 钉钉 group, signed as the platform requires.
    (ding,) = notifying.delivered("dingtalk")
    assert ding["signed"] and "现场核查" in ding["texts"][0]
    assert desk.get("officer_env", "/api/v1/notifications/summary").get_json()["unread"] == 1


def test_no_message_ever_carries_the_petitioners_details(app, notifying):
    desk, case = _assign(app)
    desk.act("sup_T1", case["id"], "assign")
    desk.act("officer_env", case["id"], "request_return", reason="不属本单位职责")
    desk.act("sup_T1", case["id"], "reject_return", note="属环保职责")
    db.session.rollback()
    texts = [t for r in notifying.received for t in r["texts"]]
    texts += list(db.session.scalars(select(NotificationDelivery.body)))
    texts += list(db.session.scalars(select(Notification.message)))
    assert len(texts) > 8
    for text in texts:
        for value in PETITIONER.values():
            assert value not in text
    # The factory's cases carry a petitioner too: a sweep's 催办/督办 leak nothing of them either.
    with clock.travel(timedelta(days=40)):
        sweep_warnings(clock.now())
        db.session.commit()
    for text in db.session.scalars(select(NotificationDelivery.body)):
        assert "张三丰" not in text and "13812345678" not in text and "测试路1号" not in text


def test_a_failing_provider_is_retried_with_pauses_and_every_attempt_is_recorded(app, notifying):
    desk, case = _assign(app)
    notifying.fail_next = 10
    desk.act("sup_T1", case["id"], "assign")
    db.session.rollback()
    sms = db.session.scalar(select(NotificationDelivery).where(NotificationDelivery.channel == "sms",
                                                               NotificationDelivery.kind == "assigned"))
    assert (sms.status, sms.attempts) == (DeliveryStatus.PENDING, 1)
    assert "阿里云短信" in sms.last_error
    first_retry = sms.next_attempt_at
    assert delivery.deliver_due(clock.now())["sent"] == 0  # not yet: it waits a minute
    notifying.fail_next = 0
    with clock.travel(timedelta(minutes=2)):
        assert delivery.deliver_due()["sent"] >= 1
    db.session.rollback()
    sms = db.session.get(NotificationDelivery, sms.id)
    assert (sms.status, sms.attempts, sms.last_error) == (DeliveryStatus.SENT, 2, "")
    attempts = db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == sms.id)
                                  .order_by(DeliveryAttempt.id)).all()
    assert [(a.ok, a.provider) for a in attempts] == [(False, "aliyun"), (True, "aliyun")]
    assert first_retry > attempts[0].attempted_at


def test_a_delivery_that_keeps_failing_is_given_up_and_shown_to_the_admin(app, notifying, client):
    set_setting("notify_max_attempts", 2)
    db.session.commit()
    desk, case = _assign(app)
    notifying.fail_next = 100
    desk.act("sup_T1", case["id"], "assign")
    with clock.travel(timedelta(minutes=2)):
        delivery.deliver_due()
    db.session.rollback()
    failed = db.session.scalars(select(NotificationDelivery).where(NotificationDelivery.status == "failed")).all()
    assert failed and all(d.attempts == 2 for d in failed)
    sign_in_pages(client, "admin")
    page = client.get("/admin/notifications").text
    assert "发送失败" in page and "503" in page and case["number"] in page


def test_tencent_cloud_sms_is_the_other_provider(app, notifying, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "tencent")
    desk, case = _assign(app)
    desk.act("sup_T1", case["id"], "assign")
    (sms,) = [r for r in notifying.delivered("tencent") if r["to"] == ["+86" + PHONES["officer_env"]]]
    assert sms["texts"] == ["交办", case["number"]]


def test_quiet_hours_hold_ordinary_messages_but_not_urgent_ones(app, notifying):
    set_setting("notify_quiet_start_hour", 22)
    set_setting("notify_quiet_end_hour", 7)
    db.session.commit()
    night = datetime(2026, 12, 8, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with clock.frozen_at(night):
        desk, case = _assign(app)
        notifying.received.clear()
        desk.act("sup_T1", case["id"], "assign")
        assert notifying.received == []
        notify(NotificationKind.ESCALATION, [db.session.get(User, _user_id("command"))], "【督办】测试",
               db.session.get(Case, case["id"]))
        db.session.commit()
        assert [r["to"] for r in notifying.delivered("aliyun")] == [[PHONES["command"]]]
    db.session.rollback()
    held = db.session.scalar(select(NotificationDelivery).where(NotificationDelivery.kind == "assigned",
                                                                NotificationDelivery.channel == "sms"))
    assert held.next_attempt_at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 7
    with clock.frozen_at(datetime(2026, 12, 9, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai"))):
        delivery.deliver_due()
    assert [PHONES["officer_env"]] in [r["to"] for r in notifying.delivered("aliyun")]


def test_a_person_may_take_a_kind_in_the_daily_digest_and_a_role_may_turn_sms_off(app, notifying):
    officer = db.session.get(User, _user_id("officer_env"))
    preferences.set_modes({"assigned": "digest"}, user=officer)
    preferences.set_modes({"field_task": "off"}, role=Role.INSPECTOR)
    db.session.commit()
    desk, case = _assign(app)
    notifying.received.clear()
    desk.act("sup_T1", case["id"], "assign")
    assert notifying.delivered("aliyun") == []  # officer: digest; inspector: off
    assert _kinds("officer_env") == ["assigned"] and _kinds("insp_V11") == ["field_task"]  # still in the app
    delivery.send_digests()
    (digest,) = notifying.delivered("aliyun")
    assert digest["to"] == [PHONES["officer_env"]] and digest["texts"] == ["1", "交办1条"]


def test_each_step_that_gives_work_tells_the_person_who_must_act(app, notifying):
    desk = Desk(app)
    case = register(desk)["case"]
    assert "new_case" in _kinds("sup_T1")
    walk_to_handling(desk, case["id"])
    desk.act("officer_env", case["id"], "request_extension", days=10, reason="需第三方监测")
    assert _kinds("sup_T1")[-1] == "extension_requested"
    desk.act("sup_T1", case["id"], "approve_extension", notice_text="延期十天")
    assert _kinds("officer_env")[-1] == "extension_decided"
    desk.act("officer_env", case["id"], "reply", **REPLY)
    assert _kinds("sup_T1")[-1] == "review_requested"  # the reply is read before the petitioner does
    desk.act("sup_T1", case["id"], "review_redo", note="事实不清")
    assert _kinds("officer_env")[-1] == "review_redo"
    # Nobody is told of their own step.
    assert "extension_requested" not in _kinds("officer_env")


def test_a_supervisor_who_handles_a_case_himself_is_answered_by_the_command_office(app, notifying):
    # The town's only supervisor asks for an extension and replies: he cannot approve either,
    # so the command office is told (it had been told nothing, and nothing showed it the work).
    desk = Desk(app)
    case = register(desk)["case"]
    walk_to_handling(desk, case["id"])
    desk.act("sup_T1", case["id"], "request_extension", days=10, reason="需第三方监测")
    assert _kinds("command")[-1] == "extension_requested" and "extension_requested" not in _kinds("sup_T1")
    desk.act("command", case["id"], "approve_extension", notice_text="延期十天")
    desk.act("sup_T1", case["id"], "reply", **REPLY)
    assert _kinds("command")[-1] == "review_requested"


def test_a_supervisors_reminder_goes_out_like_the_clocks_by_app_sms_and_work_group(app, notifying):
    desk, case = _assign(app)
    desk.act("sup_T1", case["id"], "assign")
    notifying.received.clear()
    desk.act("sup_T1", case["id"], "remind", note="今日内回复")
    assert _kinds("officer_env")[-1] == "reminder"
    (sms,) = [r for r in notifying.delivered("aliyun") if r["to"] == [PHONES["officer_env"]]]
    assert sms["texts"] == ["催办", case["number"]]
    assert any("催办" in r["texts"][0] and case["number"] in r["texts"][0] for r in notifying.delivered("wecom"))
    # The one who pressed it is not told of their own reminder.
    assert "reminder" not in _kinds("sup_T1")


def test_the_admin_adds_a_group_robot_and_chooses_a_roles_sms(app, notifying, client):
    sign_in_pages(client, "admin")
    page = client.get("/admin/notifications")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/admin/notifications/robots", data={
        "csrf_token": token, "platform": "wecom", "name": "T2镇工作群", "unit": f"grid:{_grid_id('T2')}",
        "url": "ftp://example", "secret": ""}, follow_redirects=True)
    assert "网址" in response.text  # refused in Chinese
    response = client.post("/admin/notifications/robots", data={
        "csrf_token": token, "platform": "wecom", "name": "T2镇工作群", "unit": f"grid:{_grid_id('T2')}",
        "url": notifying.url("/cgi-bin/webhook/send?key=t2"), "secret": ""}, follow_redirects=True)
    assert "T2镇工作群" in response.text
    response = client.post("/admin/notifications/roles", data={
        "csrf_token": token, "role": "inspector", "field_task": "digest"}, follow_redirects=True)
    assert response.status_code == 200
    db.session.rollback()
    assert preferences.modes_for(role="inspector")["field_task"] == "digest"


def test_dingtalk_signature_follows_the_platform():
    # HMAC-SHA256 keyed with the secret over "timestamp\nsecret", Base64 then URL-encoded.
    url = signed_dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=x", "SECabc", 1700000000000)
    assert url == ("https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1700000000000"
                   "&sign=jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM%3D")  # openssl dgst -hmac, by hand


def test_the_phone_sync_brings_the_inspectors_new_task_until_they_have_seen_it(app, notifying):
    desk, case = _assign(app)
    desk.act("sup_T1", case["id"], "assign")
    news = desk.get("insp_V11", "/api/v1/field/bootstrap").get_json()["news"]
    assert news["unread"] == 1
    (item,) = news["items"]
    assert (item["kind"], item["kind_label"], item["case_id"]) == ("field_task", "现场核查任务", case["id"])
    assert case["number"] in item["message"]
    summary = desk.post("insp_V11", "/api/v1/notifications/read", {"ids": [item["id"]]}).get_json()
    assert summary == {"unread": 0, "items": []}
    assert desk.get("insp_V11", "/api/v1/field/bootstrap").get_json()["news"]["unread"] == 0
    # Nobody marks another person's messages read.
    desk.post("insp_V11", "/api/v1/notifications/read", {})
    assert desk.get("officer_env", "/api/v1/notifications/summary").get_json()["unread"] == 1
    bad = desk.post("insp_V11", "/api/v1/notifications/read", {"ids": ["x"]})
    assert bad.status_code == 422 and "整数" in str(bad.get_json())


def test_a_person_chooses_their_own_sms_on_the_messages_page(app, notifying, client):
    sign_in_pages(client, "officer_env")
    page = client.get("/desk/notifications").text
    assert "短信提醒方式" in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/desk/notifications/preferences", data={"csrf_token": token, "assigned": "off", "reminder": "digest"})
    db.session.rollback()
    modes = preferences.modes_for(user=db.session.get(User, _user_id("officer_env")))
    assert (modes["assigned"], modes["reminder"], modes["escalation"]) == ("off", "digest", "immediate")
