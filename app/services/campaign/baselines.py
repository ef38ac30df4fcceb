"""Last year's petition volume, the baseline of "volume not falling" (信访量同比未下降).

Where a town's figure for last year's period comes from, in this order:

1. **The system's own cases**, when its records reach back to the first day of last year's
   period (the earliest case was received on or before that Beijing date): then a town
   with no case really had none.
2. **The admin's historical counts** (历史信访量基数, ``VolumeBaseline``: a town's cases in
   one month, from the records kept before this system), when the town has a count for
   every month the period touches. A month partly inside counts in proportion to its days
   inside: 62 cases in a 31-day month of which 10 days are inside → 20.
3. **Nothing**: the criterion is skipped for that town, and the lists say so. A first-year
   deployment without historical counts names no town for a volume that "did not fall"
   from a zero nobody recorded.

Departments have only the first source.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, Grid, User, VolumeBaseline
from app.services import clock
from app.services.access import require
from app.services.admin import audit

RECORDS, IMPORTED = "records", "imported"


@dataclass(frozen=True)
class LastYear:
    """Last year's volume per town (id → cases, and where the figure came from) and per
    department (None when the system's records do not reach back that far)."""

    towns: dict[int, tuple[float, str]]
    departments: dict[int, int] | None


def _days(start: datetime, end: datetime) -> tuple[date, date]:
    """The Beijing dates of a UTC interval [start, end): its first and its last day."""
    return clock.beijing_date(start), clock.beijing_date(end - timedelta(microseconds=1))


def records_reach(first_day: date) -> bool:
    """True when the system's earliest case was received on or before ``first_day`` (Beijing)."""
    earliest = db.session.scalar(select(func.min(Case.received_at)))
    return earliest is not None and clock.beijing_date(earliest) <= first_day


def volume_by(column, start: datetime, end: datetime) -> dict[int, int]:
    """Cases received in [start, end) per town or department."""
    query = select(column, func.count(Case.id)).where(Case.received_at >= start, Case.received_at < end)
    return {key: n for key, n in db.session.execute(query.group_by(column)) if key is not None}


def _months(first: date, last: date) -> list[tuple[int, int, float]]:
    """(year, month, share of the month's days inside [first, last]) for every month touched."""
    months = []
    day = first.replace(day=1)
    while day <= last:
        length = calendar.monthrange(day.year, day.month)[1]
        month_end = day.replace(day=length)
        inside = (min(last, month_end) - max(first, day)).days + 1
        months.append((day.year, day.month, inside / length))
        day = month_end + timedelta(days=1)
    return months


def imported_volumes(first: date, last: date) -> dict[int, float]:
    """Per town with a count for every month touched: the prorated sum (one decimal)."""
    months = _months(first, last)
    years = {y for y, _, _ in months}
    rows = db.session.scalars(select(VolumeBaseline).where(VolumeBaseline.year.in_(years)))
    by_town: dict[int, dict[tuple[int, int], int]] = {}
    for row in rows:
        by_town.setdefault(row.town_id, {})[(row.year, row.month)] = row.cases
    result = {}
    for town_id, counts in by_town.items():
        if all((y, m) in counts for y, m, _ in months):
            result[town_id] = round(sum(counts[(y, m)] * share for y, m, share in months), 1)
    return result


def last_year(start: datetime, end: datetime) -> LastYear:
    """The baselines for the period [start, end) that is *last year's* (see the module docstring)."""
    first, last = _days(start, end)
    if records_reach(first):
        towns = {town_id: (float(n), RECORDS) for town_id, n in volume_by(Case.town_id, start, end).items()}
        for town_id in db.session.scalars(select(Grid.id).where(Grid.level == 2)):
            towns.setdefault(town_id, (0.0, RECORDS))
        return LastYear(towns, volume_by(Case.department_id, start, end))
    return LastYear({town_id: (n, IMPORTED) for town_id, n in imported_volumes(first, last).items()}, None)


# ------------------------------------------------------------------ entering the counts


def year_table(year: int) -> list[dict]:
    """Every town with its twelve monthly counts of a year (None where none is entered)."""
    _check_year(year)
    towns = db.session.scalars(select(Grid).where(Grid.level == 2).order_by(Grid.code)).all()
    counts = {(r.town_id, r.month): r.cases for r in db.session.scalars(
        select(VolumeBaseline).where(VolumeBaseline.year == year))}
    return [{"town_id": t.id, "town_name": t.name, "year": year,
             "months": [counts.get((t.id, m)) for m in range(1, 13)]} for t in towns]


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000 至 2100 之间。", {"year": ["年份不正确"]})


def set_year(actor: User, year: int, rows: list[dict]) -> list[dict]:
    """Store a year's monthly counts: each row a town_id and twelve counts (None clears a
    month). Audited with the year's counts before and after; returns the year's table."""
    require(actor, "administer")
    _check_year(year)
    towns = set(db.session.scalars(select(Grid.id).where(Grid.level == 2)))
    before = {r["town_name"]: r["months"] for r in year_table(year)}
    for row in rows:
        _set_town(actor, year, row, towns)
    db.session.flush()
    after = year_table(year)
    audit.record(actor, "volume_baseline.set", "volume_baseline", year, before,
                 {r["town_name"]: r["months"] for r in after})
    return after


def _set_town(actor: User, year: int, row: dict, towns: set[int]) -> None:
    """One town's twelve months (checked: a level-2 grid, counts 0 … 1,000,000 or None)."""
    town_id, months = row.get("town_id"), row.get("months")
    if town_id not in towns:
        raise InvalidInput("请选择镇（街道）。", {"town_id": ["不是镇（街道）"]})
    if not isinstance(months, list) or len(months) != 12:
        raise InvalidInput("每个镇（街道）应有 12 个月的数据。", {"months": ["应为 12 个月"]})
    existing = {r.month: r for r in db.session.scalars(
        select(VolumeBaseline).where(VolumeBaseline.town_id == town_id, VolumeBaseline.year == year))}
    for month, cases in enumerate(months, 1):
        if cases is not None and (isinstance(cases, bool) or not isinstance(cases, int)
                                  or not 0 <= cases <= 1_000_000):
            raise InvalidInput(f"{month} 月的件数应为 0 至 1000000 的整数。", {"months": [f"{month} 月不正确"]})
        row_now = existing.get(month)
        if cases is None and row_now is not None:
            db.session.delete(row_now)
        elif cases is not None and row_now is None:
            db.session.add(VolumeBaseline(town_id=town_id, year=year, month=month, cases=cases,
                                          entered_by_id=actor.id, entered_at=clock.now()))
        elif cases is not None:
            row_now.cases, row_now.entered_by_id, row_now.entered_at = cases, actor.id, clock.now()
