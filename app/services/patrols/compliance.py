"""Patrol compliance (巡查考核): the patrol duty against what was done, per village grid,
town and person, for a period of Beijing dates [start_on, end_on] (both inclusive).

The duty and the due dates come from services.patrol_rules; nothing here re-decides them.

* A source has a duty at a level when that level's rule covers the source's class today; it
  counts among a row's sources when it was registered by the period's last judged day.
* required (per source) = ceil(days × times / period_days). ``days`` counts the period's
  days from the source's registration day and never past today: a period that runs to the
  end of the campaign is judged on the days that have happened.
* done (per source) = min(required, the distinct patrol days counted for the level inside
  the period); extra patrols on one source never make up for another.
* rate = done / required, none when nothing was required.
* overdue = sources whose state today is ``overdue``.

A village grid (三级网格) is judged on the level-3 duty of its active sources; a town adds up
its villages and is judged as well on its own level-2 duty over all its sources. Activity
(check-ins, check-ins flagged outside the radius, patrols, kilometres tracked, problems
found) counts what the staff of a grid recorded, by the grid stored on the check-in or
patrol; a town's activity includes its own staff's. Per person there is no "required",
since several people share a grid.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import case, false, func, select
from sqlalchemy.orm import selectinload

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Grid, Patrol, PatrolCheckin, Source, User
from app.models.vocab import CheckinOutcome, PatrolDueState, Role, SourceClass, SourceKind
from app.services import clock
from app.services.access import authorize_source, grid_scope, require, source_scope
from app.services.campaign.periods import period
from app.services.clock import beijing_date
from app.services.day_stats import day_of
from app.services.patrols import rounds, rules
from app.services.spreadsheets import PERCENT, Sheet, workbook

MAX_ID = 2**31 - 1  # row ids are 32-bit integers on every backend


@dataclass
class SourceDuty:
    """One source's duty at one level in the period, and what counted against it."""

    source: Source
    due: rules.DueState
    days: int
    required: int
    done_days: list[date]  # distinct patrol days in the period, newest first

    @property
    def done(self) -> int:
        """Patrols that count: never more than required."""
        return min(self.required, len(self.done_days))


@dataclass
class Activity:
    """What people recorded: check-ins, flagged ones, problems, patrols, distance, days out."""

    checkins: int = 0
    flagged: int = 0
    problems: int = 0
    patrols: int = 0
    distance_m: float = 0.0
    days: set[int] = field(default_factory=set)  # Beijing day numbers (services.day_stats)

    def as_dict(self) -> dict:
        """The figures for tables and the API (kilometres to two decimals)."""
        return {"checkins": self.checkins, "flagged": self.flagged, "problems": self.problems,
                "patrols": self.patrols, "km": round(self.distance_m / 1000, 2), "active_days": len(self.days)}


def period_dates(start_on: date | None, end_on: date | None) -> tuple[date, date]:
    """The period as Beijing dates, with services.periods' defaults (campaign, else 30 days)."""
    start, end = period(start_on, end_on)
    return beijing_date(start), beijing_date(end) - timedelta(days=1)


