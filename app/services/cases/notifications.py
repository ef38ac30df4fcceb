"""Reading and acknowledging in-app notifications (消息); ``notify.outbox`` makes them."""

from sqlalchemy import func, select, update
from sqlalchemy.sql.elements import ColumnElement

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
    return db.session.scalar(select(unread_count_of(user.id)))


def unread_count_of(user_id: int | ColumnElement[int]) -> ColumnElement[int]:
    """How many notifications of this user (an id, or a column such as ``User.id``) are unread, in SQL."""
    return (select(func.count(Notification.id))
            .where(Notification.user_id == user_id, Notification.read_at.is_(None)).scalar_subquery())


def mark_read(user: User, notification_id: int | None = None) -> None:
    """Mark one of the user's notifications (or all of them) as read."""
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    db.session.execute(stmt.values(read_at=clock.now()))


def summary(user: User, limit: int = 10) -> dict:
    """The badge: the unread count and the newest unread notifications, in one statement.

    The count is a window over every unread row, taken before the LIMIT; no row, no unread.
    """
    rows = db.session.execute(
        select(Notification, func.count().over())
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ).all()
    return {"unread": rows[0][1] if rows else 0, "items": [row[0] for row in rows]}


def mark_read_many(user: User, ids: list[int] | None) -> None:
    """Mark the given notifications of the user (all when ``ids`` is None) as read."""
    if ids is None:
        mark_read(user)
        return
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None),
                                      Notification.id.in_(ids))
    db.session.execute(stmt.values(read_at=clock.now()))

