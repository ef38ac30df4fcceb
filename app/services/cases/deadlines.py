"""The deadline engine: rules, each case's stage clocks, their colour, and the warnings.

A clock runs per case and stage (``case_clocks``). Its due time comes from the most
specific active rule (``deadline_rules``) and the working-day calendar
(services.workcalendar, which documents how periods are counted). A clock is green while
less than ``yellow_at`` (a setting, 75 % by default) of its time is used, yellow after,
red when overdue. ``sweep_warnings`` turns yellow into a reminder (催办) and red into an
escalation (督办), each once.

Services flush, never commit: the caller (a request or a CLI command) commits.
"""

from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Float, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from app.database import get_or_404
from app.errors import Conflict, DomainError, InvalidInput
from app.extensions import db
from app.models import Case, CaseClock, DeadlineRule, User
from app.models.vocab import OPEN_STATUSES, DeadlineState, NotificationKind, PeriodUnit, Role, Stage
from app.services.cases.deadline_defaults import DEFAULT_RULES, MAX_EXTENSION_DAYS
from app.services.cases.workcalendar import WorkCalendar, format_local
from app.services.notify.outbox import notify
from app.services.read_memo import remembered
from app.services.settings import get_setting

# The case columns that mirror one stage's due time, for lists and the map wall.
_MIRRORED_STAGES = {
    Stage.SIGN: "sign_due_at",
    Stage.ONSITE: "onsite_due_at",
    Stage.NOTICE: "notice_due_at",
    Stage.HANDLE: "handle_due_at",
    Stage.REVISIT: "revisit_due_at",
}
# Clocks whose period is a setting in calendar days rather than a rule: the regular follow-up
# of a long-unresolved case (定期回访) repeats at one interval the command office sets.
_SETTING_PERIODS = {Stage.REVISIT: "revisit_interval_days"}
# Rule filters, most specific first: a channel beats a legal track beats a priority.
_FILTERS = ("channel", "legal_track", "priority")
_EDITABLE_RULE_FIELDS = ("amount", "unit", "active", "basis")


class NoDeadlineRule(DomainError):
    """No active rule gives this stage a time limit for this case."""

    status = 409

    def __init__(self, stage: str):
        super().__init__(f"“{Stage(stage).label}”阶段没有适用于该案件的时限规则。")


# --- Rules -----------------------------------------------------------------------------


def ensure_default_rules() -> int:
    """Insert every default rule whose stage and filters have no row yet; edits stay. Returns how many."""
    existing = {(r.stage, r.legal_track, r.channel, r.priority) for r in db.session.scalars(select(DeadlineRule))}
    added = 0
    for default in DEFAULT_RULES:
        if default.key not in existing:
            db.session.add(DeadlineRule(**asdict(default), active=True))
            added += 1
    db.session.flush()
    return added


def rule_for(case: Case, stage: str) -> DeadlineRule | None:
    """The most specific active rule for this case's stage (a NULL filter matches anything)."""
    query = select(DeadlineRule).where(DeadlineRule.stage == stage, DeadlineRule.active.is_(True))
    for name in _FILTERS:
        column = getattr(DeadlineRule, name)
        query = query.where(or_(column.is_(None), column == getattr(case, name)))
    rules = list(db.session.scalars(query.order_by(DeadlineRule.id)))
    return max(rules, key=_specificity, default=None)


def _specificity(rule: DeadlineRule) -> tuple[bool, ...]:
    """Sort key: which filters a rule sets, the channel weighing most (ties: the oldest rule)."""
    return tuple(getattr(rule, name) is not None for name in _FILTERS)


def list_rules() -> list[DeadlineRule]:
    """Every rule, active or not, grouped by stage."""
    return list(db.session.scalars(select(DeadlineRule).order_by(DeadlineRule.stage, DeadlineRule.id)))


