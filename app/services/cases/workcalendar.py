"""The working-day calendar (工作日历) and the arithmetic of periods.

Only exceptions to the plain week are stored (``calendar_days``): a public holiday that
falls on a weekday is a non-working day, a make-up working day (调休上班) on a weekend is a
working day. Every other Monday-Friday is a working day, every other weekend day is not.

Counting convention (it decides every due date; it is the one of 民法典 第二百零一条 and
第二百零三条, which 信访工作条例 does not override):

* Days are the city's local days (``TIME_ZONE``, Asia/Shanghai); results are aware UTC.
* The start day is not counted (以日计算的期间，开始的当日不计入).
* N working days end at 24:00 local of the N-th working day after the start day.
* N calendar days end at 24:00 local of the N-th day after the start day; if that day is
  not a working day, the period ends at 24:00 of the next working day instead
  (期间届满的最后一日是法定休假日的，以休假日后的第一日为期间届满的日期).
* N hours are plain elapsed hours, holidays included (the city's first-line targets).
* An extension of N days counts from the last day of the current period, as a period of N
  calendar days, with the same roll to a working day.

A year counts as known once its holiday notice is entered (``calendar_years``). A period
that reaches a year not yet entered is counted on the plain week there and is an estimate
(按周末估算); entering the year recounts it (services.cases.deadlines.recount_open_clocks).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.bounds import DAY_OUT_OF_RANGE, day_in_range
from app.database import get_or_404
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models import CalendarDay, CalendarYear
from app.models.vocab import PeriodUnit
from app.services.cases.deadline_defaults import HOLIDAY_NOTICES, Holiday
from app.services.cases.holiday_notice import parse_notice

# A calendar with no working day for a whole year is an editing mistake, not a reason to loop.
_MAX_DAYS_WITHOUT_WORK = 366
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class WorkCalendar:
    """Working days of the city: the plain week plus the stored exceptions.

    ``known_years`` are the years whose holidays are entered; None means every year (a
    calendar built by hand for a computation that needs no estimate).
    """

    exceptions: Mapping[date, bool]
    zone: ZoneInfo
    known_years: frozenset[int] | None = None

    @classmethod
    def load(cls) -> "WorkCalendar":
        """The calendar as stored now, in the app's time zone."""
        rows = db.session.execute(select(CalendarDay.day, CalendarDay.is_working_day))
        years = frozenset(db.session.scalars(select(CalendarYear.year)))
        return cls({day: working for day, working in rows}, ZoneInfo(current_app.config["TIME_ZONE"]), years)

    def is_estimate(self, start: datetime, end: datetime, unit: str) -> bool:
        """True when a period from ``start`` to ``end`` counted days of a year not entered.

        Hours are plain elapsed time and never an estimate.
        """
        if unit == PeriodUnit.HOURS or self.known_years is None:
            return False
        first, last = self.local_day(start).year, self.local_day(end - timedelta(microseconds=1)).year
        return any(year not in self.known_years for year in range(first, last + 1))

    def is_working_day(self, day: date) -> bool:
        """True on a working day: a stored exception, else Monday to Friday."""
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def local_day(self, moment: datetime) -> date:
        """The city's calendar day at an aware moment."""
        return moment.astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        """24:00 local of ``day`` (00:00 of the next day), as aware UTC."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)

    def first_working_day_from(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next working day."""
        for _ in range(_MAX_DAYS_WITHOUT_WORK):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise DomainError("工作日历有误：连续一年没有工作日，请检查节假日设置。")

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End of the n-th working day after the start day (the start day is not counted)."""
        day = self.local_day(start)
        for _ in range(n):
            day = self.first_working_day_from(day + timedelta(days=1))
        return self.end_of_day(day)

    def add_calendar_days(self, start: datetime, n: int) -> datetime:
        """End of the n-th day after the start day, moved to the next working day if need be."""
        return self.end_of_day(self.first_working_day_from(self.local_day(start) + timedelta(days=n)))

    def period_end(self, start: datetime, amount: int, unit: str) -> datetime:
        """When a period of ``amount`` ``unit`` that starts at ``start`` ends."""
        if start.tzinfo is None:
            raise ValueError("naive datetime refused: a period starts at an aware moment")
        if unit == PeriodUnit.HOURS:
            return (start + timedelta(hours=amount)).astimezone(UTC)
        if unit == PeriodUnit.WORKING_DAYS:
            return self.add_working_days(start, amount)
        if unit == PeriodUnit.CALENDAR_DAYS:
            return self.add_calendar_days(start, amount)
        raise InvalidInput(f"未知的时限单位：{unit}", {"unit": [f"未知的时限单位：{unit}"]})

    def extend(self, due_at: datetime, days: int) -> datetime:
        """A due time moved by ``days`` calendar days, counted from the period's last day.

        A period ending at 24:00 has the previous local day as its last day, hence the step
        back by a microsecond before taking the day.
        """
        return self.add_calendar_days(due_at - timedelta(microseconds=1), days)


def format_local(moment: datetime, zone: ZoneInfo) -> str:
    """A time as people in the city write a deadline: the end of a day reads "24:00"."""
    local = moment.astimezone(zone)
    if local.time() == time(0):
        return f"{local.date() - timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date from a URL within the years the app handles, or InvalidInput naming
    the ``day`` field (the schemas' ``Day`` field does the same for dates in a body or query)."""
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        message = "日期应为有效的 YYYY-MM-DD 格式。"
        raise InvalidInput(message, {"day": [message]}) from None
    if not day_in_range(day):
        raise InvalidInput(f"日期：{DAY_OUT_OF_RANGE}", {"day": [f"日期：{DAY_OUT_OF_RANGE}"]})
    return day


