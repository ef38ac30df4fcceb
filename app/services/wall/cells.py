"""The map wall's summary (``wall_cells``): clusters for a city view from a few hundred rows.

The wall clusters cases into square cells of ``CELL_PX`` screen pixels; at Leaflet zoom
``z`` a cell is ``90 / 2**z`` degrees. Because every zoom halves the cell, the cell a point
falls in at zoom ``z`` is its cell at a finer level ``L`` shifted right by ``L - z`` bits
(exactly, in floating point too: dividing by ``90 / 2**z`` only rescales by a power of two).
So one table holds, for every level from 0 to ``BASE_LEVEL``, each occupied cell's open and
closed counts, coordinate sums, earliest due time and earliest yellow moment of its open
cases, flag counts and lowest case id; a cell is the exact union of its four children.

Rules:

* **One way in.** ``refresh_cells`` recomputes the base cells named from the ``cases`` rows
  (a cell holds few cases, so recomputing from the source is cheap and always right) and
  rolls each one up, level by level, from its four children. A session hook
  (``init_wall_cells``) collects the cells of every case inserted, changed or deleted through
  the ORM (the old and the new location) and, just before the transaction commits, notes
  them in ``wall_dirty_cells`` (plain INSERTs, durable with the commit). After the commit
  the worker refreshes every noted cell at once (``refresh_noted_cells``, task
  ``wall.refresh_cells``; a periodic run catches up on a lost task), so a write never waits
  for the summary. Until then the summary lags its cases by a moment: the wall's ETag and
  live feed say when it has caught up (``summary_pending``). Bulk loads that bypass the
  ORM (``demo_city``) call ``rebuild_wall_cells``, as do ``flask wall rebuild-cells``
  (through ``rebuild_summary``) and migration 0007.
* **One refresh at a time** (``one_refresh_at_a_time``). Two refreshes of cells anywhere in
  the city meet in the coarse cells, which hold the whole city. On PostgreSQL each refresh
  first takes a transaction-level advisory lock, held until its commit: a refresh that
  waited for it then reads the cases and rows the other committed, so its delete-and-insert
  never collides with the other's rows and it counts both changes. (SQLite writers already
  queue at BEGIN IMMEDIATE.) Increments (``ON CONFLICT DO UPDATE SET n = n + 1``) were
  weighed and not taken: the earliest due time, the earliest yellow moment and the lowest
  case id of a cell cannot be decremented when a case leaves it (that needs the recount
  anyway), coordinate sums kept by adding and subtracting drift away from a rebuild's, and
  every change still locks the same few coarse rows until its commit, so increments would
  queue writers the same way with a second way of computing a cell to keep in step.
* **Deadline state, exactly as the live query.** Red when the earliest due time of an open
  case has passed; yellow when the earliest yellow moment has (``yellow_epoch``: received
  plus the ``yellow_at`` share of the time to due, in seconds, computed by the same SQL
  expression that ``wall.state_rank`` uses); else green if anything is open; else closed.
  The yellow moment depends on the ``yellow_at`` setting, so changing that setting rebuilds
  the table in the same transaction (the hook sees the setting row change; at a million
  cases that save takes as long as ``flask wall rebuild-cells``, about 40 s).
* **A view's clusters** are the rows of the view's zoom level for the cells the view
  touches (``view_cells``, ``summary_query``): one row per cluster (summed over the filter
  rows asked for, ``summary_facets``), read through an index.
  A view is answered for whole cells, on this path and on the live one (``in_cells``), so
  both give the same clusters and every count is exactly the cases in its cell.
"""

import math
from datetime import datetime
from functools import cache
from typing import Protocol

from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Delete, Insert, Subquery
from sqlalchemy.sql.elements import ColumnElement

from app.database import unindexed
from app.extensions import db
from app.models import Case, Setting, WallCell, WallDirtyCell, WallOpenSnapshot, WallOpenState
from app.models.types import UTCDateTime
from app.models.vocab import OPEN_STATUSES, DeadlineState
from app.services import background, clock
from app.services.day_stats import day_number, day_of, day_start
from app.services.geo.spatial import in_bbox
from app.services.settings import get_setting

# A cluster cell is this many screen pixels wide at the requested zoom.
CELL_PX = 64
# The finest level summarised; finer cluster zooms read the cases themselves.
BASE_LEVEL = 17
# Seconds between 1970-01-01 and the Julian day SQLite counts from.
_JULIAN_1970 = 2440587.5
# How far a spatial-index search reaches beyond a cell's edge, in degrees: far above any
# rounding of a cell index (about 1e-13 degrees), far below a cell. The exact cell test
# follows the search.
_EDGE_MARGIN = 1e-9
# Session.info keys of the hook's pending work.
_DIRTY = "wall_cells_dirty"
_REBUILD = "wall_cells_rebuild"
# The advisory lock key that lets one summary refresh run at a time (any fixed number
# that no other advisory lock of the app uses; there is none).
_REFRESH_LOCK = 0x57A11CE115
OPEN = sorted(str(s) for s in OPEN_STATUSES)


def cell_degrees(zoom: int) -> float:
    """The side of a cluster cell in degrees at this zoom (Web Mercator, 256 px tiles)."""
    return CELL_PX * 360.0 / (256 * 2**zoom)


