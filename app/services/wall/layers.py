"""The wall's further layers: watched sources by days since their last patrol, early-warning
alerts, and villages shaded by their assessment score.

Rules:

* **Days since the last patrol** are counted in local calendar days (``TIME_ZONE``,
  Beijing): a source patrolled at 23:50 yesterday is 1 day old at 00:10 today. The buckets
  (``PATROL_BUCKETS``) follow the default patrol rules (level 3 every 2 days, level 2 every
  7 or 14): ``fresh`` 0-2 days (green), ``due`` 3-7 (amber), ``late`` 8-14 (orange),
  ``overdue`` 15 or more (red), and ``never`` for a source nobody has checked in at yet
  (red, drawn as a dashed ring so it stands apart from a merely old patrol).
* Only active sources in the caller's ``access.source_scope``, inside the requested box
  (through the spatial index), at most ``MAX_SOURCES`` of them; a city has about 2,000.
  The source card names the responsible unit (the department the source's sector is
  routed to) and never the responsible person or any petitioner.
* The sources' ETag is a revision of the register (row count, highest id, newest patrol,
  newest edit), the local date (days change at midnight), the caller's scope and the box.
* **Alerts** are ``early_warning.active_alerts``; an alert's case list shows number,
  category, status, deadline state and town of the cases in the caller's ``case_scope``.
  Its ETag is a hash of the answer itself (a handful of rows).
* **Long-unresolved cases** (久拖不解) are ``cases.long_unresolved``'s list in the caller's
  ``case_scope`` inside the box, at most ``MAX_SOURCES``, each with its town, days open and
  overdue and its reasons; no personal data.
* **Village score** is ``scoring.grid_totals`` (``grid_scores``' figures, summed from the
  daily summary) for one period: the wall's received-date filter when set, else the common
  default (the running campaign, else the last 30 days), the same period as the side panels
  and the campaign pages. Shading uses the points lost.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from app.database import get_or_404
from app.extensions import db
from app.models import Alert, Case, Grid, Source, User
from app.models.vocab import CaseStatus, Category, SourceKind
from app.services.access import authorize_source, case_scope, source_scope
from app.services.campaign import scoring
from app.services.campaign.early_warning import active_alerts
from app.services.cases import long_unresolved
from app.services.cases.departments import department_for_sector
from app.services.geo.spatial import in_bbox
from app.services.settings import get_setting
from app.services.wall.clusters import STATE_NAMES, etag_digest, state_rank
from app.services.wall.panels import wall_period

MAX_SOURCES = 5000


@dataclass(frozen=True)
class PatrolBucket:
    """A band of days since the last patrol, and how the wall names it."""

    code: str
    label: str
    min_days: int | None
    max_days: int | None


# In order; a source falls in the first bucket whose bounds hold its days.
PATROL_BUCKETS = (
    PatrolBucket("fresh", "2天内", 0, 2),
    PatrolBucket("due", "3-7天", 3, 7),
    PatrolBucket("late", "8-14天", 8, 14),
    PatrolBucket("overdue", "超过14天", 15, None),
    PatrolBucket("never", "从未巡查", None, None),
)


@dataclass(frozen=True)
class Box:
    """A WGS-84 box: west, south, east, north in degrees."""

    west: float
    south: float
    east: float
    north: float


def local_date(moment: datetime) -> date:
    """The city's calendar date at an aware moment."""
    return moment.astimezone(ZoneInfo(current_app.config["TIME_ZONE"])).date()


def days_since(last: datetime | None, now: datetime) -> int | None:
    """Local calendar days from the last patrol to now (None when never patrolled)."""
    if last is None:
        return None
    return max(0, (local_date(now) - local_date(last)).days)


def bucket_of(days: int | None) -> str:
    """The bucket code for a number of days since the last patrol."""
    if days is None:
        return "never"
    for bucket in PATROL_BUCKETS:
        if bucket.min_days is not None and days >= bucket.min_days and (
                bucket.max_days is None or days <= bucket.max_days):
            return bucket.code
    raise ValueError(days)


def source_points(user: User, box: Box, now: datetime) -> dict:
    """Active sources in scope inside the box, each with its days since the last patrol."""
    rows = db.session.execute(
        select(Source.id, Source.name, Source.kind, Source.is_key, Source.last_patrol_at,
               func.ST_X(Source.location).label("lon"), func.ST_Y(Source.location).label("lat"),
               Grid.name.label("town"))
        .outerjoin(Grid, Grid.id == Source.town_id)
        .where(Source.active.is_(True), source_scope(user),
               in_bbox("sources", Source.location, Source.id, box.west, box.south, box.east, box.north))
        .order_by(Source.id)
        .limit(MAX_SOURCES + 1)
    ).all()
    points = [_source_point(row, now) for row in rows[:MAX_SOURCES]]
    return {"as_of": local_date(now).isoformat(), "truncated": len(rows) > MAX_SOURCES,
            "buckets": [asdict(bucket) for bucket in PATROL_BUCKETS], "sources": points}


