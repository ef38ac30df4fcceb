"""Session records (登录会话): one per signed-in browser or phone, checked on every request.

The session cookie is signed, not secret-free: a copy of it would stay valid as long as the
cookie says so. A record on the server ends that: signing out ends this record, so a cookie
copied before is refused after. Everything that signs a user out everywhere (sign out
everywhere, a new password, a password reset, deactivation, an admin's forced sign-out)
bumps ``User.session_version``, which every record carries, so those end every record at
once without touching each. Only the token's sha256 is stored.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import and_, delete, false, null, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import User, UserSession
from app.services import clock


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(user: User, idle_limit: timedelta) -> str:
    """A new record for this device; the token to keep in its cookie (flushed, not committed).

    The user's dead records (ended, of an older session version, or idle past the limit)
    are cleared here, so the table holds about one row per signed-in device.
    """
    now = clock.now()
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at.is_not(None), UserSession.session_version != user.session_version,
            UserSession.seen_at < now - idle_limit)))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=_digest(token), user_id=user.id, session_version=user.session_version,
                               started_at=now, seen_at=now))
    db.session.flush()
    return token


def load_signed_in(user_id: int, token: str | None,
                   extra: ColumnElement | None = None) -> tuple[User | None, UserSession | None, object]:
    """The user, this device's session record (or None) and ``extra`` (a scalar SQL expression
    over ``User``, or None) in one statement: one round trip for every signed-in request."""
    record = and_(UserSession.id == _digest(token), UserSession.user_id == User.id) if token else false()
    row = db.session.execute(
        select(User, UserSession, extra if extra is not None else null())
        .outerjoin(UserSession, record).where(User.id == user_id)
    ).first()
    return (None, None, None) if row is None else tuple(row)


def session_is_live(token: str | None, user: User, record: UserSession | None = None) -> bool:
    """True when the token names a record of this user that has not ended (``record``: that
    record if the caller read it already, with the user)."""
    if not token:
        return False
    if record is None or record.id != _digest(token):
        record = db.session.get(UserSession, _digest(token))
    return (record is not None and record.user_id == user.id and record.ended_at is None
            and record.session_version == user.session_version)


def note_seen(token: str) -> None:
    """Note a request on this record now (the caller commits)."""
    db.session.execute(update(UserSession).where(UserSession.id == _digest(token)).values(seen_at=clock.now()))


def end_session(token: str | None) -> None:
    """End the record this token names (signing out of one device; the caller commits)."""
    if token:
        db.session.execute(update(UserSession).where(UserSession.id == _digest(token), UserSession.ended_at.is_(None))
                           .values(ended_at=clock.now()))
