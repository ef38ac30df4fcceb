"""Sending the outbox: what the worker does with each queued delivery.

``deliver(ids)`` runs right after the transaction that queued them; ``deliver_due`` runs every
minute and picks up what waited (quiet hours, a retry's pause, a worker that died mid-send);
``send_digests`` runs each morning and gathers each person's digest SMS into one. Each try is
recorded (``DeliveryAttempt``); a failure is retried after 1, 5, 15, 60, 240 … minutes until
the attempt limit, then the delivery is marked failed for the admin to see.
"""

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from app.extensions import db
from app.models import DeliveryAttempt, NotificationDelivery, RobotWebhook, User
from app.models.vocab import DeliveryStatus, NotificationKind, NotifyChannel
from app.services import clock
from app.services.notify.channels import DeliveryError, post_to_robot, sms_provider
from app.services.settings import get_setting

BACKOFF_MINUTES = (1, 5, 15, 60, 240, 720)
# A delivery left "sending" this long ago belongs to a worker that died; it is tried again.
STALE_SENDING = timedelta(minutes=10)
DIGEST_KIND = "digest"


def deliver(ids: list[int], now: datetime | None = None) -> Counter:
    """Send the given deliveries that are due; returns counts by outcome."""
    now = now or clock.now()
    query = select(NotificationDelivery.id).where(NotificationDelivery.id.in_(ids), _due(now))
    return _send_all(list(db.session.scalars(query.order_by(NotificationDelivery.id))), now)


def deliver_due(now: datetime | None = None) -> Counter:
    """Send every delivery whose time has come (the worker's minute task)."""
    now = now or clock.now()
    query = select(NotificationDelivery.id).where(_due(now)).order_by(NotificationDelivery.next_attempt_at)
    return _send_all(list(db.session.scalars(query.limit(500))), now)


def _due(now: datetime):
    """Pending and due, or stuck in sending since a worker died."""
    pending = (NotificationDelivery.status == DeliveryStatus.PENDING) & (NotificationDelivery.next_attempt_at <= now)
    stuck = ((NotificationDelivery.status == DeliveryStatus.SENDING)
             & (NotificationDelivery.next_attempt_at <= now - STALE_SENDING))
    return or_(pending, stuck)


def _send_all(ids: list[int], now: datetime) -> Counter:
    """Claim and send each delivery in turn, committing each outcome so none is sent twice."""
    counts: Counter = Counter()
    provider = None
    for delivery_id in ids:
        if not _claim(delivery_id, now):
            counts["taken"] += 1
            continue
        delivery = db.session.get(NotificationDelivery, delivery_id)
        try:
            if delivery.channel == NotifyChannel.SMS:
                provider = provider or sms_provider(current_app.config)
                _send_sms(provider, delivery)
            else:
                post_to_robot(db.session.get(RobotWebhook, delivery.robot_id), delivery.body, _timeout())
        except DeliveryError as exc:
            counts[_failed(delivery, provider_name(delivery, provider), str(exc), now)] += 1
        else:
            _succeeded(delivery, provider_name(delivery, provider), now)
            counts["sent"] += 1
        db.session.commit()
    return counts


def _claim(delivery_id: int, now: datetime) -> bool:
    """Mark a delivery as being sent, unless another worker took it first (committed at once)."""
    claimed = db.session.execute(
        update(NotificationDelivery).where(NotificationDelivery.id == delivery_id, _due(now))
        .values(status=DeliveryStatus.SENDING, next_attempt_at=now)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _send_sms(provider, delivery: NotificationDelivery) -> None:
    """Send one SMS with the template of its kind (work, or the daily digest)."""
    if provider is None:
        raise DeliveryError("短信服务未配置")
    user = db.session.get(User, delivery.user_id)
    if not user.phone:
        raise DeliveryError("收件人没有手机号码")
    digest = delivery.kind == DIGEST_KIND
    template = current_app.config["SMS_DIGEST_TEMPLATE_CODE" if digest else "SMS_TEMPLATE_CODE"]
    provider.send(user.phone, template, delivery.params)


def provider_name(delivery: NotificationDelivery, provider) -> str:
    """What the attempt went through: the SMS provider's name, or the robot's platform."""
    if delivery.channel == NotifyChannel.SMS:
        return provider.name if provider is not None else "sms"
    return delivery.channel


def _succeeded(delivery: NotificationDelivery, provider: str, now: datetime) -> None:
    delivery.attempts += 1
    delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now, ""
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, provider=provider, ok=True, error=""))