def cell_index(coordinate, offset: float, size) -> ColumnElement[int]:
    """floor((coordinate + offset) / size) as an integer, the same on both backends."""
    shifted = (coordinate + offset) / size
    if db.engine.dialect.name == "sqlite":
        return cast(shifted, Integer)  # truncation is floor: the shifted value is positive
    return cast(func.floor(shifted), Integer)


def case_cell(level: int) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """The cell of each case's location at a level, as (x, y) SQL expressions."""
    size = cell_degrees(level)
    return (cell_index(func.ST_X(Case.location), 180.0, size),
            cell_index(func.ST_Y(Case.location), 90.0, size))


def epoch_seconds(moment) -> ColumnElement[float]:
    """A timestamp in seconds since 1970 as a double, in SQL."""
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(moment) - _JULIAN_1970) * 86400.0
    return cast(func.extract("epoch", moment), Float)


def yellow_epoch(yellow_at: float | ColumnElement[float]) -> ColumnElement[float]:
    """When each case turns yellow: its nearest running clock's start (``due_started_at``; receipt
    when it has none) plus the yellow_at share of the time from there to due, as on the desk."""
    share = yellow_at if isinstance(yellow_at, ColumnElement) else literal(yellow_at, Float())
    started = epoch_seconds(func.coalesce(Case.due_started_at, Case.received_at))
    return started + share * (epoch_seconds(Case.due_at) - started)


# Deadline-state ranks: a cluster shows its worst member, the highest rank.
STATE_RANKS = {DeadlineState.CLOSED: 0, DeadlineState.GREEN: 1, DeadlineState.YELLOW: 2, DeadlineState.RED: 3}
# The states of open cases, worst first (a ring's order, the open-state snapshot's rows).
OPEN_STATES = (DeadlineState.RED, DeadlineState.YELLOW, DeadlineState.GREEN)


def state_rank(now: datetime, yellow_at: float | None = None) -> ColumnElement[int]:
    """The deadline state of every case as a SQL expression (rank, see STATE_RANKS)."""
    if yellow_at is None:
        yellow_at = float(get_setting("yellow_at"))
    return rank_at(literal(now, UTCDateTime()), literal(yellow_at, Float()))


def rank_at(moment: ColumnElement[datetime], yellow_at: ColumnElement[float]) -> ColumnElement[int]:
    """The deadline state rank of every case at ``moment`` (SQL), yellow after the share ``yellow_at``."""
    return case(
        (Case.status.not_in(OPEN), 0),
        (Case.due_at.is_(None), 1),
        (Case.due_at <= moment, 3),
        (epoch_seconds(moment) >= yellow_epoch(yellow_at), 2),
        else_=1,
    )


AGGREGATE_SETTINGS = "set_config('work_mem', '32MB', true)"
# A count that reads a day or two of cases: no parallel workers either (on two cores, starting
# them doubled a period to the minute's 27 ms).
SMALL_AGGREGATE_SETTINGS = f"{AGGREGATE_SETTINGS}, set_config('max_parallel_workers_per_gather', '0', true)"


def tune_aggregate_session(session: Session | None = None, small: bool = False) -> None:
    """On PostgreSQL, settings for the wall's aggregates (live counts, the summary's refresh)
    in this transaction.

    A little more sort memory lets a grouping hash in memory instead of sorting on disk (JIT
    is off on every connection: ``app.database``). A ``small`` count starts no parallel workers.
    """
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":  # set_config(..., true) is SET LOCAL, one round trip
        session.execute(text(f"SELECT {SMALL_AGGREGATE_SETTINGS if small else AGGREGATE_SETTINGS}"))


# Filter rows: from FACET_LEVEL up, each cell also has one row per value of each filter the
# wall offers that its cases carry ("category:noise"), and from PAIR_LEVEL up one row per pair
# of two different filters' values ("category:noise|channel:visit"), so a view filtered on one
# or two of them is read like an unfiltered one. Finer zooms show few enough cases to count
# them live when filtered.
FACET_LEVEL = 15
PAIR_LEVEL = 14
# The filters with rows, in the order a pair's values are written: (name, value per case in
# SQL or None for a yes/no filter, the cases it counts).
_KINDS: list[tuple[str, ColumnElement[str] | None, list[ColumnElement[bool]]]] = [
    ("category", Case.category, []),
    ("channel", Case.channel, []),
    ("town", cast(Case.town_id, String), [Case.town_id.isnot(None)]),
    ("flag:above_level", None, [Case.above_level.is_(True)]),
    ("flag:inspection", None, [Case.inspection_referral.isnot(None)]),
    ("flag:leader", None, [Case.leading_official_id.isnot(None)]),
    ("flag:repeat", None, [Case.repeat_of_id.isnot(None)]),
    ("state:closed", None, [Case.status.not_in(OPEN)]),
]


def _constant(words: str) -> ColumnElement[str]:
    """A fixed string of the summary's own (a filter's name) written into the SQL rather than
    bound: the row statements hold dozens, and a driver re-reads every bound one per run."""
    quoted = words.replace("'", "''")
    return literal_column(f"'{quoted}'", String)


def facet_kinds() -> list[tuple[ColumnElement[str], list[ColumnElement[bool]]]]:
    """Each single filter row kind: its ``facet`` value per case (SQL) and the cases it counts."""
    return [(_constant(f"{name}:") + value if value is not None else _constant(name), applies)
            for name, value, applies in _KINDS]


