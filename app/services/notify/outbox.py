"""The outbox: one function, ``notify``, that every event giving someone work calls.

It writes the in-app message (消息, the badge and list) for each person, and queues what goes
out: an SMS to each person who has a phone and wants it (now, or in the daily digest), and
one post to each group robot of the units those people belong to. The worker sends them
after the transaction commits (``delivery``). Quiet hours hold non-urgent messages until
they end; 督办 and early warnings go at once.

Callers write the message; it names the case by number and never carries a petitioner's
name, phone, ID number or address (DOMAIN.md, Privacy).
"""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db
from app.models import Case, Grid, Notification, NotificationDelivery, RobotWebhook, User
from app.models.vocab import DeliveryStatus, NotificationKind, NotifyChannel, Role, SmsMode
from app.services import background, clock
from app.services.notify.preferences import sms_mode
from app.services.settings import get_setting

MOBILE = re.compile(r"(\+?86)?1[3-9]\d{9}")


def notify(kind: NotificationKind, users: Iterable[User], message: str, case: Case | None = None,
           now: datetime | None = None, exclude: User | None = None) -> list[Notification]:
    """Tell each of ``users`` (once each, never ``exclude``, the person who acted) about ``case``.

    Returns the in-app notifications (flushed). SMS and robot deliveries are queued with them
    and sent by the worker once the transaction commits.
    """
    now = now or clock.now()
    people = _distinct(u for u in users if u is not None and u.active and (exclude is None or u.id != exclude.id))
    if not people:
        return []
    case_id = case.id if case is not None else None
    notes = [Notification(user_id=u.id, case_id=case_id, kind=kind.value, message=message, created_at=now)
             for u in people]
    db.session.add_all(notes)
    db.session.flush()
    due = _first_send_time(kind, now)
    deliveries = _sms_deliveries(kind, people, notes, case, due, now) + _robot_deliveries(kind, people, message,
                                                                                         case_id, due, now)
    db.session.add_all(deliveries)
    db.session.flush()
    ready = [d.id for d in deliveries if d.status == DeliveryStatus.PENDING and d.next_attempt_at <= now]
    if ready:
        background.enqueue("notifications.deliver", ids=ready)
    return notes


def sms_text(kind_label: str, case_number: str) -> str:
    """The SMS as the approved work template renders it (its values: the kind and the case number)."""
    return f"您有一条{kind_label}：案件{case_number}，请及时登录第一线办理。"


def is_mobile(phone: str) -> bool:
    """A mainland mobile number (SMS cannot reach an office landline such as 0513-…)."""
    return bool(MOBILE.fullmatch(re.sub(r"[\s-]", "", phone or "")))


def _distinct(users: Iterable[User]) -> list[User]:
    """Users in order, each once."""
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())


def _sms_deliveries(kind: NotificationKind, people: list[User], notes: list[Notification], case: Case | None,
                    due: datetime, now: datetime) -> list[NotificationDelivery]:
    """An SMS for each person with a phone who has not turned this kind off (none without a provider)."""
    if not current_app.config.get("SMS_PROVIDER"):
        return []
    number = case.number if case is not None else "—"
    out = []
    for user, note in zip(people, notes, strict=True):
        mode = sms_mode(user, kind.value)
        if not is_mobile(user.phone) or mode == SmsMode.OFF:
            continue
        status = DeliveryStatus.DIGEST if mode == SmsMode.DIGEST and not kind.urgent else DeliveryStatus.PENDING
        out.append(NotificationDelivery(
            channel=NotifyChannel.SMS, kind=kind.value, urgent=kind.urgent, notification_id=note.id, user_id=user.id,
            case_id=note.case_id, body=sms_text(kind.label, number), params={"kind": kind.label, "case": number},
            status=status, attempts=0, last_error="", next_attempt_at=due, created_at=now,
        ))
    return out


def _robot_deliveries(kind: NotificationKind, people: list[User], message: str, case_id: int | None,
                      due: datetime, now: datetime) -> list[NotificationDelivery]:
    """One post to each active robot of a unit (town, department, command office) the people are in."""
    return [
        NotificationDelivery(channel=robot.platform, kind=kind.value, urgent=kind.urgent, robot_id=robot.id,
                             case_id=case_id, body=message, params={}, status=DeliveryStatus.PENDING, attempts=0,
                             last_error="", next_attempt_at=due, created_at=now)
        for robot in robots_for(people)
    ]


def robots_for(people: list[User]) -> list[RobotWebhook]:
    """The active robots of the groups these people work in: their town's (a town supervisor's,
    or a village inspector's town), their department's, and the command office's (no unit)."""
    departments = {u.department_id for u in people if u.department_id is not None}
    towns = {_town_of(u.grid_id) for u in people if u.grid_id is not None} - {None}
    groups = []
    if departments:
        groups.append(RobotWebhook.department_id.in_(departments))
    if towns:
        groups.append(RobotWebhook.grid_id.in_(towns))
    if any(u.role == Role.COMMAND_OFFICE for u in people):
        groups.append(RobotWebhook.grid_id.is_(None) & RobotWebhook.department_id.is_(None))
    if not groups:
        return []
    query = select(RobotWebhook).where(RobotWebhook.active.is_(True), or_(*groups)).order_by(RobotWebhook.id)
    return list(db.session.scalars(query))


def _town_of(grid_id: int) -> int | None:
    """The town (level 2) a grid is or lies in."""
    grid = db.session.get(Grid, grid_id)
    if grid is None:
        return None
    return grid.id if grid.level == 2 else grid.parent_id if grid.level == 3 else None


def _first_send_time(kind: NotificationKind, now: datetime) -> datetime:
    """Now, or for a non-urgent kind in quiet hours, the moment they end (city time)."""
    start, end = int(get_setting("notify_quiet_start_hour")), int(get_setting("notify_quiet_end_hour"))
    if kind.urgent or start == end:
        return now
    local = now.astimezone(ZoneInfo(current_app.config["TIME_ZONE"]))
    quiet = local.hour >= start or local.hour < end if start > end else start <= local.hour < end
    if not quiet:
        return now
    ends = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(now.tzinfo)
