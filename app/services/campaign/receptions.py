"""Reception events (接访): recording them, and the weekly check that every town and each
listed department held at least ``reception_min_per_week`` (settings; default 1, departments
``reception_department_codes`` default ["env"], the environment bureau)."""

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, Department, Grid, Reception, User
from app.models.vocab import ReceptionKind, Role
from app.services import clock
from app.services.access import require
from app.services.clock import beijing_date, day_start
from app.services.settings import get_setting


def record_reception(actor: User, kind: str, held_at: datetime, place: str, receivers: str,
                     town_id: int | None = None, department_id: int | None = None, case_ids: list[int] = (),
                     note: str = "") -> Reception:
    """Record a reception; a supervisor records their own town's."""
    require(actor, "record_receptions")
    if kind not in ReceptionKind.labels():
        raise InvalidInput("接访类型不正确。", {"kind": ["不正确"]})
    if actor.role == Role.SUPERVISOR:
        town_id, department_id = actor.grid_id, None
    elif actor.role == Role.DEPARTMENT_OFFICER:
        town_id, department_id = None, actor.department_id
    if (town_id is None) == (department_id is None):
        raise InvalidInput("请选择举办接访的镇（街道）或部门（二者选一）。", {"town_id": ["须选一"]})
    if town_id is not None and (db.session.get(Grid, town_id) is None or db.session.get(Grid, town_id).level != 2):
        raise InvalidInput("镇（街道）不存在。", {"town_id": ["不存在"]})
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise InvalidInput("部门不存在。", {"department_id": ["不存在"]})
    if not place.strip() or not receivers.strip():
        raise InvalidInput("请填写接访地点和接访人。", {"place": ["必填"], "receivers": ["必填"]})
    cases = list(db.session.scalars(select(Case).where(Case.id.in_(list(case_ids))))) if case_ids else []
    if len(cases) != len(set(case_ids)):
        raise InvalidInput("所列案件不存在。", {"case_ids": ["不存在"]})
    reception = Reception(kind=kind, held_at=held_at, place=place.strip(), receivers=receivers.strip(),
                          town_id=town_id, department_id=department_id, note=note, cases=cases,
                          recorded_by_id=actor.id, recorded_at=clock.now())
    db.session.add(reception)
    db.session.flush()
    return reception


def receptions_between(start: datetime, end: datetime) -> list[Reception]:
    """Receptions held in [start, end), newest first, each with its cases (read for all at once)."""
    query = (select(Reception).where(Reception.held_at >= start, Reception.held_at < end)
             .options(selectinload(Reception.cases)))
    return list(db.session.scalars(query.order_by(Reception.held_at.desc(), Reception.id.desc())))


def _weeks(start: datetime, end: datetime) -> list[date]:
    """The Mondays (Beijing) of every whole or part week in [start, end)."""
    first = beijing_date(start)
    monday = first - timedelta(days=first.weekday())
    last = beijing_date(end - timedelta(microseconds=1))
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


# What a week's check says (``state``): enough held; a week that is over without enough; the
# current week, not enough yet; a week still to come (a period may run past today).
WEEK_STATES = {"met": "达标", "missed": "未开展", "in_progress": "本周进行中", "upcoming": "未到"}


def weekly_check(start: datetime, end: datetime) -> list[dict]:
    """For each week and each town or listed department: receptions held, whether enough
    (``ok``), and the week's ``state`` (``WEEK_STATES``): only a week that is over can be missed."""
    minimum = int(get_setting("reception_min_per_week"))
    codes = list(get_setting("reception_department_codes"))
    towns = db.session.scalars(select(Grid).where(Grid.level == 2).order_by(Grid.code))
    hosts = [("town", g.id, g.name) for g in towns]
    hosts += [("department", d.id, d.name) for d in db.session.scalars(
        select(Department).where(Department.code.in_(codes)).order_by(Department.code))]
    weeks = _weeks(start, end)
    held: dict[tuple, int] = {}
    since = day_start(weeks[0]) if weeks else start
    rows = db.session.execute(select(Reception.held_at, Reception.town_id, Reception.department_id)
                              .where(Reception.held_at >= since, Reception.held_at < end))
    for held_at, town_id, department_id in rows:
        day = beijing_date(held_at)
        key = (day - timedelta(days=day.weekday()), "town" if town_id else "department", town_id or department_id)
        held[key] = held.get(key, 0) + 1
    now = clock.now()

    def state(week: date, count: int) -> str:
        if count >= minimum:
            return "met"
        if day_start(week) > now:
            return "upcoming"
        return "in_progress" if day_start(week + timedelta(days=7)) > now else "missed"

    rows = []
    for w in weeks:
        for kind, host_id, name in hosts:
            count = held.get((w, kind, host_id), 0)
            rows.append({"week_of": w, "host_kind": kind, "host_id": host_id, "host_name": name,
                         "held": count, "ok": count >= minimum, "state": state(w, count)})
    return rows
