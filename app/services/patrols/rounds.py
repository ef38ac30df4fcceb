"""Grid patrols (网格巡查) from the inspector app: patrols and their tracks, check-ins at
sources (巡查打卡), today's patrol list, and the patrol queries for the desk.

Rules:

- Patrols and check-ins get their UUIDs on the phone and arrive through the outbox in any
  order, any number of times. Only people who go on site upload them
  (``access.require_field_user``).
- A patrol is an upsert by its id, because it grows while it is open: track points are
  merged (union by their time, sorted; a point already stored wins), ``started_at`` never
  changes, ``ended_at`` once set never changes, non-empty notes replace the stored ones.
  The stored track is a LineString once it has two points; its distance is the sum of its
  segments. Another user's patrol id is a conflict (409).
- A check-in is idempotent like an on-site check: the same content under the same id is
  success and changes nothing; other content is a conflict (409) that shows both versions.
  Its source must be in the user's ``source_scope`` (else 404). A patrol id the server has
  not seen yet creates a placeholder patrol (``content_sha256`` empty) that the patrol's
  own upload fills in, so outbox order never matters.
- The server measures the distance to the source; a check-in farther than the radius in
  force (setting ``patrol_radius_m``) is kept and flagged, never refused. It counts for the
  checker's grid level (``patrol_rules.checkin_level``) and raises the source's
  ``last_patrol_at``.
- A "problem found" check-in names its patrol-discovery record (``inspection_id``); the
  discovery names the check-in (``discovery.patrol_checkin_id``) and its source. Whichever
  arrives second links them: the check-in gets the discovery's case and the case is linked
  to the source (``link_discovery``, also called from ``field_sync``).
- Patrols are read within ``access.grid_scope`` of the patrol's grid, plus one's own;
  outside it a patrol does not exist (404).
"""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString, Point
from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.orm import selectinload

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Grid, Inspection, Patrol, PatrolCheckin, Source, User, source_cases
from app.models.patrols import MAX_TRACK_POINTS
from app.models.types import SRID
from app.models.vocab import GRID_LEVEL_NAMES, CheckinOutcome, InspectionKind, PatrolDueState, Sector, SourceKind
from app.services import clock
from app.services.access import authorize_source, grid_scope, require_field_user, source_scope
from app.services.clock import beijing_date, day_start
from app.services.field.idempotent import canonical_json, conflict_versions, content_sha, insert_once
from app.services.geo.spatial import distance_m
from app.services.paging import page_of
from app.services.patrols import rules as patrol_rules
from app.services.settings import get_setting

STATE_ORDER = {PatrolDueState.OVERDUE: 0, PatrolDueState.DUE: 1, PatrolDueState.OK: 2,
               PatrolDueState.NOT_REQUIRED: 3}


# ---------------------------------------------------------------- patrols


def put_patrol(user: User, patrol_id: uuid.UUID, body: dict) -> tuple[Patrol, bool]:
    """Create or grow a patrol from the phone; return it and whether this upload created it."""
    require_field_user(user)
    _check_patrol_times(body)
    patrol = _locked_patrol(patrol_id) or _insert_patrol(user, patrol_id, body["started_at"])
    created = not patrol.content_sha256  # new, or only known so far from its check-ins
    _merge_patrol(user, patrol, body)
    return patrol, created


def _check_patrol_times(body: dict) -> None:
    """Refuse a patrol whose start, end or track lies in the future (the phone's clock is wrong)."""
    clock.refuse_future(body["started_at"], "started_at", "巡查开始时间")
    clock.refuse_future(body.get("ended_at"), "ended_at", "巡查结束时间")
    latest = max((point["at"] for point in body.get("track") or []), default=None)
    clock.refuse_future(latest, "track", "巡查轨迹时间")


def _insert_patrol(user: User, patrol_id: uuid.UUID, started_at: datetime) -> Patrol:
    """A new patrol row for this inspector (or the row another request just made)."""
    patrol = Patrol(id=patrol_id, inspector_id=user.id, grid_id=user.grid_id, level=_level(user),
                    started_at=started_at, track_points=[], distance_m=0.0, notes="", content_sha256="",
                    received_at=clock.now())
    return insert_once(patrol, lambda: _locked_patrol(patrol_id)) or patrol


