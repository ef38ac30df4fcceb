"""The map wall (挂图作战): cases on the map at city scale, clustered without reading them all.

* **Deadline state in SQL.** Grey when the case is finished, red once ``now >= due_at``,
  yellow once the share ``yellow_at`` (admin setting, 75 %) of the time from the nearest
  running clock's start (``due_started_at``) to ``due_at`` is used
  (``wall_cells.yellow_epoch``), else green: the rule of ``deadlines.case_deadline_state``,
  read from the case row, which mirrors the nearest open clock's start and due time, so the
  wall, the desk and the phone give every case the same colour.
* **Grid clustering.** Points are snapped to square cells of ``wall_cells.CELL_PX`` screen
  pixels at the requested zoom; each cluster carries its exact count, centroid, worst state and flag
  counts. From ``POINTS_ZOOM`` on, cases come one by one when there are at most
  ``MAX_POINTS`` in view.
* **Whole cells.** A view is answered for every cell of its zoom that it touches
  (``wall_cells.view_cells``): a cluster is all the cases of its cell, so its count is
  exact and stays put while the view's edge slides across it; the client draws what falls
  on the screen.
* **Two ways to the same clusters.** For a caller who sees every case (the wall's roles),
  the clusters are rows of the per-cell summary (``services.wall_cells``: one indexed read
  of a few hundred rows) without filters at zooms up to ``wall_cells.BASE_LEVEL``, and with
  one filter of category, channel, town, flag or 销号 up to ``wall_cells.FACET_LEVEL``,
  two of them up to ``wall_cells.PAIR_LEVEL``, and a period of whole days up to
  ``wall_cells.DAY_LEVEL``. The open deadline states and a period to the minute cut across
  a cell's cases, and three filters across its filter rows: the first come from the
  open-state snapshot, the second from received-day rows and its ends counted live; the
  rest, finer filtered zooms and the point layer run the live ``GROUP BY`` over the cases
  in the cells (``wall_cells.in_cells``: the spatial index, then the cell test). Both give
  identical clusters (tests/test_wall_cells.py).
* **ETag** from a cheap data revision (the highest event id and case id, both primary keys,
  read in one statement) plus the minute (states change with time), the caller's scope, the
  cells and the filters.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, Integer, Row, Select, and_, case, cast, func, literal, not_, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from app.database import unindexed
from app.errors import NotFound
from app.extensions import db
from app.models import Case, CaseEvent, Department, Grid, User, WallDirtyCell
from app.models.types import UTCDateTime
from app.models.vocab import Category, DeadlineState
from app.services.access import case_scope, may, require
from app.services.settings import get_setting
from app.services.wall import open_states
from app.services.wall.cells import (
    BASE_LEVEL,
    DAY_LEVEL,
    MAX_VIEW_CELLS,
    OPEN,
    OPEN_STATES,
    STATE_RANKS,
    Rect,
    awaits_catch_up,
    cell_degrees,
    cell_index,
    days_beside,
    epoch_seconds,
    facet_level,
    facet_shape,
    in_cells,
    period_days,
    state_rank,
    summary_facets,
    summary_pending,
    summary_query,
    summary_total,
    tune_aggregate_session,
    view_cells,
    yellow_epoch,
)

# From this zoom on, cases are sent one by one (a village fills the screen), unless the
# view holds more than MAX_POINTS of them.
POINTS_ZOOM = 16
MAX_POINTS = 2000
# A filtered view the summary answers with at most this many cases is counted live, so its
# rings split the open cases by state.
LIVE_SPLIT_MAX = 5000
# In a city with at most this many cases, a view with two filters (or a period beside a
# filter) and few cases is counted live too: even reading every case takes a few milliseconds.
LIVE_CITY_MAX = 50_000
# A cluster shows its worst member, the highest state rank (wall.cells.STATE_RANKS).
STATE_NAMES = {rank: name for name, rank in STATE_RANKS.items()}


@dataclass(frozen=True)
class Viewport:
    """A map view: the box in WGS-84 degrees and the Leaflet zoom."""

    west: float
    south: float
    east: float
    north: float
    zoom: int

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(west, south, east, north)."""
        return self.west, self.south, self.east, self.north

    @property
    def cells(self) -> Rect:
        """The cells of this zoom the view touches, inclusive (x0, x1, y0, y1)."""
        return view_cells(self.box, self.zoom)

    @property
    def too_large(self) -> bool:
        """True when the box spans more cells than any screen shows at this zoom."""
        x0, x1, y0, y1 = self.cells
        return max(x1 - x0, y1 - y0) + 1 > MAX_VIEW_CELLS


