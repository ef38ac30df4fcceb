"""Sign-in throttling (登录限制), counted in the database so every app process agrees.

Each attempt is a ``login_attempts`` row. An account is locked once it has
``LOGIN_MAX_FAILURES_PER_ACCOUNT`` failures within ``LOGIN_WINDOW_MINUTES`` since its last
successful sign-in; a client address once it has ``LOGIN_MAX_FAILURES_PER_ADDRESS``
failures within the window, whoever they were for (a success does not reset an address,
or one valid account would let an attacker keep guessing others). Locked means: no
password is even checked until the oldest counted failure leaves the window. Attempts
refused by the lock are not recorded, so waiting always works. An administrator can
unlock an account at once (a recorded success resets its count).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, func, select

from app.errors import DomainError
from app.extensions import db
from app.models import LoginAttempt
from app.services import clock

UNLOCK_ADDRESS = "admin-unlock"


class LoginThrottled(DomainError):
    """Too many failed sign-ins for this account or address (429)."""

    status = 429

    def __init__(self, message: str, retry_at: datetime):
        super().__init__(message, {"retry_at": [retry_at.isoformat()]})
        self.retry_at = retry_at

    @property
    def retry_after_seconds(self) -> int:
        """Seconds until a sign-in may be tried again (for the Retry-After header)."""
        return max(1, int((self.retry_at - clock.now()).total_seconds()) + 1)


@dataclass(frozen=True)
class Limits:
    """The throttling limits in force."""

    window: timedelta
    per_account: int
    per_address: int


def limits() -> Limits:
    """The limits from the configuration."""
    config = current_app.config
    return Limits(timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]), config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
                  config["LOGIN_MAX_FAILURES_PER_ADDRESS"])


def account_key(username: str) -> str:
    """How attempts on a user name are counted: trimmed, case-folded, at most 64 characters."""
    return username.strip().lower()[:64]


def check_not_throttled(username: str, address: str) -> None:
    """Raise LoginThrottled when this account or this address may not try now."""
    now, rule = clock.now(), limits()
    since = now - rule.window
    name = account_key(username)
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == name, LoginAttempt.succeeded.is_(True),
                                                LoginAttempt.at > since)
    )
    account_retry = _retry_at(LoginAttempt.username == name, max(since, last_success or since), rule.per_account,
                              rule.window)
    if account_retry is not None:
        raise LoginThrottled(f"该账号连续登录失败次数过多，已暂时锁定。请于 {_local(account_retry)} 后再试"
                             f"（约 {_minutes_until(account_retry, now)} 分钟），或请管理员解除锁定。", account_retry)
    address_retry = _retry_at(LoginAttempt.address == address[:64], since, rule.per_address, rule.window)
    if address_retry is not None:
        raise LoginThrottled(f"本网络地址登录失败次数过多，已暂时限制登录。请于 {_local(address_retry)} 后再试"
                             f"（约 {_minutes_until(address_retry, now)} 分钟）。", address_retry)


def _retry_at(who, since: datetime, allowed: int, window: timedelta) -> datetime | None:
    """When the count of failures drops below ``allowed`` again, or None if it is below now."""
    failures = db.session.scalars(
        select(LoginAttempt.at).where(who, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc()).limit(allowed)
    ).all()
    if len(failures) < allowed:
        return None
    return failures[-1] + window


def record_attempt(username: str, address: str, succeeded: bool) -> None:
    """Note one sign-in attempt (flushed; the view commits it, even when the sign-in failed)."""
    db.session.add(LoginAttempt(username=account_key(username), address=address[:64], at=clock.now(),
                                succeeded=succeeded))
    db.session.flush()


def recent_failures(username: str) -> tuple[int, datetime | None]:
    """For the admin page: failures counted against an account now, and until when it is locked."""
    rule = limits()
    try:
        check_not_throttled(username, "")
        locked_until = None
    except LoginThrottled as exc:
        locked_until = exc.retry_at
    since = clock.now() - rule.window
    name = account_key(username)
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == name, LoginAttempt.succeeded.is_(True))
    )
    start = max(since, last_success) if last_success else since
    count = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.username == name, LoginAttempt.succeeded.is_(False),
                                                  LoginAttempt.at > start)
    )
    return count, locked_until


def unlock_account(username: str) -> None:
    """Lift an account's lock now: a recorded success resets its failure count."""
    record_attempt(username, UNLOCK_ADDRESS, True)


def prune_attempts(older_than: timedelta) -> int:
    """Delete attempts older than this (they hold staff addresses); returns how many."""
    result = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < clock.now() - older_than))
    return result.rowcount or 0


def _local(moment: datetime) -> str:
    """A time of day in the city's zone, as the message shows it."""
    return moment.astimezone(ZoneInfo(current_app.config["TIME_ZONE"])).strftime("%H:%M")


def _minutes_until(moment: datetime, now: datetime) -> int:
    """Whole minutes until ``moment``, at least 1."""
    return max(1, -(-int((moment - now).total_seconds()) // 60))