def required_patrols(rule: rules.PatrolRule | None, days: int) -> int:
    """ceil(days × times / period_days); none without a rule or without days."""
    if rule is None or days <= 0:
        return 0
    return -(-days * rule.times // rule.period_days)


def judged_days(source: Source, start_on: date, end_on: date, today: date) -> int:
    """The period's days from the source's registration day up to today."""
    first = max(start_on, beijing_date(source.created_at))
    last = min(end_on, today)
    return max(0, (last - first).days + 1)


def source_duties(sources: list[Source], level: int, start_on: date, end_on: date,
                  now: datetime) -> list[SourceDuty]:
    """Each source's duty at a level for the period, from the due engine's states and patrol days."""
    today = beijing_date(now)
    ids, window = [s.id for s in sources], rules.window_start(now)
    # One read of the patrol days serves the due states (from the look-back window) and the period.
    days_by_source = rules.patrol_days_by_source(ids, level, min(start_on, window))
    states = rules.due_states(sources, level, now, history=(
        rules.complained_source_ids(ids, now),
        {source_id: [d for d in days if d >= window] for source_id, days in days_by_source.items()}))
    duties = []
    for source in sources:
        due = states[source.id]
        days = judged_days(source, start_on, end_on, today)
        in_period = [d for d in days_by_source.get(source.id, []) if start_on <= d <= end_on]
        duties.append(SourceDuty(source, due, days, required_patrols(due.rule, days), in_period))
    return duties


def duty_figures(duties: Iterable[SourceDuty]) -> dict:
    """Sources with a duty, required, done, rate and overdue over some sources."""
    with_duty = [d for d in duties if d.due.rule is not None]
    required = sum(d.required for d in with_duty)
    done = sum(d.done for d in with_duty)
    return {"sources": sum(1 for d in with_duty if d.days > 0), "required": required, "done": done,
            "rate": round(done / required, 4) if required else None,
            "overdue": sum(1 for d in with_duty if d.due.state == PatrolDueState.OVERDUE)}


def _authorized_town(user: User, town_id: int | None) -> Grid | None:
    """The town asked for, if the user may see it (else NotFound)."""
    if town_id is None:
        return None
    town = db.session.scalar(select(Grid).where(Grid.id == town_id, Grid.level == 2, grid_scope(user, Grid.id)))
    if town is None:
        raise NotFound("镇（街道）不存在，或不在您的管辖范围内。")
    return town


def _visible_grids(user: User, level: int, town: Grid | None) -> list[Grid]:
    """The grids of one level the user may see, within a town when one is given."""
    query = select(Grid).where(Grid.level == level, grid_scope(user, Grid.id))
    if town is not None:
        query = query.where((Grid.id == town.id) | (Grid.parent_id == town.id))
    return list(db.session.scalars(query.order_by(Grid.code)))


def _active_sources(*conditions) -> list[Source]:
    """Active sources matching the conditions, by code."""
    return list(db.session.scalars(select(Source).where(Source.active, *conditions).order_by(Source.code)))


def _activity_rows(user: User, start_on: date, end_on: date, grid_ids: set[int] | None):
    """Check-ins and patrols in the period and the user's scope (within some grids if given),
    added up in SQL per person, recording grid and Beijing day (day numbers)."""
    start, end = period(start_on, end_on)
    checked = day_of(PatrolCheckin.captured_at)
    checkins = select(
        PatrolCheckin.inspector_id, PatrolCheckin.grid_id, checked, func.count(),
        func.sum(case((PatrolCheckin.outside_radius.is_(True), 1), else_=0)),
        func.sum(case((PatrolCheckin.outcome == CheckinOutcome.PROBLEM_FOUND, 1), else_=0)),
    ).where(grid_scope(user, PatrolCheckin.grid_id), PatrolCheckin.captured_at >= start,
            PatrolCheckin.captured_at < end).group_by(PatrolCheckin.inspector_id, PatrolCheckin.grid_id, checked)
    started = day_of(Patrol.started_at)
    patrols = select(Patrol.inspector_id, Patrol.grid_id, started, func.count(),
                     func.sum(func.coalesce(Patrol.distance_m, 0.0))).where(
        grid_scope(user, Patrol.grid_id), Patrol.started_at >= start, Patrol.started_at < end,
    ).group_by(Patrol.inspector_id, Patrol.grid_id, started)
    if grid_ids is not None:
        checkins = checkins.where(PatrolCheckin.grid_id.in_(grid_ids))
        patrols = patrols.where(Patrol.grid_id.in_(grid_ids))
    return db.session.execute(checkins).all(), db.session.execute(patrols).all()


def _tally(user: User, start_on: date, end_on: date, grid_ids: set[int] | None
           ) -> tuple[dict[int | None, Activity], dict[int, Activity]]:
    """Activity per recording grid and per person."""
    by_grid: dict[int | None, Activity] = defaultdict(Activity)
    by_person: dict[int, Activity] = defaultdict(Activity)
    checkins, patrols = _activity_rows(user, start_on, end_on, grid_ids)
    for inspector_id, grid_id, day, count, outside, problems in checkins:
        for tally in (by_grid[grid_id], by_person[inspector_id]):
            tally.checkins += count
            tally.flagged += int(outside or 0)
            tally.problems += int(problems or 0)
            tally.days.add(day)
    for inspector_id, grid_id, day, count, distance in patrols:
        for tally in (by_grid[grid_id], by_person[inspector_id]):
            tally.patrols += count
            tally.distance_m += float(distance or 0.0)
            tally.days.add(day)
    return by_grid, by_person


def _sum(activities: Iterable[Activity]) -> Activity:
    """Several tallies added up (days merged)."""
    total = Activity()
    for part in activities:
        total.checkins += part.checkins
        total.flagged += part.flagged
        total.problems += part.problems
        total.patrols += part.patrols
        total.distance_m += part.distance_m
        total.days |= part.days
    return total


def _grid_row(grid: Grid, duties: list[SourceDuty], activity: Activity) -> dict:
    """A village grid's row: its level-3 duty and its staff's activity."""
    row = {"grid_id": grid.id, "code": grid.code, "name": grid.name, "town_id": grid.parent_id,
           "town_name": grid.parent.name if grid.parent else ""}
    return row | duty_figures(duties) | activity.as_dict()


def _town_row(town: Grid, level3: list[SourceDuty], level2: list[SourceDuty], activity: Activity) -> dict:
    """A town's row: its villages' level-3 duty, its own level-2 duty, and all its staff's activity."""
    row = {"town_id": town.id, "code": town.code, "name": town.name, "level2": duty_figures(level2)}
    return row | duty_figures(level3) | activity.as_dict()


def _people_rows(user: User, grids: list[Grid], towns: list[Grid], by_person: dict[int, Activity]) -> list[dict]:
    """Every inspector of the visible grids (idle ones too) and anyone else who recorded activity."""
    grid_ids = [g.id for g in grids] + [t.id for t in towns]
    query = select(User).options(selectinload(User.grid)).where(
        ((User.role == Role.INSPECTOR) & User.grid_id.in_(grid_ids) & User.active) | User.id.in_(list(by_person)))
    people = sorted(db.session.scalars(query), key=lambda p: (p.grid.code if p.grid else "", p.full_name))
    return [{"user_id": p.id, "name": p.full_name, "role": p.role, "role_label": Role(p.role).label,
             "grid_id": p.grid_id, "grid_name": p.grid.name if p.grid else ""}
            | by_person.get(p.id, Activity()).as_dict() for p in people]


def compliance(user: User, start_on: date | None, end_on: date | None, town_id: int | None = None,
               now: datetime | None = None) -> dict:
    """Towns, village grids and people with their figures for the period, and the totals."""
    require(user, "patrol_compliance")
    now = now or clock.now()
    start_on, end_on = period_dates(start_on, end_on)
    town = _authorized_town(user, town_id)
    grids, towns = _visible_grids(user, 3, town), _visible_grids(user, 2, town)
    level3 = _duties_by(_active_sources(Source.grid_id.in_([g.id for g in grids])), "grid_id", 3,
                        start_on, end_on, now)
    level2 = _duties_by(_active_sources(Source.town_id.in_([t.id for t in towns])), "town_id", 2,
                        start_on, end_on, now)
    scope_ids = {g.id for g in grids} | {t.id for t in towns} if town is not None else None
    by_grid, by_person = _tally(user, start_on, end_on, scope_ids)
    grid_rows = [_grid_row(g, level3[g.id], by_grid[g.id]) for g in grids]
    town_rows = [_town_row(t, [d for g in grids if g.parent_id == t.id for d in level3[g.id]], level2[t.id],
                           _sum([by_grid[t.id], *(by_grid[g.id] for g in grids if g.parent_id == t.id)]))
                 for t in towns]
    all_level3 = [d for duties in level3.values() for d in duties]
    totals = duty_figures(all_level3) | _sum(by_grid.values()).as_dict()
    totals["level2"] = duty_figures(d for duties in level2.values() for d in duties)
    return {"start_on": start_on, "end_on": end_on, "today": beijing_date(now), "town_id": town_id,
            "towns": town_rows, "grids": grid_rows, "inspectors": _people_rows(user, grids, towns, by_person),
            "totals": totals}


def _duties_by(sources: list[Source], attribute: str, level: int, start_on: date, end_on: date,
               now: datetime) -> dict[int, list[SourceDuty]]:
    """Duties at a level, grouped by the sources' grid or town."""
    grouped: dict[int, list[SourceDuty]] = defaultdict(list)
    for duty in source_duties(sources, level, start_on, end_on, now):
        grouped[getattr(duty.source, attribute)].append(duty)
    return grouped


def grid_detail(user: User, grid_id: int, start_on: date | None, end_on: date | None,
                now: datetime | None = None) -> dict:
    """One village grid's row and each of its sources' required and done, so the row can be checked."""
    require(user, "patrol_compliance")
    now = now or clock.now()
    start_on, end_on = period_dates(start_on, end_on)
    grid = db.session.scalar(select(Grid).where(Grid.id == grid_id, Grid.level == 3, grid_scope(user, Grid.id))
                             ) if 0 < grid_id <= MAX_ID else None
    if grid is None:
        raise NotFound("网格不存在，或不在您的管辖范围内。")
    duties = source_duties(_active_sources(Source.grid_id == grid.id), 3, start_on, end_on, now)
    by_grid, _ = _tally(user, start_on, end_on, {grid.id})
    today = beijing_date(now)
    return {"start_on": start_on, "end_on": end_on, "today": today,
            "grid": _grid_row(grid, duties, by_grid[grid.id]),
            "sources": [_source_row(d, today) for d in duties]}


def _source_row(duty: SourceDuty, today: date) -> dict:
    """One source's line in a grid's detail."""
    source, due = duty.source, duty.due
    return {"source_id": source.id, "code": source.code, "name": source.name, "kind": source.kind,
            "kind_label": SourceKind(source.kind).label, "is_key": source.is_key,
            "source_class": due.source_class, "class_label": SourceClass(due.source_class).label,
            "rule_label": due.rule.label if due.rule else "无要求", "days": duty.days, "required": duty.required,
            "done": duty.done, "patrol_days": duty.done_days, "last_on": due.last_on, "due_on": due.due_on,
            "state": due.state, "state_label": due.state.label, "days_overdue": due.days_overdue(today)}


def overdue_sources(user: User, level: int = 3, now: datetime | None = None, town_id: int | None = None,
                    grid_id: int | None = None) -> list[dict]:
    """Sources overdue today at a level, most overdue first, with the last patrol and where they are."""
    require(user, "patrol_compliance")
    if level not in rules.LEVELS:
        raise InvalidInput("网格级别应为 1、2 或 3。", {"level": ["应为 1、2 或 3"]})
    now = now or clock.now()
    conditions = [source_scope(user)]
    if town_id is not None:
        conditions.append(Source.town_id == town_id)
    if grid_id is not None:
        conditions.append(Source.grid_id == grid_id)
    sources = _active_sources(*conditions)
    states = rules.due_states(sources, level, now)
    today = beijing_date(now)
    rows = [_overdue_row(s, states[s.id], today) for s in sources if states[s.id].state == PatrolDueState.OVERDUE]
    return sorted(rows, key=lambda r: (-r["days_overdue"], r["code"]))


def _overdue_row(source: Source, due: rules.DueState, today: date) -> dict:
    """One overdue source: how late, when it was last patrolled, and whose it is."""
    return {"source_id": source.id, "code": source.code, "name": source.name,
            "kind_label": SourceKind(source.kind).label, "is_key": source.is_key,
            "class_label": SourceClass(due.source_class).label, "rule_label": due.rule.label if due.rule else "",
            "level": due.level, "due_on": due.due_on, "days_overdue": due.days_overdue(today),
            "last_on": due.last_on, "last_patrol_at": source.last_patrol_at,
            "grid_id": source.grid_id, "grid_name": source.grid.name if source.grid else "",
            "town_id": source.town_id, "town_name": source.town.name if source.town else ""}


def patrol_map(user: User, patrol: Patrol) -> dict:
    """A patrol as GeoJSON for the map: the track, the sources of its area, and the check-ins."""
    features = []
    if patrol.track is not None:
        features.append(_feature(patrol.track, {"layer": "track"}))
    checked = {c.source_id for c in patrol.checkins}
    for source in _active_sources(source_scope(user), _patrol_area(patrol) | Source.id.in_(checked)):
        features.append(_feature(source.location, {"layer": "source", "id": source.id, "name": source.name,
                                                    "is_key": source.is_key, "checked": source.id in checked}))
    for checkin in patrol.checkins:
        if checkin.location is not None:
            features.append(_feature(checkin.location, {
                "layer": "checkin", "source_name": checkin.source.name, "outcome": checkin.outcome,
                "outside_radius": checkin.outside_radius, "distance_m": checkin.distance_m}))
    return {"type": "FeatureCollection", "features": features}


def _patrol_area(patrol: Patrol):
    """The sources a patrol was meant to cover: its village's, or its town's for a town patrol."""
    if patrol.grid_id is None or patrol.level == 1:
        return false()
    return (Source.town_id if patrol.level == 2 else Source.grid_id) == patrol.grid_id


def _feature(geometry, properties: dict) -> dict:
    """A GeoJSON Feature from a stored geometry."""
    return {"type": "Feature", "geometry": mapping(to_shape(geometry)), "properties": properties}


def source_tracks(user: User, source_id: int, limit: int = 5) -> dict:
    """The tracks of the last patrols that checked in at a source, as GeoJSON (newest first)."""
    if not 0 < source_id <= MAX_ID:
        raise NotFound("监管对象不存在，或不在您的管辖范围内。")
    source = authorize_source(user, source_id)
    latest = (select(PatrolCheckin.patrol_id).where(PatrolCheckin.source_id == source.id,
                                                    PatrolCheckin.patrol_id.isnot(None))
              .group_by(PatrolCheckin.patrol_id).order_by(func.max(PatrolCheckin.captured_at).desc()).limit(limit))
    found = db.session.scalars(select(Patrol).options(selectinload(Patrol.inspector)).where(
        Patrol.id.in_(latest), rounds.patrols_visible(user), Patrol.track.isnot(None))
        .order_by(Patrol.started_at.desc()))
    return {"type": "FeatureCollection", "features": [
        _feature(p.track, {"layer": "track", "patrol_id": str(p.id), "inspector": p.inspector.full_name,
                           "started_at": p.started_at.isoformat(), "distance_m": p.distance_m})
        for p in found]}



def case_checkins(case_id: int) -> list[PatrolCheckin]:
    """The patrol check-ins that found a case (for the case page, already authorised)."""
    query = select(PatrolCheckin).options(selectinload(PatrolCheckin.source), selectinload(PatrolCheckin.inspector),
                                          selectinload(PatrolCheckin.patrol)).where(PatrolCheckin.case_id == case_id)
    return list(db.session.scalars(query.order_by(PatrolCheckin.captured_at)))

DUTY_HEADINGS = ["有巡查要求的对象", "应巡查（次）", "已巡查（次）", "完成率", "今日超期对象"]
ACTIVITY_HEADINGS = ["打卡", "超出范围打卡", "发现问题", "巡查次数", "轨迹里程（公里）", "出勤天数"]


def _duty_cells(row: dict) -> list:
    """A row's duty figures as cells (the rate a share, formatted as a percentage; empty when
    nothing was required)."""
    return [row["sources"], row["required"], row["done"], row["rate"], row["overdue"]]


def _activity_cells(row: dict) -> list:
    """A row's activity figures as cells."""
    return [row["checkins"], row["flagged"], row["problems"], row["patrols"], row["km"], row["active_days"]]


def compliance_xlsx(report: dict) -> bytes:
    """The compliance tables as a workbook: towns, village grids, people (no personal data)."""
    caption = f"巡查考核 统计期间：{report['start_on']} 至 {report['end_on']}"
    return workbook([
        Sheet("镇（街道）", ["镇（街道）", *DUTY_HEADINGS, "二级应巡查", "二级已巡查", "二级超期", *ACTIVITY_HEADINGS],
              [[r["name"], *_duty_cells(r), r["level2"]["required"], r["level2"]["done"], r["level2"]["overdue"],
                *_activity_cells(r)] for r in report["towns"]], caption, {4: PERCENT}),
        Sheet("三级网格", ["镇（街道）", "三级网格", *DUTY_HEADINGS, *ACTIVITY_HEADINGS],
              [[r["town_name"], r["name"], *_duty_cells(r), *_activity_cells(r)] for r in report["grids"]], caption,
              {5: PERCENT}),
        Sheet("巡查人员", ["姓名", "角色", "所属网格", *ACTIVITY_HEADINGS],
              [[r["name"], r["role_label"], r["grid_name"], *_activity_cells(r)] for r in report["inspectors"]],
              caption),
    ])
