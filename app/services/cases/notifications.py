"""Reading and acknowledging in-app notifications (reminders 催办, escalations 督办)."""

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Case, Notification, User
from app.services import clock


def for_user(user: User, limit: int = 200) -> list[tuple[Notification, str | None]]:
    """The user's notifications, unread first then newest, with each case's number."""
    query = (
        select(Notification, Case.number).outerjoin(Case, Case.id == Notification.case_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc()).limit(limit)
    )
    return [tuple(row) for row in db.session.execute(query)]


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread."""
    query = select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    return db.session.scalar(query)


def mark_read(user: User, notification_id: int | None = None) -> None:
    """Mark one of the user's notifications (or all of them) as read."""
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    db.session.execute(stmt.values(read_at=clock.now()))
