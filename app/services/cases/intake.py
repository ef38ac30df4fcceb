"""Registering a case (登记): place it, route it, number it, and look for repeats."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import or_, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Case, Department, User
from app.models.types import SRID
from app.models.vocab import (
    CaseStatus,
    Channel,
    ListKind,
    Role,
    Stage,
)
from app.services import background, clock
from app.services.access import Action, case_scope, may, require
from app.services.cases import deadlines
from app.services.cases.announcements import announce_registered
from app.services.cases.departments import department_for_sector
from app.services.cases.numbering import next_case_number
from app.services.cases.repeats import link_repeat
from app.services.cases.timeline import append_event
from app.services.geo.coords import to_wgs84
from app.services.geo.placement import Placement, place_point
from app.services.geo.spatial import bbox_around, distance_m, in_bbox
from app.services.settings import get_setting


@dataclass
class RepeatCandidate:
    """An earlier case that the new one may repeat, and why it was offered."""

    case: Case
    reason: str
    distance_m: float | None


# How far ahead of the server's clock a received time may lie (a registrar's watch running fast).
RECEIVED_AHEAD = timedelta(minutes=10)


def register_case(user: User, data: dict) -> tuple[Case, list[RepeatCandidate]]:
    """Create a case from validated intake data; return it with its repeat candidates."""
    require(user, "register_cases", "只有二级网格管理员和指挥部办公室可以登记案件。")
    now = clock.now()
    if data.get("received_at") is not None and data["received_at"] > now + RECEIVED_AHEAD:
        # Its clocks would start in the future: a case that can never turn red.
        raise InvalidInput("收到时间不能晚于现在，请核对日期。", {"received_at": ["收到时间晚于现在"]})
    point = to_wgs84(data["lon"], data["lat"], data["coord_system"]) if data.get("lon") is not None else None
    placed = _placement(*point) if point else None
    if placed is not None and not placed.in_city and not data.get("outside_city"):
        raise OutsideCity()
    if user.role == Role.SUPERVISOR and (placed is None or placed.town_id != user.grid_id):
        raise InvalidInput("该位置不在您管辖的镇（街道）范围内，请核对坐标或交指挥部办公室登记。",
                           {"lon": "位置不在本镇（街道）范围内"})
    case = _new_case(user, data, point, placed, now)
    _set_petitioner(case, data)
    _route(case, data)
    apply_above_level(case)
    case.irregular_count = 1 if data.get("irregular") else 0
    _file(case, user, data.get("note", ""), now)
    link_repeat(case, user, data.get("repeat_of_id"), now)
    if point is None:
        return case, []
    return case, repeat_candidates(user, *point, case.category, case.petitioner_phone, exclude_id=case.id)


def register_patrol_discovery(user: User, discovery: dict, lon: float, lat: float, found_at: datetime) -> Case:
    """A problem an inspector found on patrol (巡查发现): on the potential-problem list,
    credited to the inspector's own grid, received at the moment it was found."""
    data = {**discovery, "channel": Channel.GRID_PATROL, "coord_system": "wgs84", "priority": "normal",
            "lon": lon, "lat": lat, "received_at": found_at}
    case = _new_case(user, data, (lon, lat), _placement(lon, lat), clock.now())
    case.discovered_by_grid_id = user.grid_id
    case.anonymous = True  # nobody complained: there is no petitioner
    _route(case, {})
    _file(case, user, "网格员巡查发现", clock.now())
    return case


class OutsideCity(InvalidInput):
    """The point lies outside the city and the user has not confirmed it as 市外."""

    def __init__(self):
        message = ("该位置不在本市范围内（不在任何网格内，也不在网格缝隙容差之内）。请核对经纬度和坐标系；"
                   "确属市外的，请勾选「市外」后再登记，案件将进入指挥部办公室的市外件队列。")
        super().__init__(message, {"outside_city": ["位置在本市范围外，须确认为「市外」"]})


def _placement(lon: float, lat: float) -> Placement:
    """Where a new case at a WGS-84 point belongs, sliver gaps closed by the tolerance setting."""
    return place_point(lon, lat, float(get_setting("grid_gap_tolerance_m")))


def _new_case(user: User, data: dict, point: tuple[float, float] | None, placed: Placement | None,
              now: datetime) -> Case:
    """A registered case at a WGS-84 point, placed at the deepest grid that covers it, and numbered.
    Without a point (a report that gave only an address nobody could place) it has no grid, and
    its town only when ``data["town_id"]`` names one; it waits in the command office's queue."""
    channel = Channel(data["channel"])
    return Case(
        number=next_case_number(clock_year(now)),
        list_kind=ListKind.POTENTIAL if channel.is_patrol else ListKind.EXISTING,
        channel=data["channel"], category=data["category"], subcategory=data.get("subcategory"),
        sector=data["sector"], priority=data["priority"], title=data["title"],
        description=data.get("description", ""), address=data.get("address", ""),
        location=from_shape(Point(*point), srid=SRID) if point else None, coord_system=data["coord_system"],
        input_lon=data.get("lon"), input_lat=data.get("lat"),
        grid_id=placed.grid_id if placed else None, town_id=placed.town_id if placed else data.get("town_id"),
        outside_grid=placed.outside_grid if placed else True,
        grid_gap_m=placed.gap_m if placed else None, outside_city=placed is not None and not placed.in_city,
        status=CaseStatus.REGISTERED, received_at=data.get("received_at") or now, registered_at=now,
        created_by_id=user.id, suspected_crime=data.get("suspected_crime", False),
        superior_assigned=data.get("superior_assigned", False),
        inspection_referral=data.get("inspection_referral") or channel.inspection_referral,
        work_order_number=data.get("work_order_number"),
    )


