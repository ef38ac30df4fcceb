"""Open311 GeoReport v2 (and FixMyStreet's servicerequestupdates) over Firstline's cases.

Services are the pollution categories. What goes out is what a public page may show: the
case number, the category, a staff-written title with any long digit run (a phone or ID
number typed by mistake) starred out, the site's address and point, the department and
the times. Never the petitioner, never the description, never internal notes.
"""

import re
from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import ApiKey, Case, CaseEvent
from app.models.vocab import OPEN_STATUSES, CaseStatus, Category, Channel, Sector
from app.services import clock
from app.services.cases.intake import register_for_api_client
from app.services.cases.lifecycle import event_label
from app.services.geo.place_names import place_by_address

MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
SERVICE_DESCRIPTIONS = {
    Category.AIR: "废气、异味、烟尘、餐饮油烟等", Category.NOISE: "工业、施工、社会生活、交通噪声",
    Category.WATER: "污水排放、水体污染", Category.SOLID_WASTE: "固体废物倾倒、堆放",
    Category.SOIL: "土壤污染", Category.RADIATION: "电磁、放射性污染", Category.ECOLOGY: "生态破坏",
}
_DIGITS = re.compile(r"\d{7,}")


def services() -> list[dict]:
    """Every service (pollution category)."""
    return [{"service_code": c.value, "service_name": c.label, "description": SERVICE_DESCRIPTIONS[c],
             "metadata": False, "type": "realtime", "keywords": "", "group": "环境信访"} for c in Category]


def service_definition(code: str) -> dict:
    """A service's definition: no extra attributes for any category."""
    if code not in Category.labels():
        raise NotFound("没有这个服务类型。")
    return {"service_code": code, "attributes": []}


def _status(case: Case) -> str:
    return "open" if case.status in OPEN_STATUSES else "closed"


def public_request(case: Case) -> dict:
    """One case as a GeoReport v2 service request, without any personal data."""
    point = to_shape(case.location) if case.location is not None else None
    return {
        "service_request_id": case.number, "status": _status(case),
        "status_notes": CaseStatus(case.status).label, "service_name": Category(case.category).label,
        "service_code": case.category, "description": _DIGITS.sub("***", case.title),
        "agency_responsible": case.department.name if case.department else "",
        "service_notice": "", "requested_datetime": case.received_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.handle_due_at.isoformat() if case.handle_due_at else "",
        "address": case.address, "address_id": "", "zipcode": "",
        "lat": point.y if point else "", "long": point.x if point else "", "media_url": "",
    }


def find_requests(ids: list[str] | None = None, service_code: str | None = None, start: datetime | None = None,
                  end: datetime | None = None, status: str | None = None) -> list[dict]:
    """Requests by the spec's filters; without ids, the last 90 days up to 1000, newest first."""
    query = select(Case).options(selectinload(Case.department))
    if ids:
        query = query.where(Case.number.in_(ids))
    else:
        end = end or clock.now()
        start = start or end - timedelta(days=DEFAULT_DAYS)
        query = query.where(Case.received_at >= start, Case.received_at <= end)
        if service_code:
            query = query.where(Case.category.in_(service_code.split(",")))
        if status:
            opened = Case.status.in_([str(s) for s in OPEN_STATUSES])
            wanted = set(status.split(","))
            if wanted - {"open", "closed"}:
                raise InvalidInput("status 只能为 open 或 closed。")
            if wanted == {"open"}:
                query = query.where(opened)
            elif wanted == {"closed"}:
                query = query.where(~opened)
    cases = db.session.scalars(query.order_by(Case.received_at.desc(), Case.id.desc()).limit(MAX_REQUESTS))
    return [public_request(c) for c in cases]


def one_request(number: str) -> dict:
    """One request by its id (the case number)."""
    found = find_requests(ids=[number])
    if not found:
        raise NotFound("没有这个服务请求。")
    return found[0]


def create_request(key: ApiKey, form: dict) -> dict:
    """POST requests: a new case on the intake path, as the command office.

    As GeoReport v2 allows: an unknown service_code is 404; a location is lat/long or an
    address (placed by the place names in it, else registered unplaced for the command
    office to place); the description may be left out (the title then names the service).
    A point outside the city is registered as 市外 (an outside system cannot tick the desk's
    box, and the complaint must not be lost): the command office's 市外 queue decides.
    """
    code = form.get("service_code") or ""
    if code not in Category.labels():
        raise NotFound(f"没有这个服务类型：{code or '（未填写）'}。")
    address = (form.get("address_string") or "").strip()[:300]
    data = {"address": address} | _location(form, address)
    description = (form.get("description") or "").strip()
    name = f"{form.get('last_name') or ''}{form.get('first_name') or ''}".strip()
    title = description[:60] or f"{Category(code).label}问题（{address[:40] or '经接口提交'}）"
    data |= {"channel": Channel.ONLINE, "category": code, "sector": Sector.OTHER, "title": title,
             "description": description, "petitioner_name": name or None,
             "petitioner_phone": form.get("phone") or None, "anonymous": not (name or form.get("phone"))}
    case = register_for_api_client(key.name, data)
    return {"service_request_id": case.number, "service_notice": "已登记，将依法受理并告知。", "account_id": ""}


def _location(form: dict, address: str) -> dict:
    """lon/lat from lat/long; else from the address's place names; else none (InvalidInput
    when there is neither a point nor an address, as the spec requires one of them)."""
    if form.get("lat") or form.get("long"):
        try:
            return {"lat": float(form["lat"]), "lon": float(form["long"]), "outside_city": True}
        except (KeyError, ValueError) as exc:
            raise InvalidInput("lat 与 long 须同时提供且为数字。") from exc
    if not address:
        raise InvalidInput("须提供 lat 与 long，或 address_string。")
    place = place_by_address(address)
    if place is None:
        return {"lon": None, "lat": None, "note": "地址无法定位，待指挥部办公室核实位置"}
    if place.point is None:
        return {"lon": None, "lat": None, "town_id": place.town_id,
                "note": f"按地址定位至「{place.grid_name}」，具体位置待核实"}
    lon, lat = place.point
    return {"lon": lon, "lat": lat, "note": f"按地址定位至「{place.grid_name}」（取村内一点），具体位置待核实"}


def request_updates(start: datetime | None, end: datetime | None) -> list[dict]:
    """FixMyStreet's servicerequestupdates: each timeline step as an update (no notes)."""
    end = end or clock.now()
    start = start or end - timedelta(days=1)
    query = (select(CaseEvent, Case).join(Case, Case.id == CaseEvent.case_id)
             .where(CaseEvent.at >= start, CaseEvent.at <= end)
             .order_by(CaseEvent.at, CaseEvent.id).limit(MAX_REQUESTS))
    return [{"update_id": str(event.id), "service_request_id": case.number, "status": _update_status(event, case),
             "updated_datetime": event.at.isoformat(), "description": _step_label(event.kind), "media_url": ""}
            for event, case in db.session.execute(query)]


def _update_status(event: CaseEvent, case: Case) -> str:
    """Open or closed after this step (the case's current status if the step did not move it)."""
    to = (event.data or {}).get("to")
    if to is None:
        return _status(case)
    return "open" if to in OPEN_STATUSES else "closed"


def _step_label(kind: str) -> str:
    return event_label(kind)
