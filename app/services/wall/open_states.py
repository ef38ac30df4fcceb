"""The open cases per map cell and deadline state: a snapshot the worker takes every minute.

The wall's summary (``wall_cells``) keeps a cell's open cases as one count, because their
states change with the clock and not with a write: kept per state, every minute would
recount every cell holding a case about to turn yellow or red. So a city view drew a
cluster's open part in its worst case's colour, and a view of one state ("已超期") counted
its cases live. This snapshot serves both:

* **What.** At every level up to ``SNAPSHOT_LEVEL``, each cell's open cases per state (red,
  yellow, green) at one moment (``wall_open_snapshot.taken_at``), by the live clusters'
  own state rule (``cells.state_rank``), with what a cluster needs: count, coordinate
  sums, flag counts and the lowest case id. Up to ``FACET_LEVEL`` (a town's centre on the
  wall), the same per value of each filter the summary has rows for (``facet``:
  "category:noise", "town:7", "flag:above_level"; ``cells.facet_kinds``).
* **Every minute** (``take_snapshot``): the cells where an open case's due time or yellow
  moment passed since the last count (the only way the clock changes a state) are counted
  again, as after a write. Once an hour, and after a long pause, every cell is: two
  grouped reads of the open cases, one at ``SNAPSHOT_LEVEL`` and one per filter value at
  ``FACET_LEVEL`` (each case meeting every kind, ``cells.facet_of_each_case``), read
  without SQLite's write lock (``database.deferred_reads``); the coarser levels are their
  children's sums, added up in Python; only the rows that changed are written, and the
  moment. A write's refresh that stored fresher rows while the minute's count was reading
  names its cells (``wall_open_touched``): the count recounts them after storing.
* **After a write** (``refresh_cells``, inside the worker's refresh of the summary, which
  tells this module as a follower: ``cells.follow_refreshes``): the cells the write changed
  are counted again and rolled up, so the snapshot follows the cases as the summary does;
  a rebuild of the summary counts every cell again (``recount``). The moment stays: a
  view states when every cell was last counted, and a cell a write changed is newer.
* **When it is read.** A view without filters, or with one the snapshot keeps, splits a
  cluster's ring by state when the snapshot is at most ``MAX_AGE`` old and the cell still
  has as many open cases as the summary says. A view of open states, alone or beside one
  such filter (``state_filter``: 已超期 + 噪声), is read from the snapshot when it is that
  fresh and the summary has caught up with every write (``current``). Either answer states
  the moment (``states_as_of``), and the legend shows it.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, case, delete, func, insert, literal, or_, select, true, tuple_
from sqlalchemy.orm import Session

from app.database import deferred_reads
from app.extensions import db
from app.models import Case, WallOpenSnapshot, WallOpenState, WallOpenTouched
from app.models.types import UTCDateTime
from app.services.settings import get_setting
from app.services.wall.cells import (
    BASE_LEVEL,
    OPEN,
    OPEN_STATES,
    STATE_RANKS,
    Rect,
    case_cell,
    epoch_seconds,
    facet_kinds,
    facet_of_each_case,
    facet_shape,
    follow_refreshes,
    in_cell,
    one_refresh_at_a_time,
    snapshot_moment,
    state_rank,
    summary_facets,
    summary_pending,
    tune_aggregate_session,
    yellow_epoch,
)

# The finest level counted: about 21,000 cells hold an open case at 1M demo cases; from
# zoom 16 on, the wall shows the cases one by one.
SNAPSHOT_LEVEL = 15
# The finest level with rows per filter value (a town's centre fills the wall at zoom 13);
# a finer view with a filter beside an open state holds few enough cases to count live. A
# cell of this level holds few enough cases (600 in the 1M demo's centre) for the minute's
# count to recount the cells where a case turned.
FACET_LEVEL = 14
# A later count recounts only the cells where a case turned yellow or red since the last
# one; past this many such base cells (the worker stopped for a while), it counts every cell.
RECOUNT_ABOVE_CELLS = 2_000
# A snapshot older than this is not used (the worker has stopped): the wall counts live.
MAX_AGE = timedelta(minutes=3)
REFRESH_TASK = "wall.open_states"
STATES = tuple(state.value for state in OPEN_STATES)
_STATE_RANKS = {state.value: STATE_RANKS[state] for state in OPEN_STATES}
_STATE_OF_RANK = {rank: name for name, rank in _STATE_RANKS.items()}
# A row's values after its key (level, x, y, state, facet): sums, then the lowest case id.
_VALUES = ("case_count", "lon_sum", "lat_sum", "above_level", "inspection", "leader", "min_case_id")

Key = tuple[int, int, int, str, str]
Values = tuple


def _counted(where: list, now: datetime, level: int, facets: bool) -> Select:
    """SELECT, from the open cases matching ``where``, one row per cell of ``level`` and state
    (and with ``facets``, per filter value, ``cells.facet_kinds``, instead of all): x, y,
    state rank, facet, then ``_VALUES``."""
    x, y = case_cell(level)
    numbers, facet = facet_of_each_case(facet_kinds()) if facets else (None, literal(""))
    cases = (
        select(x.label("x"), y.label("y"), state_rank(now).label("rank"), facet.label("facet"),
               func.ST_X(Case.location).label("lon"), func.ST_Y(Case.location).label("lat"),
               case((Case.above_level.is_(True), 1), else_=0).label("above_level"),
               case((Case.inspection_referral.isnot(None), 1), else_=0).label("inspection"),
               case((Case.leading_official_id.isnot(None), 1), else_=0).label("leader"), Case.id)
        # Open, by the state rule rather than the status: the planner would otherwise read a
        # cell's cases by intersecting the spatial index with the status index (every open case).
        .where(Case.location.isnot(None), state_rank(now) > 0, *where)
    )
    if facets:
        cases = cases.join_from(Case, numbers, true()).where(facet.isnot(None))
    c = cases.subquery().c
    return (select(c.x, c.y, c.rank, c.facet, func.count(), func.sum(c.lon), func.sum(c.lat),
                   func.sum(c.above_level), func.sum(c.inspection), func.sum(c.leader), func.min(c.id))
            .group_by(c.x, c.y, c.rank, c.facet))


def _count(session: Session, now: datetime, where: list, level: int = SNAPSHOT_LEVEL, facets: bool = False
           ) -> dict[Key, Values]:
    """The rows of ``level`` (all open cases, or with ``facets`` per filter value) of the open cases
    matching ``where``, counted now, by (level, x, y, state, facet)."""
    rows = session.execute(_counted(where, now, level, facets))
    return {(level, int(x), int(y), _STATE_OF_RANK[int(rank)], facet): (
                int(n), float(lon), float(lat), int(above), int(inspection), int(leader), int(low))
            for x, y, rank, facet, n, lon, lat, above, inspection, leader, low in rows}


def _count_all(session: Session, now: datetime) -> tuple[dict[Key, Values], dict[Key, Values]]:
    """Every open case counted now: the finest level's rows, and the filter values' rows of ``FACET_LEVEL``."""
    return _count(session, now, []), _count(session, now, [], FACET_LEVEL, facets=True)


def _combine(a: Values, b: Values) -> Values:
    """Two rows' values as one cell's: sums, and the lower case id."""
    return (*(p + q for p, q in zip(a[:-1], b[:-1], strict=True)), min(a[-1], b[-1]))


def _parents(level: int, children: dict[Key, Values]) -> dict[Key, Values]:
    """The rows of ``level`` from their children's at ``level + 1``."""
    parents: dict[Key, Values] = {}
    for (_, x, y, state, facet), values in children.items():
        key = (level, x >> 1, y >> 1, state, facet)
        parents[key] = values if key not in parents else _combine(parents[key], values)
    return parents


