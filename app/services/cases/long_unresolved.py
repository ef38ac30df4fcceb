"""The long-unresolved list (久拖不解) and the regular follow-up of the cases on it (定期回访).

Plan §四.3 asks the command office to "对久拖不解的环境信访及时交办，定期回访，加大媒体曝光的
力度". An open case is on the list when it meets any of these criteria, each a setting with
the plan's spirit as its default:

* received more than ``long_unresolved_open_days`` (90) days ago;
* not yet replied and past its handling deadline by more than ``long_unresolved_overdue_days`` (15);
* reopened at least ``long_unresolved_reopened_min`` (2) times;
* petitioned above level at least ``unresolved_above_level_min`` (3) times (the same setting
  as the accountability list of above-level petitions still unresolved).

The criteria are one SQL condition (``listed_clause``), so the list, the wall's layer and panel
count and the accountability lists agree; the reasons are read from the same columns.

While a case is listed, a ``Stage.REVISIT`` clock of the one deadline engine runs on it, due
every ``revisit_interval_days``: ``sync_revisit_clocks`` (run by the deadline sweep, before its
warnings) starts the clock of a newly listed case and drops the clock of a case no longer
listed; recording a regular follow-up (the lifecycle step ``revisit``) starts it again.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, not_, or_, select, union
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Case, CaseClock, DayStat, Department, Grid, User
from app.models.vocab import OPEN_STATUSES, CaseStatus, DeadlineState, LongUnresolvedReason, Stage
from app.services import day_stats
from app.services.access import case_scope, scoped_cases
from app.services.cases import deadlines
from app.services.clock import beijing_date
from app.services.paging import page_of
from app.services.read_memo import remembered
from app.services.settings import get_setting

R = LongUnresolvedReason
_OPEN = sorted(str(s) for s in OPEN_STATUSES)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Criteria:
    """The thresholds in force (settings)."""

    open_days: int
    overdue_days: int
    reopened_min: int
    above_level_min: int


def criteria() -> Criteria:
    """The administrator's thresholds, read once per use."""
    return Criteria(int(get_setting("long_unresolved_open_days")), int(get_setting("long_unresolved_overdue_days")),
                    int(get_setting("long_unresolved_reopened_min")), int(get_setting("unresolved_above_level_min")))


def reason_clauses(now: datetime, c: Criteria) -> dict[str, ColumnElement[bool]]:
    """Each criterion as a SQL condition on the case row (openness not included)."""
    return {
        R.OPEN_LONG: Case.received_at < now - c.open_days * DAY,
        # Spelled out so that NOT of the whole list is true for a case without a deadline.
        R.OVERDUE: and_(Case.replied_at.is_(None), Case.handle_due_at.isnot(None),
                        Case.handle_due_at < now - c.overdue_days * DAY),
        R.REOPENED: Case.reopened_count >= c.reopened_min,
        R.ABOVE_LEVEL: Case.above_level_count >= c.above_level_min,
    }


def listed_clause(now: datetime, c: Criteria | None = None) -> ColumnElement[bool]:
    """The WHERE clause of the list: open, and meeting at least one criterion."""
    return and_(Case.status.in_(_OPEN), or_(*reason_clauses(now, c or criteria()).values()))


def listed_count(now: datetime) -> int:
    """How many cases are on the list now, city-wide, from the daily summary (``day_stats``'s
    ``l`` rows: listed from a day before today) plus today's newly listed, counted live.

    A case listed from today reaches its age or overdue threshold today: its arrival or
    handling deadline lies in a one-day window, so the live part reads two index ranges, of
    whichever end of the day is nearer. Before Beijing noon it counts those listed since
    00:00; after, it takes today's ``l`` row and subtracts those whose threshold is still to
    come before midnight.
    """
    today = day_stats.day_number(now)
    c, midnight = criteria(), day_stats.day_start(today)
    next_midnight = midnight + DAY
    rest = next_midnight - now < now - midnight
    last_day = today + 1 if rest else today
    whole = db.session.scalar(select(func.sum(DayStat.open)).where(DayStat.kind == "l", DayStat.day < last_day)) or 0
    low, high = (now, next_midnight) if rest else (midnight, now)
    # Each part read through its own index (an OR of ranges would read the table on SQLite).
    reaching = union(
        select(Case.id).where(Case.received_at >= low - c.open_days * DAY, Case.received_at < high - c.open_days * DAY),
        select(Case.id).where(Case.handle_due_at >= low - c.overdue_days * DAY,
                              Case.handle_due_at < high - c.overdue_days * DAY))
    live = select(func.count(Case.id)).where(Case.id.in_(reaching), listed_clause(high, c),
                                             not_(listed_clause(low, c)))
    counted = db.session.scalar(live) or 0
    return int(whole) - counted if rest else int(whole) + counted


