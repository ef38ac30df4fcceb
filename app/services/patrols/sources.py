"""The source register (监管对象台账): the places each grid watches, kept by the town offices.

Rules:

- A source's level-3 grid and town come from its location, never from what is typed: a
  location in no level-3 grid is refused (a source that belongs to no grid has nobody to
  patrol it). Coordinates may be typed in WGS-84, GCJ-02 or BD-09; WGS-84 is stored.
- Supervisors (二级网格管理员) create, edit and move sources inside their own town only; the
  command office and the administrator anywhere (``access`` capability ``edit_sources``).
  Everyone else reads within ``access.source_scope``; outside it a source does not exist (404).
- The code (编号) is optional on input and unique. Without one the register gives
  ``JG<town code>-<serial>`` (e.g. ``JG01-0007``): the next number after the highest code
  with that prefix, so the same town's sources sort together.
- The sector defaults from the kind (a restaurant is tertiary/service) when not given.
- Sources are deactivated, never deleted: their patrol history and cases stay readable.
- Every change is written to the administration audit log (``services.admin_audit``).
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import selectinload

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Case, Grid, PatrolCheckin, Source, User, source_cases
from app.models.types import SRID
from app.models.vocab import CoordSystem, Role, Sector, SourceKind
from app.services import clock
from app.services.access import authorize, authorize_source, case_scope, require, source_scope
from app.services.admin import audit as admin_audit
from app.services.geo.coords import to_wgs84
from app.services.geo.grid_locator import GridLocator, get_locator
from app.services.paging import page_of

CODE_PATTERN = re.compile(r"[A-Za-z0-9_\-]{1,32}")
PERMIT_PATTERN = re.compile(r"[A-Za-z0-9\-]{1,64}")
PHONE_PATTERN = re.compile(r"[0-9+\-() ]{0,32}")
TEXT_LIMITS = {"name": (200, "名称"), "address": (300, "地址"), "responsible_name": (64, "负责人"),
               "notes": (2000, "备注")}
EDITABLE = ("code", "name", "kind", "sector", "address", "is_key", "permit_number", "responsible_name",
            "responsible_phone", "notes", "active")
AUDITED = (*EDITABLE, "grid_id", "town_id")
HISTORY_LIMIT = 200
# The sector a kind of place usually belongs to (DOMAIN.md, division of duty).
SECTOR_OF_KIND = {
    SourceKind.FACTORY: Sector.INDUSTRIAL, SourceKind.LIVESTOCK_FARM: Sector.LIVESTOCK,
    SourceKind.AQUACULTURE_FARM: Sector.LIVESTOCK, SourceKind.RESTAURANT: Sector.TERTIARY,
    SourceKind.CONSTRUCTION_SITE: Sector.CONSTRUCTION, SourceKind.WHARF: Sector.RIVERSIDE_WHARF,
    SourceKind.WORKSHOP: Sector.INDUSTRIAL, SourceKind.OTHER: Sector.OTHER,
}


@dataclass
class Placement:
    """A checked location: the stored WGS-84 point, the grid and town it falls in, and what was typed."""

    lon: float
    lat: float
    grid_id: int
    town_id: int | None
    coord_system: str = CoordSystem.WGS84
    input_lon: float | None = None
    input_lat: float | None = None


@dataclass
class SourceHistory:
    """What happened at a source: check-ins newest first, and the linked cases the viewer may see."""

    checkins: list[PatrolCheckin]
    cases: list[Case]


class CodeMaker:
    """Hands out ``JG<town code>-<serial>`` codes; remembers the serials it gave (for imports)."""

    def __init__(self, reserved: set[str] | None = None):
        self._next: dict[str, int] = {}
        self._reserved = reserved or set()

    def code_for(self, town_id: int | None) -> str:
        """The next free code in a town, skipping codes reserved (typed further down an import file)."""
        prefix = f"JG{_town_code(town_id)}-"
        if prefix not in self._next:
            self._next[prefix] = _highest_serial(prefix) + 1
        while True:
            serial = self._next[prefix]
            self._next[prefix] = serial + 1
            code = f"{prefix}{serial:04d}"
            if code not in self._reserved:
                return code


def _town_code(town_id: int | None) -> str:
    """The town's grid code, or the city's when a village has no town."""
    town = db.session.get(Grid, town_id) if town_id is not None else None
    return town.code if town is not None else "C"


def _highest_serial(prefix: str) -> int:
    """The largest serial already used after a code prefix (0 when none)."""
    codes = db.session.scalars(select(Source.code).where(Source.code.startswith(prefix, autoescape=True)))
    serials = [int(code[len(prefix):]) for code in codes if code[len(prefix):].isdigit()]
    return max(serials, default=0)


# ----------------------------------------------------------------------------- checking


def check_fields(data: dict) -> dict[str, list[str]]:
    """Problems with the non-spatial fields of a source (empty when all is well)."""
    problems: dict[str, list[str]] = {}
    if not (data.get("name") or "").strip():
        problems.setdefault("name", []).append("名称必填")
    for name, (limit, label) in TEXT_LIMITS.items():
        if len(data.get(name) or "") > limit:
            problems.setdefault(name, []).append(f"{label}不能超过 {limit} 字")
    if data.get("kind") not in SourceKind.labels():
        problems.setdefault("kind", []).append(f"类型应为：{'、'.join(SourceKind.labels().values())}")
    if data.get("sector") is not None and data["sector"] not in Sector.labels():
        problems.setdefault("sector", []).append(f"行业应为：{'、'.join(Sector.labels().values())}")
    if data.get("code") and not CODE_PATTERN.fullmatch(data["code"]):
        problems.setdefault("code", []).append("编号只能由字母、数字、- 和 _ 组成，不超过32位")
    if data.get("permit_number") and not PERMIT_PATTERN.fullmatch(data["permit_number"]):
        problems.setdefault("permit_number", []).append("排污许可证编号只能由字母、数字和 - 组成")
    if not PHONE_PATTERN.fullmatch(data.get("responsible_phone") or ""):
        problems.setdefault("responsible_phone", []).append("联系电话格式不正确")
    return problems


def place(user: User, lon, lat, coord_system: str = CoordSystem.WGS84,
          locator: GridLocator | None = None) -> Placement:
    """Check a typed location and find its grid; InvalidInput when it cannot hold a source."""
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput("经度、纬度须为数字。", {"lon": ["经度、纬度须为数字"]}) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("经纬度超出范围（经度 -180～180，纬度 -90～90）。", {"lon": ["经纬度超出范围"]})
    system = coord_system or CoordSystem.WGS84
    typed_lon, typed_lat = lon, lat
    lon, lat = to_wgs84(lon, lat, system)
    hit = (locator or get_locator()).locate(lon, lat)
    if hit is None:
        raise InvalidInput("该位置不在本市任何三级网格（村、社区）内，请核对经纬度和坐标系。",
                           {"lon": ["位置不在任何三级网格内"]})
    if user.role == Role.SUPERVISOR and hit.town_id != user.grid_id:
        raise InvalidInput("该位置不在您管辖的镇（街道）范围内。", {"lon": ["位置不在本镇（街道）范围内"]})
    return Placement(lon, lat, hit.grid_id, hit.town_id, str(system), typed_lon, typed_lat)


def _require_editor(user: User) -> None:
    """Only the roles that keep the register may write to it."""
    require(user, "edit_sources", "只有二级网格管理员、指挥部办公室和系统管理员可以修改监管对象台账。")


def _refuse_problems(problems: dict[str, list[str]]) -> None:
    """InvalidInput listing every problem, when there are any."""
    if problems:
        raise InvalidInput("请检查：" + "；".join(p for ps in problems.values() for p in ps), problems)


def normalised(data: dict) -> dict:
    """Trimmed text, the sector defaulted from the kind, empty code and permit as None."""
    clean = {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
    if not clean.get("sector") and clean.get("kind") in SECTOR_OF_KIND:
        clean["sector"] = SECTOR_OF_KIND[SourceKind(clean["kind"])].value
    for key in ("code", "permit_number"):
        if key in clean and not clean[key]:
            clean[key] = None
    return clean


def _code_taken(code: str, except_id: int | None = None) -> bool:
    """Whether another source already uses this code."""
    query = select(Source.id).where(Source.code == code)
    if except_id is not None:
        query = query.where(Source.id != except_id)
    return db.session.scalar(query) is not None


# ----------------------------------------------------------------------------- writing


def create_source(user: User, data: dict, codes: CodeMaker | None = None,
                  locator: GridLocator | None = None, audit: bool = True) -> Source:
    """Add a source to the register; its grid, town and (if absent) code are assigned.

    ``audit=False`` is for an import, which writes one audit entry for the whole file.
    """
    _require_editor(user)
    data = normalised(data)
    _refuse_problems(check_fields(data))
    where = place(user, data.get("lon"), data.get("lat"), data.get("coord_system"), locator)
    if data.get("code") and _code_taken(data["code"]):
        raise Conflict(f"编号 {data['code']} 已被其他监管对象使用。", {"code": ["编号已存在"]})
    source = Source(created_by_id=user.id, active=True, is_key=False, address="", responsible_name="",
                    responsible_phone="", notes="")
    _apply(source, data, where)
    source.code = data.get("code") or (codes or CodeMaker()).code_for(where.town_id)
    db.session.add(source)
    db.session.flush()
    if audit:
        admin_audit.record(user, "source.create", "source", source.id, None, source_snapshot(source))
    return source


def update_source(user: User, source_id: int, changes: dict, locator: GridLocator | None = None,
                  audit: bool = True) -> Source:
    """Change a source's fields or move it; a move reassigns its grid and town."""
    source = authorize_source(user, source_id, edit=True)
    before = source_snapshot(source)
    merged = normalised({**{name: getattr(source, name) for name in EDITABLE}, **changes})
    if changes.get("kind") in SECTOR_OF_KIND and not changes.get("sector"):
        merged["sector"] = SECTOR_OF_KIND[SourceKind(changes["kind"])].value
    _refuse_problems(check_fields(merged))
    where = None
    if changes.get("lon") is not None or changes.get("lat") is not None:
        point = to_shape(source.location)
        where = place(user, changes.get("lon", point.x), changes.get("lat", point.y),
                      changes.get("coord_system"), locator)
    if merged.get("code") is None:
        merged["code"] = source.code
    elif merged["code"] != source.code and _code_taken(merged["code"], source.id):
        raise Conflict(f"编号 {merged['code']} 已被其他监管对象使用。", {"code": ["编号已存在"]})
    _apply(source, merged, where)
    source.code = merged["code"]
    source.updated_at = clock.now()
    db.session.flush()
    after = source_snapshot(source)
    if audit and after != before:
        admin_audit.record(user, "source.update", "source", source.id, before, after)
    return source