def take_snapshot(now: datetime) -> int:
    """Count the open cases per cell and state at ``now`` and store them as the snapshot; return its rows.

    The worker's task, every minute. A state changes with the clock only when an open case's
    due time or yellow moment passes (writes reach the snapshot through the summary's
    refresh), so after a count, the next one counts again only the cells where that happened
    since (``_turned_cells``); the first count of each hour, or one after more than
    ``RECOUNT_ABOVE_CELLS`` such cells, counts every cell. The reads run in a transaction of
    their own, which on SQLite does not hold the write lock; the rows are stored under the
    summary's refresh lock, and the cells a write's refresh counted meanwhile
    (``wall_open_touched``) are counted again after them, so no fresher row is left
    overwritten."""
    db.session.commit()  # the reads below begin their own transaction
    previous = taken_at(db.session)
    with deferred_reads():
        tune_aggregate_session()
        mark = db.session.scalar(select(func.max(WallOpenTouched.id))) or 0
        turned = None
        if previous is not None and previous <= now and _hour(previous) == _hour(now):
            turned = _turned_cells(db.session, previous, now)
        if turned is None or len(turned) > RECOUNT_ABOVE_CELLS:
            counted, cells = _count_all(db.session, now), None
        else:
            cells, counted = _count_cells(db.session, turned, now)
        db.session.commit()  # end the reads: the writes below take the write lock
    one_refresh_at_a_time(db.session)  # no write's refresh stores rows from here to the commit
    if cells is None:
        _store_all(db.session, *counted, now)
    else:
        _store_cells(db.session, cells, counted)
        _set_moment(db.session, now)
    # A write's refresh that stored its cells' rows after the reads began stored fresher
    # rows than these: count those cells again, now, under the lock.
    touched = db.session.execute(delete(WallOpenTouched).returning(WallOpenTouched.id, WallOpenTouched.cell_x,
                                                                    WallOpenTouched.cell_y)).all()
    again = {(int(x), int(y)) for id_, x, y in touched if id_ > mark}
    if again:
        _store_cells(db.session, *_count_cells(db.session, again, now))
    return db.session.scalar(select(func.count()).select_from(WallOpenState)) or 0


