"""The one clock every rule reads, so tests can move time instead of sleeping, and the
Beijing calendar days that campaigns, patrols and receptions count in."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.errors import InvalidInput
from app.models.types import utcnow

BEIJING = ZoneInfo("Asia/Shanghai")
# A phone's clock may run a little fast: a time it sends up to this far past the server's
# now is taken as it is; a later one is refused (``refuse_future``).
FUTURE_TOLERANCE = timedelta(minutes=10)

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


def refuse_future(moment: datetime | None, field: str, what: str) -> None:
    """Refuse (422) a time from a phone that lies in the future beyond ``FUTURE_TOLERANCE``.

    Nothing the phone records can have happened later than now: such a time is a phone clock
    set wrong, and kept it would sort, count and show wrongly everywhere (a year-9999 time
    cannot even be shown in the city's zone). ``what`` names the field in the message.
    """
    if moment is not None and moment > now() + FUTURE_TOLERANCE:
        raise InvalidInput(f"{what}晚于服务器当前时间，请检查手机时间设置。", {field: ["晚于当前时间"]})


def beijing_date(moment: datetime) -> date:
    """The calendar date in Beijing at a UTC moment.

    The last hours of 9999-12-31 UTC fall in year 10000 in Beijing, which no date holds: such a
    stored time counts on the last day there is, so a page or report showing it never fails.
    """
    try:
        return moment.astimezone(BEIJING).date()
    except OverflowError:
        return date.max


def day_start(day: date) -> datetime:
    """00:00 Beijing time of a date, as UTC."""
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)
