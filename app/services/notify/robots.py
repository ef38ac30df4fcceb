"""Group robots the administrator adds (企业微信 / 钉钉 work groups), and the roles' SMS choices."""

import urllib.parse

from sqlalchemy import select

from app.database import get_or_404
from app.errors import InvalidInput
from app.extensions import db
from app.models import Department, Grid, RobotWebhook, User
from app.models.vocab import NotificationKind, NotifyChannel, Role, SmsMode
from app.services.admin import audit as admin_audit
from app.services.notify import preferences

ROBOT_FIELDS = ("platform", "name", "grid_id", "department_id", "active")  # never the URL's key or the secret
ROBOT_PLATFORMS = (NotifyChannel.WECOM, NotifyChannel.DINGTALK)


def list_robots() -> list[RobotWebhook]:
    """Every robot, active first, in the order they were added."""
    return list(db.session.scalars(select(RobotWebhook).order_by(RobotWebhook.active.desc(), RobotWebhook.id)))


def add_robot(actor: User, platform: str, name: str, unit: str, url: str, secret: str = "") -> RobotWebhook:
    """A work group's robot for a town (``grid:ID``), a department (``department:ID``) or the
    command office (empty); the URL is the webhook the platform gave, http or https."""
    errors = {}
    if platform not in ROBOT_PLATFORMS:
        errors["platform"] = ["请选择企业微信或钉钉"]
    if not 1 <= len(name.strip()) <= 64:
        errors["name"] = ["名称为1至64个字"]
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        errors["url"] = ["请填写平台提供的 http(s) 网址（Webhook 地址）"]
    if len(secret) > 200:
        errors["secret"] = ["加签密钥不超过200个字符"]
    grid_id, department_id = _unit(unit, errors)
    if errors:
        raise InvalidInput("群机器人信息有误：" + "；".join(m for ms in errors.values() for m in ms) + "。", errors)
    robot = RobotWebhook(platform=platform, name=name.strip(), grid_id=grid_id, department_id=department_id,
                         url=url.strip(), secret=secret.strip(), active=True)
    db.session.add(robot)
    db.session.flush()
    admin_audit.record(actor, "robot.create", "robot", robot.id, None, admin_audit.snapshot(robot, ROBOT_FIELDS))
    return robot


def _unit(unit: str, errors: dict) -> tuple[int | None, int | None]:
    """The town or department a robot serves, from the form's ``grid:ID`` / ``department:ID``."""
    kind, _, raw = unit.partition(":")
    if not unit:
        return None, None
    if kind == "grid" and raw.isdigit() and (grid := db.session.get(Grid, int(raw))) is not None and grid.level == 2:
        return grid.id, None
    if kind == "department" and raw.isdigit() and db.session.get(Department, int(raw)) is not None:
        return None, int(raw)
    errors["unit"] = ["请选择镇（街道）、部门或指挥部"]
    return None, None


def set_robot_active(actor: User, robot_id: int, active: bool) -> RobotWebhook:
    """Stop or resume posting to a robot (its record and past deliveries stay)."""
    robot = get_or_404(RobotWebhook, robot_id, "群机器人不存在。")
    before = admin_audit.snapshot(robot, ROBOT_FIELDS)
    robot.active = active
    db.session.flush()
    admin_audit.record(actor, "robot.update", "robot", robot.id, before, admin_audit.snapshot(robot, ROBOT_FIELDS))
    return robot


def masked_url(url: str) -> str:
    """A webhook URL without its key (the query holds the credential)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")


def set_role_modes(actor: User, role: str, form: dict) -> dict[str, str]:
    """Save one role's SMS choice for every kind from a form (kind → mode)."""
    if role not in Role.labels():
        raise InvalidInput("没有这个角色。", {"role": ["请选择角色"]})
    before = preferences.modes_for(role=role)
    modes = {kind.value: form.get(kind.value, before[kind.value]) for kind in NotificationKind}
    bad = [NotificationKind(k).label for k, mode in modes.items() if mode not in SmsMode.labels()]
    if bad:
        raise InvalidInput(f"短信方式有误：{'、'.join(bad)}。", {"modes": ["应为立即发送、每日汇总或不发短信"]})
    preferences.set_modes(modes, role=role)
    admin_audit.record(actor, "notify_pref.update", "role", role, before, modes)
    return modes
