"""The one clock every rule reads, so tests can move time instead of sleeping, and the
Beijing calendar days that campaigns, patrols and receptions count in."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.models.types import utcnow

BEIJING = ZoneInfo("Asia/Shanghai")

_offset = timedelta(0)


def now() -> datetime:
    """The current time in UTC, timezone-aware, shifted when a test has moved the clock."""
    return utcnow() + _offset


@contextmanager
def travel(delta: timedelta):
    """Move the clock by ``delta`` for the duration of the block (tests only)."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous


@contextmanager
def frozen_at(moment: datetime):
    """Make now() read close to ``moment`` for the duration of the block (tests only)."""
    with travel(moment - utcnow()):
        yield


def beijing_date(moment: datetime) -> date:
    """The calendar date in Beijing at a UTC moment."""
    return moment.astimezone(BEIJING).date()


def day_start(day: date) -> datetime:
    """00:00 Beijing time of a date, as UTC."""
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)
