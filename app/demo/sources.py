"""The demo city's source register (监管对象台账) and the campaign's grid patrols (网格巡查).

``seed_sources`` runs after the demo city's grids, users and cases exist (``seed``) and reads
them from the database, so it needs nothing but a random generator:

- 5-8 sources per village, placed at random inside the village polygon, of kinds a county
  has (restaurants and factories most, wharves fewest) with the sector that kind belongs to;
  about 15 % key sources (more among factories and farms); factories carry a discharge permit
  number shaped like the national one (18-character credit code + serial + "P"); codes follow
  ``services.sources`` (``JG<town code>-<serial>``).
- About 10 % of sources are linked to a case of the same village and sector.
- The last ``PATROL_DAYS`` days of patrols (the campaign's 100 days), at two grid levels: every
  source is visited as the patrol rules in force ask of each level (``patrol_rules``; by
  default level 3 every 2 days, level 2 key sources twice a week and the others every two
  weeks), by one of its village's two inspectors (level 3) or its town's supervisor (level 2).
  A grid's visits of one day make one patrol that sets out between 08:00 and 10:00 Beijing
  time. Most grids keep to the rule; about one in ten is often late, so the compliance pages
  and the wall have laggards to show. Check-ins lie within a few metres of the source, about
  5 % outside the check-in radius, and about 1 % find a problem, linked to a case of the
  source's village when there is one. Each patrol's track is the line through its check-ins
  with GPS-like jitter. ``Source.last_patrol_at`` is the latest check-in.

Rows go in with the demo city's bulk writer (executemany on SQLite, COPY on PostgreSQL).
"""

import hashlib
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import insert, select

from app.demo import bulk_load
from app.demo.people import full_names, mobile_numbers
from app.extensions import db
from app.models import Case, Grid, Patrol, PatrolCheckin, Source, User, source_cases
from app.models.types import SRID
from app.models.vocab import CheckinOutcome, CoordSystem, LocationSource, Role, SourceClass, SourceKind
from app.services.clock import beijing_date, day_start
from app.services.geo.spatial import EARTH_RADIUS_M
from app.services.patrols import rules as patrol_rules
from app.services.patrols.sources import SECTOR_OF_KIND
from app.services.settings import get_setting

PER_VILLAGE = (5, 8)
PATROL_DAYS = 100
# The share of visits a grid makes on time; about LAX_SHARE of grids make only LAX_ON_TIME of them.
ON_TIME = 0.97
LAX_SHARE = 0.10
LAX_ON_TIME = (0.55, 0.8)
# Only cases of the last months are linked to sources (a million-case city stays quick).
CASES_BACK_DAYS = 180
# The register was compiled this long before the seed's "now".
REGISTERED_DAYS_AGO = 365
KIND_WEIGHTS = {
    SourceKind.RESTAURANT: 0.22, SourceKind.FACTORY: 0.20, SourceKind.LIVESTOCK_FARM: 0.14,
    SourceKind.WORKSHOP: 0.12, SourceKind.CONSTRUCTION_SITE: 0.10, SourceKind.AQUACULTURE_FARM: 0.08,
    SourceKind.OTHER: 0.08, SourceKind.WHARF: 0.06,
}
KEY_SHARE = {SourceKind.FACTORY: 0.30, SourceKind.LIVESTOCK_FARM: 0.20, SourceKind.WHARF: 0.20,
             SourceKind.CONSTRUCTION_SITE: 0.15, SourceKind.AQUACULTURE_FARM: 0.10}
KEY_SHARE_OTHERS = 0.05
LINKED_SHARE = 0.10
OUTSIDE_RADIUS_SHARE = 0.05
PROBLEM_SHARE = 0.01
METRES_PER_DEGREE = 111_320.0
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V

BRANDS = ("鑫达", "恒丰", "宏远", "华泰", "金源", "永盛", "瑞丰", "天成", "海润", "兴隆", "明珠", "新光", "东升",
          "正大")