def holiday_exceptions(holidays: Iterable[Holiday]) -> dict[date, tuple[bool, str]]:
    """The rows a holiday notice adds to the plain week: weekdays off, weekend days worked."""
    rows: dict[date, tuple[bool, str]] = {}
    for holiday in holidays:
        day = holiday.first_day
        while day <= holiday.last_day:
            if day.weekday() < 5:
                rows[day] = (False, holiday.name)
            day += timedelta(days=1)
        for day in holiday.makeup_working_days:
            rows[day] = (True, f"{holiday.name}调休上班")
    return rows


def ensure_default_calendar(notices: Mapping[int, str] = HOLIDAY_NOTICES) -> int:
    """Enter the shipped notices' exception days that are missing, and their years; an admin's
    edits stay. Returns how many days were added."""
    existing = set(db.session.scalars(select(CalendarDay.day)))
    entered = set(db.session.scalars(select(CalendarYear.year)))
    added = 0
    for year, text in sorted(notices.items()):
        for day, (working, name) in sorted(holiday_exceptions(parse_notice(text, year).holidays).items()):
            if day not in existing:
                db.session.add(CalendarDay(day=day, is_working_day=working, name=name))
                added += 1
        if year not in entered:
            db.session.add(CalendarYear(year=year, source=text.splitlines()[0][:200]))
    db.session.flush()
    return added


@dataclass(frozen=True)
class YearEntered:
    """What entering a year's notice changed in the stored calendar."""

    year: int
    added: int
    changed: int
    removed: int


def enter_year(year: int, holidays: list[Holiday], source: str, entered_by_id: int | None,
               now: datetime) -> YearEntered:
    """Make the notice the year's calendar: its exception days replace the year's stored ones
    (a day it names in a neighbouring year is set too), and the year counts as entered."""
    wanted = holiday_exceptions(holidays)
    stored = {row.day: row for row in calendar_days(year)}
    stored.update({row.day: row for row in db.session.scalars(
        select(CalendarDay).where(CalendarDay.day.in_([d for d in wanted if d.year != year])))})
    added = changed = removed = 0
    for day, row in stored.items():
        if day not in wanted and day.year == year:
            db.session.delete(row)
            removed += 1
    for day, (working, name) in sorted(wanted.items()):
        row = stored.get(day)
        if row is None:
            db.session.add(CalendarDay(day=day, is_working_day=working, name=name))
            added += 1
        elif (row.is_working_day, row.name) != (working, name):
            row.is_working_day, row.name = working, name
            changed += 1
    entry = db.session.get(CalendarYear, year) or CalendarYear(year=year)
    entry.source, entry.entered_at, entry.entered_by_id = source[:200], now, entered_by_id
    db.session.add(entry)
    db.session.flush()
    return YearEntered(year, added, changed, removed)


def entered_years() -> list[CalendarYear]:
    """The years whose holidays are entered, latest first."""
    return list(db.session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())))


def missing_years(today: date) -> list[int]:
    """Years whose holidays should be entered by now and are not: this year, and from
    November (when the State Council publishes it) next year."""
    due = [today.year, today.year + 1] if today.month >= 11 else [today.year]
    entered = set(db.session.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(due))))
    return [year for year in due if year not in entered]


def calendar_days(year: int) -> list[CalendarDay]:
    """The exception days stored for one year, in date order."""
    query = (
        select(CalendarDay)
        .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(CalendarDay.day)
    )
    return list(db.session.scalars(query))


def set_calendar_day(day: date, is_working_day: bool, name: str = "") -> CalendarDay:
    """Make ``day`` a working or a non-working day (created or overwritten)."""
    row = db.session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_working_day = is_working_day
    row.name = name
    db.session.flush()
    return row


def delete_calendar_day(day: date) -> None:
    """Return ``day`` to the plain week, or NotFound when it is not an exception."""
    row = get_or_404(CalendarDay, day, "该日期没有特别设置。")
    db.session.delete(row)
    db.session.flush()