def _source_point(row, now: datetime) -> dict:
    """One source on the wall: position, name, kind, key flag, town and patrol age."""
    days = days_since(row.last_patrol_at, now)
    return {"id": row.id, "lon": round(row.lon, 6), "lat": round(row.lat, 6), "name": row.name,
            "kind": row.kind, "kind_label": _kind_label(row.kind), "key": bool(row.is_key),
            "town": row.town or "—", "days": days, "bucket": bucket_of(days)}


def _kind_label(kind: str) -> str:
    """The Chinese name of a source kind (an unknown stored value shows as itself)."""
    return SourceKind.labels().get(kind, kind)


def source_card(user: User, source_id: int, now: datetime) -> dict:
    """What a click on a source shows: name, kind, key flag, last patrol, grid, town, unit."""
    source = authorize_source(user, source_id)
    days = days_since(source.last_patrol_at, now)
    department = department_for_sector(source.sector)
    last = source.last_patrol_at
    return {
        "id": source.id, "code": source.code, "name": source.name, "kind_label": _kind_label(source.kind),
        "key": source.is_key, "last_patrol_at": last.isoformat() if last else None,
        "last_patrol_on": local_date(last).isoformat() if last else None, "days": days, "bucket": bucket_of(days),
        "grid": source.grid.name if source.grid else "—", "town": source.town.name if source.town else "—",
        "department": department.name if department else "—",
    }


def sources_etag(user: User, now: datetime, query: dict) -> str:
    """An ETag for the sources layer: register revision, local date, scope and box."""
    revision = db.session.execute(
        select(func.count(Source.id), func.max(Source.id), func.max(Source.last_patrol_at),
               func.max(Source.updated_at))
    ).one()
    key = [list(revision), local_date(now), user.role, user.grid_id, user.department_id, user.id, query]
    return etag_digest(key)


def payload_etag(payload) -> str:
    """An ETag that is the hash of the answer itself (for small answers)."""
    return etag_digest(payload)


def alert_features(now: datetime) -> list[dict]:
    """Active early-warning alerts as rings: centre, radius, category and count."""
    return [alert_feature(alert) for alert in active_alerts(now)]


def alert_feature(alert: Alert) -> dict:
    """One alert for the wall."""
    return {"id": alert.id, "category": alert.category, "category_label": Category(alert.category).label,
            "lon": round(alert.lon, 6), "lat": round(alert.lat, 6), "radius_m": alert.radius_m,
            "count": len(alert.case_ids), "raised_at": alert.raised_at.isoformat(),
            "last_case_at": alert.last_case_at.isoformat(), "dismissed": alert.dismissed_at is not None}


def alert_cases(user: User, alert_id: int, now: datetime) -> dict:
    """An alert and its cases in the user's scope: number, category, status, state, town."""
    alert = get_or_404(Alert, alert_id, "预警不存在。")
    rows = db.session.execute(
        select(Case.id, Case.number, Case.category, Case.status, Grid.name.label("town"),
               state_rank(now).label("worst"))
        .outerjoin(Grid, Grid.id == Case.town_id)
        .where(Case.id.in_(alert.case_ids), case_scope(user))
        .order_by(Case.received_at, Case.id)
    ).all()
    cases = [{"id": r.id, "number": r.number, "category_label": Category(r.category).label,
              "status_label": CaseStatus(r.status).label, "state": STATE_NAMES[r.worst], "town": r.town or "—"}
             for r in rows]
    return {"alert": alert_feature(alert), "cases": cases}


def long_unresolved_points(user: User, box: Box, now: datetime) -> dict:
    """Listed cases in scope inside the box: position, number, town, days open and overdue, reasons."""
    c = long_unresolved.criteria()
    rows = db.session.execute(
        select(Case.id, Case.number, Case.received_at, Case.closed_at, Case.replied_at, Case.handle_due_at,
               Case.reopened_count, Case.above_level_count, Grid.name.label("town"),
               func.ST_X(Case.location).label("lon"), func.ST_Y(Case.location).label("lat"))
        .outerjoin(Grid, Grid.id == Case.town_id)
        .where(long_unresolved.listed_clause(now, c), case_scope(user), Case.location.isnot(None),
               in_bbox("cases", Case.location, Case.id, box.west, box.south, box.east, box.north))
        .order_by(Case.received_at, Case.id)
        .limit(MAX_SOURCES + 1)
    ).all()
    cases = [{"id": r.id, "number": r.number, "lon": round(r.lon, 6), "lat": round(r.lat, 6), "town": r.town or "—",
              "days_open": long_unresolved.days_open(r, now), "days_overdue": long_unresolved.days_overdue(r, now),
              "reasons": [reason["text"] for reason in long_unresolved.reasons(r, now, c)]}
             for r in rows[:MAX_SOURCES]]
    return {"truncated": len(rows) > MAX_SOURCES, "cases": cases}


def village_scores(filters: dict) -> dict:
    """Every village's assessment item for the wall's period (``panels.wall_period``: the
    received-date filter, else the common default), for shading."""
    period = wall_period(filters)
    item = float(get_setting("score_item_points"))
    villages = [{"grid_id": s.grid_id, "score": s.score, "lost": round(item - s.score, 2), "zeroed": s.zeroed,
                 "deductions": s.deductions} for s in scoring.grid_totals(period.start, period.end)]
    return {"period": period.as_json(), "item_points": item, "villages": villages}