def create_rule(stage: str, amount: int, unit: str, basis: str = "", active: bool = True, **filters) -> DeadlineRule:
    """Add a rule; Conflict when one with the same stage and filters exists (edit that one)."""
    if stage in _SETTING_PERIODS:
        message = f"“{Stage(stage).label}”的间隔在系统参数中设置，不使用时限规则。"
        raise InvalidInput(message, {"stage": [message]})
    values = {name: filters.get(name) for name in _FILTERS}
    duplicate = select(DeadlineRule.id).where(DeadlineRule.stage == stage)
    for name, value in values.items():
        column = getattr(DeadlineRule, name)
        duplicate = duplicate.where(column.is_(None) if value is None else column == value)
    if db.session.scalar(duplicate) is not None:
        raise Conflict("已有相同阶段和条件的时限规则，请修改该规则。")
    rule = DeadlineRule(stage=stage, amount=amount, unit=unit, basis=basis, active=active, **values)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_rule(rule_id: int, **changes) -> DeadlineRule:
    """Change a rule's amount, unit, basis or active flag; clocks already running keep their due time."""
    rule = get_or_404(DeadlineRule, rule_id, "时限规则不存在。")
    for name in _EDITABLE_RULE_FIELDS:
        if name in changes:
            setattr(rule, name, changes[name])
    db.session.flush()
    return rule


# --- Clocks ----------------------------------------------------------------------------


def period_of(case: Case, stage: str) -> tuple[int, str, DeadlineRule | None]:
    """A stage's period for this case: (amount, unit, the rule that gives it), or from a setting
    with no rule (the regular follow-up of long-unresolved cases); NoDeadlineRule when none."""
    if stage in _SETTING_PERIODS:
        return int(get_setting(_SETTING_PERIODS[stage])), PeriodUnit.CALENDAR_DAYS, None
    rule = rule_for(case, stage)
    if rule is None:
        raise NoDeadlineRule(stage)
    return rule.amount, rule.unit, rule


def compute_due(case: Case, stage: str, started_at: datetime,
                calendar: WorkCalendar | None = None) -> tuple[datetime, DeadlineRule | None]:
    """When this case's stage is due if it starts at ``started_at``, and the rule that says so
    (None for a stage whose period is a setting)."""
    amount, unit, rule = period_of(case, stage)
    return (calendar or WorkCalendar.load()).period_end(started_at, amount, unit), rule


def start_clock(case: Case, stage: str, started_at: datetime) -> CaseClock | None:
    """Start (or, on reopening, restart) the case's clock for a stage, then refresh its due times.

    Returns None, and removes any old clock of that stage, when no rule gives the stage a
    limit for this case (e.g. the inspection report of an ordinary case). The clock keeps
    the rule's period, so a later change of the rule leaves it alone.
    """
    _ensure_flushed(case)
    clock = clock_for(case, stage)
    calendar = WorkCalendar.load()
    try:
        amount, unit, rule = period_of(case, stage)
    except NoDeadlineRule:
        if clock is not None:
            db.session.delete(clock)
        refresh_case_due(case)
        return None
    if clock is None:
        clock = CaseClock(case_id=case.id, stage=stage)
        db.session.add(clock)
    due_at = calendar.period_end(started_at, amount, unit)
    clock.started_at, clock.due_at, clock.rule_id = started_at, due_at, rule.id if rule else None
    clock.amount, clock.unit, clock.extended_days = amount, unit, 0
    clock.estimated = calendar.is_estimate(started_at, due_at, unit)
    clock.done_at, clock.warned = None, ""
    refresh_case_due(case)
    return clock


def _count_due(clock: CaseClock, calendar: WorkCalendar) -> None:
    """Count the clock's due time from its start, period and extension, and whether it is an estimate.

    The extension (one per case, 信访工作条例 第三十四条) counts from the period's last day.
    """
    due_at = calendar.period_end(clock.started_at, clock.amount, clock.unit)
    if clock.extended_days:
        due_at = calendar.extend(due_at, clock.extended_days)
    clock.due_at = due_at
    unit = PeriodUnit.CALENDAR_DAYS if clock.extended_days else clock.unit
    clock.estimated = calendar.is_estimate(clock.started_at, due_at, unit)


def stop_clock(case: Case, stage: str, done_at: datetime) -> None:
    """Mark the stage met at ``done_at`` (a clock already met keeps its first time), then refresh."""
    clock = clock_for(case, stage)
    if clock is None:
        return
    if clock.done_at is None:
        clock.done_at = done_at
    refresh_case_due(case)


def drop_clock(case: Case, stage: str) -> None:
    """Remove a stage's clock that no longer applies (a case off the long-unresolved list), then refresh."""
    clock = clock_for(case, stage)
    if clock is not None:
        db.session.delete(clock)
        db.session.flush()
    refresh_case_due(case)


