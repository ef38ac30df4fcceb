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
  the ORM (the old and the new location) and refreshes them just before the transaction
  commits. Bulk loads that bypass the ORM (``demo_city``) call ``rebuild_wall_cells``, as
  does ``flask wall rebuild-cells`` and migration 0007.
* **Deadline state, exactly as the live query.** Red when the earliest due time of an open
  case has passed; yellow when the earliest yellow moment has (``yellow_epoch``: received
  plus the ``yellow_at`` share of the time to due, in seconds, computed by the same SQL
  expression that ``wall.state_rank`` uses); else green if anything is open; else closed.
  The yellow moment depends on the ``yellow_at`` setting, so changing that setting rebuilds
  the table in the same transaction (the hook sees the setting row change; at a million
  cases that save takes as long as ``flask wall rebuild-cells``, about 15 s).
* **A view's clusters** are the summary cells wholly inside the view, taken as coarse as
  possible (``tiling``: a ring of finer cells along the edges) and grouped per cluster in
  SQL (``summary_rows_query``), plus the cases in the thin frame of base cells that straddle
  the view's edge, counted live through the spatial index in four strips (``strip_where``).
  Every case in the view is counted once, either way; ``wall.view_clusters`` merges both.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Case, Setting, WallCell
from app.models.types import SRID, UTCDateTime
from app.models.vocab import OPEN_STATUSES
from app.services.settings import get_setting
from app.services.spatial import in_bbox

# A cluster cell is this many screen pixels wide at the requested zoom.
CELL_PX = 64
# The finest level summarised; finer cluster zooms read the cases themselves.
BASE_LEVEL = 17
# Seconds between 1970-01-01 and the Julian day SQLite counts from.
_JULIAN_1970 = 2440587.5
# How far inside a view's edge a cell must lie to be read from the summary, in degrees:
# far above any rounding of a cell index (about 1e-13 degrees), far below a cell.
_EDGE_MARGIN = 1e-9
# Session.info keys of the hook's pending work.
_DIRTY = "wall_cells_dirty"
_REBUILD = "wall_cells_rebuild"
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


def in_box(box: tuple[float, float, float, float], search: tuple[float, float, float, float] | None = None
           ) -> list[ColumnElement[bool]]:
    """WHERE clauses: the case lies in ``box``, edges included, found through the spatial index.

    The index narrows the search (to ``search`` if given, a part of the box); the coordinate
    test makes the answer exact on both backends (SpatiaLite's R-tree keeps 32-bit floats
    and answers a few decimetres beyond a box's edge).
    """
    west, south, east, north = box
    return [in_bbox("cases", Case.location, Case.id, *(search or box)),
            func.ST_X(Case.location).between(west, east), func.ST_Y(Case.location).between(south, north)]


def epoch_seconds(moment) -> ColumnElement[float]:
    """A timestamp in seconds since 1970 as a double, in SQL."""
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(moment) - _JULIAN_1970) * 86400.0
    return cast(func.extract("epoch", moment), Float)


def yellow_epoch(yellow_at: float | ColumnElement[float]) -> ColumnElement[float]:
    """When each case turns yellow: received plus the yellow_at share of the time to due."""
    share = yellow_at if isinstance(yellow_at, ColumnElement) else literal(yellow_at, Float())
    received = epoch_seconds(Case.received_at)
    return received + share * (epoch_seconds(Case.due_at) - received)


def now_epoch(now) -> ColumnElement[float]:
    """The moment ``now`` in the same seconds as ``yellow_epoch``."""
    return epoch_seconds(literal(now, UTCDateTime()))


def _base_rows(where: list) -> Select:
    """SELECT the base-level summary rows of the cases matching ``where``."""
    x, y = case_cell(BASE_LEVEL)
    opened = Case.status.in_(OPEN)
    return (
        select(
            literal(BASE_LEVEL).label("level"), x.label("cell_x"), y.label("cell_y"),
            func.sum(case((opened, 1), else_=0)), func.sum(case((opened, 0), else_=1)),
            func.sum(func.ST_X(Case.location)), func.sum(func.ST_Y(Case.location)),
            func.min(case((opened, Case.due_at))),
            func.min(case((and_(opened, Case.due_at.isnot(None)), yellow_epoch(float(get_setting("yellow_at")))))),
            func.sum(case((Case.above_level.is_(True), 1), else_=0)),
            func.sum(case((Case.inspection_referral.isnot(None), 1), else_=0)),
            func.sum(case((Case.leading_official_id.isnot(None), 1), else_=0)),
            func.min(Case.id),
        )
        .where(Case.location.isnot(None), *where)
        .group_by("cell_x", "cell_y")
    )