def _file(case: Case, user: User, note: str, now: datetime) -> None:
    """Save a new case, start its acceptance clock and open its timeline."""
    db.session.add(case)
    db.session.flush()
    deadlines.start_clock(case, Stage.ACCEPT, case.received_at)
    append_event(case, "register", user, note=note,
                 data={"to": case.status, "channel": case.channel}, at=now)
    announce_registered(case, user, now)
    background.enqueue("early_warning.scan_near", case_id=case.id)


def clock_year(moment: datetime) -> int:
    """The year a case number carries: the registration year in Beijing time."""
    return (moment + timedelta(hours=8)).year


def _set_petitioner(case: Case, data: dict) -> None:
    """Personal data, unless the report is anonymous (then none is kept at all)."""
    case.anonymous = data.get("anonymous", False)
    if case.anonymous:
        return
    case.petitioner_name = data.get("petitioner_name") or None
    case.petitioner_phone = data.get("petitioner_phone") or None
    case.petitioner_id_number = data.get("petitioner_id_number") or None


def _route(case: Case, data: dict) -> None:
    """Department from the routing table; a different choice needs a reason."""
    routed = department_for_sector(case.sector)
    chosen_id = data.get("department_id") or (routed.id if routed else None)
    if chosen_id is not None and db.session.get(Department, chosen_id) is None:
        raise InvalidInput("承办部门不存在。", {"department_id": "不存在"})
    if routed is not None and chosen_id != routed.id:
        if not data.get("override_reason", "").strip():
            raise InvalidInput(f"改派至非默认部门（默认：{routed.name}）须说明理由。",
                               {"override_reason": "改派须说明理由"})
        case.department_override_reason = data["override_reason"]
    case.department_id = chosen_id


def apply_above_level(case: Case) -> None:
    """An above-level channel marks the case itself above-level."""
    if Channel(case.channel).above_level and not case.above_level:
        case.above_level, case.above_level_count = True, max(case.above_level_count or 0, 1)


def repeat_candidates(user: User, lon: float, lat: float, category: str, phone: str | None,
                      exclude_id: int | None = None) -> list[RepeatCandidate]:
    """Earlier cases in the user's scope from the same phone, or of the same category nearby.

    The phone is matched only for those who may read petitioners' phones (as the case search
    does): for anyone else it is ignored, so the answer cannot confirm a guessed number.
    """
    if not may(user, Action.VIEW_PERSONAL_DATA):
        phone = None
    radius = float(get_setting("repeat_radius_m"))
    since = clock.now() - timedelta(days=int(get_setting("repeat_period_days")))
    nearby = (Case.category == category) & in_bbox("cases", Case.location, Case.id, *bbox_around(lon, lat, radius))
    same_phone = Case.petitioner_phone == phone if phone else None
    query = select(Case).where(case_scope(user), Case.received_at >= since,
                               or_(nearby, same_phone) if same_phone is not None else nearby)
    if exclude_id is not None:
        query = query.where(Case.id != exclude_id)
    found = []
    for other in db.session.scalars(query.order_by(Case.received_at.desc()).limit(200)):
        point = to_shape(other.location) if other.location is not None else None
        away = distance_m(lon, lat, point.x, point.y) if point is not None else None
        if phone and other.petitioner_phone == phone:
            found.append(RepeatCandidate(other, "同一信访人电话", away))
        elif away is not None and away <= radius:
            found.append(RepeatCandidate(other, f"同类问题，相距约 {away:.0f} 米", away))
    return found[:20]


def register_for_api_client(client_name: str, data: dict) -> Case:
    """Register a case sent by an outside system holding an API key (e.g. Open311), acting as
    the command office: the first active command-office user is recorded as the registrar and
    the timeline names the client. Routing, numbering and clocks are those of any intake."""
    acting = db.session.scalar(select(User).where(User.role == Role.COMMAND_OFFICE, User.active.is_(True))
                               .order_by(User.id).limit(1))
    if acting is None:
        raise Conflict("系统中没有可用的指挥部办公室账号，无法受理接口提交。")
    note = "；".join(part for part in (f"经接口「{client_name}」提交", data.get("note", "")) if part)
    data = {"coord_system": "wgs84", "priority": "normal"} | data | {"note": note}
    case, _ = register_case(acting, data)
    return case
