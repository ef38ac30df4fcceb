"""The one clock every rule reads, so tests can move time instead of sleeping."""

from contextlib import contextmanager
from datetime import datetime, timedelta

from app.models.types import utcnow

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