def _locked_patrol(patrol_id: uuid.UUID) -> Patrol | None:
    """The stored patrol, locked until commit so two uploads never merge its track at once."""
    return db.session.get(Patrol, patrol_id, with_for_update=True)


def _merge_patrol(user: User, patrol: Patrol, body: dict) -> None:
    """Apply an upload to a stored patrol, or refuse it as a conflict."""
    placeholder = not patrol.content_sha256
    problem = _patrol_conflict(user, patrol, body, placeholder)
    if problem:
        raise Conflict(problem,
                       conflict_versions(user, patrol.inspector_id, patrol.id, lambda: patrol_body(patrol), body))
    if placeholder:
        patrol.started_at = body["started_at"]
    if body.get("ended_at") is not None:
        patrol.ended_at = body["ended_at"]
    if body.get("notes"):
        patrol.notes = body["notes"]
    _set_track(patrol, merged_points(patrol.track_points or [], body.get("track", [])))
    patrol.content_sha256 = content_sha(patrol_body(patrol))
    db.session.flush()


def _patrol_conflict(user: User, patrol: Patrol, body: dict, placeholder: bool) -> str | None:
    """Why this upload cannot apply to the stored patrol, or None when it can."""
    if patrol.inspector_id != user.id:
        return "该巡查编号已被其他人使用，未覆盖服务器上的巡查记录。"
    if not placeholder and patrol.started_at != body["started_at"]:
        return "巡查开始时间与服务器上的记录不同，未覆盖。"
    ended = body.get("ended_at")
    if ended is not None and patrol.ended_at is not None and patrol.ended_at != ended:
        return "巡查已于另一时间结束，未覆盖服务器上的记录。"
    return None


def merged_points(stored: list[dict], uploaded: list[dict]) -> list[dict]:
    """Track points from both, one per moment (the stored one wins), oldest first."""
    by_moment = {point["at"]: point for point in (_stored_point(p) for p in uploaded)}
    by_moment.update({point["at"]: point for point in stored})
    if len(by_moment) > MAX_TRACK_POINTS:
        raise InvalidInput(f"巡查轨迹点过多（超过 {MAX_TRACK_POINTS} 个）。", {"track": ["轨迹点过多"]})
    return [by_moment[moment] for moment in sorted(by_moment, key=datetime.fromisoformat)]


def _stored_point(point: dict) -> dict:
    """A track point as stored: UTC ISO time, position and accuracy."""
    return {"at": point["at"].astimezone(UTC).isoformat(), "lon": point["lon"],
            "lat": point["lat"], "accuracy_m": point.get("accuracy_m")}


def _set_track(patrol: Patrol, points: list[dict]) -> None:
    """Store the points, the line through them (two points or more) and its length."""
    patrol.track_points = points
    coords = [(p["lon"], p["lat"]) for p in points]
    patrol.track = from_shape(LineString(coords), srid=SRID) if len(coords) >= 2 else None
    patrol.distance_m = round(sum(distance_m(*a, *b) for a, b in zip(coords, coords[1:], strict=False)), 1)


def patrol_body(patrol: Patrol) -> dict:
    """The stored patrol in the upload's own shape, to show beside a conflicting upload."""
    return json.loads(canonical_json({
        "started_at": patrol.started_at, "ended_at": patrol.ended_at, "notes": patrol.notes,
        "track": patrol.track_points or [],
    }))


def _level(user: User) -> int:
    """The grid level the user's patrols and check-ins count for."""
    return patrol_rules.checkin_level(user.grid.level if user.grid is not None else None)


# ---------------------------------------------------------------- check-ins