def is_listed(case: Case, now: datetime) -> bool:
    """True when this case is on the list now (asked of the database, so the rule is written once)."""
    if case.id is None:
        return False
    # Asked by the case page's actions and its long-unresolved section: once per minute.
    return remembered(("listed", case.id, now.replace(second=0, microsecond=0)), lambda: db.session.scalar(
        select(Case.id).where(Case.id == case.id, listed_clause(now))) is not None)


# ---------------------------------------------------------------- figures and reasons


def days_open(case: Case, now: datetime) -> int:
    """Beijing calendar days from receipt to closing (or to now while open)."""
    return max(0, (beijing_date(min(case.closed_at or now, now)) - beijing_date(case.received_at)).days)


def days_overdue(case: Case, now: datetime) -> int:
    """Beijing calendar days past the handling deadline's last day, up to the reply (or to now
    while unreplied); 0 when not overdue. A deadline at 24:00 has the day before as its last day."""
    if case.handle_due_at is None:
        return 0
    last_day = beijing_date(case.handle_due_at - timedelta(microseconds=1))
    return max(0, (beijing_date(case.replied_at or now) - last_day).days)


def _span(days: int, elapsed: timedelta, threshold_days: int) -> str:
    """How long past a threshold of whole days, in calendar days as the lists count them ('16 天');
    while those do not exceed the threshold, the time itself ('15 天 17 小时'), so that a listed
    case never reads as within its standard."""
    if days > threshold_days:
        return f"{days} 天"
    return f"{elapsed.days} 天 {elapsed.seconds // 3600} 小时"


def reasons(case: Case, now: datetime, c: Criteria) -> list[dict]:
    """Why the case is listed, in Chinese, with its figures and the threshold."""
    found = []
    if case.received_at < now - c.open_days * DAY:
        age = _span(days_open(case, now), now - case.received_at, c.open_days)
        found.append((R.OPEN_LONG, f"收到信访已 {age}仍未办结（标准：超过 {c.open_days} 天）"))
    if case.replied_at is None and case.handle_due_at is not None and case.handle_due_at < now - c.overdue_days * DAY:
        late = _span(days_overdue(case, now), now - case.handle_due_at, c.overdue_days)
        found.append((R.OVERDUE, f"超过办理期限 {late}未答复（标准：超过 {c.overdue_days} 天）"))
    if case.reopened_count >= c.reopened_min:
        found.append((R.REOPENED, f"已重新办理 {case.reopened_count} 次（标准：{c.reopened_min} 次及以上）"))
    if case.above_level_count >= c.above_level_min:
        found.append((R.ABOVE_LEVEL,
                      f"越级访 {case.above_level_count} 次仍未化解（标准：{c.above_level_min} 次及以上）"))
    return [{"code": code.value, "label": code.label, "text": text} for code, text in found]


# ---------------------------------------------------------------- the list


def listed_cases(user: User, now: datetime, town_id: int | None = None, department_id: int | None = None,
                 reason: str | None = None):
    """The user's listed cases (``access.case_scope``), narrowed by town, department or one reason."""
    c = criteria()
    query = scoped_cases(user).where(listed_clause(now, c))
    if town_id is not None:
        query = query.where(Case.town_id == town_id)
    if department_id is not None:
        query = query.where(Case.department_id == department_id)
    if reason is not None:
        query = query.where(reason_clauses(now, c)[reason])
    return query, c