def _failed(delivery: NotificationDelivery, provider: str, error: str, now: datetime) -> str:
    """Record the failure; schedule the next try with a longer pause, or give up at the limit."""
    delivery.attempts += 1
    delivery.last_error = error
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, provider=provider, ok=False,
                                   error=error))
    if delivery.attempts >= int(get_setting("notify_max_attempts")):
        delivery.status = DeliveryStatus.FAILED
        return "failed"
    pause = BACKOFF_MINUTES[min(delivery.attempts, len(BACKOFF_MINUTES)) - 1]
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now + timedelta(minutes=pause)
    return "retrying"


def _timeout() -> float:
    return float(current_app.config["NOTIFY_TIMEOUT_S"])


# ---------------------------------------------------------------- the daily digest


def send_digests(now: datetime | None = None) -> Counter:
    """Gather each person's waiting digest SMS into one (每日汇总) and send it."""
    now = now or clock.now()
    waiting = db.session.scalars(select(NotificationDelivery).where(
        NotificationDelivery.status == DeliveryStatus.DIGEST).order_by(NotificationDelivery.id))
    by_user: dict[int, list[NotificationDelivery]] = defaultdict(list)
    for delivery in waiting:
        by_user[delivery.user_id].append(delivery)
    digests = []
    for user_id, items in by_user.items():
        kinds = Counter(NotificationKind(d.kind).label for d in items)
        summary = "、".join(f"{label}{n}条" for label, n in kinds.items())
        digest = NotificationDelivery(
            channel=NotifyChannel.SMS, kind=DIGEST_KIND, urgent=False, user_id=user_id,
            body=digest_text(len(items), summary), params={"count": str(len(items)), "summary": summary},
            status=DeliveryStatus.PENDING, attempts=0, last_error="", next_attempt_at=now, created_at=now)
        db.session.add(digest)
        for item in items:
            item.status = DeliveryStatus.DIGESTED
        digests.append(digest)
    db.session.commit()
    return deliver([d.id for d in digests], now) if digests else Counter()


def digest_text(count: int, summary: str) -> str:
    """The digest SMS as its approved template renders it (values: the count and the summary)."""
    return f"第一线每日汇总：您有{count}条消息（{summary}），请登录查看办理。"


# ---------------------------------------------------------------- for the admin


def recent_deliveries(limit: int = 200, status: str | None = None) -> list[NotificationDelivery]:
    """The newest deliveries, optionally of one status (the admin's deliveries page)."""
    query = select(NotificationDelivery).order_by(NotificationDelivery.id.desc()).limit(limit)
    if status:
        query = query.where(NotificationDelivery.status == status)
    return list(db.session.scalars(query))


def status_counts() -> dict[str, int]:
    """How many deliveries stand in each status."""
    rows = db.session.execute(select(NotificationDelivery.status, func.count()).group_by(NotificationDelivery.status))
    return {status: n for status, n in rows}


def attempts_of(delivery_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    """Each delivery's attempts, oldest first."""
    out: dict[int, list[DeliveryAttempt]] = defaultdict(list)
    if delivery_ids:
        query = (select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(delivery_ids))
                 .order_by(DeliveryAttempt.id))
        for attempt in db.session.scalars(query):
            out[attempt.delivery_id].append(attempt)
    return out
