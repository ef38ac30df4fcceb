"""The years a time or a date given to the app may fall in.

Everything the app records (petitions received, on-site checks, patrols, working-calendar
days, campaign phases) happens in this century, so a year outside is a slip of the keyboard
or a probe. Bounding it keeps every time derived from one inside what Python, SQLite and
PostgreSQL can hold: the shift to UTC (±14 h), "the same period a year earlier", deadlines
some working days later, and a period's end at the next day's 00:00 (2100-01-01 at the
latest); a year 1 or 9999 overflowed there (500).

The schemas' ``Moment`` and ``Day`` fields apply the bounds to every time and date a request
carries; a service parsing one itself (a date in a URL) calls the same functions. This
module sits in the basement (it imports nothing of the app), so schemas, services and pages
all use it.
"""

from datetime import UTC, date, datetime

EARLIEST_YEAR = 2000
LATEST_YEAR = 2099
# What a person reads when a time or a date falls outside (the field's name is put in front).
MOMENT_OUT_OF_RANGE = f"时间超出允许范围（{EARLIEST_YEAR}—{LATEST_YEAR}年）。"
DAY_OUT_OF_RANGE = f"日期超出允许范围（{EARLIEST_YEAR}—{LATEST_YEAR}年）。"


def moment_in_range(moment: datetime) -> bool:
    """True when a moment falls within the bounded years both as written and in UTC (a time
    just after New Year in Beijing is still the old year in UTC)."""
    try:
        in_utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    except OverflowError:  # before year 1 or after 9999 once in UTC
        return False
    return all(EARLIEST_YEAR <= m.year <= LATEST_YEAR for m in (moment, in_utc))


def day_in_range(day: date) -> bool:
    """True when a calendar day falls within the bounded years."""
    return EARLIEST_YEAR <= day.year <= LATEST_YEAR