PRODUCTS = ("化工", "建材", "纺织", "印染", "塑料制品", "金属制品", "木业", "食品", "电镀", "砖瓦", "饲料", "包装")
ANIMALS = ("生猪", "蛋鸡", "肉鸭", "肉鸡", "奶牛", "肉羊")
WATER_ANIMALS = ("水产", "河蟹", "鱼虾", "小龙虾")
DISHES = ("餐馆", "饭店", "烧烤", "大排档", "面馆", "火锅店", "农家乐")
PROJECTS = ("安置房二期", "道路改造工程", "厂房扩建", "小学新校区", "污水管网工程", "商住楼")
RIVERS = ("通扬河", "如泰河", "串场河", "丁堡河", "新通扬运河")
CARGO = ("砂石", "建材", "粮食", "煤炭")
CRAFTS = ("木器加工", "豆制品", "废旧塑料", "铝制品", "石材加工", "酱菜")
OTHERS = ("垃圾中转站", "汽修厂", "洗车场", "加油站", "废品收购站")


@dataclass
class Village:
    """A level-3 grid as the seed needs it: where, what it is called, who patrols it, its cases."""

    id: int
    town_id: int
    town_code: str
    town_name: str
    name: str
    shape: shapely.Geometry
    inspector_ids: list[int] = field(default_factory=list)
    cases: list[tuple[int, str, datetime]] = field(default_factory=list)  # (id, sector, received_at)


@dataclass
class SourceSeedSummary:
    """What ``seed_sources`` created."""

    sources: int
    patrols: int
    checkins: int
    case_links: int


def seed_sources(rng: np.random.Generator, now: datetime, patrol_days: int = PATROL_DAYS) -> SourceSeedSummary:
    """Fill the register for every village and its last ``patrol_days`` of patrols up to ``now``
    (flushed, not committed)."""
    villages = _villages(now - timedelta(days=CASES_BACK_DAYS))
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    sources = _draw_sources(rng, villages)
    first_id = bulk_load.next_id(Source)
    for offset, row in enumerate(sources):
        row["id"] = first_id + offset
    patrols, checkins = _draw_patrols(rng, villages, sources, now, sqlite, patrol_days)
    links = _draw_links(rng, villages, sources, checkins)
    _insert_sources(sources, sqlite, now)
    _insert_patrols(patrols, checkins, sqlite)
    if links:
        db.session.execute(insert(source_cases), [{"source_id": s, "case_id": c} for s, c in sorted(links)])
    return SourceSeedSummary(len(sources), len(patrols), len(checkins), len(links))


# ---------------------------------------------------------------- reading the city


def _villages(cases_since: datetime) -> list[Village]:
    """Every village with its town, inspectors and recent cases, in code order."""
    towns = {g.id: g for g in db.session.scalars(select(Grid).where(Grid.level == 2))}
    villages = {}
    for grid in db.session.scalars(select(Grid).where(Grid.level == 3).order_by(Grid.code)):
        town = towns.get(grid.parent_id)
        villages[grid.id] = Village(grid.id, grid.parent_id, town.code if town else "C", town.name if town else "",
                                    grid.name, to_shape(grid.geom))
    inspectors = select(User.id, User.grid_id).where(User.role == Role.INSPECTOR, User.active).order_by(User.id)
    for user_id, grid_id in db.session.execute(inspectors):
        if grid_id in villages:
            villages[grid_id].inspector_ids.append(user_id)
    cases = select(Case.id, Case.grid_id, Case.sector, Case.received_at).where(
        Case.grid_id.isnot(None), Case.received_at >= cases_since)
    for case_id, grid_id, sector, received_at in db.session.execute(cases.order_by(Case.id)):
        if grid_id in villages:
            villages[grid_id].cases.append((case_id, sector, received_at))
    return list(villages.values())


