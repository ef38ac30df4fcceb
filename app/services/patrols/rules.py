"""The patrol rules (巡查频次) and the one place that says when a source is next due.

Each grid level has a duty per class of source (DOMAIN.md "Grid patrols"; the admin setting
``patrol_rules`` holds the numbers): a rule "``times`` patrols within ``period_days`` days",
or none. A source's class is the most demanding that applies to it: key (重点) first, then
complained-about (a linked case received in the last ``patrol_complained_days`` days), else
ordinary.

Due dates are calendar dates in Beijing time, computed from the distinct days on which a
check-in at the source counted for that level (the checker's grid level, stored on the
check-in):

* ``due_on`` = the ``times``-th most recent patrol day + ``period_days``. "Every 2 days"
  (1 in 2): patrolled on the 1st, due by the 3rd. "Twice a week" (2 in 7): patrolled on
  Monday the 1st and Thursday the 4th, due by Monday the 8th (the 1st + 7).
* A source patrolled fewer than ``times`` times counts its registration day as the missing
  patrols: a new source is due ``period_days`` after it was registered.
* State on a day: ``overdue`` after ``due_on``, ``due`` on ``due_on`` (the last day),
  ``ok`` before it, ``not_required`` when the level has no rule for the class.

Patrol days are read back ``LOOKBACK_DAYS`` at most; a source not patrolled in that time is
due from the start of that window (it shows as overdue by at least that long).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Case, PatrolCheckin, Source, source_cases
from app.models.vocab import PatrolDueState, SourceClass
from app.services import clock
from app.services.clock import beijing_date, day_start
from app.services.day_stats import day_date, day_of
from app.services.settings import get_setting

LOOKBACK_DAYS = 120
LEVELS = (1, 2, 3)


@dataclass(frozen=True)
class PatrolRule:
    """``times`` patrols within ``period_days`` days."""

    times: int
    period_days: int

    @property
    def label(self) -> str:
        """The rule in words, e.g. 每2天1次."""
        return f"每{self.period_days}天{self.times}次"


@dataclass(frozen=True)
class DueState:
    """Where one source stands against one level's duty on one day."""

    source_id: int
    level: int
    source_class: str
    rule: PatrolRule | None
    patrol_days: tuple[date, ...]  # distinct patrol days counted for this level, newest first
    due_on: date | None
    state: PatrolDueState

    @property
    def last_on(self) -> date | None:
        """The latest patrol day counted for this level."""
        return self.patrol_days[0] if self.patrol_days else None

    def days_overdue(self, today: date) -> int:
        """Whole days past the due date (0 when not overdue)."""
        if self.due_on is None or today <= self.due_on:
            return 0
        return (today - self.due_on).days

    def as_dict(self, today: date) -> dict:
        """The state for the API and the app (dates as ISO strings)."""
        return {
            "source_id": self.source_id, "level": self.level, "source_class": self.source_class,
            "rule": {"times": self.rule.times, "period_days": self.rule.period_days, "label": self.rule.label}
            if self.rule else None,
            "patrol_days": [d.isoformat() for d in self.patrol_days],
            "last_on": self.last_on.isoformat() if self.last_on else None,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "state": self.state, "days_overdue": self.days_overdue(today),
        }


def rules() -> dict[int, dict[str, PatrolRule | None]]:
    """The rules in force, per level and source class."""
    stored = get_setting("patrol_rules")
    return {
        int(level): {cls: PatrolRule(r["times"], r["period_days"]) if r else None for cls, r in per_class.items()}
        for level, per_class in stored.items()
    }


def rule_for(level: int, source_class: str) -> PatrolRule | None:
    """The rule one level follows for one class of source."""
    return rules()[level][source_class]


def classify(source: Source, complained: bool) -> str:
    """The most demanding class that applies: key, then complained-about, else ordinary."""
    if source.is_key:
        return SourceClass.KEY
    if complained:
        return SourceClass.COMPLAINED
    return SourceClass.ORDINARY


def due_on(patrol_days: list[date], rule: PatrolRule, registered_on: date, window_start: date) -> date:
    """The last day by which the next patrol must be made (see the module docstring)."""
    days = sorted(set(patrol_days), reverse=True)
    if len(days) >= rule.times:
        return days[rule.times - 1] + timedelta(days=rule.period_days)
    # Missing patrols count as made on the registration day (or the window's start).
    return max(registered_on, window_start) + timedelta(days=rule.period_days)


