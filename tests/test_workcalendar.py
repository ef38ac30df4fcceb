"""The working-day calendar: the 2026 State Council schedule, and how periods are counted."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.errors import InvalidInput
from app.extensions import db
from app.models import CalendarDay
from app.services.cases.deadline_defaults import HOLIDAY_NOTICES
from app.services.cases.holiday_notice import parse_notice
from app.services.cases.workcalendar import (
    WorkCalendar,
    ensure_default_calendar,
    format_local,
    holiday_exceptions,
    parse_day,
    set_calendar_day,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOLIDAYS_2026 = parse_notice(HOLIDAY_NOTICES[2026]).holidays
CALENDAR_2026 = WorkCalendar(
    {day: working for day, (working, _) in holiday_exceptions(HOLIDAYS_2026).items()}, SHANGHAI
)


def bj(*args) -> datetime:
    """A Beijing-time moment."""
    return datetime(*args, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    """24:00 Beijing time of a day."""
    return bj(year, month, day) + timedelta(days=1)


def test_2026_notice_gives_19_weekday_holidays_and_6_makeup_days():
    rows = holiday_exceptions(HOLIDAYS_2026)
    off = sorted(day for day, (working, _) in rows.items() if not working)
    on = sorted(day for day, (working, _) in rows.items() if working)
    assert len(off) == 19 and all(day.weekday() < 5 for day in off)
    assert on == [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
                  date(2026, 10, 10)]  # fmt: skip
    assert rows[date(2026, 2, 16)] == (False, "春节")
    assert rows[date(2026, 9, 20)] == (True, "国庆节调休上班")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 6), True),  # an ordinary Friday
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 2, 14), True),  # Saturday worked for the Spring Festival
        (date(2026, 2, 23), False),  # Monday, last day of the Spring Festival
        (date(2026, 10, 7), False),  # Wednesday in National Day week
        (date(2026, 10, 10), True),  # Saturday worked for National Day
        (date(2026, 6, 20), False),  # Dragon Boat Saturday: a weekend day, no row needed
    ],
)
def test_is_working_day(day, working):
    assert CALENDAR_2026.is_working_day(day) is working


def test_end_of_day_is_local_midnight_in_utc():
    # 24:00 Beijing on 03-09 = 00:00 03-10 Beijing = 16:00 UTC on 03-09.
    assert CALENDAR_2026.end_of_day(date(2026, 3, 9)) == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert CALENDAR_2026.end_of_day(date(2026, 3, 9)).tzinfo == UTC


def test_working_days_skip_the_spring_festival_and_count_the_makeup_saturday():
    # Thu 02-12 is the start day (not counted); Fri 02-13 = 1; Sat 02-14 (worked) = 2;
    # 02-15 … 02-23 off; Tue 02-24 = 3.
    assert CALENDAR_2026.add_working_days(bj(2026, 2, 12, 10, 0), 3) == end_of(2026, 2, 24)


def test_working_days_use_the_local_day_of_a_late_utc_start():
    # 17:30 UTC on 02-12 is 01:30 Fri 02-13 in Beijing, so 02-13 is the start day:
    # Sat 02-14 (worked) = 1; Tue 02-24 = 2.
    assert CALENDAR_2026.add_working_days(datetime(2026, 2, 12, 17, 30, tzinfo=UTC), 2) == end_of(2026, 2, 24)


def test_calendar_days_ending_on_a_holiday_roll_to_the_next_working_day():
    # 09-22 + 15 days = Wed 10-07, a National Day holiday → Thu 10-08.
    assert CALENDAR_2026.add_calendar_days(bj(2026, 9, 22, 10, 0), 15) == end_of(2026, 10, 8)


def test_calendar_days_ending_on_a_makeup_day_do_not_roll():
    # 02-13 + 15 days = Sat 02-28, a make-up working day: the period ends that day.
    assert CALENDAR_2026.add_calendar_days(bj(2026, 2, 13, 9, 0), 15) == end_of(2026, 2, 28)


def test_hours_ignore_the_calendar():
    # 23:30 on a Spring Festival holiday + 2 h = 01:30 the next (holiday) day.
    assert CALENDAR_2026.period_end(bj(2026, 2, 16, 23, 30), 2, "hours") == bj(2026, 2, 17, 1, 30)


def test_extension_counts_from_the_last_day_and_rolls():
    # Due 24:00 Wed 02-04; last day 02-04 + 15 = Thu 02-19 (Spring Festival) → 02-20 off,
    # 02-21/22 weekend, 02-23 off → Tue 02-24.
    assert CALENDAR_2026.extend(end_of(2026, 2, 4), 15) == end_of(2026, 2, 24)


def test_format_local_writes_the_end_of_a_day_as_24_00():
    assert format_local(end_of(2026, 3, 9), SHANGHAI) == "2026-03-09 24:00"
    assert format_local(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), SHANGHAI) == "2026-03-02 09:00"


@pytest.mark.parametrize("text", ["2026-02-30", "20260301", "2026-3-1", "yesterday"])
def test_parse_day_refuses_anything_but_a_real_iso_day(text):
    with pytest.raises(InvalidInput) as caught:
        parse_day(text)
    assert "day" in caught.value.errors


def test_seeding_inserts_the_notice_once_and_keeps_an_admins_edit():
    assert ensure_default_calendar({2026: HOLIDAY_NOTICES[2026]}) == 25
    set_calendar_day(date(2026, 10, 7), True, "本市安排上班")
    assert ensure_default_calendar({2026: HOLIDAY_NOTICES[2026]}) == 0
    assert db.session.get(CalendarDay, date(2026, 10, 7)).is_working_day is True
    assert WorkCalendar.load().is_working_day(date(2026, 10, 7)) is True
    assert WorkCalendar.load().is_working_day(date(2026, 10, 6)) is False