# ---------------------------------------------------------------- the register


def _draw_sources(rng: np.random.Generator, villages: list[Village]) -> list[dict]:
    """Rows for the sources of every village (without ids)."""
    kinds = list(KIND_WEIGHTS)
    weights = np.array(list(KIND_WEIGHTS.values()))
    counts = rng.integers(PER_VILLAGE[0], PER_VILLAGE[1] + 1, len(villages))
    total = int(counts.sum())
    names, phones = full_names(rng, total), mobile_numbers(rng, total)
    serials: dict[str, int] = {}
    rows = []
    for village, count in zip(villages, counts.tolist(), strict=True):
        points = _points_in(rng, village.shape, count)
        picks = rng.choice(len(kinds), size=count, p=weights / weights.sum()).tolist()
        for (lon, lat), k in zip(points.tolist(), picks, strict=True):
            kind = kinds[k]
            serials[village.town_code] = serials.get(village.town_code, 0) + 1
            index = len(rows)
            rows.append({
                "code": f"JG{village.town_code}-{serials[village.town_code]:04d}",
                "name": _name(rng, kind, village, names[index]), "kind": kind.value,
                "sector": SECTOR_OF_KIND[kind].value, "address": _address(rng, village),
                "lon": float(lon), "lat": float(lat), "grid_id": village.id, "town_id": village.town_id,
                "is_key": bool(rng.random() < KEY_SHARE.get(kind, KEY_SHARE_OTHERS)),
                "permit_number": _permit_number(rng) if kind == SourceKind.FACTORY else None,
                "responsible_name": names[index], "responsible_phone": phones[index],
            })
    return rows


def _points_in(rng: np.random.Generator, shape, count: int) -> np.ndarray:
    """``count`` uniform random points strictly inside a polygon (rejection sampling)."""
    minx, miny, maxx, maxy = shape.bounds
    inner = shape.buffer(-0.0003) if shape.buffer(-0.0003).area > 0.25 * shape.area else shape
    found = np.empty((0, 2))
    while len(found) < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * count + 8, 2))
        found = np.vstack([found, xy[shapely.contains_xy(inner, xy[:, 0], xy[:, 1])]])
    return found[:count]


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """One of the options."""
    return options[int(rng.integers(len(options)))]


def _name(rng: np.random.Generator, kind: SourceKind, village: Village, person: str) -> str:
    """A plausible name for a source of this kind in this village."""
    town, place = village.town_name, village.name
    surname = person[0]
    names = {
        SourceKind.FACTORY: lambda: f"{town.removesuffix('镇').removesuffix('街道')}{_pick(rng, BRANDS)}"
                                    f"{_pick(rng, PRODUCTS)}有限公司",
        SourceKind.LIVESTOCK_FARM: lambda: f"{town}{place}{_pick(rng, ANIMALS)}养殖场",
        SourceKind.AQUACULTURE_FARM: lambda: f"{town}{place}{_pick(rng, WATER_ANIMALS)}养殖场",
        SourceKind.RESTAURANT: lambda: f"{surname}记{_pick(rng, DISHES)}",
        SourceKind.CONSTRUCTION_SITE: lambda: f"{place}{_pick(rng, PROJECTS)}工地",
        SourceKind.WHARF: lambda: f"{_pick(rng, RIVERS)}{place}{_pick(rng, CARGO)}码头",
        SourceKind.WORKSHOP: lambda: f"{surname}家{_pick(rng, CRAFTS)}作坊",
        SourceKind.OTHER: lambda: f"{place}{_pick(rng, OTHERS)}",
    }
    return names[kind]()


def _address(rng: np.random.Generator, village: Village) -> str:
    """A rural address: town, village, group (组) and house number."""
    return f"{village.town_name}{village.name}{int(rng.integers(1, 13))}组{int(rng.integers(1, 80))}号"


