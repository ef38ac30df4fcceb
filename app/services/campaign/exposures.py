"""Media exposure (媒体曝光) of long-unresolved cases, plan §四.3 "加大媒体曝光的力度".

The command office proposes a case on the long-unresolved list, naming the responsible unit
and what it failed to do; a leading official approves (the exposure is then public: the page
``/exposures`` and ``GET /api/v1/exposures``) or rejects it, never for a case they lead
themselves; a published exposure can be withdrawn with a reason, and it then leaves the
public page but stays on the case's record. Every step is a timeline event of the case.

What goes public is the case's number, category, town, a summary (the staff-written title),
the responsible unit, what was not done, days open and overdue, and once the case is closed
its rectification (the reply's decision and facts, the enforcement measures). Every text
passes ``privacy.public_text`` on the way out, and a proposal that names the petitioner,
a phone or ID number or the case's address is refused.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Case, CaseReply, EnforcementMeasure, Exposure, User
from app.models.vocab import CaseStatus, Category, EnforcementKind, ExposureStatus, ReplyDecision
from app.services.access import authorize, exposure_scope, require
from app.services.cases.long_unresolved import days_open, days_overdue, is_listed
from app.services.cases.privacy import personal_data_in, public_text
from app.services.cases.timeline import append_event
from app.services.clock import BEIJING
from app.services.spreadsheets import Sheet, workbook

S = ExposureStatus
MAX_UNIT, MAX_FAILINGS, MAX_RECTIFICATION = 100, 1000, 500


# ---------------------------------------------------------------- the steps


def propose(user: User, case_id: int, responsible_unit: str, failings: str, now: datetime) -> Exposure:
    """The command office proposes a listed case for exposure (提议曝光)."""
    require(user, "propose_exposure", "只有指挥部办公室可以提议媒体曝光。")
    case = authorize(user, case_id)
    unit, failings = responsible_unit.strip(), failings.strip()
    _check_text(case, unit, failings)
    if not is_listed(case, now):
        raise Conflict("只有列入久拖不解名单的案件才能提议媒体曝光。")
    if _current(case) is not None:
        raise Conflict("该案件已有待审批或已公开的曝光，不能重复提议。")
    exposure = Exposure(case_id=case.id, status=S.PROPOSED, responsible_unit=unit, failings=failings,
                        proposed_by_id=user.id, proposed_at=now)
    db.session.add(exposure)
    db.session.flush()
    append_event(case, "exposure_propose", user, note=f"责任单位：{unit}", data=_event_data(exposure), at=now)
    return exposure


def _check_text(case: Case, unit: str, failings: str) -> None:
    """Both texts given, short enough, and free of the petitioner's data (they will be public)."""
    errors = {}
    for field, text, limit, label in (("responsible_unit", unit, MAX_UNIT, "责任单位"),
                                      ("failings", failings, MAX_FAILINGS, "未履职情况")):
        if not text:
            errors[field] = [f"请填写{label}"]
        elif len(text) > limit:
            errors[field] = [f"{label}不超过 {limit} 字"]
        elif found := personal_data_in(text, case):
            errors[field] = [f"{label}将公开发布，不得包含{'、'.join(found)}"]
    if errors:
        raise InvalidInput("曝光内容有误：" + "；".join(m[0] for m in errors.values()) + "。", errors)


def decide(user: User, exposure_id: int, approve: bool, note: str, now: datetime) -> Exposure:
    """A leading official approves (the exposure is published) or rejects a proposal (with a reason)."""
    require(user, "approve_exposure", "只有领导可以审批媒体曝光。")
    exposure = get_exposure(user, exposure_id)
    if exposure.status != S.PROPOSED:
        raise Conflict(f"该曝光当前为「{S(exposure.status).label}」，不能再审批。")
    if exposure.case.leading_official_id == user.id:
        raise Conflict("不能审批本人包案案件的媒体曝光，请由其他领导审批。")
    if not approve and not note.strip():
        raise InvalidInput("不予曝光须说明理由。", {"note": ["请说明理由"]})
    exposure.status = S.APPROVED if approve else S.REJECTED
    exposure.decided_by_id, exposure.decided_at, exposure.decision_note = user.id, now, note.strip()
    kind = "exposure_approve" if approve else "exposure_reject"
    append_event(exposure.case, kind, user, note=note.strip(), data=_event_data(exposure), at=now)
    return exposure


def withdraw(user: User, exposure_id: int, reason: str, now: datetime) -> Exposure:
    """Take a published exposure off the public page with a reason (撤回); the record stays."""
    require(user, "withdraw_exposure", "只有指挥部办公室或领导可以撤回媒体曝光。")
    exposure = get_exposure(user, exposure_id)
    if exposure.status != S.APPROVED:
        raise Conflict(f"该曝光当前为「{S(exposure.status).label}」，只有已公开的曝光可以撤回。")
    if not reason.strip():
        raise InvalidInput("撤回曝光须说明理由。", {"reason": ["请说明撤回理由"]})
    exposure.status = S.WITHDRAWN
    exposure.withdrawn_by_id, exposure.withdrawn_at, exposure.withdraw_reason = user.id, now, reason.strip()
    append_event(exposure.case, "exposure_withdraw", user, note=reason.strip(), data=_event_data(exposure), at=now)
    return exposure


def _event_data(exposure: Exposure) -> dict:
    """What the timeline keeps of an exposure step."""
    return {"exposure_id": exposure.id, "status": exposure.status}


