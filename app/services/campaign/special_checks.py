"""Special enforcement checks (专项督查): planned on the difficult cases (repeat 重复访,
above-level 越级访, dissatisfied 不满意件, superior-assigned unfinished 上级交办未完成件) and on
the key towns (the top ``key_towns_n`` by above-level petitions); each check's result is
recorded, and the report goes to the city government."""

from datetime import date, datetime

from sqlalchemy import or_, select

from app.database import get_or_404
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Case, SpecialCheck, User
from app.models.vocab import CheckOutcome, CheckReason
from app.services import clock
from app.services.access import require
from app.services.campaign.scoring import OPEN, above_level_petitions
from app.services.settings import get_setting


def _reason(case: Case) -> str:
    """The first difficulty that applies, in the plan's order."""
    if case.repeat_of_id is not None or case.repeat_count:
        return CheckReason.REPEAT
    if case.above_level:
        return CheckReason.ABOVE_LEVEL
    if case.dissatisfied:
        return CheckReason.DISSATISFIED
    return CheckReason.SUPERIOR_ASSIGNED


def plan_checks(actor: User, planned_on: date, start: datetime, end: datetime) -> list[SpecialCheck]:
    """Plan a check for every open difficult case and key town not already awaiting one."""
    require(actor, "run_special_checks")
    pending = select(SpecialCheck).where(SpecialCheck.checked_at.is_(None))
    waiting_cases = {c.case_id for c in db.session.scalars(pending) if c.case_id}
    waiting_towns = {c.town_id for c in db.session.scalars(pending) if c.town_id and not c.case_id}
    difficult = select(Case).where(Case.status.in_(OPEN), or_(
        Case.repeat_of_id.isnot(None), Case.repeat_count > 0, Case.above_level.is_(True),
        Case.dissatisfied.is_(True), Case.superior_assigned.is_(True))).order_by(Case.id)
    planned = [SpecialCheck(case_id=c.id, town_id=c.town_id, reason=_reason(c), planned_on=planned_on,
                            planned_by_id=actor.id) for c in db.session.scalars(difficult) if c.id not in waiting_cases]
    counts: dict[int, int] = {}
    for case in above_level_petitions(start, end):
        if case.town_id is not None:
            counts[case.town_id] = counts.get(case.town_id, 0) + 1
    key_towns = sorted(counts, key=lambda t: (-counts[t], t))[:int(get_setting("key_towns_n"))]
    planned += [SpecialCheck(town_id=t, reason=CheckReason.KEY_TOWN, planned_on=planned_on, planned_by_id=actor.id)
                for t in key_towns if t not in waiting_towns]
    db.session.add_all(planned)
    db.session.flush()
    return planned


def record_result(actor: User, check_id: int, outcome: str, result: str) -> SpecialCheck:
    """Record what a check found."""
    require(actor, "run_special_checks")
    check = get_or_404(SpecialCheck, check_id, "督查任务不存在。")
    if check.checked_at is not None:
        raise Conflict("该督查结果已记录。")
    if outcome not in CheckOutcome.labels() or not result.strip():
        raise InvalidInput("请选择督查结论并填写督查情况。", {"outcome": ["必选"], "result": ["必填"]})
    check.outcome, check.result, check.checked_at, check.checked_by_id = outcome, result.strip(), clock.now(), actor.id
    db.session.flush()
    return check


def all_checks() -> list[SpecialCheck]:
    """Every check: open ones first, then by planned date."""
    query = select(SpecialCheck).order_by(SpecialCheck.checked_at.isnot(None), SpecialCheck.planned_on,
                                          SpecialCheck.id)
    return list(db.session.scalars(query))


def government_report() -> dict:
    """The report for the city government: counts by reason and outcome, and every check."""
    checks = all_checks()
    by_reason = {label: sum(c.reason == value for c in checks) for value, label in CheckReason.labels().items()}
    by_outcome = {label: sum(c.outcome == value for c in checks) for value, label in CheckOutcome.labels().items()}
    by_outcome["待督查"] = sum(c.checked_at is None for c in checks)
    return {"total": len(checks), "by_reason": by_reason, "by_outcome": by_outcome, "checks": checks}