def require_wall_user(user: User) -> None:
    """The wall is for the command office and administrators; others get Forbidden."""
    require(user, "wall")


def state_is(name: str, now: datetime) -> ColumnElement[bool]:
    """SQL: the case is in this deadline state at ``now``; the same cases as ``state_rank``, but
    written as ranges on status and due time, so that an index (``ix_cases_status_due``) finds them."""
    opened, moment = Case.status.in_(OPEN), literal(now, UTCDateTime())
    yellow = epoch_seconds(moment) >= yellow_epoch(literal(float(get_setting("yellow_at")), Float()))
    return {
        DeadlineState.CLOSED: Case.status.not_in(OPEN),
        DeadlineState.RED: and_(opened, Case.due_at <= moment),
        DeadlineState.YELLOW: and_(opened, Case.due_at > moment, yellow),
        DeadlineState.GREEN: and_(opened, or_(Case.due_at.is_(None), and_(Case.due_at > moment, not_(yellow)))),
    }[name]


def wall_filters(user: User, now: datetime, filters: dict, indexed: bool = True) -> list[ColumnElement[bool]]:
    """WHERE clauses for the wall's filters (period, category, channel, state, flags), in scope.

    Not ``indexed``: the category, channel and town are tested through no index, for a query
    that another condition must drive (a day's cases beside 噪声, a third of the city, which
    SQLite, keeping no statistics, would otherwise read through the category's index)."""
    clauses: list[ColumnElement[bool]] = [case_scope(user)]
    category, channel, town = (Case.category, Case.channel, Case.town_id)
    if not indexed:
        category, channel, town = unindexed(category), unindexed(channel), unindexed(town)
    if filters.get("received_from"):
        clauses.append(Case.received_at >= filters["received_from"])
    if filters.get("received_to"):
        clauses.append(Case.received_at < filters["received_to"])
    if filters.get("category"):
        clauses.append(category.in_(filters["category"]))
    if filters.get("channel"):
        clauses.append(channel.in_(filters["channel"]))
    if filters.get("town_id"):
        clauses.append(town == filters["town_id"])
    if filters.get("state"):
        clauses.append(or_(*(state_is(name, now) for name in sorted(set(filters["state"])))))
    flags = filters.get("flag") or []
    if "above_level" in flags:
        clauses.append(Case.above_level.is_(True))
    if "inspection" in flags:
        clauses.append(Case.inspection_referral.isnot(None))
    if "leader" in flags:
        clauses.append(Case.leading_official_id.isnot(None))
    if "repeat" in flags:
        clauses.append(Case.repeat_of_id.isnot(None))
    return clauses


def _cluster_select(size, rank: ColumnElement[int], where: list, states: bool = True) -> Select:
    """One row per occupied cell (``size`` degrees) among the cases matching ``where``: sums, not averages
    (and with ``states``, each open state's count)."""
    lon, lat = func.ST_X(Case.location), func.ST_Y(Case.location)
    return (
        select(
            cell_index(lon, 180.0, size).label("zoom_x"),
            cell_index(lat, 90.0, size).label("zoom_y"),
            func.count().label("count"),
            func.sum(lon).label("lon_sum"),
            func.sum(lat).label("lat_sum"),
            func.max(rank).label("worst"),
            func.sum(case((Case.above_level.is_(True), 1), else_=0)).label("above_level"),
            func.sum(case((Case.inspection_referral.isnot(None), 1), else_=0)).label("inspection"),
            func.sum(case((Case.leading_official_id.isnot(None), 1), else_=0)).label("leader"),
            func.min(Case.id).label("case_id"),
            func.sum(case((rank == 0, 1), else_=0)).label("closed"),
            *(func.sum(case((rank == STATE_RANKS[name], 1), else_=0)).label(name.value)
              for name in (OPEN_STATES if states else ())),
        )
        .where(Case.location.isnot(None), *where)
        .group_by("zoom_x", "zoom_y")
    )


def cluster_query(user: User, view: Viewport, now: datetime, filters: dict) -> Select:
    """The live SELECT behind the clusters: one row per occupied cell, in cell order, over the view's cells."""
    return _cluster_select(cell_degrees(view.zoom), state_rank(now),
                           [*in_cells(view.zoom, view.cells), *wall_filters(user, now, filters)]
                           ).order_by("zoom_x", "zoom_y")