def _permit_number(rng: np.random.Generator) -> str:
    """A permit number shaped like the national one: 18-character credit code, serial, "P"."""
    body = "".join(CREDIT_CODE_CHARS[i] for i in rng.integers(0, len(CREDIT_CODE_CHARS), 10).tolist())
    return f"913206{int(rng.integers(81, 86))}{body}001P"


# ---------------------------------------------------------------- patrols


@dataclass
class PlannedPatrol:
    """One patrol before its check-ins are drawn: who, for which grid and level, when, and which
    sources in turn."""

    grid_id: int
    level: int
    inspector_id: int
    start: datetime
    visits: list[dict]


def _draw_patrols(rng: np.random.Generator, villages: list[Village], sources: list[dict], now: datetime,
                  sqlite: bool, days: int) -> tuple[list[dict], list[dict]]:
    """Patrols and check-ins of levels 3 and 2 for the last ``days`` days; sets ``last_patrol_at``
    on the sources."""
    staff = _patrol_staff(villages)
    plan = [*_plan_patrols(rng, 3, staff[3], sources, now, days), *_plan_patrols(rng, 2, staff[2], sources, now, days)]
    checkins = _draw_checkins(rng, plan, {v.id: v for v in villages}, float(get_setting("patrol_radius_m")), sqlite)
    patrols = _draw_tracks(rng, plan, checkins)
    for checkin in checkins:
        source = checkin["source"]
        if source.get("last_patrol_at") is None or checkin["captured_at"] > source["last_patrol_at"]:
            source["last_patrol_at"] = checkin["captured_at"]
    return patrols, checkins


def _patrol_staff(villages: list[Village]) -> dict[int, dict[int, list[int]]]:
    """Who patrols each grid, per level: a village's inspectors (3), a town's supervisors (2)."""
    towns: dict[int, list[int]] = {}
    supervisors = select(User.id, User.grid_id).where(User.role == Role.SUPERVISOR, User.active).order_by(User.id)
    for user_id, grid_id in db.session.execute(supervisors):
        towns.setdefault(grid_id, []).append(user_id)
    return {3: {v.id: v.inspector_ids for v in villages if v.inspector_ids}, 2: towns}


def _plan_patrols(rng: np.random.Generator, level: int, staff: dict[int, list[int]], sources: list[dict],
                  now: datetime, days_back: int) -> list[PlannedPatrol]:
    """One level's patrols: each source visited as that level's rule in force asks (its key or
    ordinary class, ``_visit_days``), the visits of a grid on one day making one patrol by one
    of its staff, who sets out between 08:00 and 10:00 Beijing time.

    Most grids keep to the rule (``ON_TIME``); about ``LAX_SHARE`` of them are often late, so
    the compliance pages and the wall's patrol layer have laggards to show."""
    in_force = patrol_rules.rules()[level]
    grid_of = "grid_id" if level == 3 else "town_id"
    by_grid: dict[int, list[dict]] = {}
    for source in sources:
        if source[grid_of] in staff:
            by_grid.setdefault(source[grid_of], []).append(source)
    # Days ago are Beijing days: the compliance pages judge duty by the Beijing date, and between
    # 00:00 and 08:00 Beijing time the UTC date is still the day before.
    midnight = day_start(beijing_date(now))
    plan = []
    for grid_id, own in sorted(by_grid.items()):
        on_time = float(rng.uniform(*LAX_ON_TIME)) if rng.random() < LAX_SHARE else ON_TIME
        days: dict[int, list[dict]] = {}
        for source in own:
            rule = in_force[SourceClass.KEY if source["is_key"] else SourceClass.ORDINARY]
            for day in _visit_days(rng, rule, on_time, days_back) if rule else ():
                days.setdefault(day, []).append(source)
        people = staff[grid_id]
        for day, visits in sorted(days.items(), reverse=True):
            order = rng.permutation(len(visits)).tolist()
            plan.append(PlannedPatrol(grid_id, level, people[int(rng.integers(len(people)))],
                                      midnight - timedelta(days=day) + timedelta(hours=float(rng.uniform(8, 10))),
                                      [visits[i] for i in order]))
    return plan