def deactivate_source(user: User, source_id: int) -> Source:
    """Take a source off the active register (closed down, moved away); its history stays."""
    return update_source(user, source_id, {"active": False})


def _apply(source: Source, data: dict, where: Placement | None) -> None:
    """Copy checked fields (and a checked location) onto the source."""
    for name in EDITABLE:
        if name in data and name not in ("code", "permit_number") and data[name] is not None:
            setattr(source, name, data[name])
    if "permit_number" in data:
        source.permit_number = data["permit_number"]
    if where is not None:
        source.location = from_shape(Point(where.lon, where.lat), srid=SRID)
        source.grid_id, source.town_id = where.grid_id, where.town_id
        source.coord_system, source.input_lon, source.input_lat = where.coord_system, where.input_lon, where.input_lat


def source_snapshot(source: Source) -> dict:
    """The audited fields of a source, location included, as plain JSON."""
    snapshot = admin_audit.snapshot(source, AUDITED)
    if source.location is not None:
        point = to_shape(source.location)
        snapshot["lon"], snapshot["lat"] = round(point.x, 7), round(point.y, 7)
    return snapshot


# ----------------------------------------------------------------------------- cases


def link_case(user: User, source_id: int, case_id: int) -> Source:
    """Link a case the user may see to a source the user may edit (idempotent)."""
    source = authorize_source(user, source_id, edit=True)
    case = authorize(user, case_id)
    if case not in source.cases:
        source.cases.append(case)
        db.session.flush()
        admin_audit.record(user, "source.link_case", "source", source.id, None, {"case": case.number})
    return source


