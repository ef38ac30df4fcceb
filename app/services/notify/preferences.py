"""Who wants which notifications by SMS: per user, else per role, else at once.

In-app messages always appear (they are the record); preferences only decide the SMS: sent
at once, gathered into the daily digest, or not sent. Group robots are the group's business
and follow no one's preference.
"""

from sqlalchemy import delete, select

from app.extensions import db
from app.models import NotificationPreference, User
from app.models.vocab import NotificationKind, SmsMode


def sms_mode(user: User, kind: str) -> SmsMode:
    """How ``user`` wants ``kind`` by SMS: their own choice, else their role's, else immediate."""
    for where in (NotificationPreference.user_id == user.id, NotificationPreference.role == user.role):
        chosen = db.session.scalar(select(NotificationPreference.sms).where(where, NotificationPreference.kind == kind))
        if chosen is not None:
            return SmsMode(chosen)
    return SmsMode.IMMEDIATE


def modes_for(user: User | None = None, role: str | None = None) -> dict[str, str]:
    """Every kind's SMS mode as a user (their own rows over their role's) or a role sees it."""
    role = user.role if user is not None else role
    rows = {row.kind: row.sms for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.role == role))}
    if user is not None:
        rows |= {row.kind: row.sms for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    return {kind.value: rows.get(kind.value, SmsMode.IMMEDIATE.value) for kind in NotificationKind}


def set_modes(modes: dict[str, str], user: User | None = None, role: str | None = None) -> None:
    """Replace one user's (or one role's) SMS choices with ``modes`` (kind → mode); flushed.

    Unknown kinds or modes are ignored by the callers' forms, which offer only the vocabulary.
    """
    owner = NotificationPreference.user_id == user.id if user is not None else NotificationPreference.role == role
    db.session.execute(delete(NotificationPreference).where(owner))
    for kind, mode in modes.items():
        db.session.add(NotificationPreference(user_id=user.id if user else None, role=None if user else role,
                                              kind=NotificationKind(kind).value, sms=SmsMode(mode).value))
    db.session.flush()
