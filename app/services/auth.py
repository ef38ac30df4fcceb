"""Checking credentials and starting a session."""

from functools import cache

from flask_login import login_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import User
from app.models.types import utcnow
from app.services.errors import DomainError


@cache
def _dummy_hash() -> str:
    """A real hash to check against when the username is unknown, so a wrong name costs
    as long as a wrong password and timing does not reveal which accounts exist."""
    return generate_password_hash("no-such-user")


class LoginFailed(DomainError):
    """Wrong username or password, or a deactivated account (401)."""

    status = 401


def authenticate(username: str, password: str) -> User:
    """The user with these credentials, or LoginFailed with a message fit to show."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        raise LoginFailed("用户名或密码错误。")
    if not user.check_password(password):
        raise LoginFailed("用户名或密码错误。")
    if not user.active:
        raise LoginFailed("该账号已停用，请联系管理员。")
    return user


def sign_in(user: User) -> None:
    """Start a session for the user and note the time."""
    login_user(user)
    user.last_login_at = utcnow()