def unlink_case(user: User, source_id: int, case_id: int) -> Source:
    """Remove the link between a source and a case."""
    source = authorize_source(user, source_id, edit=True)
    case = authorize(user, case_id)
    if case not in source.cases:
        raise NotFound("该案件未关联到此监管对象。")
    source.cases.remove(case)
    db.session.flush()
    admin_audit.record(user, "source.unlink_case", "source", source.id, {"case": case.number}, None)
    return source


def case_by_number(user: User, number: str) -> Case:
    """A case the user may see, by its number (for linking from the source page)."""
    case = db.session.scalar(select(Case).where(Case.number == number.strip(), case_scope(user)))
    if case is None:
        raise NotFound(f"案件 {number.strip()} 不存在，或不在您的管辖范围内。")
    return case


# ----------------------------------------------------------------------------- reading


def filtered_sources(user: User, **filters) -> Select:
    """The user's scoped SELECT of sources narrowed by the filters (None means no filter).

    ``stale_days``: not patrolled for that many days, never-patrolled sources included;
    ``never_patrolled``: no check-in at all yet.
    """
    query = select(Source).where(source_scope(user))
    for name in ("town_id", "grid_id", "kind", "sector"):
        if filters.get(name) is not None:
            query = query.where(getattr(Source, name) == filters[name])
    if filters.get("key_only"):
        query = query.where(Source.is_key.is_(True))
    if filters.get("active") is not None:
        query = query.where(Source.active.is_(filters["active"]))
    if filters.get("q"):
        text = filters["q"].strip()
        query = query.where(or_(*(column.icontains(text, autoescape=True) for column in
                                  (Source.name, Source.address, Source.permit_number, Source.code))))
    if filters.get("stale_days") is not None:
        since = clock.now() - timedelta(days=filters["stale_days"])
        query = query.where(or_(Source.last_patrol_at.is_(None), Source.last_patrol_at < since))
    if filters.get("never_patrolled"):
        query = query.where(Source.last_patrol_at.is_(None))
    if filters.get("case_id") is not None:
        linked = exists().where(source_cases.c.source_id == Source.id, source_cases.c.case_id == filters["case_id"])
        query = query.where(linked)
    return query


