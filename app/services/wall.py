"""The map wall (挂图作战): cases on the map at city scale, clustered in SQL.

Everything here is one aggregate query per request, so a viewport over a million cases
costs what the database spends on it and nothing per row in Python:

* **Deadline state in SQL.** Grey when the case is finished, red once ``now >= due_at``,
  yellow once the share ``yellow_at`` (admin setting, 75 %) of the time from ``received_at``
  to ``due_at`` is used, else green. This is the fallback rule of
  ``deadlines.case_deadline_state`` applied to every case: the exact rule reads each case's
  open clock (``case_clocks``), which would be one join per case and too slow for a wall
  of a million cases; ``due_at`` already mirrors the nearest open clock's due time, so red
  (the colour that matters most) is exact and only the green/yellow boundary can differ
  from the desk for a case whose current stage started after ``received_at``.
* **Grid clustering.** Points are snapped to square cells of ``CELL_PX`` screen pixels at
  the requested zoom and grouped by cell; each cluster carries its exact count, centroid,
  worst state and flag counts. From ``POINTS_ZOOM`` on, cases come one by one when there
  are at most ``MAX_POINTS`` in view.
* **Bounding box through the spatial index** (``spatial.in_bbox``).
* **ETag** from a cheap data revision (the highest event id and case id, both primary keys)
  plus the minute (states change with time), the caller's scope and the query.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, select, text
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Case, CaseEvent, Department, Grid, User
from app.models.types import UTCDateTime
from app.models.vocab import OPEN_STATUSES, Category
from app.services.access import case_scope, require_role
from app.services.errors import NotFound
from app.services.settings import get_setting
from app.services.spatial import in_bbox

WALL_ROLES = ("command_office", "admin")
# A cluster cell is this many screen pixels wide at the requested zoom.
CELL_PX = 64
# From this zoom on, cases are sent one by one (a village fills the screen), unless the
# view holds more than MAX_POINTS of them.
POINTS_ZOOM = 16
MAX_POINTS = 2000
# State ranks: a cluster shows its worst member, the highest rank.
STATE_RANKS = {"closed": 0, "green": 1, "yellow": 2, "red": 3}
STATE_NAMES = {rank: name for name, rank in STATE_RANKS.items()}
_OPEN = sorted(str(s) for s in OPEN_STATUSES)


@dataclass(frozen=True)
class Viewport:
    """A map view: the box in WGS-84 degrees and the Leaflet zoom."""

    west: float
    south: float
    east: float
    north: float
    zoom: int


def require_wall_user(user: User) -> None:
    """The wall is for the command office and administrators; others get Forbidden."""
    require_role(user, *WALL_ROLES)


def state_rank(now: datetime, yellow_at: float | None = None) -> ColumnElement[int]:
    """The deadline state of every case as a SQL expression (rank, see STATE_RANKS)."""
    if yellow_at is None:
        yellow_at = float(get_setting("yellow_at"))
    moment = literal(now, UTCDateTime())
    if db.engine.dialect.name == "sqlite":
        used = func.julianday(moment) - func.julianday(Case.received_at)
        total = func.julianday(Case.due_at) - func.julianday(Case.received_at)
    else:
        used = func.extract("epoch", moment - Case.received_at)
        total = func.extract("epoch", Case.due_at - Case.received_at)
    return case(
        (Case.status.not_in(_OPEN), 0),
        (Case.due_at.is_(None), 1),
        (Case.due_at <= moment, 3),
        (used >= literal(yellow_at, Float()) * total, 2),
        else_=1,
    )


def wall_filters(user: User, now: datetime, filters: dict) -> list[ColumnElement[bool]]:
    """WHERE clauses for the wall's filters (period, category, channel, state, flags), in scope."""
    clauses: list[ColumnElement[bool]] = [case_scope(user)]
    if filters.get("received_from"):
        clauses.append(Case.received_at >= filters["received_from"])
    if filters.get("received_to"):
        clauses.append(Case.received_at < filters["received_to"])
    if filters.get("category"):
        clauses.append(Case.category.in_(filters["category"]))
    if filters.get("channel"):
        clauses.append(Case.channel.in_(filters["channel"]))
    if filters.get("town_id"):
        clauses.append(Case.town_id == filters["town_id"])
    if filters.get("state"):
        clauses.append(state_rank(now).in_([STATE_RANKS[s] for s in filters["state"]]))
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


def cell_degrees(zoom: int) -> float:
    """The side of a cluster cell in degrees at this zoom (Web Mercator, 256 px tiles)."""
    return CELL_PX * 360.0 / (256 * 2**zoom)


def _cell_index(coordinate, offset: float, size: float):
    """floor((coordinate + offset) / size), written so both backends floor the same way."""
    shifted = (coordinate + offset) / size
    if db.engine.dialect.name == "sqlite":
        return cast(shifted, Integer)  # truncation is floor: the shifted value is positive
    return func.floor(shifted)


