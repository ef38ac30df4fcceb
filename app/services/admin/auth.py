"""Checking credentials, throttling guesses, changing one's password.

Starting the session itself is the login wiring's part (``app.auth_setup.sign_in``).
"""

from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models import User
from app.services.admin.passwords import check_password_policy
from app.services.admin.throttling import check_not_throttled, record_attempt


@cache
def _dummy_hash() -> str:
    """A real hash to check against when the username is unknown, so a wrong name costs
    as long as a wrong password and timing does not reveal which accounts exist."""
    return generate_password_hash("no-such-user")


class LoginFailed(DomainError):
    """Wrong username or password, or a deactivated account (401)."""

    status = 401


def authenticate(username: str, password: str, address: str = "") -> User:
    """The user with these credentials, or LoginFailed with a message fit to show.

    Refuses with LoginThrottled (429) before looking at the password when the account or
    the address has failed too often; every attempt it judges is recorded (flushed), so the
    caller commits even when it fails.
    """
    check_not_throttled(username, address)
    try:
        user = _check_credentials(username, password)
    except LoginFailed:
        record_attempt(username, address, False)
        raise
    record_attempt(username, address, True)
    return user


def _check_credentials(username: str, password: str) -> User:
    """The user with these credentials, or LoginFailed."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        raise LoginFailed("用户名或密码错误。")
    if not user.check_password(password):
        raise LoginFailed("用户名或密码错误。")
    if not user.active:
        raise LoginFailed("该账号已停用，请联系管理员。")
    return user


def change_own_password(user: User, current: str, new: str) -> None:
    """Replace the user's password after checking the current one and the rules.

    Every other session of the user ends (its cookie carries the old session version); the
    caller signs the user in again on this device with ``auth_setup.sign_in``.
    """
    if not user.check_password(current):
        raise InvalidInput("当前密码不正确。", {"current_password": ["当前密码不正确"]})
    if new == current:
        raise InvalidInput("新密码不能与当前密码相同。", {"new_password": ["新密码不能与当前密码相同"]})
    check_password_policy(new, user.username, field="new_password")
    user.set_password(new)
    user.must_change_password = False
    user.session_version += 1
    db.session.flush()


def sign_out_everywhere(user: User) -> None:
    """End every session of this user on every device (the caller also signs out here)."""
    user.session_version += 1
    db.session.flush()