_COLUMNS = ["level", "cell_x", "cell_y", "open_count", "closed_count", "lon_sum", "lat_sum", "earliest_due_at",
            "earliest_yellow", "above_level", "inspection", "leader", "min_case_id"]


def _parent_rows(level: int, where: list) -> Select:
    """SELECT the rows of ``level`` rolled up from their children at ``level + 1``."""
    child = WallCell
    return (
        select(
            literal(level).label("level"), (child.cell_x // 2).label("parent_x"), (child.cell_y // 2).label("parent_y"),
            func.sum(child.open_count), func.sum(child.closed_count), func.sum(child.lon_sum),
            func.sum(child.lat_sum), func.min(child.earliest_due_at), func.min(child.earliest_yellow),
            func.sum(child.above_level), func.sum(child.inspection), func.sum(child.leader),
            func.min(child.min_case_id),
        )
        .where(child.level == level + 1, *where)
        .group_by("parent_x", "parent_y")
    )


def _cell_box(level: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A cell's (west, south, east, north), widened by the edge margin."""
    size = cell_degrees(level)
    return (x * size - 180.0 - _EDGE_MARGIN, y * size - 90.0 - _EDGE_MARGIN,
            (x + 1) * size - 180.0 + _EDGE_MARGIN, (y + 1) * size - 90.0 + _EDGE_MARGIN)


def refresh_cells(session: Session, cells: set[tuple[int, int]]) -> None:
    """Recompute these base cells from the cases, then every coarser cell above them."""
    session.execute(delete(WallCell).where(WallCell.level == BASE_LEVEL,
                                           tuple_(WallCell.cell_x, WallCell.cell_y).in_(sorted(cells))))
    x, y = case_cell(BASE_LEVEL)
    for cell_x, cell_y in sorted(cells):
        box = in_bbox("cases", Case.location, Case.id, *_cell_box(BASE_LEVEL, cell_x, cell_y))
        session.execute(insert(WallCell).from_select(_COLUMNS, _base_rows([box, x == cell_x, y == cell_y])))
    for level in range(BASE_LEVEL - 1, -1, -1):
        cells = {(cx >> 1, cy >> 1) for cx, cy in cells}
        children = sorted((2 * px + dx, 2 * py + dy) for px, py in cells for dx in (0, 1) for dy in (0, 1))
        session.execute(delete(WallCell).where(WallCell.level == level,
                                               tuple_(WallCell.cell_x, WallCell.cell_y).in_(sorted(cells))))
        session.execute(insert(WallCell).from_select(
            _COLUMNS, _parent_rows(level, [tuple_(WallCell.cell_x, WallCell.cell_y).in_(children)])))


def rebuild_wall_cells(session: Session | None = None) -> int:
    """Recompute the whole summary from the cases (bulk loads, a new yellow_at); return base cells."""
    session = session or db.session
    session.execute(delete(WallCell))
    session.execute(insert(WallCell).from_select(_COLUMNS, _base_rows([])))
    for level in range(BASE_LEVEL - 1, -1, -1):
        session.execute(insert(WallCell).from_select(_COLUMNS, _parent_rows(level, [])))
    return session.scalar(select(func.count()).select_from(WallCell).where(WallCell.level == BASE_LEVEL)) or 0


# The session hook: collect the cells cases leave and enter, refresh them before commit.


def init_wall_cells() -> None:
    """Listen on the app's database session (once per process, whatever the number of apps)."""
    for name, listener in (("before_flush", _cells_left), ("after_flush", _cells_entered),
                           ("before_commit", _refresh_before_commit), ("after_transaction_end", _forget)):
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


def _refresh_before_commit(session: Session) -> None:
    """Bring the summary up to date with everything this transaction wrote."""
    session.flush()
    cells, rebuild = session.info.pop(_DIRTY, set()), session.info.pop(_REBUILD, False)
    if rebuild:
        rebuild_wall_cells(session)
    elif cells:
        refresh_cells(session, cells)


def _forget(session: Session, transaction) -> None:
    """When the outermost transaction ends (committed or rolled back), drop what it noted."""
    if transaction.parent is None:
        session.info.pop(_DIRTY, None)
        session.info.pop(_REBUILD, None)


# Reading: a view's clusters from the summary plus the live frame along its edges.


@dataclass
class Cluster:
    """One cluster being summed: count, coordinate sums, worst state rank, flag counts, lowest id."""

    count: int = 0
    lon_sum: float = 0.0
    lat_sum: float = 0.0
    worst: int = 0
    above_level: int = 0
    inspection: int = 0
    leader: int = 0
    case_id: int | None = None

    def add(self, count, lon_sum, lat_sum, worst, above_level, inspection, leader, case_id) -> None:
        """Merge the figures of part of this cluster's cases."""
        self.count += int(count)
        self.lon_sum += float(lon_sum)
        self.lat_sum += float(lat_sum)
        self.worst = max(self.worst, int(worst))
        self.above_level += int(above_level)
        self.inspection += int(inspection)
        self.leader += int(leader)
        self.case_id = case_id if self.case_id is None else min(self.case_id, case_id)


Rect = tuple[int, int, int, int]


def covered_rect(west: float, south: float, east: float, north: float) -> Rect | None:
    """The base cells wholly inside the box, as inclusive (x0, x1, y0, y1), or None if none is."""
    size = cell_degrees(BASE_LEVEL)
    x0, y0 = math.ceil((west + 180.0 + _EDGE_MARGIN) / size), math.ceil((south + 90.0 + _EDGE_MARGIN) / size)
    x1 = math.floor((east + 180.0 - _EDGE_MARGIN) / size) - 1
    y1 = math.floor((north + 90.0 - _EDGE_MARGIN) / size) - 1
    return (x0, x1, y0, y1) if x0 <= x1 and y0 <= y1 else None


def level_rect(rect: Rect, level: int) -> Rect | None:
    """The cells of ``level`` all of whose base cells lie in ``rect`` (None if there are none)."""
    shift = BASE_LEVEL - level
    x0, x1, y0, y1 = -((-rect[0]) >> shift), ((rect[1] + 1) >> shift) - 1, -((-rect[2]) >> shift), \
        ((rect[3] + 1) >> shift) - 1
    return (x0, x1, y0, y1) if x0 <= x1 and y0 <= y1 else None


def ring(rect: Rect, inner: Rect | None) -> list[Rect]:
    """``rect`` without ``inner`` (which lies inside it) as at most four disjoint rectangles."""
    if inner is None:
        return [rect]
    (x0, x1, y0, y1), (a0, a1, b0, b1) = rect, inner
    parts = [(x0, a0 - 1, y0, y1), (a1 + 1, x1, y0, y1), (a0, a1, y0, b0 - 1), (a0, a1, b1 + 1, y1)]
    return [p for p in parts if p[0] <= p[1] and p[2] <= p[3]]


def tiling(rect: Rect, zoom: int) -> list[tuple[int, Rect]]:
    """The coarsest summary cells that tile ``rect``, as (level, rectangle of cells), from ``zoom`` down.

    At each level, the cells wholly inside the view that no coarser cell already covers:
    a ring along the edges, cut in rectangles so that each one is an index range.
    """
    parts, inner = [], None
    for level in range(zoom, BASE_LEVEL + 1):
        here = level_rect(rect, level)
        if here is None:
            continue
        scaled = None if inner is None else (inner[0] * 2, inner[1] * 2 + 1, inner[2] * 2, inner[3] * 2 + 1)
        parts += [(level, part) for part in ring(here, scaled)]
        inner = here
    return parts


def summary_rows_query(rect: Rect, zoom: int, now: datetime) -> Select:
    """SELECT the clusters of ``zoom`` from the summary cells tiling ``rect``, with their state at ``now``.

    A cell of level ``L`` lies in the zoom's cell ``(x >> (L - zoom), y >> (L - zoom))``.
    """
    worst = case(
        (WallCell.open_count == 0, 0),
        (WallCell.earliest_due_at <= literal(now, UTCDateTime()), 3),
        (WallCell.earliest_yellow <= now_epoch(now), 2),
        else_=1,
    )
    shift = WallCell.level - zoom
    return (
        select(
            WallCell.cell_x.op(">>")(shift).label("zoom_x"), WallCell.cell_y.op(">>")(shift).label("zoom_y"),
            func.sum(WallCell.open_count + WallCell.closed_count).label("count"),
            func.sum(WallCell.lon_sum).label("lon_sum"), func.sum(WallCell.lat_sum).label("lat_sum"),
            func.max(worst).label("worst"), func.sum(WallCell.above_level).label("above_level"),
            func.sum(WallCell.inspection).label("inspection"), func.sum(WallCell.leader).label("leader"),
            func.min(WallCell.min_case_id).label("case_id"),
        )
        .where(or_(*(_cells_in(level, part) for level, part in tiling(rect, zoom))))
        .group_by("zoom_x", "zoom_y")
    )


def _cells_in(level: int, rect: Rect) -> ColumnElement[bool]:
    """SQL: the rows of a rectangle of cells, written so each backend reads them through an index.

    The short side is listed (an equality on the index's second column), the long side is
    a range: SQLite cannot tell a narrow range from a wide one when both are parameters.
    """
    x0, x1, y0, y1 = rect
    if x1 - x0 <= y1 - y0:
        return and_(WallCell.level == level, WallCell.cell_x.in_(range(x0, x1 + 1)), WallCell.cell_y.between(y0, y1))
    return and_(WallCell.level == level, WallCell.cell_y.in_(range(y0, y1 + 1)), WallCell.cell_x.between(x0, x1))


STRIP_SIDES = ("west", "east", "south", "north")


def strip_where(side: str) -> list[ColumnElement[bool]]:
    """WHERE clauses for the view's cases in one edge strip, with parameters (``strip_parameters``).

    The spatial index searches the strip (``search_*``), the coordinate test keeps the view
    (``view_*``), and the base-cell test (``x0`` … ``y1``: the covered rectangle) decides
    which strip a case belongs to, so the corners are counted once. Written with parameters
    so that each statement is built once per process (``wall.strip_statement``).
    """
    search = [bindparam(f"search_{k}", type_=Float()) for k in "wsen"]
    view = [bindparam(f"view_{k}", type_=Float()) for k in "wsen"]
    if db.engine.dialect.name == "sqlite":
        frame = text("f_table_name = 'cases' AND f_geometry_column = 'location' "
                     "AND search_frame = BuildMbr(:search_w, :search_s, :search_e, :search_n, 4326)")
        found = Case.id.in_(select(text("rowid")).select_from(text("SpatialIndex")).where(frame))
    else:
        found = func.ST_Intersects(Case.location, func.ST_MakeEnvelope(*search, SRID))
    x, y = case_cell(BASE_LEVEL)
    x0, x1, y0, y1 = (bindparam(k, type_=Integer()) for k in ("x0", "x1", "y0", "y1"))
    test = {"west": x < x0, "east": x > x1, "south": and_(x.between(x0, x1), y < y0),
            "north": and_(x.between(x0, x1), y > y1)}[side]
    return [found, func.ST_X(Case.location).between(view[0], view[2]),
            func.ST_Y(Case.location).between(view[1], view[3]), test]


def strip_parameters(box: tuple[float, float, float, float], rect: Rect) -> dict[str, dict]:
    """Per side, the parameters of ``strip_where``: the strip searched, the view, the covered rectangle."""
    west, south, east, north = box
    size, m = cell_degrees(BASE_LEVEL), _EDGE_MARGIN
    inner_w, inner_e = rect[0] * size - 180.0, (rect[1] + 1) * size - 180.0
    inner_s, inner_n = rect[2] * size - 90.0, (rect[3] + 1) * size - 90.0
    strips = {"west": (west, south, inner_w + m, north), "east": (inner_e - m, south, east, north),
              "south": (inner_w - m, south, inner_e + m, inner_s + m),
              "north": (inner_w - m, inner_n - m, inner_e + m, north)}
    common = {"view_w": west, "view_s": south, "view_e": east, "view_n": north,
              "x0": rect[0], "x1": rect[1], "y0": rect[2], "y1": rect[3]}
    return {side: {**common, **dict(zip(("search_w", "search_s", "search_e", "search_n"), strip, strict=True))}
            for side, strip in strips.items()}


def merge_rows(clusters: dict[tuple[int, int], Cluster], rows) -> None:
    """Add cluster rows (``zoom_x``, ``zoom_y``, sums, worst, flags, ``case_id``) to the clusters."""
    for row in rows:
        cluster = clusters.setdefault((int(row.zoom_x), int(row.zoom_y)), Cluster())
        cluster.add(row.count, row.lon_sum, row.lat_sum, row.worst, row.above_level, row.inspection, row.leader,
                    row.case_id)