def put_checkin(user: User, checkin_id: uuid.UUID, body: dict) -> tuple[PatrolCheckin, bool]:
    """Store a check-in at a source once; return it and whether it was new."""
    require_field_user(user)
    sha = content_sha(body)
    existing = db.session.get(PatrolCheckin, checkin_id)
    if existing is None:
        source = authorize_source(user, body["source_id"])
        _check_checkin(body)
        patrol = _patrol_for_checkin(user, body)
        checkin = _new_checkin(user, checkin_id, body, sha, source, patrol)
        existing = insert_once(checkin, lambda: db.session.get(PatrolCheckin, checkin_id))
        if existing is None:
            _raise_last_patrol_at(source, checkin.captured_at)
            _link_from_checkin(user, checkin)
            db.session.flush()
            return checkin, True
    return _same_checkin_or_conflict(existing, user, sha, body), False


def _raise_last_patrol_at(source: Source, at: datetime) -> None:
    """Move the source's latest patrol time forward, in one statement so racing check-ins keep the latest."""
    db.session.execute(
        update(Source).where(Source.id == source.id,
                             or_(Source.last_patrol_at.is_(None), Source.last_patrol_at < at))
        .values(last_patrol_at=at).execution_options(synchronize_session=False))
    db.session.expire(source, ["last_patrol_at"])


def _same_checkin_or_conflict(existing: PatrolCheckin, user: User, sha: str, body: dict) -> PatrolCheckin:
    """A resend of the same content is success; anything else under this id is a conflict."""
    if existing.inspector_id == user.id and existing.content_sha256 == sha:
        return existing
    raise Conflict("该打卡编号已存在且内容不同，未覆盖服务器上的记录。",
                   conflict_versions(user, existing.inspector_id, existing.id, lambda: checkin_body(existing), body))


def _check_checkin(body: dict) -> None:
    """Refuse a check-in from the future and a report link on a 'nothing found' check-in."""
    clock.refuse_future(body["captured_at"], "captured_at", "打卡时间")
    if body["outcome"] == CheckinOutcome.NOTHING_FOUND and body.get("inspection_id") is not None:
        raise InvalidInput("“未发现问题”的打卡不能关联巡查发现记录。", {"inspection_id": ["应为空"]})


def _patrol_for_checkin(user: User, body: dict) -> Patrol | None:
    """The check-in's patrol; one not uploaded yet is created here and filled in later."""
    if body.get("patrol_id") is None:
        return None
    patrol = _locked_patrol(body["patrol_id"]) or _insert_patrol(user, body["patrol_id"], body["captured_at"])
    if patrol.inspector_id != user.id:
        raise Conflict("该巡查编号属于其他人，打卡未保存。", {"patrol_id": ["属于其他人"]})
    if not patrol.content_sha256 and body["captured_at"] < patrol.started_at:
        patrol.started_at = body["captured_at"]  # until the patrol arrives, it began at its first check-in
    return patrol


def _new_checkin(user: User, checkin_id: uuid.UUID, body: dict, sha: str, source: Source,
                 patrol: Patrol | None) -> PatrolCheckin:
    """The check-in row, with the distance to the source measured on the server."""
    where = body["location"]
    site = to_shape(source.location)
    distance = round(distance_m(where["lon"], where["lat"], site.x, site.y), 1)
    radius = float(get_setting("patrol_radius_m"))
    return PatrolCheckin(
        id=checkin_id, patrol_id=patrol.id if patrol else None, source_id=source.id, inspector_id=user.id,
        grid_id=user.grid_id, level=_level(user), outcome=body["outcome"],
        location=from_shape(Point(where["lon"], where["lat"]), srid=SRID), accuracy_m=where.get("accuracy_m"),
        location_source=where["source"], mock_location=where.get("mock", False), distance_m=distance,
        radius_m=radius, outside_radius=distance > radius, inspection_id=body.get("inspection_id"),
        notes=body.get("notes", ""), content_sha256=sha, captured_at=body["captured_at"], received_at=clock.now(),
    )


def checkin_body(checkin: PatrolCheckin) -> dict:
    """The stored check-in in the upload's own shape, to show beside a conflicting resend."""
    point = to_shape(checkin.location) if checkin.location is not None else None
    return json.loads(canonical_json({
        "patrol_id": checkin.patrol_id, "source_id": checkin.source_id, "outcome": checkin.outcome,
        "captured_at": checkin.captured_at, "notes": checkin.notes, "inspection_id": checkin.inspection_id,
        "location": {"lon": point.x if point else None, "lat": point.y if point else None,
                     "accuracy_m": checkin.accuracy_m, "source": checkin.location_source,
                     "mock": checkin.mock_location},
    }))