def _current(case: Case) -> Exposure | None:
    """The case's exposure waiting for a decision or public now, if any."""
    query = select(Exposure).where(Exposure.case_id == case.id, Exposure.status.in_([S.PROPOSED, S.APPROVED]))
    return db.session.scalar(query.limit(1))


# ---------------------------------------------------------------- reading, for staff


def get_exposure(user: User, exposure_id: int) -> Exposure:
    """One exposure record in the user's scope (``access.exposure_scope``), or NotFound."""
    exposure = db.session.scalar(select(Exposure).where(Exposure.id == exposure_id, exposure_scope(user)))
    if exposure is None:
        raise NotFound("曝光记录不存在，或不在您的管辖范围内。")
    return exposure


def exposure_records(user: User, status: str | None = None, case_id: int | None = None) -> list[Exposure]:
    """Exposure records the user may see, newest first, by status or case."""
    query = select(Exposure).where(exposure_scope(user)).options(selectinload(Exposure.case))
    if status is not None:
        query = query.where(Exposure.status == status)
    if case_id is not None:
        query = query.where(Exposure.case_id == case_id)
    return list(db.session.scalars(query.order_by(Exposure.proposed_at.desc(), Exposure.id.desc())))


def record_view(exposure: Exposure, now: datetime) -> dict:
    """An exposure as staff see it: its public text and every step with who and when."""
    return public_view(exposure, now) | {
        "status": exposure.status, "status_label": S(exposure.status).label, "case_id": exposure.case_id,
        "proposed_by": exposure.proposed_by.full_name, "proposed_at": exposure.proposed_at,
        "decided_by": exposure.decided_by.full_name if exposure.decided_by else None,
        "decided_at": exposure.decided_at, "decision_note": exposure.decision_note,
        "withdrawn_by": exposure.withdrawn_by.full_name if exposure.withdrawn_by else None,
        "withdrawn_at": exposure.withdrawn_at, "withdraw_reason": exposure.withdraw_reason,
    }


# ---------------------------------------------------------------- the public side


def published(now: datetime) -> list[dict]:
    """Every exposure public now (approved, not withdrawn), newest first, as the public sees it."""
    query = (select(Exposure).where(Exposure.status == S.APPROVED)
             .options(selectinload(Exposure.case).selectinload(Case.town))
             .order_by(Exposure.decided_at.desc(), Exposure.id.desc()))
    return [public_view(exposure, now) for exposure in db.session.scalars(query)]


def public_view(exposure: Exposure, now: datetime) -> dict:
    """What the public may read of an exposure: no petitioner, no address, no internal notes."""
    case = exposure.case
    closed = case.status == CaseStatus.CLOSED
    return {
        "id": exposure.id, "published_at": exposure.decided_at,
        "case_number": case.number, "category_label": Category(case.category).label,
        "town": case.town.name if case.town else "", "summary": public_text(case.title, case),
        "responsible_unit": public_text(exposure.responsible_unit, case),
        "failings": public_text(exposure.failings, case),
        "received_on": case.received_at.astimezone(BEIJING).date(),
        "days_open": days_open(case, now), "days_overdue": days_overdue(case, now),
        "progress": "已办结" if closed else "整改中",
        "rectification": rectification(case) if closed else None,
    }


def rectification(case: Case) -> dict:
    """How a closed case was put right: the reply's decision and facts, and the enforcement
    measures taken, each through the public-text rule."""
    reply = db.session.scalar(select(CaseReply).where(CaseReply.case_id == case.id)
                              .order_by(CaseReply.id.desc()).limit(1))
    measures = db.session.scalars(select(EnforcementMeasure.kind).where(EnforcementMeasure.case_id == case.id)
                                  .order_by(EnforcementMeasure.id)).all()
    text = public_text(reply.facts_and_reasons, case)[:MAX_RECTIFICATION] if reply else ""
    return {
        "closed_on": case.closed_at.astimezone(BEIJING).date() if case.closed_at else None,
        "decision_label": ReplyDecision(reply.decision).label if reply else "",
        "summary": text,
        "measures": [EnforcementKind(kind).label for kind in dict.fromkeys(measures)],
    }


RELEASE_HEADINGS = ["序号", "曝光编号", "发布日期", "案件编号", "问题类别", "所属镇（街道）", "问题概要", "责任单位",
                    "未履职情况", "收到信访日期", "已历时（天）", "超期（天）", "办理进展", "整改情况"]


def release_xlsx(now: datetime) -> bytes:
    """The published exposures as a workbook for a media release (no personal data)."""
    rows = []
    for n, item in enumerate(published(now), 1):
        fix = item["rectification"]
        fix_text = "" if fix is None else "；".join(
            part for part in (fix["decision_label"], fix["summary"], "、".join(fix["measures"])) if part)
        rows.append([n, f"曝光第 {item['id']} 号", item["published_at"].astimezone(BEIJING).date(), item["case_number"],
                     item["category_label"], item["town"], item["summary"], item["responsible_unit"],
                     item["failings"], item["received_on"], item["days_open"], item["days_overdue"],
                     item["progress"], fix_text])
    caption = f"久拖不解环境信访案件媒体曝光（截至 {now.astimezone(BEIJING):%Y-%m-%d %H:%M}）"
    return workbook([Sheet("媒体曝光", RELEASE_HEADINGS, rows, caption=caption)])