def long_unresolved_page(user: User, now: datetime, page: int = 1, per_page: int = 50, **filters) -> dict:
    """One page of the list, longest open first, each case with its figures, reasons and next
    regular follow-up; with the counts per town and per department of the whole list."""
    query, c = listed_cases(user, now, **filters)
    result = page_of(query, page, per_page, order_by=(Case.received_at, Case.id),
                     options=(joinedload(Case.town), joinedload(Case.department)))
    revisits = _revisit_clocks([case.id for case in result["items"]])
    result["items"] = [entry(case, now, c, revisits.get(case.id)) for case in result["items"]]
    result["criteria"] = asdict(c)
    result |= counts_by_unit(case_scope(user), now, c)
    return result


def entry(case: Case, now: datetime, c: Criteria, revisit: CaseClock | None) -> dict:
    """One listed case as the desk and the API show it (no personal data)."""
    state = deadlines.clock_state(revisit.started_at, revisit.due_at, now) if revisit else DeadlineState.NONE
    return {
        "case_id": case.id, "number": case.number, "title": case.title,
        "status": case.status, "status_label": CaseStatus(case.status).label,
        "town_id": case.town_id, "town_name": case.town.name if case.town else "网格外",
        "department_id": case.department_id, "department_name": case.department.name if case.department else "",
        "received_at": case.received_at, "handle_due_at": case.handle_due_at,
        "days_open": days_open(case, now), "days_overdue": days_overdue(case, now),
        "reasons": reasons(case, now, c),
        "revisit_due_at": revisit.due_at if revisit else None, "revisit_state": state.value,
        "revisit_state_label": state.label,
    }


def _revisit_clocks(case_ids: list[int]) -> dict[int, CaseClock]:
    """The running regular follow-up clocks of these cases, in one read."""
    if not case_ids:
        return {}
    query = select(CaseClock).where(CaseClock.case_id.in_(case_ids), CaseClock.stage == Stage.REVISIT,
                                    CaseClock.done_at.is_(None))
    return {clock.case_id: clock for clock in db.session.scalars(query)}


def counts_by_unit(scope: ColumnElement[bool], now: datetime, c: Criteria | None = None) -> dict:
    """How many listed cases each town and each department has within ``scope``, most first."""
    c = c or criteria()
    result = {}
    for key, column, model in (("by_town", Case.town_id, Grid), ("by_department", Case.department_id, Department)):
        rows = db.session.execute(
            select(column, model.name, func.count(Case.id))
            .join(model, model.id == column)
            .where(scope, listed_clause(now, c))
            .group_by(column, model.name)
            .order_by(func.count(Case.id).desc(), model.name)
        ).all()
        result[key] = [{"id": key_id, "name": name, "count": n} for key_id, name, n in rows]
    return result


def count_listed(user: User, now: datetime) -> int:
    """How many cases in the user's scope are on the list now."""
    return db.session.scalar(select(func.count(Case.id)).where(case_scope(user), listed_clause(now))) or 0


# ---------------------------------------------------------------- the regular follow-up clock


def sync_revisit_clocks(now: datetime) -> dict[str, int]:
    """Start the regular follow-up clock of every newly listed case; drop those of cases no
    longer listed but still open (a closed case's clocks were met when it closed).

    Meant to run with the deadline sweep, just before ``deadlines.sweep_warnings``.
    """
    running = exists().where(CaseClock.case_id == Case.id, CaseClock.stage == Stage.REVISIT,
                             CaseClock.done_at.is_(None))
    started = 0
    for case in db.session.scalars(select(Case).where(listed_clause(now), ~running).order_by(Case.id)).all():
        deadlines.start_clock(case, Stage.REVISIT, now)
        started += 1
    stale = select(Case).where(running, Case.status.in_(_OPEN), ~listed_clause(now)).order_by(Case.id)
    dropped = 0
    for case in db.session.scalars(stale).all():
        deadlines.drop_clock(case, Stage.REVISIT)
        dropped += 1
    return {"started": started, "dropped": dropped}