def extend_clock(case: Case, stage: str, days: int) -> CaseClock:
    """Move a running clock's due time by ``days`` calendar days (信访工作条例 第三十四条: ≤ 30)."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        message = f"延期天数应为 1 至 {MAX_EXTENSION_DAYS} 日。"
        raise InvalidInput(message, {"days": [message]})
    clock = clock_for(case, stage)
    if clock is None or clock.done_at is not None:
        raise Conflict(f"“{Stage(stage).label}”阶段没有正在计时的期限，无法延期。")
    clock.extended_days += days
    calendar = WorkCalendar.load()
    if clock.amount is None:  # a clock older than its recorded period: move its due time only
        clock.due_at = calendar.extend(clock.due_at, days)
        clock.estimated = calendar.is_estimate(clock.started_at, clock.due_at, PeriodUnit.CALENDAR_DAYS)
    else:
        _count_due(clock, calendar)
    clock.warned = ""  # a new due time earns its own warnings
    refresh_case_due(case)
    return clock


def resume_clock(case: Case, stage: str) -> CaseClock | None:
    """Run a met clock again with its old start and due time (work sent back to be redone); refresh.

    Warnings already sent for that due time are not repeated. No-op when there is no clock.
    """
    clock = clock_for(case, stage)
    if clock is not None:
        clock.done_at = None
        refresh_case_due(case)
    return clock


def refresh_case_due(case: Case) -> None:
    """Set ``case.due_at`` to its nearest open clock and mirror the per-stage due columns."""
    clocks = list(db.session.scalars(select(CaseClock).where(CaseClock.case_id == case.id)))
    nearest = min((c for c in clocks if c.done_at is None), key=lambda c: (c.due_at, c.id or 0), default=None)
    case.due_at = nearest.due_at if nearest else None
    case.due_started_at = nearest.started_at if nearest else None
    due_by_stage = {c.stage: c.due_at for c in clocks}
    for stage, column in _MIRRORED_STAGES.items():
        setattr(case, column, due_by_stage.get(stage))
    db.session.flush()


def open_clocks(case: Case) -> list[CaseClock]:
    """The case's clocks still running, nearest due time first."""
    if case.id is None:
        return []
    query = select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.done_at.is_(None))
    clocks = remembered(("open_clocks", case.id),
                        lambda: tuple(db.session.scalars(query.order_by(CaseClock.due_at, CaseClock.id))))
    return list(clocks)


def due_label(case: Case) -> str:
    """What a page calls the case's due time: the deadline of its nearest running clock
    (「签收期限」, 「首次现场核查期限」, 「办结期限」…), the clock ``refresh_case_due`` takes, or
    plain 「期限」 when none runs."""
    clocks = open_clocks(case)
    if not clocks:
        return "期限"
    label = Stage(clocks[0].stage).label
    return label if label.endswith("期限") else f"{label}期限"


def estimated_stages(case: Case) -> list[str]:
    """Labels of the case's running clocks counted on weekends only (按周末估算), nearest first."""
    return [Stage(c.stage).label for c in open_clocks(case) if c.estimated]


def recount_open_clocks(year: int) -> int:
    """Count again every running clock that is an estimate or reaches ``year``, now that the
    year's holidays are entered; returns how many due times moved.

    A moved due time earns its warnings afresh. Entering a year calls this at once; it is
    also safe to run again (e.g. from a background task), as it only moves what changed.
    """
    calendar = WorkCalendar.load()
    first = calendar.end_of_day(date(year, 1, 1) - timedelta(days=1))
    after = calendar.end_of_day(date(year, 12, 31))
    query = select(CaseClock).where(
        CaseClock.done_at.is_(None), CaseClock.amount.is_not(None),
        or_(CaseClock.estimated.is_(True), and_(CaseClock.started_at < after, CaseClock.due_at > first)),
    )
    moved_cases: set[int] = set()
    for clock in db.session.scalars(query.order_by(CaseClock.id)):
        before = clock.due_at
        _count_due(clock, calendar)
        if clock.due_at != before:
            clock.warned = ""
            moved_cases.add(clock.case_id)
    for case_id in sorted(moved_cases):
        refresh_case_due(db.session.get(Case, case_id))
    return len(moved_cases)


def clock_for(case: Case, stage: str) -> CaseClock | None:
    """The case's clock of one stage, running or not (None before it ever started)."""
    if case.id is None:
        return None
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.stage == stage))


def _ensure_flushed(case: Case) -> None:
    """A clock needs the case's id: flush a case that was only just added."""
    if case.id is None:
        db.session.flush()