# ---------------------------------------------------------------- discovery link


def _link_from_checkin(user: User, checkin: PatrolCheckin) -> None:
    """A check-in arriving after its discovery record takes the discovery's case."""
    if checkin.inspection_id is None:
        return
    inspection = db.session.get(Inspection, checkin.inspection_id)
    if (inspection is not None and inspection.inspector_id == user.id
            and inspection.kind == InspectionKind.PATROL_DISCOVERY and inspection.case_id is not None):
        _attach_case(checkin, inspection)


def check_discovery_source(user: User, discovery: dict) -> None:
    """A discovery may name only a source the inspector can see (404 otherwise)."""
    if discovery.get("source_id") is not None:
        authorize_source(user, discovery["source_id"])


def link_discovery(user: User, inspection: Inspection, discovery: dict) -> None:
    """A discovery record links its case to its source and to the check-ins that name it."""
    if discovery.get("source_id") is not None:
        _link_case_to_source(discovery["source_id"], inspection.case_id)
    naming = [PatrolCheckin.inspection_id == inspection.id]
    if discovery.get("patrol_checkin_id") is not None:
        naming.append(PatrolCheckin.id == discovery["patrol_checkin_id"])
    query = select(PatrolCheckin).where(PatrolCheckin.inspector_id == user.id, or_(*naming))
    for checkin in db.session.scalars(query):
        _attach_case(checkin, inspection)


def _attach_case(checkin: PatrolCheckin, inspection: Inspection) -> None:
    """Point the check-in at the discovery and its case, and the case at the source."""
    checkin.inspection_id = inspection.id
    checkin.case_id = inspection.case_id
    _link_case_to_source(checkin.source_id, inspection.case_id)


def _link_case_to_source(source_id: int, case_id: int) -> None:
    """Add the (source, case) pair to source_cases unless it is there already."""
    pair = (source_cases.c.source_id == source_id) & (source_cases.c.case_id == case_id)
    if db.session.scalar(select(func.count()).select_from(source_cases).where(pair)) == 0:
        db.session.execute(insert(source_cases).values(source_id=source_id, case_id=case_id))


# ---------------------------------------------------------------- today's patrol


def today_for(user: User, now: datetime | None = None) -> dict:
    """Every active source of my own grid with its due state, overdue first, then by due date."""
    now = now or clock.now()
    today = beijing_date(now)
    level = _level(user)
    sources, history = _own_sources_with_history(user, level, now)
    states = patrol_rules.due_states(sources, level, now, history)
    items = [{"source": source_item(s), "due": states[s.id].as_dict(today)} for s in sources]
    items.sort(key=_today_order)
    return {
        "level": level, "level_label": GRID_LEVEL_NAMES[level], "today": today.isoformat(),
        "settings": {"patrol_radius_m": get_setting("patrol_radius_m"),
                     "patrol_track_interval_s": get_setting("patrol_track_interval_s")},
        "rules": _rules_dict(level), "items": items,
    }


def own_grid_sources(user: User) -> list[Source]:
    """The active sources a user patrols: their village, their town, or (level 1) the city."""
    if user.grid_id is None:
        return []
    return list(db.session.scalars(_own_grid_query(user)))


def _own_grid_query(user: User) -> Select:
    """SELECT the active sources of the user's own grid (the user has one), by code."""
    query = select(Source).where(Source.active.is_(True), source_scope(user))
    if user.grid.level == 3:
        query = query.where(Source.grid_id == user.grid_id)
    elif user.grid.level == 2:
        query = query.where(Source.town_id == user.grid_id)
    return query.order_by(Source.code)