def cluster_query(user: User, view: Viewport, now: datetime, filters: dict):
    """The SELECT behind the cluster endpoint: one row per occupied cell of the viewport."""
    size = cell_degrees(view.zoom)
    lon, lat = func.ST_X(Case.location), func.ST_Y(Case.location)
    cell_x, cell_y = _cell_index(lon, 180.0, size), _cell_index(lat, 90.0, size)
    rank = state_rank(now)
    where = [
        Case.location.isnot(None),
        in_bbox("cases", Case.location, Case.id, view.west, view.south, view.east, view.north),
        *wall_filters(user, now, filters),
    ]
    return (
        select(
            func.count().label("count"),
            func.avg(lon).label("lon"),
            func.avg(lat).label("lat"),
            func.max(rank).label("worst"),
            func.sum(case((Case.above_level.is_(True), 1), else_=0)).label("above_level"),
            func.sum(case((Case.inspection_referral.isnot(None), 1), else_=0)).label("inspection"),
            func.sum(case((Case.leading_official_id.isnot(None), 1), else_=0)).label("leader"),
            func.min(Case.id).label("case_id"),
        )
        .where(*where)
        .group_by(cell_x, cell_y)
    )


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
            in_bbox("cases", Case.location, Case.id, view.west, view.south, view.east, view.north),
            *wall_filters(user, now, filters),
        )
        .order_by(Case.id)
        .limit(MAX_POINTS)
    )


def tune_aggregate_session() -> None:
    """On PostgreSQL, settings for one big aggregate in this transaction.

    The planner's cost estimate for a city-wide box is high enough to switch JIT
    compilation on, which alone takes seconds (more than the query); a little more sort
    memory lets the grouping hash in memory instead of sorting on disk.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '32MB'"))


def viewport_features(user: User, view: Viewport, now: datetime, filters: dict) -> dict:
    """Clusters in the viewport, or its single cases at high zoom when there are few enough.

    A street view holding more than MAX_POINTS cases stays clustered, so the wall never
    shows a truncated set.
    """
    tune_aggregate_session()
    rows = db.session.execute(cluster_query(user, view, now, filters)).all()
    if view.zoom >= POINTS_ZOOM and sum(r.count for r in rows) <= MAX_POINTS:
        points = db.session.execute(points_query(user, view, now, filters)).all()
        return {"kind": "points", "zoom": view.zoom, "points": [_point(r) for r in points]}
    clusters = [
        {"count": r.count, "lon": round(float(r.lon), 6), "lat": round(float(r.lat), 6),
         "state": STATE_NAMES[int(r.worst)], "above_level": int(r.above_level),
         "inspection": int(r.inspection), "leader": int(r.leader),
         "case_id": r.case_id if r.count == 1 else None}
        for r in rows
    ]
    return {"kind": "clusters", "zoom": view.zoom, "cell_deg": cell_degrees(view.zoom),
            "total": sum(c["count"] for c in clusters), "clusters": clusters}


def _point(row) -> dict:
    """One case of the point layer as JSON: position, state and flags only."""
    return {"id": row.id, "lon": round(row.lon, 6), "lat": round(row.lat, 6), "state": STATE_NAMES[row.worst],
            "above_level": bool(row.above_level), "inspection": row.inspection_referral is not None,
            "leader": row.leading_official_id is not None}


def data_revision() -> tuple[int, int]:
    """A cheap revision of the case data: the highest event id and case id (primary keys).

    Every change a case goes through (registration, each lifecycle step) appends an event.
    """
    return (db.session.scalar(select(func.max(CaseEvent.id))) or 0,
            db.session.scalar(select(func.max(Case.id))) or 0)


def etag_for(user: User, now: datetime, query: dict) -> str:
    """An ETag for a wall response: data revision, the minute, the caller's scope and query."""
    minute = now.replace(second=0, microsecond=0).isoformat()
    key = json.dumps([data_revision(), minute, user.role, user.grid_id, user.department_id, user.id, query],
                     sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


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
    """Per village (level-3 grid): open, overdue and a score estimate, for shading.

    The score is the deduction of the assessment's default rules (DOMAIN.md item 11): 2 points
    per above-level petition, 4 per repeat above-level petition.
    """
    opened = Case.status.in_(_OPEN)
    moment = literal(now, UTCDateTime())
    rows = db.session.execute(
        select(
            Case.grid_id,
            func.sum(case((opened, 1), else_=0)).label("open"),
            func.sum(case((and_(opened, Case.due_at <= moment), 1), else_=0)).label("overdue"),
            func.sum(case((and_(Case.above_level.is_(True), Case.repeat_of_id.isnot(None)), 4),
                          (Case.above_level.is_(True), 2), else_=0)).label("score"),
        )
        .where(Case.grid_id.isnot(None), *wall_filters(user, now, filters))
        .group_by(Case.grid_id)
    ).all()
    return [{"grid_id": r.grid_id, "open": int(r.open), "overdue": int(r.overdue), "score": int(r.score)}
            for r in rows]