def _hour(moment: datetime) -> int:
    """The hour a moment falls in (the snapshot counts every cell once an hour)."""
    return int(moment.timestamp() // 3600)


def _turned_cells(session: Session, previous: datetime, now: datetime) -> set[tuple[int, int]]:
    """The summary's base cells holding an open case that turned red or yellow after ``previous``
    and by ``now``: its due time or its yellow moment passed (``cells.rank_at``'s rule)."""
    x, y = case_cell(BASE_LEVEL)
    yellow = yellow_epoch(float(get_setting("yellow_at")))
    crossed = or_(and_(Case.due_at > previous, Case.due_at <= now),
                  and_(Case.due_at.isnot(None), yellow > epoch_seconds(literal(previous, UTCDateTime())),
                       yellow <= epoch_seconds(literal(now, UTCDateTime()))))
    rows = session.execute(select(x, y).distinct().where(Case.location.isnot(None), Case.status.in_(OPEN), crossed))
    return {(int(a), int(b)) for a, b in rows}


def recount(session: Session, now: datetime) -> None:
    """Count every cell again in the caller's transaction (a rebuild of the summary), if a
    snapshot exists; its moment becomes ``now``."""
    if taken_at(session) is not None:
        _store_all(session, *_count_all(session, now), now)


def _store_all(session: Session, finest: dict[Key, Values], facet_rows: dict[Key, Values], now: datetime) -> int:
    """The whole snapshot from its finest level's rows and ``FACET_LEVEL``'s filter-value rows,
    taken at ``now``; return its rows."""
    rows, level_rows = dict(finest), finest
    for level in range(SNAPSHOT_LEVEL - 1, -1, -1):
        level_rows = _parents(level, level_rows) | (facet_rows if level == FACET_LEVEL else {})
        rows |= level_rows
    _store(session, rows, None)
    _set_moment(session, now)
    return len(rows)


def _set_moment(session: Session, now: datetime) -> None:
    """Every cell has been counted as of ``now``."""
    moment = session.get(WallOpenSnapshot, 1)
    if moment is None:
        session.add(WallOpenSnapshot(id=1, taken_at=now))
    else:
        moment.taken_at = now
    session.flush()


def refresh_cells(session: Session, base_cells: set[tuple[int, int]], now: datetime) -> None:
    """Count again the snapshot's cells holding these base cells of the summary, up to level 0.

    Run by the summary's refresh, in its transaction, after a write. Nothing happens before
    the first snapshot; the rows written keep the snapshot's moment.
    """
    if taken_at(session) is not None:
        _store_cells(session, *_count_cells(session, base_cells, now))
        session.execute(insert(WallOpenTouched), [{"cell_x": x, "cell_y": y} for x, y in sorted(base_cells)])


def _count_cells(session: Session, base_cells: set[tuple[int, int]], now: datetime
                 ) -> tuple[set[tuple[int, int]], dict[Key, Values]]:
    """The cells of ``SNAPSHOT_LEVEL`` holding these base cells, and their rows counted now with
    those of their ``FACET_LEVEL`` cells' filter values."""
    cells = {(x >> (BASE_LEVEL - SNAPSHOT_LEVEL), y >> (BASE_LEVEL - SNAPSHOT_LEVEL)) for x, y in base_cells}
    rows: dict[Key, Values] = {}
    for x, y in sorted(cells):
        rows |= _count(session, now, in_cell(SNAPSHOT_LEVEL, x, y))
    shift = SNAPSHOT_LEVEL - FACET_LEVEL
    for x, y in sorted({(x >> shift, y >> shift) for x, y in cells}):
        rows |= _count(session, now, in_cell(FACET_LEVEL, x, y), FACET_LEVEL, facets=True)
    return cells, rows


def _store_cells(session: Session, cells: set[tuple[int, int]], counted: dict[Key, Values]) -> None:
    """Store these ``SNAPSHOT_LEVEL`` cells' counted rows and roll them up to level 0, with the
    counted filter-value rows at ``FACET_LEVEL``."""
    _store(session, {key: values for key, values in counted.items() if key[0] == SNAPSHOT_LEVEL},
           (SNAPSHOT_LEVEL, cells))
    for level in range(SNAPSHOT_LEVEL - 1, -1, -1):
        cells = {(x >> 1, y >> 1) for x, y in cells}
        children = _stored(session, level + 1, {(2 * x + dx, 2 * y + dy) for x, y in cells for dx in (0, 1)
                                                for dy in (0, 1)})
        rows = _parents(level, children)
        if level == FACET_LEVEL:
            rows |= {key: values for key, values in counted.items() if key[0] == FACET_LEVEL}
        _store(session, rows, (level, cells))


def _stored(session: Session, level: int | None = None, cells: set[tuple[int, int]] | None = None) -> dict[Key, Values]:
    """The stored rows: all, or those of these cells of ``level``."""
    t = WallOpenState
    query = select(t.level, t.cell_x, t.cell_y, t.state, t.facet, *(getattr(t, name) for name in _VALUES))
    if level is not None:
        query = query.where(t.level == level, tuple_(t.cell_x, t.cell_y).in_(sorted(cells or ())))
    return {(level, x, y, state, facet): tuple(values)
            for level, x, y, state, facet, *values in session.execute(query)}


def _store(session: Session, rows: dict[Key, Values], within: tuple[int, set[tuple[int, int]]] | None) -> None:
    """Make the stored rows (all, or those of ``within``'s cells of its level) equal ``rows``,
    writing only the ones that changed."""
    stored = _stored(session, *within) if within else _stored(session)
    table = WallOpenState.__table__
    key = and_(table.c.level == bindparam("k_level"), table.c.cell_x == bindparam("k_x"),
               table.c.cell_y == bindparam("k_y"), table.c.state == bindparam("k_state"),
               table.c.facet == bindparam("k_facet"))

    def keyed(row: Key, values: Values = ()) -> dict:
        return {"k_level": row[0], "k_x": row[1], "k_y": row[2], "k_state": row[3], "k_facet": row[4],
                **{f"v_{name}": value for name, value in zip(_VALUES, values, strict=False)}}

    gone = [keyed(row) for row in stored.keys() - rows.keys()]
    changed = [keyed(row, values) for row, values in rows.items() if row in stored and not _same(stored[row], values)]
    new = [{"level": row[0], "cell_x": row[1], "cell_y": row[2], "state": row[3], "facet": row[4],
            **dict(zip(_VALUES, values, strict=True))}
           for row, values in rows.items() if row not in stored]
    if gone:
        session.execute(table.delete().where(key), gone)
    if changed:
        session.execute(table.update().where(key).values({name: bindparam(f"v_{name}") for name in _VALUES}),
                        changed)
    if new:
        session.execute(insert(table), new)


def _same(a: Values, b: Values) -> bool:
    """True when two rows' values are equal but for the order their coordinates were summed in
    (a parallel plan adds them in any order); a case moving even a millimetre differs."""
    return a[0] == b[0] and a[3:] == b[3:] and all(math.isclose(p, q, rel_tol=1e-12) for p, q in zip(a[1:3], b[1:3],
                                                                                                    strict=True))


def taken_at(session: Session) -> datetime | None:
    """When the snapshot last counted every cell, or None before its first count."""
    return session.scalar(select(snapshot_moment()))


def usable(taken_at: datetime | None, now: datetime) -> bool:
    """True when a snapshot taken then may be drawn now."""
    return taken_at is not None and now - MAX_AGE <= taken_at <= now + timedelta(minutes=1)


def state_filter(filters: dict) -> tuple[list[str], list[str]] | None:
    """For a view of open states, alone or beside one filter the snapshot keeps: the states
    asked for and the ``facet`` values whose rows answer it ([""] for none), else None."""
    given = {name: value for name, value in filters.items() if value}
    states = set(given.pop("state", None) or ())
    if not states or not states <= set(STATES):
        return None
    facets = summary_facets(given)
    if facets is None or not splits(facets):
        return None
    return [name for name in STATES if name in states], facets


def splits(facets: list[str]) -> bool:
    """True when the snapshot has rows for these summary ``facet`` values: all cases, or the
    values of one filter (not a pair, a received day or 销号, which holds no open case)."""
    kind = facet_shape(facets)
    return kind == "all" or (kind == "single" and facets != ["state:closed"])


def finest_level(facets: list[str]) -> int:
    """The finest level whose rows answer these ``facet`` values."""
    return SNAPSHOT_LEVEL if facets == [""] else FACET_LEVEL


def current(now: datetime) -> bool:
    """True when a view of open states may be read from the snapshot: it is fresh and every
    write so far has reached it (the summary's refresh carries it along)."""
    return usable(taken_at(db.session), now) and summary_pending()[1] is None


def state_query(zoom: int, rect: Rect, states: list[str], facets: list[str]) -> Select:
    """The clusters of ``zoom`` in these cells holding open cases in ``states`` (among those the
    ``facet`` rows count), from the snapshot: one row per cell, shaped as the live clusters'
    (with each state's count), in cell order."""
    t = WallOpenState
    x0, x1, y0, y1 = rect
    return (
        select(t.cell_x.label("zoom_x"), t.cell_y.label("zoom_y"), func.sum(t.case_count).label("count"),
               func.sum(t.lon_sum).label("lon_sum"), func.sum(t.lat_sum).label("lat_sum"),
               func.max(case(*((t.state == name, rank) for name, rank in _STATE_RANKS.items()))).label("worst"),
               func.sum(t.above_level).label("above_level"), func.sum(t.inspection).label("inspection"),
               func.sum(t.leader).label("leader"), func.min(t.min_case_id).label("case_id"),
               literal(0).label("closed"),
               *(func.sum(case((t.state == name, t.case_count), else_=0)).label(name) for name in STATES),
               snapshot_moment().label("taken_at"))
        .where(t.level == zoom, t.state.in_(states), t.facet.in_(facets), t.cell_x.between(x0, x1),
               t.cell_y.between(y0, y1))
        .group_by(t.cell_x, t.cell_y)
        .order_by("zoom_x", "zoom_y")
    )


class _Follower:
    """This snapshot, told of the summary's refreshes (``cells.follow_refreshes``)."""

    @staticmethod
    def cells_refreshed(session: Session, base_cells: set[tuple[int, int]], now: datetime) -> None:
        """A write's cells: count them again."""
        refresh_cells(session, base_cells, now)

    @staticmethod
    def rebuilt(session: Session, now: datetime) -> None:
        """The whole summary: count every cell again."""
        recount(session, now)


follow_refreshes(_Follower)