def _own_sources_with_history(user: User, level: int, now: datetime) -> tuple[list[Source], patrol_rules.History]:
    """``own_grid_sources`` with, in the same statement, what their due states need: whether each
    was complained about lately and its check-ins counted for the level (one row per check-in).

    Every phone's sync carries today's patrol, so it costs one round trip instead of three.
    """
    if user.grid_id is None:
        return [], (set(), {})
    rows = db.session.execute(
        _own_grid_query(user).add_columns(patrol_rules.complained(now), PatrolCheckin.captured_at)
        .outerjoin(PatrolCheckin, patrol_rules.counted_checkins(level, patrol_rules.window_start(now)))
    ).all()
    sources = {source.id: source for source, _, _ in rows}
    complained = {source.id for source, was_complained, _ in rows if was_complained}
    days = patrol_rules.patrol_days((source.id, captured_at) for source, _, captured_at in rows)
    return list(sources.values()), (complained, days)


def source_item(source: Source) -> dict:
    """What the app shows and keeps offline about one source."""
    point = to_shape(source.location)
    return {
        "id": source.id, "code": source.code, "name": source.name, "kind": source.kind,
        "kind_label": SourceKind(source.kind).label, "sector": source.sector,
        "sector_label": Sector(source.sector).label, "address": source.address,
        "lon": round(point.x, 7), "lat": round(point.y, 7), "is_key": source.is_key,
        "permit_number": source.permit_number, "responsible_name": source.responsible_name,
        "responsible_phone": source.responsible_phone,
        "last_patrol_at": source.last_patrol_at.isoformat() if source.last_patrol_at else None,
    }


def _today_order(item: dict) -> tuple:
    """Overdue first, then due, ok and not required; within each, the earliest due date."""
    due = item["due"]
    return STATE_ORDER[due["state"]], due["due_on"] or "9999-12-31", item["source"]["code"]


def _rules_dict(level: int) -> dict:
    """The rules one level follows, per source class, in words and numbers."""
    return {
        source_class: {"times": rule.times, "period_days": rule.period_days, "label": rule.label} if rule else None
        for source_class, rule in patrol_rules.rules()[level].items()
    }


# ---------------------------------------------------------------- queries


def patrols_visible(user: User):
    """The WHERE clause for the patrols a user may read: their grid scope, and their own."""
    return grid_scope(user, Patrol.grid_id) | (Patrol.inspector_id == user.id)


def list_patrols(user: User, page: int = 1, per_page: int = 50, **filters) -> dict:
    """A page of the patrols in scope, newest first, filtered by date, inspector, grid or town."""
    return page_of(_filtered_patrols(user, **filters), page, per_page,
                   order_by=(Patrol.started_at.desc(), Patrol.id),
                   options=(selectinload(Patrol.inspector), selectinload(Patrol.grid),
                            selectinload(Patrol.checkins).selectinload(PatrolCheckin.source)))


def _filtered_patrols(user: User, start: date | None = None, end: date | None = None,
                      inspector_id: int | None = None, grid_id: int | None = None, town_id: int | None = None):
    """The scoped SELECT of patrols narrowed by the filters (None means no filter)."""
    if start is not None and end is not None and end < start:
        raise InvalidInput("结束日期早于开始日期。", {"end": ["早于开始日期"]})
    query = select(Patrol).where(patrols_visible(user))
    if start is not None:
        query = query.where(Patrol.started_at >= day_start(start))
    if end is not None:
        query = query.where(Patrol.started_at < day_start(end + timedelta(days=1)))
    if inspector_id is not None:
        query = query.where(Patrol.inspector_id == inspector_id)
    if grid_id is not None:
        query = query.where(Patrol.grid_id == grid_id)
    if town_id is not None:
        villages = select(Grid.id).where(Grid.parent_id == town_id)
        query = query.where((Patrol.grid_id == town_id) | Patrol.grid_id.in_(villages))
    return query


def patrol_detail(user: User, patrol_id: uuid.UUID) -> Patrol:
    """One patrol with its track and check-ins; 404 outside the user's scope."""
    patrol = db.session.scalar(
        select(Patrol).where(Patrol.id == patrol_id, patrols_visible(user))
        .options(selectinload(Patrol.checkins).selectinload(PatrolCheckin.source),
                 selectinload(Patrol.checkins).selectinload(PatrolCheckin.case))
    )
    if patrol is None:
        raise NotFound("巡查记录不存在，或不在您的管辖范围内。")
    return patrol