def _pairs() -> list[tuple[ColumnElement[str], list[ColumnElement[bool]]]]:
    """Each pair filter row kind: two different filters' values joined by "|", in ``_KINDS`` order."""
    singles = facet_kinds()
    return [(first + _constant("|") + second, [*first_applies, *second_applies])
            for i, (first, first_applies) in enumerate(singles)
            for second, second_applies in singles[i + 1:]]


def _kind_of(facet: str) -> int:
    """The position in ``_KINDS`` of the filter a single ``facet`` value belongs to."""
    return next(i for i, (name, value, _) in enumerate(_KINDS)
                if (facet.startswith(f"{name}:") if value is not None else facet == name))


# Received-day rows: from DAY_LEVEL up, each cell also has one row per Beijing day on which
# its cases were received ("day:20429", services.day_stats.day_number), so the wall's period,
# whole days picked on its date fields, is the sum of its days' rows at city and town zoom.
DAY_LEVEL = 12
# A longer period goes live (its IN list would outgrow the rows it saves reading).
MAX_PERIOD_DAYS = 800
# The rows of a day beside a filter are kept at DAY_LEVEL only (a coarser view adds up that
# level's, ``summary_query``): the roll-up above it leaves them out, so a write does not
# rewrite every coarse cell's thousands of them (at 1M cases, 13,000 rows per coarse cell).
_ROLLED_UP_FROM_DAY_LEVEL = [WallCell.facet.not_like("day:%|%")]


def _day_facet() -> ColumnElement[str]:
    """Each case's received-day row value, in SQL."""
    return _constant("day:") + cast(day_of(Case.received_at), String)


def _day_kinds() -> list[tuple[ColumnElement[str], list[ColumnElement[bool]]]]:
    """The received-day row kinds: the day alone, and the day beside each single filter's value
    ("day:20429|category:noise"), so a period of whole days beside one filter is read from rows too."""
    day = _day_facet()
    return [(day, []), *((day + _constant("|") + value, applies) for value, applies in facet_kinds())]


def facet_shape(facets: list[str]) -> str:
    """What the rows of these ``facet`` values (``summary_facets``, all of one kind) count: "all"
    cases, received "day"s, received days beside one filter's value ("day_single"), a "pair"
    of two filters' values, or one filter's ("single")."""
    if facets == [""]:
        return "all"
    if facets[0].startswith("day:"):
        return "day_single" if "|" in facets[0] else "day"
    return "pair" if "|" in facets[0] else "single"


def facet_level(facets: list[str]) -> int:
    """The finest level that has rows for these ``facet`` values."""
    return {"all": BASE_LEVEL, "day": DAY_LEVEL, "day_single": DAY_LEVEL, "pair": PAIR_LEVEL,
            "single": FACET_LEVEL}[facet_shape(facets)]


def awaits_catch_up(facets: list[str], zoom: int) -> bool:
    """True for the rows an upgrade added and the worker writes after it (the received-day rows,
    migration 0023; the pair rows and the single filters' rows at zoom 15, migration 0024;
    the days beside one filter, migration 0028): while any noted cell waits for its refresh,
    they may be missing, so such a view is counted live."""
    kind = facet_shape(facets)
    return kind in ("day", "day_single", "pair") or (kind == "single" and zoom > PAIR_LEVEL)


def period_days(start: datetime | None, end: datetime | None, now: datetime
                ) -> tuple[list[str], list[tuple[datetime, datetime]]] | None:
    """The period [start, end) as the received-day rows of its whole Beijing days and the
    stretches of partial days at its ends (none when both ends are midnights), or None when
    it has no whole day, more than ``MAX_PERIOD_DAYS`` or no start.

    An open end is the day after tomorrow: no case is received in the future (intake refuses
    a receipt time more than minutes ahead)."""
    if start is None:
        return None
    end = end or day_start(day_number(now) + 2)
    first, last = day_number(start) + (day_start(day_number(start)) != start), day_number(end)
    if not 0 < last - first <= MAX_PERIOD_DAYS:
        return None
    stretches = [(a, b) for a, b in ((start, day_start(first)), (day_start(last), end)) if a < b]
    return [f"day:{day}" for day in range(first, last)], stretches


def summary_facets(filters: dict) -> list[str] | None:
    """The ``facet`` values whose rows answer these filters exactly, or None if rows cannot.

    No filter is the rows for all cases. A filter is a set of alternatives: the values of
    one category or channel exclude each other, so their rows add up; flags are combined
    with AND; of the deadline states only 销号 (closed) does not move with the clock. Two
    filters are the pair rows of each combination of their alternatives (at most two
    values held at once: two flags are a pair, three are not). A period of whole days is
    its days' rows, alone or beside one filter (``days_beside``). The other states, a
    period to the minute, a period beside two filters and three filters at once cut across
    rows: those go live.
    """
    given = {name: value for name, value in filters.items() if value}
    if not given:
        return [""]
    period = {name: given.pop(name) for name in ("received_from", "received_to") if name in given}
    if period:
        days = period_days(period.get("received_from"), period.get("received_to"), clock.now())
        return days_beside(days[0], given) if days and not days[1] else None  # whole days only
    combinations: list[list[str]] = [[]]
    for name, value in given.items():
        alternatives = _alternatives(name, value)
        if alternatives is None:
            return None
        combinations = [held + more for held in combinations for more in alternatives]
    if any(len(held) > 2 for held in combinations):
        return None
    return sorted("|".join(sorted(held, key=_kind_of)) for held in combinations)


