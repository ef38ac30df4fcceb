"""Accountability lists (督查问责清单) for the command office.

Parameters are settings: ``interview_top_n`` (towns with most above-level petitions),
``interview_when_not_falling`` (also towns whose volume has not fallen against the same
period a year earlier) and ``unresolved_above_level_min`` (above-level petitions of this many
times still unresolved). The plan also names towns that fail with their backlog (重点积案化解
不力) for an interview: ``interview_long_unresolved_min`` (towns with this many long-unresolved
cases; 0 turns it off) and ``interview_when_exposed`` (towns with a case exposed in the media
during the period).

"Not fallen" needs last year's figure (``campaign.baselines``): a town without one is not
judged on it, and the lists name such towns instead of treating the missing year as zero.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, true

from app.database import get_or_404
from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, Department, Exposure, FailureRecord, Grid, User
from app.models.vocab import ExposureStatus, FailureKind
from app.services import clock
from app.services.access import require
from app.services.campaign.baselines import IMPORTED, RECORDS, last_year, volume_by
from app.services.campaign.periods import year_before
from app.services.campaign.scoring import OPEN, above_level_petitions
from app.services.cases.long_unresolved import counts_by_unit
from app.services.settings import get_setting


def not_falling(start: datetime, end: datetime) -> dict:
    """Towns and departments with cases this period and no fewer than the same period last year,
    among those with a baseline; the towns without one (``skipped_towns``), whether departments
    were judged at all, and a sentence saying what was skipped (empty when nothing was)."""
    before = last_year(*year_before(start, end))
    now_towns, now_departments = volume_by(Case.town_id, start, end), volume_by(Case.department_id, start, end)
    towns = [{"id": key, "name": db.session.get(Grid, key).name, "volume": n, "last_year": before.towns[key][0],
              "source": before.towns[key][1]}
             for key, n in now_towns.items() if key in before.towns and n >= before.towns[key][0]]
    departments = [] if before.departments is None else [
        {"id": key, "name": db.session.get(Department, key).name, "volume": n,
         "last_year": before.departments.get(key, 0), "source": RECORDS}
        for key, n in now_departments.items() if n >= before.departments.get(key, 0)]
    skipped = sorted(db.session.scalars(select(Grid.name).where(Grid.level == 2, Grid.id.notin_(before.towns))))
    return {"towns": sorted(towns, key=lambda r: (-r["volume"], r["name"])),
            "departments": sorted(departments, key=lambda r: (-r["volume"], r["name"])),
            "skipped_towns": skipped, "departments_skipped": before.departments is None,
            "note": _skipped_note(skipped, before.departments is None)}


def _skipped_note(skipped: list[str], departments_skipped: bool) -> str:
    """What the lists say about a criterion they could not judge."""
    if not skipped and not departments_skipped:
        return ""
    whom = "各镇（街道）" if not skipped or len(skipped) == db.session.scalar(
        select(func.count(Grid.id)).where(Grid.level == 2)) else "、".join(skipped)
    if skipped and departments_skipped:
        whom += "及各部门"
    elif departments_skipped:
        whom = "各部门"
    return (f"「信访量未较去年同期下降」一项未评：{whom}缺少去年同期数据（系统记录不足一年，"
            "且未录入历史信访量；管理员可在“系统管理 › 历史信访量”录入）。")


def interview_towns(start: datetime, end: datetime) -> list[dict]:
    """Towns to be interviewed (约谈), each with its reasons."""
    counts: dict[int, int] = {}
    for case in above_level_petitions(start, end):
        if case.town_id is not None:
            counts[case.town_id] = counts.get(case.town_id, 0) + 1
    reasons: dict[int, list[str]] = {}
    top_n = int(get_setting("interview_top_n"))
    for rank, (town_id, n) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n], 1):
        reasons.setdefault(town_id, []).append(f"越级访 {n} 件，居第 {rank} 位")
    if get_setting("interview_when_not_falling") == 1:
        for row in not_falling(start, end)["towns"]:
            basis = "，据录入的历史信访量" if row["source"] == IMPORTED else ""
            reason = f"信访量 {row['volume']} 件，未较去年同期（{row['last_year']:g} 件{basis}）下降"
            reasons.setdefault(row["id"], []).append(reason)
    _backlog_reasons(reasons, start, end)
    return [{"town_id": t, "town_name": db.session.get(Grid, t).name, "above_level": counts.get(t, 0), "reasons": r}
            for t, r in sorted(reasons.items(), key=lambda kv: (-counts.get(kv[0], 0), kv[0]))]


def _backlog_reasons(reasons: dict[int, list[str]], start: datetime, end: datetime) -> None:
    """Add the towns that fail with their backlog: many long-unresolved cases, or a case exposed."""
    minimum = int(get_setting("interview_long_unresolved_min"))
    if minimum > 0:
        for row in long_unresolved_towns(end):
            if row["count"] >= minimum:
                reasons.setdefault(row["id"], []).append(f"久拖不解案件 {row['count']} 件（达到 {minimum} 件）")
    if get_setting("interview_when_exposed") == 1:
        exposed: dict[int, int] = {}
        for exposure in exposures_in(start, end):
            if exposure.case.town_id is not None:
                exposed[exposure.case.town_id] = exposed.get(exposure.case.town_id, 0) + 1
        for town_id, n in exposed.items():
            reasons.setdefault(town_id, []).append(f"期间内有 {n} 件案件被媒体曝光")


def long_unresolved_towns(end: datetime) -> list[dict]:
    """Every town's count of long-unresolved cases (久拖不解) at the period's end (or now, if sooner),
    most first: the ages and deadlines as they stood then, the cases still open today."""
    return counts_by_unit(true(), min(end, clock.now()))["by_town"]


def exposures_in(start: datetime, end: datetime) -> list[Exposure]:
    """Exposures approved in [start, end) and still public."""
    query = select(Exposure).where(Exposure.status == ExposureStatus.APPROVED, Exposure.decided_at >= start,
                                   Exposure.decided_at < end)
    return list(db.session.scalars(query.order_by(Exposure.decided_at, Exposure.id)))


def unresolved_above_level() -> list[Case]:
    """Open cases petitioned above level at least the configured number of times."""
    minimum = int(get_setting("unresolved_above_level_min"))
    query = select(Case).where(Case.above_level_count >= minimum, Case.status.in_(OPEN))
    return list(db.session.scalars(query.order_by(Case.above_level_count.desc(), Case.received_at)))


def unrectified_referrals(now: datetime) -> list[Case]:
    """Inspection referrals (督察交办件) still open past their handling deadline."""
    due = func.coalesce(Case.handle_due_at, Case.due_at)
    query = select(Case).where(Case.inspection_referral.isnot(None), Case.status.in_(OPEN), due < now)
    return list(db.session.scalars(query.order_by(due, Case.id)))


def accountability_lists(start: datetime, end: datetime) -> dict:
    """Every list the command office reports on, for the period."""
    return {
        "interview_towns": interview_towns(start, end),
        "unresolved_above_level": unresolved_above_level(),
        "unrectified_referrals": unrectified_referrals(clock.now()),
        "not_falling": not_falling(start, end),
        "failure_records": failure_records(),
        "long_unresolved_towns": long_unresolved_towns(end),
        "exposures": exposures_in(start, end),
    }


def record_failure(actor: User, case_id: int, kind: str, person_name: str, person_unit: str = "",
                   note: str = "", person_id: int | None = None, referred: bool = False) -> FailureRecord:
    """The command office records a person's failure, with the case as evidence."""
    require(actor, "record_failures")
    if kind not in FailureKind.labels():
        raise InvalidInput("问责情形不正确。", {"kind": ["不正确"]})
    get_or_404(Case, case_id, "案件不存在。")
    if not person_name.strip():
        raise InvalidInput("请填写责任人姓名。", {"person_name": ["必填"]})
    if person_id is not None and db.session.get(User, person_id) is None:
        raise InvalidInput("责任人账号不存在。", {"person_id": ["不存在"]})
    row = FailureRecord(case_id=case_id, kind=kind, person_name=person_name.strip(), person_unit=person_unit,
                        note=note, person_id=person_id, referred_to_discipline=referred,
                        recorded_by_id=actor.id, recorded_at=clock.now())
    db.session.add(row)
    db.session.flush()
    return row


def failure_records() -> list[FailureRecord]:
    """Every failure record, newest first."""
    return list(db.session.scalars(select(FailureRecord).order_by(FailureRecord.recorded_at.desc(),
                                                                  FailureRecord.id.desc())))


def window(start: datetime | None, end: datetime | None, default_days: int = 30) -> tuple[datetime, datetime]:
    """A period defaulting to the last ``default_days`` days."""
    end = end or clock.now()
    return start or end - timedelta(days=default_days), end