# --- Colours ---------------------------------------------------------------------------


def clock_state(
    started_at: datetime, due_at: datetime | None, now: datetime, yellow_at: float | None = None
) -> DeadlineState:
    """The state of one clock that started at ``started_at`` and is due at ``due_at``.

    ``yellow_at`` is the share of time used that turns it yellow; by default the
    administrator's ``yellow_at`` setting.
    """
    if due_at is None:
        return DeadlineState.NONE
    if now >= due_at:
        return DeadlineState.RED
    if yellow_at is None:
        yellow_at = float(get_setting("yellow_at"))
    total = (due_at - started_at).total_seconds()
    used = (now - started_at).total_seconds()
    if total <= 0 or used / total >= yellow_at:
        return DeadlineState.YELLOW
    return DeadlineState.GREEN


def case_deadline_state(case: Case, now: datetime, yellow_at: float | None = None) -> DeadlineState:
    """The colour of a case: grey when finished, else the state of its nearest open clock.

    Cases without clocks (demo data, rows older than the engine) fall back to the time
    from receipt to ``case.due_at``.
    """
    if case.status not in OPEN_STATUSES:
        return DeadlineState.CLOSED
    clocks = open_clocks(case)
    if clocks:
        return clock_state(clocks[0].started_at, clocks[0].due_at, now, yellow_at)
    return clock_state(case.received_at, case.due_at, now, yellow_at)


class _EpochSeconds(FunctionElement):
    """Seconds since 1970 of a stored timestamp, on either database (for arithmetic on times)."""

    type = Float()
    inherit_cache = True