def list_sources(user: User, page: int = 1, per_page: int = 50, **filters) -> dict:
    """A page of the user's sources, by code, with the total for paging."""
    return page_of(filtered_sources(user, **filters), page, per_page, order_by=(Source.code,),
                   options=(selectinload(Source.grid), selectinload(Source.town),
                            selectinload(Source.cases).load_only(Case.id)))


def source_history(user: User, source: Source) -> SourceHistory:
    """A source's check-ins (newest first, at most HISTORY_LIMIT) and the linked cases the user may see."""
    checkins = db.session.scalars(
        select(PatrolCheckin).where(PatrolCheckin.source_id == source.id)
        .options(selectinload(PatrolCheckin.inspector), selectinload(PatrolCheckin.case))
        .order_by(PatrolCheckin.captured_at.desc()).limit(HISTORY_LIMIT)
    ).all()
    cases = db.session.scalars(
        select(Case).join(source_cases, source_cases.c.case_id == Case.id)
        .where(source_cases.c.source_id == source.id, case_scope(user))
        .order_by(Case.received_at.desc())
    ).all()
    return SourceHistory(list(checkins), list(cases))


def source_geojson(user: User, limit: int = 5000, **filters) -> dict:
    """The filtered sources as a GeoJSON FeatureCollection for the map (at most ``limit``)."""
    rows = db.session.scalars(filtered_sources(user, **filters).order_by(Source.code).limit(limit + 1)).all()
    features = [_feature(source) for source in rows[:limit]]
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > limit}


def _feature(source: Source) -> dict:
    """One source as a GeoJSON point feature."""
    point = to_shape(source.location)
    return {
        "type": "Feature", "id": source.id,
        "geometry": {"type": "Point", "coordinates": [round(point.x, 7), round(point.y, 7)]},
        "properties": {
            "id": source.id, "code": source.code, "name": source.name, "kind": source.kind,
            "kind_label": SourceKind(source.kind).label, "sector": source.sector, "is_key": source.is_key,
            "active": source.active, "grid_id": source.grid_id,
            "last_patrol_at": source.last_patrol_at.isoformat() if source.last_patrol_at else None,
        },
    }
