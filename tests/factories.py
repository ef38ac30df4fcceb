"""Builders for test data: a tiny city of square grids, users of every role, and cases."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box, mapping
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Case, Department, Grid, User
from app.models.vocab import CaseStatus, Category, Channel, Role, Sector
from app.services.cases.deadlines import ensure_default_rules
from app.services.cases.departments import ensure_default_departments
from app.services.cases.numbering import next_case_number
from app.services.cases.timeline import append_event
from app.services.cases.workcalendar import ensure_default_calendar
from app.services.geo.grid_import import import_grids
from app.services.geo.grid_locator import locate_point

PASSWORD = "test-password-1"
# A cheap hash keeps hundreds of test logins fast; production hashes use Werkzeug's default.
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_serial = count(1)

# Village squares: town T1 = V11 + V12 (west), town T2 = V21 + V22 (east).
WEST, EAST, SOUTH, NORTH = 120.50, 120.54, 32.30, 32.32
VILLAGE_BOXES = {
    "V11": (120.50, SOUTH, 120.51, NORTH),
    "V12": (120.51, SOUTH, 120.52, NORTH),
    "V21": (120.52, SOUTH, 120.53, NORTH),
    "V22": (120.53, SOUTH, 120.54, NORTH),
}


def grid_feature(code: str, name: str, level: int, parent: str | None, bounds) -> dict:
    """A GeoJSON Feature for a rectangular grid."""
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": mapping(box(*bounds)),
    }


def tiny_city_features() -> list[dict]:
    """The tiny city's grids as GeoJSON features."""
    return [
        grid_feature("C", "测试市", 1, None, (WEST, SOUTH, EAST, NORTH)),
        grid_feature("T1", "西镇", 2, "C", (120.50, SOUTH, 120.52, NORTH)),
        grid_feature("T2", "东镇", 2, "C", (120.52, SOUTH, 120.54, NORTH)),
        *[
            grid_feature(code, f"{code}村", 3, f"T{code[1]}", bounds)
            for code, bounds in VILLAGE_BOXES.items()
        ],
    ]


def make_user(username: str, role: Role, grid: Grid | None = None, department: Department | None = None) -> User:
    """A user with the shared test password."""
    user = User(
        username=username,
        password_hash=_PASSWORD_HASH,
        full_name=f"测试{username}",
        role=role,
        grid=grid,
        department=department,
        phone="0513-80000000",
        unit=department.name if department else (grid.name if grid else "市指挥部办公室"),
    )
    db.session.add(user)
    return user


def make_case(
    lon: float,
    lat: float,
    sector: Sector = Sector.INDUSTRIAL,
    status: CaseStatus = CaseStatus.ASSIGNED,
    **fields,
) -> Case:
    """A case at a point, with grid, town and department assigned as intake would."""
    hit = locate_point(lon, lat)
    now = datetime.now(UTC)
    departments = {d.code: d for d in db.session.query(Department)}
    defaults = dict(
        number=next_case_number(now.year),
        channel=Channel.PHONE_12369,
        category=Category.AIR,
        sector=sector,
        title=f"测试案件{next(_serial)}",
        description="夜间异味明显",
        location=from_shape(Point(lon, lat), srid=4326),
        address="测试路1号",
        grid_id=hit.grid_id if hit else None,
        town_id=hit.town_id if hit else None,
        outside_grid=hit is None,
        department=departments["env"] if sector == Sector.INDUSTRIAL else departments["urban"],
        petitioner_name="张三丰",
        petitioner_phone="13812345678",
        petitioner_id_number="320682199001011234",
        status=status,
        received_at=now - timedelta(days=1),
        due_at=now + timedelta(days=3),
    )
    defaults.update(fields)
    case = Case(**defaults)
    db.session.add(case)
    db.session.flush()
    append_event(case, "register", note="测试登记")
    return case


@dataclass
class TinyCity:
    """Handles on the tiny city's grids, users and cases."""

    grids: dict[str, Grid] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)


def build_tiny_city() -> TinyCity:
    """Grids, departments, a user of every role and one case per village."""
    city = TinyCity()
    ensure_default_departments()
    ensure_default_rules()
    ensure_default_calendar()
    import_grids(tiny_city_features())
    city.grids = {g.code: g for g in db.session.query(Grid)}
    env = db.session.query(Department).filter_by(code="env").one()
    urban = db.session.query(Department).filter_by(code="urban").one()
    for code in VILLAGE_BOXES:
        city.users[f"insp_{code}"] = make_user(f"insp_{code}", Role.INSPECTOR, city.grids[code])
    for code in ("T1", "T2"):
        city.users[f"sup_{code}"] = make_user(f"sup_{code}", Role.SUPERVISOR, city.grids[code])
    city.users["officer_env"] = make_user("officer_env", Role.DEPARTMENT_OFFICER, department=env)
    city.users["officer_urban"] = make_user("officer_urban", Role.DEPARTMENT_OFFICER, department=urban)
    city.users["leader"] = make_user("leader", Role.LEADING_OFFICIAL)
    city.users["command"] = make_user("command", Role.COMMAND_OFFICE, city.grids["C"])
    city.users["admin"] = make_user("admin", Role.ADMIN)
    db.session.flush()
    for code, (west, south, east, north) in VILLAGE_BOXES.items():
        centre = ((west + east) / 2, (south + north) / 2)
        sector = Sector.INDUSTRIAL if code.endswith("1") else Sector.TERTIARY
        city.cases[code] = make_case(*centre, sector=sector)
    city.cases["V11"].leading_official = city.users["leader"]
    db.session.commit()
    return city


# A made-up 2027 notice in the State Council's wording (the real one is entered by the city
# when it is published); its weekdays are 2027's own.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、春节、清明节、劳动节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天。2月20日（周六）上班。
三、清明节：4月3日（周六）－5日（周一）放假，共3天。
四、劳动节：4月30日（周五）至5月4日（周二）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。
"""