def state_on(today: date, due: date | None) -> PatrolDueState:
    """ok before the due date, due on it, overdue after; not_required without a rule."""
    if due is None:
        return PatrolDueState.NOT_REQUIRED
    if today > due:
        return PatrolDueState.OVERDUE
    return PatrolDueState.DUE if today == due else PatrolDueState.OK


# What a source has behind it: whether it was complained about lately, and the days it was
# patrolled (both sets keyed by source id, as ``due_states`` takes them).
History = tuple[set[int], dict[int, list[date]]]


def window_start(now: datetime) -> date:
    """The first day patrols are read back to (``LOOKBACK_DAYS`` before today)."""
    return beijing_date(now) - timedelta(days=LOOKBACK_DAYS)


def complained(now: datetime) -> ColumnElement[bool]:
    """SQL, per ``Source`` row: a case linked to it was received within ``patrol_complained_days``."""
    since = now - timedelta(days=int(get_setting("patrol_complained_days")))
    return exists().where(source_cases.c.source_id == Source.id, Case.id == source_cases.c.case_id,
                          Case.received_at >= since)


def counted_checkins(level: int, since_day: date) -> ColumnElement[bool]:
    """SQL: the check-ins that count for a level from a day on (joined to ``Source`` by its id)."""
    return and_(PatrolCheckin.source_id == Source.id, PatrolCheckin.level == level,
                PatrolCheckin.captured_at >= day_start(since_day))


def complained_source_ids(source_ids: Iterable[int], now: datetime) -> set[int]:
    """The sources with a linked case received within ``patrol_complained_days``."""
    ids = list(source_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Source.id).where(Source.id.in_(ids), complained(now))))


def patrol_days_by_source(source_ids: Iterable[int], level: int, since_day: date) -> dict[int, list[date]]:
    """Distinct Beijing-time patrol days per source counted for a level, newest first.

    The days are told apart in SQL (one row per source and day, as day numbers): a city's
    sources are patrolled about a thousand times a day, and converting every check-in's
    timestamp in Python took most of a compliance page."""
    ids, found = list(source_ids), defaultdict(list)
    day = day_of(PatrolCheckin.captured_at)
    for chunk in _chunks(ids, 900):
        query = select(PatrolCheckin.source_id, day).join(
            Source, counted_checkins(level, since_day)).where(Source.id.in_(chunk)).distinct()
        for source_id, number in db.session.execute(query):
            found[source_id].append(number)
    return {source_id: [day_date(n) for n in sorted(numbers, reverse=True)] for source_id, numbers in found.items()}


def patrol_days(pairs: Iterable[tuple[int, datetime | None]]) -> dict[int, list[date]]:
    """(source id, check-in time) pairs as each source's distinct Beijing-time days, newest first."""
    found: dict[int, set[date]] = defaultdict(set)
    for source_id, captured_at in pairs:
        if captured_at is not None:
            found[source_id].add(beijing_date(captured_at))
    return {source_id: sorted(days, reverse=True) for source_id, days in found.items()}


def due_states(sources: list[Source], level: int, now: datetime | None = None,
               history: History | None = None) -> dict[int, DueState]:
    """Every source's state against one level's duty, in one pass over the check-ins.

    ``history``: the sources' complaints and patrol days when the caller read them with the
    sources (``complained``, ``counted_checkins``); else two queries read them here.
    """
    now = now or clock.now()
    today, start = beijing_date(now), window_start(now)
    in_force = rules()[level]
    ids = [s.id for s in sources]
    complained_ids, days_by_source = history or (complained_source_ids(ids, now),
                                                 patrol_days_by_source(ids, level, start))
    states = {}
    for source in sources:
        source_class = classify(source, source.id in complained_ids)
        rule = in_force[source_class]
        days = days_by_source.get(source.id, [])
        due = due_on(days, rule, beijing_date(source.created_at), start) if rule else None
        states[source.id] = DueState(source.id, level, source_class, rule, tuple(days), due, state_on(today, due))
    return states


def due_state(source: Source, level: int, now: datetime | None = None) -> DueState:
    """One source's state against one level's duty."""
    return due_states([source], level, now)[source.id]


def checkin_level(grid_level: int | None) -> int:
    """The level a check-in counts for: the checker's grid level; city staff without a grid are level 1."""
    return grid_level if grid_level in LEVELS else 1


def _chunks(items: list, size: int) -> Iterable[list]:
    """Slices of a list, so an IN list stays under SQLite's parameter limit."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
