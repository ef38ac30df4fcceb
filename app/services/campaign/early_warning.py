"""Early warning (预警机制): complaints of one category clustering in space and time.

Parameters are settings: complaints from ``warning_min_cases`` different sources (default 3)
of one category within ``warning_radius_m`` (500 m) of one another's centre, received within
``warning_window_hours`` (48 h). A source is a petitioner (known by phone, else ID number,
else name); complaints without a known petitioner count once per place (within
``warning_same_place_m``, 30 m, of one another). One person calling three times is one
source, not a cluster. A closed or declined repeat (a duplicate of an earlier case) is
left out: it adds no new signal. A cluster raises one alert and one notification to every
command-office user; complaints joining an existing alert's cluster extend it silently.
An alert stays active until a window has passed since its newest complaint, or it is dismissed.

Intake scans around every newly registered case (``scan_near``: only its category, within
twice the radius, so it costs a spatial-index look-up); the command office can also rescan
the whole city from the alerts page.
"""

from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape
from sqlalchemy import select

from app.database import get_or_404
from app.errors import Conflict
from app.extensions import db
from app.models import Alert, Case, User
from app.models.vocab import OPEN_STATUSES, Category, NotificationKind, Role
from app.services import clock
from app.services.access import require
from app.services.geo.spatial import bbox_around, distance_m, in_bbox
from app.services.notify.outbox import notify
from app.services.settings import get_setting


def _parameters() -> tuple[int, float, timedelta]:
    return (int(get_setting("warning_min_cases")), float(get_setting("warning_radius_m")),
            timedelta(hours=int(get_setting("warning_window_hours"))))


def active_alerts(now: datetime) -> list[Alert]:
    """Alerts not dismissed whose newest complaint is within one window of ``now``, newest first."""
    _, _, span = _parameters()
    query = select(Alert).where(Alert.dismissed_at.is_(None), Alert.last_case_at >= now - span)
    return list(db.session.scalars(query.order_by(Alert.raised_at.desc(), Alert.id.desc())))


def _points(now: datetime, span: timedelta, near: Case | None = None) -> list[tuple[Case, float, float]]:
    """Located cases received in the window ending now, oldest first; with ``near``, only
    those of its category that could share a cluster with it (within twice the radius)."""
    closed_duplicate = Case.repeat_of_id.isnot(None) & Case.status.notin_([str(s) for s in OPEN_STATUSES])
    query = select(Case).where(Case.received_at > now - span, Case.received_at <= now, Case.location.isnot(None),
                               ~closed_duplicate)
    if near is not None:
        centre = to_shape(near.location)
        box = bbox_around(centre.x, centre.y, 2 * _parameters()[1])
        query = query.where(Case.category == near.category, in_bbox("cases", Case.location, Case.id, *box))
    rows = []
    for case in db.session.scalars(query.order_by(Case.received_at, Case.id)):
        point = to_shape(case.location)
        rows.append((case, point.x, point.y))
    return rows


def find_clusters(now: datetime, near: Case | None = None) -> list[list[tuple[Case, float, float]]]:
    """Groups of same-category cases around a seed case, each from at least the minimum number of sources.

    Every case seeds a candidate (the cases within the radius of it); the largest candidates are
    kept first and a case belongs to at most one cluster.
    """
    minimum, radius, span = _parameters()
    same_place = float(get_setting("warning_same_place_m"))
    points = _points(now, span, near)
    candidates = []
    for seed, x, y in points:
        members = [p for p in points if p[0].category == seed.category and distance_m(x, y, p[1], p[2]) <= radius]
        if sources(members, same_place) >= minimum:
            candidates.append(members)
    candidates.sort(key=lambda m: (-sources(m, same_place), -len(m), m[0][0].received_at, m[0][0].id))
    taken: set[int] = set()
    clusters = []
    for members in candidates:
        free = [p for p in members if p[0].id not in taken]
        if sources(free, same_place) >= minimum:
            clusters.append(free)
            taken.update(p[0].id for p in free)
    return clusters


def _petitioner(case: Case) -> str | None:
    """Who complained, as a key: the phone's digits, else the ID number, else the name; None if unknown."""
    phone = "".join(ch for ch in case.petitioner_phone or "" if ch.isdigit())
    if phone:
        return f"phone:{phone}"
    if case.petitioner_id_number:
        return f"id:{case.petitioner_id_number.strip().upper()}"
    return f"name:{case.petitioner_name.strip()}" if (case.petitioner_name or "").strip() else None


def sources(members: list[tuple[Case, float, float]], same_place: float) -> int:
    """How many different sources the complaints come from: distinct petitioners, plus one per
    place (greedily, oldest first; ``same_place`` metres) among those whose petitioner is unknown."""
    people: set[str] = set()
    places: list[tuple[float, float]] = []
    for case, x, y in members:
        key = _petitioner(case)
        if key is not None:
            people.add(key)
        elif all(distance_m(x, y, px, py) > same_place for px, py in places):
            places.append((x, y))
    return len(people) + len(places)


def scan_near(case: Case) -> list[Alert]:
    """At intake: raise or extend the alert of the cluster a new case may complete."""
    if case.location is None:
        return []
    return scan(near=case)


def scan(now: datetime | None = None, near: Case | None = None) -> list[Alert]:
    """Raise an alert for each new cluster (flushed, not committed); return the new alerts."""
    now = now or clock.now()
    live = active_alerts(now)
    raised = []
    for members in find_clusters(now, near):
        ids = [p[0].id for p in members]
        newest = max(p[0].received_at for p in members)
        existing = next((a for a in live if a.category == members[0][0].category and set(a.case_ids) & set(ids)), None)
        if existing is not None:
            existing.case_ids = sorted(set(existing.case_ids) | set(ids))
            existing.last_case_at = max(existing.last_case_at, newest)
            continue
        alert = Alert(category=members[0][0].category, lon=sum(p[1] for p in members) / len(members),
                      lat=sum(p[2] for p in members) / len(members), radius_m=_parameters()[1],
                      case_ids=sorted(ids), raised_at=now, last_case_at=newest)
        db.session.add(alert)
        live.append(alert)
        raised.append(alert)
        _notify(alert, members[0][0], sources(members, float(get_setting("warning_same_place_m"))))
    db.session.flush()
    return raised


def _notify(alert: Alert, first: Case, sources_count: int) -> None:
    """One notification to every command-office user."""
    label = Category(alert.category).label
    message = (f"预警：{len(alert.case_ids)} 件{label}类投诉（来自 {sources_count} 个不同信访人或地点）"
               f"在 {alert.radius_m:.0f} 米范围内集中出现，请研判是否为突发污染。")
    command = db.session.scalars(select(User).where(User.role == Role.COMMAND_OFFICE, User.active.is_(True)))
    notify(NotificationKind.EARLY_WARNING, command, message, first)


def dismiss(actor: User, alert_id: int) -> Alert:
    """The command office closes an alert it has dealt with."""
    require(actor, "handle_alerts")
    alert = get_or_404(Alert, alert_id, "预警不存在。")
    if alert.dismissed_at is not None:
        raise Conflict("该预警已处理。")
    alert.dismissed_at = clock.now()
    db.session.flush()
    return alert