def days_beside(days: list[str], others: dict) -> list[str] | None:
    """The rows of these received days (``period_days``) beside the other filters given: the days'
    own rows without any, each day beside each alternative of one filter that has single rows
    ("day:20429|category:noise"), else None (two filters, an open state; or more rows than a
    long period's days, which a live count reads faster)."""
    others = {name: value for name, value in others.items() if value}
    if not others:
        return days
    singles = summary_facets(others)
    if singles is None or facet_shape(singles) != "single" or len(days) * len(singles) > MAX_PERIOD_DAYS:
        return None
    return [f"{day}|{single}" for day in days for single in singles]


def _alternatives(name: str, value) -> list[list[str]] | None:
    """One wall filter as the rows it needs: alternatives (added up), each the values a case
    holds at once; None for a filter without rows."""
    if name in ("category", "channel"):
        return [[f"{name}:{v}"] for v in sorted(set(value))]
    if name == "town_id":
        return [[f"town:{int(value)}"]]
    if name == "flag":
        return [[f"flag:{v}" for v in sorted(set(value))]]
    if name == "state" and set(value) == {"closed"}:
        return [["state:closed"]]
    return None


def _base_rows(level: int, facet: ColumnElement[str], where: list, yellow_at: float | ColumnElement[float]) -> Select:
    """SELECT summary rows of ``level`` straight from the cases matching ``where``, one per cell and facet."""
    x, y = case_cell(level)
    opened = Case.status.in_(OPEN)
    return (
        select(
            literal(level).label("level"), x.label("cell_x"), y.label("cell_y"), facet.label("facet"),
            func.sum(case((opened, 1), else_=0)), func.sum(case((opened, 0), else_=1)),
            func.sum(func.ST_X(Case.location)), func.sum(func.ST_Y(Case.location)),
            func.min(case((opened, Case.due_at))),
            func.min(case((and_(opened, Case.due_at.isnot(None)), yellow_epoch(yellow_at)))),
            func.sum(case((Case.above_level.is_(True), 1), else_=0)),
            func.sum(case((Case.inspection_referral.isnot(None), 1), else_=0)),
            func.sum(case((Case.leading_official_id.isnot(None), 1), else_=0)),
            func.min(Case.id),
        )
        .where(Case.location.isnot(None), *where)
        .group_by("cell_x", "cell_y", "facet")
    )


_COLUMNS = ["level", "cell_x", "cell_y", "facet", "open_count", "closed_count", "lon_sum", "lat_sum",
            "earliest_due_at", "earliest_yellow", "above_level", "inspection", "leader", "min_case_id"]