def answers_from_summary(user: User, view: Viewport, filters: dict) -> list[str] | None:
    """The summary rows (``facet`` values) that give this view's clusters exactly, or None.

    The wall's roles see every case (access.case_scope); the zoom's cells must be ones the
    summary keeps; the filters must be none, one or two of category, channel, town, flags
    and the closed state, or a period of whole days (``wall_cells.summary_facets``) at a
    zoom that has rows for them. Rows an upgrade added wait for the summary to catch up
    with the noted cells (``wall_cells.awaits_catch_up``; until then such views are
    counted live).
    """
    if not may(user, "wall") or view.zoom > BASE_LEVEL:
        return None
    facets = summary_facets(filters)
    if facets is None or view.zoom > facet_level(facets):
        return None
    if awaits_catch_up(facets, view.zoom) and summary_pending()[1] is not None:
        return None  # rows an upgrade added are not all written yet (migrations 0023, 0024)
    return facets


def answers_from_snapshot(user: User, view: Viewport, now: datetime, filters: dict
                          ) -> tuple[list[str], list[str]] | None:
    """The open states and ``facet`` values whose snapshot rows give this view's clusters (as of the
    snapshot's minute), or None: a wall role, open states alone or beside one filter the
    snapshot keeps (``open_states.state_filter``), a zoom that has those rows, and a snapshot
    that is fresh and has every write (``open_states.current``)."""
    wanted = open_states.state_filter(filters)
    if wanted is None or not may(user, "wall") or view.zoom > open_states.finest_level(wanted[1]):
        return None
    return wanted if open_states.current(now) else None


def answers_by_days(user: User, view: Viewport, now: datetime, filters: dict
                    ) -> tuple[list[str], list[tuple[datetime, datetime]]] | None:
    """For a period to the minute, alone or beside one filter with rows: the rows of its whole
    days (``days_beside``) and the stretches at its ends to count live (``period_query``), or None."""
    given = {name: value for name, value in filters.items() if value}
    if not {"received_from", "received_to"} & set(given) or not may(user, "wall") or view.zoom > DAY_LEVEL:
        return None
    days = period_days(given.pop("received_from", None), given.pop("received_to", None), now)
    if days is None or not days[1]:  # whole days: the summary's own (answers_from_summary)
        return None
    facets = days_beside(days[0], given)
    return (facets, days[1]) if facets is not None and summary_pending()[1] is None else None


def period_query(user: User, view: Viewport, now: datetime, filters: dict, facets: list[str],
                 stretches: list[tuple[datetime, datetime]]) -> tuple[Select, dict]:
    """The clusters of a period to the minute (beside the view's other ``filters``): its whole
    days from the summary's rows (``answers_by_days``), its partial days at either end counted
    live (a day or two of cases, found by receipt time), added up per cell. Open cases come
    unsplit, as from any filter rows."""
    summary, parameters = summary_query(view.zoom, view.cells, now, facets)
    received = or_(*(and_(Case.received_at >= a, Case.received_at < b) for a, b in stretches))
    others = {name: value for name, value in filters.items() if name not in ("received_from", "received_to")}
    ends = _cluster_select(cell_degrees(view.zoom), state_rank(now),
                           [*in_cells(view.zoom, view.cells), received, *wall_filters(user, now, others, False)],
                           states=False)
    both = union_all(summary.order_by(None), ends).subquery()
    c = both.c

    def total(column):  # PostgreSQL sums bigints as numeric: back to integers
        return cast(func.sum(column), Integer).label(column.name)

    return (
        select(c.zoom_x, c.zoom_y, total(c.count), func.sum(c.lon_sum).label("lon_sum"),
               func.sum(c.lat_sum).label("lat_sum"), func.max(c.worst).label("worst"),
               total(c.above_level), total(c.inspection), total(c.leader), func.min(c.case_id).label("case_id"),
               total(c.closed))
        .group_by(c.zoom_x, c.zoom_y)
        .order_by(c.zoom_x, c.zoom_y),
        parameters,
    )


def summary_select(view: Viewport, now: datetime, facets: list[str]) -> tuple[Select, dict, bool]:
    """The summary's SELECT for a view it answers, with the open-state snapshot's split where
    it is kept (no filter up to ``open_states.SNAPSHOT_LEVEL``, one filter up to its
    ``FACET_LEVEL``), and whether it has the split."""
    split = open_states.splits(facets) and view.zoom <= open_states.finest_level(facets)
    return *summary_query(view.zoom, view.cells, now, facets, split), split