def _visit_days(rng: np.random.Generator, rule: patrol_rules.PatrolRule, on_time: float, days_back: int) -> list[int]:
    """The days (as days ago, from ``days_back`` down to 1) a source is visited under a rule.

    On time, the gap to the next visit is at most the rule's period over its times ("twice a
    week": 3 days), so any ``times`` gaps in a row fit in the period and no due date passes;
    with the probability ``1 - on_time`` it is one to three days longer."""
    spacing = max(1, rule.period_days // rule.times)
    shortest = max(1, math.ceil(spacing * 0.75))
    day, visits = days_back + 1 - int(rng.integers(1, spacing + 1)), []
    while day >= 1:
        visits.append(day)
        late = rng.random() >= on_time
        day -= spacing + int(rng.integers(1, 4)) if late else int(rng.integers(shortest, spacing + 1))
    return visits


def _draw_checkins(rng: np.random.Generator, plan: list[PlannedPatrol], villages: dict[int, Village], radius: float,
                   sqlite: bool) -> list[dict]:
    """A check-in at every planned visit, drawn for all at once: 8-30 minutes apart, a few
    metres from the source (about 5 % beyond the radius), about 3 % finding a problem."""
    sizes = np.array([len(p.visits) for p in plan])
    visits = [(p, source) for p in plan for source in p.visits]
    count = len(visits)
    gaps = rng.uniform(8, 30, count)
    firsts = np.cumsum(sizes) - sizes
    minutes = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[firsts] - gaps[firsts], sizes)
    starts = np.array([p.start.replace(tzinfo=None) for p in plan], dtype="datetime64[us]")
    moments = np.repeat(starts, sizes) + (minutes * 60e6).astype("timedelta64[us]")
    captured, stored = bulk_load.python_values(moments), bulk_load.stored_values(moments, sqlite)
    outside = rng.random(count) < OUTSIDE_RADIUS_SHARE
    metres = np.where(outside, rng.uniform(1.3, 4, count) * radius, np.abs(rng.normal(0, radius / 5, count)))
    angle = rng.uniform(0, 2 * np.pi, count)
    source_lon = np.array([source["lon"] for _, source in visits])
    source_lat = np.array([source["lat"] for _, source in visits])
    lon = (source_lon + metres * np.cos(angle) / (METRES_PER_DEGREE * np.cos(np.radians(source_lat)))).tolist()
    lat = (source_lat + metres * np.sin(angle) / METRES_PER_DEGREE).tolist()
    away = _haversine(np.array(lon), np.array(lat), source_lon, source_lat).round(1).tolist()
    problem = (rng.random(count) < PROBLEM_SHARE).tolist()
    accuracy = rng.uniform(3, 25, count).round(1).tolist()
    ids = _uuids(rng, count)
    rows = []
    for k, (patrol, source) in enumerate(visits):
        case = _case_for(rng, villages[source["grid_id"]], captured[k]) if problem[k] else None
        rows.append({
            "id": ids[k], "patrol": patrol, "source": source, "inspector_id": patrol.inspector_id,
            "grid_id": patrol.grid_id, "level": patrol.level,
            "outcome": (CheckinOutcome.PROBLEM_FOUND if problem[k] else CheckinOutcome.NOTHING_FOUND).value,
            "lon": lon[k], "lat": lat[k], "accuracy_m": accuracy[k], "distance_m": away[k], "radius_m": radius,
            "outside_radius": away[k] > radius, "case_id": case, "notes": "发现异常，已登记" if problem[k] else "",
            "captured_at": captured[k], "stored_at": stored[k],
        })
    return rows