def _parent_rows(level: int, where: list) -> Select:
    """SELECT the rows of ``level`` rolled up from their children at ``level + 1``, facet by facet."""
    child = WallCell
    return (
        select(
            literal(level).label("level"), (child.cell_x // 2).label("parent_x"), (child.cell_y // 2).label("parent_y"),
            child.facet, func.sum(child.open_count), func.sum(child.closed_count), func.sum(child.lon_sum),
            func.sum(child.lat_sum), func.min(child.earliest_due_at), func.min(child.earliest_yellow),
            func.sum(child.above_level), func.sum(child.inspection), func.sum(child.leader),
            func.min(child.min_case_id),
        )
        .where(child.level == level + 1, *where, *(_ROLLED_UP_FROM_DAY_LEVEL if level + 1 == DAY_LEVEL else ()))
        .group_by("parent_x", "parent_y", child.facet)
    )


def _cell_box(level: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A cell's (west, south, east, north), widened by the edge margin."""
    size = cell_degrees(level)
    return (x * size - 180.0 - _EDGE_MARGIN, y * size - 90.0 - _EDGE_MARGIN,
            (x + 1) * size - 180.0 + _EDGE_MARGIN, (y + 1) * size - 90.0 + _EDGE_MARGIN)


def in_cell(level: int, cell_x, cell_y, box=None) -> list[ColumnElement[bool]]:
    """WHERE clauses: the case lies in this cell of ``level``, found through the spatial index.

    The cell is numbers, or bound parameters with its ``box`` (``_named_cell``)."""
    x, y = case_cell(level)
    return [in_bbox("cases", Case.location, Case.id, *(box or _cell_box(level, cell_x, cell_y))),
            x == cell_x, y == cell_y]


# The bound parameters of a cell in a statement built once (``_named_cell``, ``_cell_values``).
_CELL_NAMES = ("cell_x", "cell_y", "cell_w", "cell_s", "cell_e", "cell_n")


def _named_cell(level: int) -> list[ColumnElement[bool]]:
    """``in_cell`` for the cell given when the statement runs (``_cell_values``)."""
    x, y, *box = (bindparam(name, type_=Integer if name in ("cell_x", "cell_y") else Float)
                  for name in _CELL_NAMES)
    return in_cell(level, x, y, box)


def _cell_values(level: int, x: int, y: int) -> dict:
    """The parameters that name a cell to ``_named_cell``."""
    return dict(zip(_CELL_NAMES, (x, y, *_cell_box(level, x, y)), strict=True))


def facet_of_each_case(kinds) -> tuple[Subquery, ColumnElement[str]]:
    """Each case once per kind of filter row (``facet_kinds``, ``_pairs``): the kinds' numbers to
    join the cases to, and the row value each case takes for each kind, NULL where the kind
    does not count it. One pass over the cases gives every kind's rows."""
    numbers = union_all(*(select(literal_column(str(i), Integer).label("kind")) for i in range(len(kinds))))
    numbers = numbers.subquery("kinds")
    facet = case(*((numbers.c.kind == literal_column(str(i), Integer),
                    case((and_(*applies), value)) if applies else value)
                   for i, (value, applies) in enumerate(kinds)))
    return numbers, facet


def _facet_rows(level: int, kinds, where: list, yellow_at: float | ColumnElement[float]) -> Select:
    """SELECT the filter rows of ``level`` of these kinds (``facet_kinds`` or ``_pairs``) from the
    cases matching ``where``, in one pass over them (``facet_of_each_case``)."""
    numbers, facet = facet_of_each_case(kinds)
    return _base_rows(level, facet, [*where, facet.isnot(None)], yellow_at).join_from(Case, numbers, true())


# The levels whose filter or received-day rows are counted from the cases (the finer levels
# have none to roll up): the single filters', the pairs' and the days' finest levels.
_COUNTED_LEVELS = (FACET_LEVEL, PAIR_LEVEL, DAY_LEVEL)


def _counted_rows(level: int, where: list, yellow_at: float | ColumnElement[float]) -> list[Select]:
    """The rows of ``level`` counted from the cases rather than rolled up from its children:
    the single filters' rows at ``FACET_LEVEL``, the pairs' at ``PAIR_LEVEL``, the
    received-day rows at ``DAY_LEVEL``."""
    counted = []
    if level == FACET_LEVEL:
        counted.append(_facet_rows(level, facet_kinds(), where, yellow_at))
    if level == PAIR_LEVEL:
        counted.append(_facet_rows(level, _pairs(), where, yellow_at))
    if level == DAY_LEVEL:
        counted.append(_facet_rows(DAY_LEVEL, _day_kinds(), where, yellow_at))
    return counted


def refresh_cells(session: Session, cells: set[tuple[int, int]]) -> None:
    """Recompute these base cells from the cases, then every coarser cell above them.

    At the counted levels (``_COUNTED_LEVELS``) the filter, pair and received-day rows are
    recounted from the cases too; above them, every row rolls up from its children. The
    open-state snapshot's cells follow (``open_states.refresh_cells``). Every statement is
    built once per level (``_refresh_statements``) and run with the cells as parameters.
    """
    one_refresh_at_a_time(session)
    tune_aggregate_session(session)
    yellow_at = {"yellow_at": float(get_setting("yellow_at"))}
    base_cells = set(cells)
    for level in range(BASE_LEVEL, -1, -1):
        if level < BASE_LEVEL:
            cells = {(cx >> 1, cy >> 1) for cx, cy in cells}
        clear, roll_up, count = _refresh_statements(db.engine.dialect.name, level)
        session.execute(clear, {"cells": sorted(cells)})
        if roll_up is not None:
            children = sorted((2 * px + dx, 2 * py + dy) for px, py in cells for dx in (0, 1) for dy in (0, 1))
            session.execute(roll_up, {"children": children})
        for cell_x, cell_y in sorted(cells) if count else ():
            for statement in count:
                session.execute(statement, {**_cell_values(level, cell_x, cell_y), **yellow_at})
    for follower in _FOLLOWERS:
        follower.cells_refreshed(session, base_cells, clock.now())


@cache
def _refresh_statements(dialect: str, level: int) -> tuple[Delete, Insert | None, list[Insert]]:
    """What ``refresh_cells`` runs at ``level`` (the backend's SQL differs): delete the rows of
    the cells named ``cells``; insert them rolled up from the ``children`` (below the base
    level); insert the rows counted from the cases of one cell (``_named_cell``), if any."""
    rows = WallCell.__table__  # Core statements: the ORM would read parameters as rows to insert
    named = tuple_(WallCell.cell_x, WallCell.cell_y)
    clear = delete(rows).where(WallCell.level == level, named.in_(bindparam("cells", expanding=True)))
    yellow_at = bindparam("yellow_at", type_=Float)
    if level == BASE_LEVEL:
        roll_up, counted = None, [_base_rows(BASE_LEVEL, literal(""), _named_cell(BASE_LEVEL), yellow_at)]
    else:
        roll_up = insert(rows).from_select(
            _COLUMNS, _parent_rows(level, [named.in_(bindparam("children", expanding=True))]))
        counted = _counted_rows(level, _named_cell(level), yellow_at)
    return clear, roll_up, [insert(rows).from_select(_COLUMNS, select_rows) for select_rows in counted]


class Follower(Protocol):
    """A summary kept from the same cases as this one (``open_states``), told in the same transaction."""

    def cells_refreshed(self, session: Session, base_cells: set[tuple[int, int]], now: datetime) -> None:
        """These base cells' cases were counted again."""

    def rebuilt(self, session: Session, now: datetime) -> None:
        """The whole summary was counted again."""


# The summaries that follow this one's refreshes; open_states adds itself when imported
# (clusters, the tasks and the demo seed all import it), which keeps imports one-way.
_FOLLOWERS: list[Follower] = []


def follow_refreshes(follower: Follower) -> None:
    """Have ``follower`` told of every refresh and rebuild of this summary, in its transaction."""
    if follower not in _FOLLOWERS:
        _FOLLOWERS.append(follower)


def one_refresh_at_a_time(session: Session) -> None:
    """Wait until no other transaction is refreshing the summary, and keep others waiting until commit.

    PostgreSQL only (``pg_advisory_xact_lock``, released when the transaction ends; taking
    it twice in one transaction is harmless). It is taken first thing by the worker's
    refresh (or by a rebuild); holding it, a transaction only reads cases, deletes noted
    cells that are already committed (which no writer touches again) and writes summary
    rows, which nobody without the lock writes, so it never waits for anyone who waits for
    it and no deadlock can form around it. Whoever waits sees, once it has the
    lock, every case and row the previous holder committed (PostgreSQL makes a commit
    visible before releasing its locks, and each statement reads anew at READ COMMITTED).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_REFRESH_LOCK)))


def rebuild_wall_cells(session: Session | None = None) -> int:
    """Recompute the whole summary from the cases (bulk loads, a new yellow_at), and the open-state
    snapshot if there is one; return base cells."""
    session = session or db.session
    one_refresh_at_a_time(session)
    yellow_at = float(get_setting("yellow_at"))
    session.execute(delete(WallCell))
    session.execute(insert(WallCell).from_select(_COLUMNS, _base_rows(BASE_LEVEL, literal(""), [], yellow_at)))
    for level in range(BASE_LEVEL - 1, -1, -1):
        session.execute(insert(WallCell).from_select(_COLUMNS, _parent_rows(level, [])))
        for rows in _counted_rows(level, [], yellow_at):
            session.execute(insert(WallCell).from_select(_COLUMNS, rows))
    for follower in _FOLLOWERS:
        follower.rebuilt(session, clock.now())
    return session.scalar(select(func.count()).select_from(WallCell).where(WallCell.level == BASE_LEVEL)) or 0


# The session hook: note the cells cases leave and enter; the worker refreshes them after commit.

# The task that refreshes the noted cells (app/tasks.py), sent after every commit that noted some.
REFRESH_TASK = "wall.refresh_cells"


def init_wall_cells() -> None:
    """Listen on the app's database session (once per process, whatever the number of apps)."""
    for name, listener in (("before_flush", _cells_left), ("after_flush", _cells_entered),
                           ("before_commit", _note_before_commit), ("after_transaction_end", _forget)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def _case_id(obj: Case) -> int | None:
    """A case's primary key without loading anything."""
    identity = inspect_state(obj).identity
    return identity[0] if identity else obj.__dict__.get("id")


def _cells_of(session: Session, case_ids: list[int]) -> set[tuple[int, int]]:
    """The base cells the stored locations of these cases fall in."""
    if not case_ids:
        return set()
    x, y = case_cell(BASE_LEVEL)
    rows = session.connection().execute(select(x, y).where(Case.id.in_(case_ids), Case.location.isnot(None)))
    return {(int(a), int(b)) for a, b in rows}


def _cells_left(session: Session, flush_context, instances) -> None:
    """Before a flush: the stored cells of cases about to move or be deleted."""
    leaving = [_case_id(obj) for obj in session.deleted if isinstance(obj, Case)]
    leaving += [_case_id(obj) for obj in session.dirty
                if isinstance(obj, Case) and inspect_state(obj).attrs.location.history.has_changes()]
    session.info.setdefault(_DIRTY, set()).update(_cells_of(session, [i for i in leaving if i is not None]))


def _cells_entered(session: Session, flush_context) -> None:
    """After a flush: the cells of every case written; a new yellow_at means a rebuild."""
    written = [_case_id(obj) for obj in (*session.new, *session.dirty)
               if isinstance(obj, Case) and (obj in session.new or session.is_modified(obj))]
    session.info.setdefault(_DIRTY, set()).update(_cells_of(session, [i for i in written if i is not None]))
    if any(isinstance(obj, Setting) and obj.key == "yellow_at"
           for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_REBUILD] = True


def _note_before_commit(session: Session) -> None:
    """Note the cells this transaction changed, durably with it, and ask the worker to refresh them.

    Plain INSERTs into ``wall_dirty_cells``: no lock and no row that another writer touches,
    so uploads changing cases anywhere in the city no longer queue behind one summary
    refresh. The rows commit (or roll back) with the cases; the task goes out after the
    commit (``services.background``), and the periodic catch-up refreshes whatever a lost
    task left. A new ``yellow_at`` still rebuilds the summary in this transaction: it is an
    administrator's rare save, and every cell's yellow moment changes with it.
    """
    session.flush()
    cells, rebuild = session.info.pop(_DIRTY, set()), session.info.pop(_REBUILD, False)
    if rebuild:
        rebuild_summary(session)
    elif cells:
        session.execute(insert(WallDirtyCell), [{"cell_x": x, "cell_y": y} for x, y in sorted(cells)])
        background.enqueue(REFRESH_TASK)


def _forget(session: Session, transaction) -> None:
    """When the outermost transaction ends (committed or rolled back), drop what it noted."""
    if transaction.parent is None:
        session.info.pop(_DIRTY, None)
        session.info.pop(_REBUILD, None)


# Refreshing costs a statement per noted cell; past this many (an upgrade that notes every
# cell with an open case: 175,000 at 1M cases, or a bulk import) one pass over all cases is
# cheaper than the refresh, so the whole summary is rebuilt instead.
REBUILD_ABOVE_CELLS = 20_000


def refresh_noted_cells(session: Session | None = None) -> int:
    """Refresh every cell that committed transactions noted, all in one go; return how many.

    Under the refresh lock, the noted rows are deleted and the cells they name refreshed in
    the same transaction (if the refresh fails, the rows come back with the rollback). The
    DELETE takes only rows already committed, whose cases every later statement here reads;
    a row committed meanwhile stays for the next refresh (its own task or the catch-up).
    Many uploads' tasks coalesce: the first refreshes every cell noted so far, the others
    find few or none.
    """
    session = session or db.session
    one_refresh_at_a_time(session)
    noted = session.execute(delete(WallDirtyCell).returning(WallDirtyCell.cell_x, WallDirtyCell.cell_y)).all()
    cells = {(int(x), int(y)) for x, y in noted}
    if len(cells) > REBUILD_ABOVE_CELLS:
        rebuild_wall_cells(session)  # reads every committed case, so it covers the noted ones
    elif cells:
        refresh_cells(session, cells)
    return len(cells)


def rebuild_summary(session: Session | None = None) -> int:
    """The whole summary from the cases (``rebuild_wall_cells``), dropping the cells noted so far.

    The noted rows visible now belong to committed transactions, whose cases the rebuild
    reads, so they need no refresh of their own; rows committed later stay noted.
    """
    session = session or db.session
    one_refresh_at_a_time(session)
    session.execute(delete(WallDirtyCell))
    return rebuild_wall_cells(session)


def summary_total() -> int:
    """How many cases the summary holds: its one cell of level 0."""
    return int(db.session.scalar(select(func.sum(WallCell.open_count + WallCell.closed_count))
                                 .where(WallCell.level == 0, WallCell.facet == "")) or 0)


def summary_pending() -> tuple[int | None, int | None]:
    """The lowest and highest id of the cells noted and not yet refreshed (None, None when caught up)."""
    low, high = db.session.execute(select(func.min(WallDirtyCell.id), func.max(WallDirtyCell.id))).one()
    return low, high


# Reading: a view's clusters, whole cells at a time.


Rect = tuple[int, int, int, int]
# From this zoom on (a view of a few kilometres), SQLite searches the live path's cases
# through the spatial index; wider views read them through the filters' own indexes.
SQLITE_SPATIAL_ZOOM = 14
# A view may touch at most this many cells per side (a 3840 px wall shows 60): a box far
# too big for its zoom is a client error, not a reason to group a province case by case.
MAX_VIEW_CELLS = 512


def view_cells(box: tuple[float, float, float, float], zoom: int) -> Rect:
    """The cells of ``zoom`` the box touches, as inclusive (x0, x1, y0, y1).

    A view is answered for whole cells: each cluster is every case in its cell, so its count
    does not change as the view's edge slides across it, and a small pan within the same
    cells asks the same question (and gets a 304).
    """
    size = cell_degrees(zoom)
    west, south, east, north = box
    return (math.floor((west + 180.0) / size), math.floor((east + 180.0) / size),
            math.floor((south + 90.0) / size), math.floor((north + 90.0) / size))


def in_cells(zoom: int, rect: Rect) -> list[ColumnElement[bool]]:
    """WHERE clauses: the case lies in one of these cells of ``zoom``, found through the spatial index.

    The index searches the cells' box (widened by a hair: SpatiaLite's R-tree keeps 32-bit
    floats); the cell test, the same expression the clusters group by, makes it exact.
    PostgreSQL weighs the spatial index against the others (a filter's) with its table
    statistics. SQLite has none for the R-tree and, offered it, always walks it: for a view
    wider than ``SQLITE_SPATIAL_ZOOM`` shows, that is a random read of every case in a
    town or the city, so there the other filters' indexes (or one sequential scan) serve.
    """
    size = cell_degrees(zoom)
    x0, x1, y0, y1 = rect
    x, y = case_cell(zoom)
    cells = [Case.location.isnot(None), x.between(x0, x1), y.between(y0, y1)]
    if db.engine.dialect.name == "sqlite" and zoom < SQLITE_SPATIAL_ZOOM:
        return cells
    search = (x0 * size - 180.0 - _EDGE_MARGIN, y0 * size - 90.0 - _EDGE_MARGIN,
              (x1 + 1) * size - 180.0 + _EDGE_MARGIN, (y1 + 1) * size - 90.0 + _EDGE_MARGIN)
    return [in_bbox("cases", Case.location, Case.id, *search), *cells]


def summary_query(zoom: int, rect: Rect, now: datetime, facets: list[str], split: bool = False
                  ) -> tuple[Select, dict]:
    """The SELECT (and its parameters) of the clusters of ``zoom`` in these cells, from the summary.

    One row per occupied cell of that level, summed over the ``facets`` asked for
    (``summary_facets``), with its state at ``now``, in cell order. The index on (level,
    facet, column, row) reads exactly those rows: one seek per facet and column of cells
    (``_summary_statement``). The days beside a filter are kept at ``DAY_LEVEL`` only: a
    coarser zoom reads that level's rows in its cells and adds them up per cell of its own
    (a coarse cell is exactly the finer cells inside it).
    With ``split`` (the unfiltered map, a level the open-state snapshot keeps), each row also
    carries the snapshot's red, yellow and green counts of its cell and their moment.
    """
    x0, x1, y0, y1 = rect
    if facet_shape(facets) == "day_single" and zoom < DAY_LEVEL:
        per_cell = 2 ** (DAY_LEVEL - zoom)
        return (_summary_statement(db.engine.dialect.name, grouped=True),
                {"level": DAY_LEVEL, "facets": facets, "per_cell": per_cell, "west": x0 * per_cell,
                 "east": (x1 + 1) * per_cell - 1, "low": y0 * per_cell, "high": (y1 + 1) * per_cell - 1, "now": now})
    statement = _summary_statement(db.engine.dialect.name, split)
    return (statement,
            {"level": zoom, "facets": facets, "columns": list(range(x0, x1 + 1)), "low": y0, "high": y1, "now": now})


def snapshot_moment():
    """When the open-state snapshot last counted every cell (``services.wall.open_states``), as a
    scalar subquery: NULL before its first count."""
    return select(WallOpenSnapshot.taken_at).where(WallOpenSnapshot.id == 1).scalar_subquery()


@cache
def _summary_statement(dialect: str, split: bool = False, grouped: bool = False) -> Select:
    """The summary SELECT with parameters, built once per backend (and with the open-state
    snapshot's split: for each summary row, each state's row of the same cell and facet
    from ``services.wall.open_states``, by its primary key; or ``grouped``: a finer level's
    rows between the columns ``west`` and ``east``, added up per ``per_cell`` of them).

    On PostgreSQL the rows are read facet by facet (a lateral subquery per value asked
    for, which OFFSET 0 keeps from being folded into one scan): given every facet in one
    condition, the planner may prefer the primary key, which reads every facet's rows in
    those columns (at 1M cases, 150,000 index entries for a city view of 30 days: 73 ms
    instead of 7). SQLite took the primary key too, for the order of its cells, which saves
    it sorting the groups (114 ms for a town's 30 days at zoom 12, whose cells hold a row per
    day and filter value): there the groups are keyed so that no index gives their order.
    """
    moment, level = bindparam("now", type_=UTCDateTime()), bindparam("level", type_=Integer())
    columns = (WallCell.cell_x.between(bindparam("west", type_=Integer()), bindparam("east", type_=Integer()))
               if grouped else WallCell.cell_x.in_(bindparam("columns", expanding=True, type_=Integer())))
    in_view = [columns, WallCell.cell_y.between(bindparam("low", type_=Integer()), bindparam("high", type_=Integer()))]
    if dialect == "postgresql":
        asked = func.unnest(bindparam("facets", type_=ARRAY(String()))).table_valued("facet").render_derived("asked")
        rows = select(WallCell).where(WallCell.level == level, WallCell.facet == asked.c.facet, *in_view)
        rows = rows.offset(0).lateral("summary")  # OFFSET 0: run per value, not folded into one scan
        c, source, where = rows.c, asked.join(rows, true()), []
    else:
        table = WallCell.__table__
        c, source = table.c, table
        where = [WallCell.level == level, WallCell.facet.in_(bindparam("facets", expanding=True, type_=String())),
                 *in_view]
    worst = case(
        (c.open_count == 0, 0),
        (c.earliest_due_at <= moment, 3),
        (c.earliest_yellow <= epoch_seconds(moment), 2),
        else_=1,
    )
    zoom_x, zoom_y = c.cell_x, c.cell_y
    if grouped:
        per_cell = bindparam("per_cell", type_=Integer())
        zoom_x, zoom_y = c.cell_x // per_cell, c.cell_y // per_cell
    elif dialect == "sqlite":  # grouped by the cell, not in the primary key's order (see above)
        zoom_x, zoom_y = unindexed(c.cell_x), unindexed(c.cell_y)
    columns = [
        zoom_x.label("zoom_x"), zoom_y.label("zoom_y"), func.sum(c.open_count + c.closed_count).label("count"),
        func.sum(c.lon_sum).label("lon_sum"), func.sum(c.lat_sum).label("lat_sum"), func.max(worst).label("worst"),
        func.sum(c.above_level).label("above_level"), func.sum(c.inspection).label("inspection"),
        func.sum(c.leader).label("leader"), func.min(c.min_case_id).label("case_id"),
        func.sum(c.closed_count).label("closed"),
    ]
    for state in OPEN_STATES if split else ():
        row = aliased(WallOpenState, name=f"open_{state.value}")
        source = source.outerjoin(row, and_(row.level == c.level, row.cell_x == c.cell_x, row.cell_y == c.cell_y,
                                            row.state == state.value, row.facet == c.facet))
        columns.append(func.sum(row.case_count).label(f"snap_{state.value}"))
    if split:
        columns.append(snapshot_moment().label("taken_at"))
    return (select(*columns).select_from(source).where(*where).group_by(zoom_x, zoom_y)
            .order_by("zoom_x", "zoom_y"))