def view_clusters(user: User, view: Viewport, now: datetime, filters: dict) -> list[Row]:
    """The view's clusters, one row per occupied cell, from the summary when it answers exactly, else live.

    Each row: ``zoom_x``, ``zoom_y`` (the cell), ``count``, ``lon_sum``, ``lat_sum``,
    ``worst`` (state rank), ``above_level``, ``inspection``, ``leader`` and ``case_id``
    (the lowest case id, the case itself when the cell holds one), in cell order.
    """
    facets = answers_from_summary(user, view, filters)
    if facets is not None:
        statement, parameters, split = summary_select(view, now, facets)
        rows = db.session.execute(statement, parameters).all()
        split = split and bool(rows) and open_states.usable(rows[0].taken_at, now)
        # Rows without a fresh snapshot's split keep open cases unsplit: when one filter leaves
        # few, count them live instead, so the rings show each state (that query's cost grows
        # with them), unless that count would read far more cases than it keeps (_reads_widely).
        kind = facet_shape(facets)
        if split or kind == "all" or _reads_widely(kind) or sum(
                row.count for row in rows) > LIVE_SPLIT_MAX or all(
                row.worst <= STATE_RANKS[DeadlineState.GREEN] for row in rows):
            return rows
    wanted = answers_from_snapshot(user, view, now, filters)
    if wanted is not None:
        return db.session.execute(open_states.state_query(view.zoom, view.cells, *wanted)).all()
    period = answers_by_days(user, view, now, filters)
    if period is not None:
        tune_aggregate_session(small=True)  # its live part is a day or two of cases
        rows = db.session.execute(*period_query(user, view, now, filters, *period)).all()
        if _reads_widely(facet_shape(period[0])) or sum(row.count for row in rows) > LIVE_SPLIT_MAX:
            return rows
    tune_aggregate_session()
    return db.session.execute(cluster_query(user, view, now, filters)).all()


def _reads_widely(kind: str) -> bool:
    """True for rows (``facet_shape``) whose view, counted live, reads every case either of two
    conditions matches (two filters, or a period beside a filter: 150,000 cases of a town's
    last 30 days for 4,000 above-level ones at 1M), in a city bigger than ``LIVE_CITY_MAX``:
    such a view keeps its rows, open cases unsplit, however few cases it holds."""
    return kind in ("pair", "day_single") and summary_total() > LIVE_CITY_MAX


def points_query(user: User, view: Viewport, now: datetime, filters: dict):
    """The SELECT behind the point layer at high zoom: one row per case, no personal data."""
    return (
        select(
            Case.id,
            func.ST_X(Case.location).label("lon"),
            func.ST_Y(Case.location).label("lat"),
            state_rank(now).label("worst"),
            Case.above_level,
            Case.inspection_referral,
            Case.leading_official_id,
        )
        .where(
            Case.location.isnot(None),
            *in_cells(view.zoom, view.cells),
            *wall_filters(user, now, filters),
        )
        .order_by(Case.id)
        .limit(MAX_POINTS)
    )


def viewport_features(user: User, view: Viewport, now: datetime, filters: dict) -> dict:
    """Clusters in the view's cells, or their single cases at high zoom when there are few enough.

    A street view holding more than MAX_POINTS cases stays clustered, so the wall never
    shows a truncated set.
    """
    rows = view_clusters(user, view, now, filters)
    total = sum(row[2] for row in rows)  # the count column
    if view.zoom >= POINTS_ZOOM and total <= MAX_POINTS:
        points = db.session.execute(points_query(user, view, now, filters)).all()
        return {"kind": "points", "zoom": view.zoom, "points": [_point(r) for r in points]}
    clusters, as_of = [], set()
    for row in rows:
        _x, _y, count, lon_sum, lat_sum, worst, above_level, inspection, leader, case_id, *_ = row
        states, taken_at = cluster_states(row, now)
        if taken_at is not None:
            as_of.add(taken_at)
            worst = max(STATE_RANKS[DeadlineState(name)] for name, n in states.items() if n)
        clusters.append(
            {"count": count, "lon": round(lon_sum / count, 6), "lat": round(lat_sum / count, 6),
             "state": STATE_NAMES[worst], "above_level": above_level, "inspection": inspection, "leader": leader,
             "case_id": case_id if count == 1 else None, "states": states})
    return {"kind": "clusters", "zoom": view.zoom, "cell_deg": cell_degrees(view.zoom), "total": total,
            "clusters": clusters, "states_as_of": min(as_of).isoformat() if as_of else None}