def _uuids(rng: np.random.Generator, count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs from the seed, so the same seed gives the same ids."""
    raw = rng.bytes(16 * count)
    return [uuid.UUID(bytes=raw[16 * k:16 * k + 16], version=4) for k in range(count)]


def _haversine(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres, vectorised (the formula of services.spatial.distance_m)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def _case_for(rng: np.random.Generator, village: Village, moment: datetime) -> int | None:
    """A case of the village received before the moment, for a problem found on patrol."""
    earlier = [case_id for case_id, _, received in village.cases if received <= moment]
    return earlier[int(rng.integers(len(earlier)))] if earlier else None


def _draw_tracks(rng: np.random.Generator, plan: list[PlannedPatrol], checkins: list[dict]) -> list[dict]:
    """Each patrol's row and track: from a little way off, through each check-in, with GPS
    jitter on every point, ending 5-20 minutes after the last check-in; its length is the track's."""
    by_patrol: dict[int, list[dict]] = {}
    for checkin in checkins:
        by_patrol.setdefault(id(checkin["patrol"]), []).append(checkin)
    tails = rng.uniform(5, 20, len(plan)).tolist()
    anchors = []  # (lon, lat, moment) of every patrol's points, one patrol after another
    for patrol, tail in zip(plan, tails, strict=True):
        visits = by_patrol[id(patrol)]
        anchors.append((visits[0]["lon"] + 0.002, visits[0]["lat"] - 0.001, patrol.start))
        anchors += [(v["lon"], v["lat"], v["captured_at"]) for v in visits]
        anchors.append((visits[-1]["lon"], visits[-1]["lat"], visits[-1]["captured_at"] + timedelta(minutes=tail)))
    jitter = rng.normal(0, 0.00005, (len(anchors), 2))
    lon = np.round(np.array([a[0] for a in anchors]) + jitter[:, 0], 7)
    lat = np.round(np.array([a[1] for a in anchors]) + jitter[:, 1], 7)
    accuracy = rng.uniform(4, 20, len(anchors)).round(1).tolist()
    ids = _uuids(rng, len(plan))
    # Track lengths: the running sum of every step, read at each patrol's first and last point.
    run = np.concatenate(([0.0], np.cumsum(_haversine(lon[:-1], lat[:-1], lon[1:], lat[1:]))))
    points = [{"at": moment.isoformat(), "lon": x, "lat": y, "accuracy_m": a}
              for (_, _, moment), x, y, a in zip(anchors, lon.tolist(), lat.tolist(), accuracy, strict=True)]
    patrols, first = [], 0
    for patrol, patrol_id in zip(plan, ids, strict=True):
        visits = by_patrol[id(patrol)]
        last = first + len(visits) + 1
        for visit in visits:
            visit["patrol_id"] = patrol_id
        patrols.append({"id": patrol_id, "inspector_id": patrol.inspector_id, "grid_id": patrol.grid_id,
                        "level": patrol.level, "started_at": patrol.start, "ended_at": anchors[last][2],
                        "track_points": points[first:last + 1], "distance_m": round(float(run[last] - run[first]), 1)})
        first = last + 1
    return patrols


def _draw_links(rng: np.random.Generator, villages: list[Village], sources: list[dict],
                checkins: list[dict]) -> set[tuple[int, int]]:
    """(source id, case id): ~10 % of sources to a same-village, same-sector case, and every
    problem found on patrol to its case."""
    cases_by_village = {v.id: v.cases for v in villages}
    links = set()
    for source in sources:
        if rng.random() >= LINKED_SHARE:
            continue
        matching = [c[0] for c in cases_by_village.get(source["grid_id"], []) if c[1] == source["sector"]]
        if matching:
            links.add((source["id"], matching[int(rng.integers(len(matching)))]))
    links |= {(c["source"]["id"], c["case_id"]) for c in checkins if c["case_id"] is not None}
    return links


# ---------------------------------------------------------------- writing


def _sha(*parts) -> str:
    """A content hash for a seeded record (each upload from the field app has one)."""
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()


def _insert_sources(rows: list[dict], sqlite: bool, now: datetime) -> None:
    """Bulk-insert the register, compiled a year before ``now`` (before its patrol history,
    so the due dates and compliance figures count from a registration in the past)."""
    registered = bulk_load.stored_time(now - timedelta(days=REGISTERED_DAYS_AGO), sqlite)
    columns = ("id", "code", "name", "kind", "sector", "address", "location", "coord_system", "input_lon",
               "input_lat", "grid_id", "town_id", "is_key", "permit_number", "responsible_name", "responsible_phone",
               "notes", "active", "last_patrol_at", "created_at", "updated_at")
    values = [(r["id"], r["code"], r["name"], r["kind"], r["sector"], r["address"],
               f"SRID={SRID};POINT({r['lon']!r} {r['lat']!r})", CoordSystem.WGS84.value, r["lon"], r["lat"],
               r["grid_id"], r["town_id"], r["is_key"],
               r["permit_number"], r["responsible_name"], r["responsible_phone"], "", True,
               bulk_load.stored_time(r["last_patrol_at"], sqlite) if r.get("last_patrol_at") else None,
               registered, registered)
              for r in rows]
    with bulk_load.bulk_load(Source.__table__):
        bulk_load.bulk_insert(Source.__table__, columns, values)
    bulk_load.advance_sequence(Source.__table__)


def _linestring(points: list[dict]) -> str:
    """A track as EWKT text."""
    coordinates = ", ".join(f"{point['lon']!r} {point['lat']!r}" for point in points)
    return f"SRID={SRID};LINESTRING({coordinates})"


def _insert_patrols(patrols: list[dict], checkins: list[dict], sqlite: bool) -> None:
    """Bulk-insert patrols (with their tracks) and check-ins."""
    when, stored = partial(bulk_load.stored_time, sqlite=sqlite), bulk_load.stored_uuid
    patrol_columns = ("id", "inspector_id", "grid_id", "level", "started_at", "ended_at", "track", "track_points",
                      "distance_m", "notes", "content_sha256", "received_at")
    patrol_rows = [
        (stored(p["id"], sqlite), p["inspector_id"], p["grid_id"], p["level"], when(p["started_at"]),
         when(p["ended_at"]), _linestring(p["track_points"]),
         json.dumps(p["track_points"]), p["distance_m"], "",
         _sha(p["id"], p["started_at"], p["ended_at"], len(p["track_points"])),
         when(p["ended_at"]))
        for p in patrols
    ]
    with bulk_load.bulk_load(Patrol.__table__):
        bulk_load.bulk_insert(Patrol.__table__, patrol_columns, patrol_rows)
    checkin_columns = ("id", "patrol_id", "source_id", "inspector_id", "grid_id", "level", "outcome", "location",
                       "accuracy_m", "location_source", "mock_location", "distance_m", "radius_m", "outside_radius",
                       "case_id", "notes", "content_sha256", "captured_at", "received_at")
    checkin_rows = [
        (stored(c["id"], sqlite), stored(c["patrol_id"], sqlite), c["source"]["id"], c["inspector_id"], c["grid_id"],
         c["level"], c["outcome"], f"SRID={SRID};POINT({c['lon']!r} {c['lat']!r})", c["accuracy_m"],
         LocationSource.GPS.value, False, c["distance_m"], c["radius_m"], c["outside_radius"], c["case_id"], c["notes"],
         _sha(c["id"], c["source"]["id"], c["outcome"], c["stored_at"], c["lon"], c["lat"]),
         c["stored_at"], c["stored_at"])
        for c in checkins
    ]
    with bulk_load.bulk_load(PatrolCheckin.__table__):
        bulk_load.bulk_insert(PatrolCheckin.__table__, checkin_columns, checkin_rows)