@compiles(_EpochSeconds)
def _epoch_postgresql(element, compiler, **kw) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(_EpochSeconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps UTC timestamps as text, which julianday reads.
    return f"(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0"


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """SQL for ``clock_state`` being red: the case's nearest due time has passed."""
    return Case.due_at.isnot(None) & (Case.due_at <= now)


def yellow_clause(now: datetime) -> ColumnElement[bool]:
    """SQL for ``clock_state`` being yellow, for a whole list at once: not yet due, but at
    least ``yellow_at`` of the time from the nearest open clock's start (``due_started_at``;
    or, without one, from receipt) to the case's due time is used. Read from the case row:
    a subquery per case into its clocks cost seconds on a city's open cases."""
    yellow_at = float(get_setting("yellow_at"))
    start = _EpochSeconds(func.coalesce(Case.due_started_at, Case.received_at))
    due, moment = _EpochSeconds(Case.due_at), now.timestamp()
    return Case.due_at.isnot(None) & (Case.due_at > now) & ((moment - start) >= (due - start) * yellow_at)


def deadline_states(cases: list[Case], now: datetime) -> dict[int, DeadlineState]:
    """The colour of each case by id, as ``case_deadline_state`` gives it, for a whole page at once.

    One read of the page's open clocks and one of the setting, however many cases: a list
    that asked per case cost three statements a row.
    """
    return {case_id: state for case_id, (state, _) in deadline_colours(cases, now).items()}


def deadline_colours(cases: list[Case], now: datetime) -> dict[int, tuple[DeadlineState, datetime | None]]:
    """Each case's colour now and the time it turns yellow (None when closed or without a due
    time), by id, from one read of the open clocks.

    The phone is offline for hours: with the yellow time it turns a case yellow on time by
    itself, as it turns one red when its due time passes.
    """
    yellow_at = float(get_setting("yellow_at"))
    nearest = _nearest_clocks(cases)
    colours: dict[int, tuple[DeadlineState, datetime | None]] = {}
    for case in cases:
        if case.status not in OPEN_STATUSES:
            colours[case.id] = (DeadlineState.CLOSED, None)
            continue
        running = nearest.get(case.id)
        started, due = (running.started_at, running.due_at) if running else (case.received_at, case.due_at)
        turns = None if due is None else started + (due - started) * yellow_at
        colours[case.id] = (clock_state(started, due, now, yellow_at), turns)
    return colours


def _nearest_clocks(cases: list[Case]) -> dict[int, CaseClock]:
    """Each open case's running clock with the nearest due time, by case id, in one query."""
    open_ids = [case.id for case in cases if case.status in OPEN_STATUSES and case.id is not None]
    nearest: dict[int, CaseClock] = {}
    if open_ids:
        query = (select(CaseClock).where(CaseClock.case_id.in_(open_ids), CaseClock.done_at.is_(None))
                 .order_by(CaseClock.due_at, CaseClock.id))
        for running in db.session.scalars(query):
            nearest.setdefault(running.case_id, running)
    return nearest


# --- Warnings --------------------------------------------------------------------------


def sweep_warnings(now: datetime, limit: int | None = None) -> dict[str, int]:
    """Send each open clock's reminder when it turns yellow and its escalation when it turns red.

    Each is sent once (``clock.warned`` remembers); a clock found already red gets only the
    escalation. Returns counts: clocks reminded, clocks escalated, notifications created,
    and warnings that found nobody to send to. With ``limit``, it stops after that many
    warnings, so a caller can commit between batches (the next call finds the rest).
    """
    yellow_at = float(get_setting("yellow_at"))
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    counts = Counter(reminders=0, escalations=0, notifications=0, no_recipient=0)
    for clock, case in _clocks_not_yet_red():
        if limit is not None and counts["reminders"] + counts["escalations"] >= limit:
            break
        state = clock_state(clock.started_at, clock.due_at, now, yellow_at)
        if state == DeadlineState.RED:
            kind, recipients, counter = "escalation", escalation_recipients(case), "escalations"
        elif state == DeadlineState.YELLOW and not clock.warned:
            kind, recipients, counter = "reminder", reminder_recipients(case, clock.stage), "reminders"
        else:
            continue
        message = warning_message(kind, case, clock, zone)
        notify(NotificationKind(kind), recipients, message, case, now)
        clock.warned = state.value
        counts[counter] += 1
        counts["notifications"] += len(recipients)
        counts["no_recipient"] += 0 if recipients else 1
    db.session.flush()
    return dict(counts)


def _clocks_not_yet_red() -> list[tuple[CaseClock, Case]]:
    """Running clocks of open cases whose escalation has not been sent, nearest due first."""
    query = (
        select(CaseClock, Case)
        .join(Case, Case.id == CaseClock.case_id)
        .where(
            CaseClock.done_at.is_(None),
            CaseClock.warned != DeadlineState.RED.value,
            Case.status.in_([str(s) for s in OPEN_STATUSES]),
        )
        .order_by(CaseClock.due_at, CaseClock.id)
    )
    return [(clock, case) for clock, case in db.session.execute(query)]


# Clocks of intake and oversight (受理, 告知, 回访, 定期回访): their work is the town's (or,
# for a case without a town, the command office's), not the handling department's.
_INTAKE_STAGES = frozenset({Stage.ACCEPT, Stage.NOTICE, Stage.FOLLOW_UP, Stage.REVISIT})


def reminder_recipients(case: Case, stage: str | None = None) -> list[User]:
    """Who is reminded (催办) of a clock: for intake and oversight stages the town's
    supervisors (else the command office); for the handling stages, and for a 催办 of the
    case as a whole, the responsible person, else the department's officers, else the town's
    supervisors."""
    if stage in _INTAKE_STAGES:
        return _active_users(Role.SUPERVISOR, grid_id=case.town_id) or _active_users(Role.COMMAND_OFFICE)
    person = case.responsible_person
    if person is not None and person.active:
        return [person]
    officers = _active_users(Role.DEPARTMENT_OFFICER, department_id=case.department_id)
    return officers or _active_users(Role.SUPERVISOR, grid_id=case.town_id)


def escalation_recipients(case: Case) -> list[User]:
    """Who is told of an overdue clock (督办): the town's supervisors and the whole command office."""
    return _active_users(Role.SUPERVISOR, grid_id=case.town_id) + _active_users(Role.COMMAND_OFFICE)


def _active_users(role: Role, **where) -> list[User]:
    """Active users of one role, filtered by equal columns; none when a filter value is missing."""
    if any(value is None for value in where.values()):
        return []
    query = select(User).filter_by(role=role, active=True, **where).order_by(User.id)
    return list(db.session.scalars(query))


def warning_message(kind: str, case: Case, clock: CaseClock, zone: ZoneInfo) -> str:
    """The Chinese text of a reminder or an escalation."""
    label, due = Stage(clock.stage).label, format_local(clock.due_at, zone)
    if kind == "escalation":
        return f"【督办】案件{case.number}“{label}”已超过时限（{due}到期），请督促办理并说明原因。"
    return f"【催办】案件{case.number}“{label}”将于{due}到期，请抓紧办理。"