def cluster_states(row: Row, now: datetime) -> tuple[dict, datetime | None]:
    """How many of a cluster's cases are in each deadline state, for the wall's ring charts, and
    the moment of the open-state snapshot the split comes from (None when counted now).

    The live path counts every state, as does a view of open states read from the snapshot
    (with its moment). The summary keeps open and closed counts but not the
    open cases' states (they change with the clock): those come from the worker's snapshot
    of the minute (``open_states``) when it is fresh and still matches the cell. Otherwise
    the open cases of a cell with a yellow or red case come as ``open``, drawn in the
    cluster's worst state and said so in the legend.
    """
    values = row._mapping
    states = {"closed": int(values["closed"] or 0)}
    if all(name.value in values for name in OPEN_STATES):  # live, or a state view from the snapshot
        states.update({name.value: int(values[name.value] or 0) for name in OPEN_STATES})
        return states, values.get("taken_at")
    open_count = int(values["count"]) - states["closed"]
    if values["worst"] <= STATE_RANKS[DeadlineState.GREEN]:
        # A cell whose worst open case is green holds only green open cases: exact after all.
        states["green"] = open_count
        return states, None
    taken_at = values.get("taken_at")
    snapshot = [int(values[f"snap_{name.value}"] or 0) for name in OPEN_STATES] if taken_at else []
    if open_states.usable(taken_at, now) and sum(snapshot) == open_count:
        states.update({name.value: n for name, n in zip(OPEN_STATES, snapshot, strict=True)})
        return states, taken_at
    states["open"] = open_count
    return states, None


def _point(row) -> dict:
    """One case of the point layer as JSON: position, state and flags only."""
    return {"id": row.id, "lon": round(row.lon, 6), "lat": round(row.lat, 6), "state": STATE_NAMES[row.worst],
            "above_level": bool(row.above_level), "inspection": row.inspection_referral is not None,
            "leader": row.leading_official_id is not None}


def data_revision() -> tuple[int, int, int]:
    """A cheap revision of the case data: the highest event id and case id (primary keys), and
    the highest map cell still waiting for the worker's summary refresh (0 when none waits).

    Every change a case goes through (registration, each lifecycle step) appends an event.
    The summary catches up just after the commit, so an answer read in between must not
    keep its ETag once it has: the third number changes back to 0 then. All three maxima
    come from the ends of primary-key indexes, in one round trip.
    """
    events, cases, pending = db.session.execute(
        select(select(func.max(CaseEvent.id)).scalar_subquery(), select(func.max(Case.id)).scalar_subquery(),
               select(func.max(WallDirtyCell.id)).scalar_subquery())
    ).one()
    return events or 0, cases or 0, pending or 0


def etag_for(user: User, now: datetime, query: dict) -> str:
    """An ETag for a wall response: data revision, the minute, the caller's scope and query."""
    minute = now.replace(second=0, microsecond=0).isoformat()
    return etag_digest([data_revision(), minute, user.role, user.grid_id, user.department_id, user.id, query])


def etag_digest(value) -> str:
    """A short stable hash of a JSON-able value: every ETag of the wall's layers."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def case_card(user: User, case_id: int, now: datetime) -> dict:
    """What a click on the wall shows: number, category, town, state, due time, unit. No personal data."""
    row = db.session.execute(
        select(Case.number, Case.category, Case.status, Case.due_at, Grid.name.label("town"),
               Department.name.label("department"), Case.above_level, Case.inspection_referral,
               Case.leading_official_id, state_rank(now).label("worst"))
        .outerjoin(Grid, Grid.id == Case.town_id)
        .outerjoin(Department, Department.id == Case.department_id)
        .where(Case.id == case_id, case_scope(user))
    ).first()
    if row is None:
        raise NotFound("案件不存在，或不在您的管辖范围内。")
    return {
        "id": case_id, "number": row.number, "category": Category(row.category).label,
        "town": row.town or "—", "status": row.status, "state": STATE_NAMES[row.worst], "due_at": row.due_at,
        "department": row.department or "—", "above_level": bool(row.above_level),
        "inspection": row.inspection_referral is not None, "leader": row.leading_official_id is not None,
    }


def village_measures(user: User, now: datetime, filters: dict) -> list[dict]:
    """Per village (level-3 grid): open and overdue cases, for shading (the assessment score
    is ``layers.village_scores``, from the scoring rules' settings)."""
    opened = Case.status.in_(OPEN)
    moment = literal(now, UTCDateTime())
    rows = db.session.execute(
        select(
            Case.grid_id,
            func.sum(case((opened, 1), else_=0)).label("open"),
            func.sum(case((and_(opened, Case.due_at <= moment), 1), else_=0)).label("overdue"),
        )
        .where(Case.grid_id.isnot(None), *wall_filters(user, now, filters))
        .group_by(Case.grid_id)
    ).all()
    return [{"grid_id": r.grid_id, "open": int(r.open), "overdue": int(r.overdue)} for r in rows]

