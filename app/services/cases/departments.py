"""The city's departments and the default routing of sectors to them (DOMAIN.md item 9)."""

from sqlalchemy import select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Department, SectorRoute
from app.models.vocab import Sector

# (code, name, duty). Codes are stable identifiers; names are what people read.
DEFAULT_DEPARTMENTS = [
    ("env", "市生态环境局", "工业企业类环境信访调处；执法查处"),
    ("urban", "市城市管理局", "三产服务业类（餐饮、商铺、娱乐）及建筑施工类环境信访调处"),
    ("agri", "市农业农村局", "畜禽、水产等农业生产类环境信访调处"),
    ("transport", "市交通运输局", "道路、航道类环境信访调处"),
    ("port", "市港口管理局", "沿河码头类环境信访调处"),
    ("ndrc", "市发展和改革委员会", "落后产能淘汰"),
    ("police", "市公安局", "涉嫌环境违法犯罪行为提前介入、及时调查"),
]

# Sector → department code. Construction noise and dust go to urban management, which
# holds that duty in most county-level cities; an admin can change any row.
DEFAULT_ROUTES = {
    Sector.INDUSTRIAL: "env",
    Sector.TERTIARY: "urban",
    Sector.LIVESTOCK: "agri",
    Sector.ROAD_WATERWAY: "transport",
    Sector.RIVERSIDE_WHARF: "port",
    Sector.OUTDATED_CAPACITY: "ndrc",
    Sector.CONSTRUCTION: "urban",
    Sector.OTHER: "env",
}


def ensure_default_departments() -> dict[str, Department]:
    """Create any missing default department and route; never overwrite an edited one."""
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    for code, name, duty in DEFAULT_DEPARTMENTS:
        if code not in departments:
            departments[code] = Department(code=code, name=name, duty=duty)
            db.session.add(departments[code])
    routed = set(db.session.scalars(select(SectorRoute.sector)))
    for sector, code in DEFAULT_ROUTES.items():
        if sector not in routed:
            db.session.add(SectorRoute(sector=sector, department=departments[code]))
    db.session.flush()
    return departments


def department_for_sector(sector: str) -> Department | None:
    """The department a sector's cases go to by default."""
    route = db.session.get(SectorRoute, sector)
    return route.department if route else None


def routing_table() -> list[SectorRoute]:
    """Every sector with the department its cases go to by default."""
    return list(db.session.scalars(select(SectorRoute).order_by(SectorRoute.sector)))


def set_route(sector: str, department_id: int) -> SectorRoute:
    """Route a sector's new cases to another department (cases already routed stay)."""
    if sector not in Sector.labels():
        raise NotFound("没有这个行业。")
    department = db.session.get(Department, department_id)
    if department is None:
        raise InvalidInput("承办部门不存在。", {"department_id": ["不存在"]})
    route = db.session.get(SectorRoute, sector) or SectorRoute(sector=sector)
    route.department = department
    db.session.add(route)
    db.session.flush()
    return route
