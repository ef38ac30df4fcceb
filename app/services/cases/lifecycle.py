"""The case lifecycle as one state machine: every transition, who may take it, what it needs.

register → accept / decline / transfer → assign → sign, or return (退单, approved by the
assigner) → on-site check → plan (一案一策) and handle → extension (once, ≤ 30 days,
approved) → reply → review (pass, or back to redo) → follow-up (satisfaction) → close
(销号). A dissatisfied rating or a new petition reopens a closed case.

``take()`` is the only way a case changes state. It checks scope (404 outside it), state
and role (409 with what is wrong), and requirements (409 listing what is missing); then
applies the step, moves the clocks and writes a hash-chained timeline event.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    Case,
    CaseExtension,
    CaseNotice,
    CasePlan,
    CaseReply,
    CaseReturn,
    Department,
    EnforcementMeasure,
    FollowUp,
    Inspection,
    LeaderVisit,
    User,
)
from app.models.vocab import (
    OPEN_STATUSES,
    CaseStatus,
    Channel,
    InspectionKind,
    LegalTrack,
    NoticeKind,
    NotificationKind,
    PhotoStatus,
    Role,
    Satisfaction,
    Stage,
)
from app.services import clock
from app.services.access import authorize
from app.services.cases import deadlines
from app.services.cases.announcements import announce_step
from app.services.cases.departments import department_for_sector
from app.services.cases.long_unresolved import is_listed
from app.services.cases.repeats import link_refusal, link_repeat, reopen_case
from app.services.cases.timeline import append_event
from app.services.field import onsite_rules
from app.services.field.desk_checks import record_desk_check
from app.services.notify.outbox import notify
from app.services.read_memo import remembered

S = CaseStatus
MAX_EXTENSION_DAYS = 30

# Roles grouped by what they do in the lifecycle.
INTAKE = frozenset({Role.SUPERVISOR, Role.COMMAND_OFFICE})
HANDLERS = frozenset({Role.SUPERVISOR, Role.DEPARTMENT_OFFICER})
OVERSEERS = frozenset({Role.SUPERVISOR, Role.COMMAND_OFFICE})
FIELD = frozenset({Role.INSPECTOR, Role.SUPERVISOR, Role.DEPARTMENT_OFFICER})
AFTER_ASSIGN = frozenset({S.ASSIGNED, S.SIGNED, S.RETURN_REQUESTED, S.HANDLING, S.REPLIED, S.REVIEWED})


@dataclass(frozen=True)
class Step:
    """One transition: where it may start, who may take it, and what it does."""

    name: str
    label: str
    sources: frozenset[str]
    roles: frozenset[str]
    target: str | None
    missing: Callable[[Case, User, dict], list[str]]
    apply: Callable[[Case, User, dict, datetime], None]
    refuse: Callable[[Case, User], str | None] = lambda case, user: None
    # What must happen on the case first (not what the form holds): the step is offered with
    # these reasons instead of a form, and taking it is refused with them.
    waits: Callable[[Case, User], list[str]] = lambda case, user: []


STEPS: dict[str, Step] = {}


def step(name: str, label: str, sources, roles, target=None, refuse=None):
    """Register a transition; the decorated function applies it, ``missing`` is attached after."""

    def register(apply):
        STEPS[name] = Step(name, label, frozenset(sources), frozenset(roles), target,
                           _nothing_missing, apply, refuse or (lambda case, user: None))
        return apply

    return register


def needs(name: str):
    """Attach the requirement check of a registered transition."""

    def attach(check):
        STEPS[name] = _replace(STEPS[name], missing=check)
        return check

    return attach


def waits_for(name: str):
    """Attach what a registered transition waits for on the case (``Step.waits``)."""

    def attach(check):
        STEPS[name] = _replace(STEPS[name], waits=check)
        return check

    return attach


def _replace(original: Step, **changes) -> Step:
    """A copy of a frozen Step with some fields changed."""
    fields = {**original.__dict__, **changes}
    return Step(**fields)


def _nothing_missing(case: Case, user: User, data: dict) -> list[str]:
    """Default requirement check: nothing beyond the payload schema."""
    return []


# ---------------------------------------------------------------- the one entry point


def take(user: User, case_id: int, name: str, data: dict) -> Case:
    """Take transition ``name`` on a case for a user, or raise NotFound / Conflict."""
    case = authorize(user, case_id)
    chosen = STEPS.get(name)
    if chosen is None:
        raise NotFound("没有这个办理操作。")
    _check_allowed(chosen, case, user)
    missing = chosen.waits(case, user) + chosen.missing(case, user, data)
    if missing:
        raise Conflict(f"不能{chosen.label}：" + "；".join(missing), {"missing": missing})
    now = clock.now()
    before = case.status
    chosen.apply(case, user, data, now)
    if chosen.target is not None and case.status == before:
        case.status = chosen.target
    deadlines.refresh_case_due(case)
    append_event(case, name, user, note=data.get("note", ""), data=_event_data(before, case, data), at=now)
    announce_step(case, name, user, now)
    return case


def _check_allowed(chosen: Step, case: Case, user: User) -> None:
    """State, then role, then any per-person rule; each refusal says why in Chinese."""
    if case.status not in chosen.sources:
        raise Conflict(f"案件当前为「{CaseStatus(case.status).label}」，不能{chosen.label}。")
    if user.role not in chosen.roles:
        raise Conflict(f"{Role(user.role).label}不能{chosen.label}。")
    reason = chosen.refuse(case, user)
    if reason:
        raise Conflict(reason)


# Fields a timeline event keeps. Free text (notices, replies) may name the petitioner, so it
# stays in its own table, behind the same access rules as the petitioner's data.
_EVENT_FIELDS = (
    "legal_track", "department_id", "responsible_person_id", "leading_official_id", "days",
    "decision", "satisfaction", "kind", "target_date", "reason_kind", "transferred_to", "inspection_id",
)


def _event_data(before: str, case: Case, data: dict) -> dict:
    """What the timeline keeps of a step: the move and its structured fields."""
    kept = {k: data[k] for k in _EVENT_FIELDS if data.get(k) is not None}
    kept = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in kept.items()}
    return {"from": before, "to": case.status, **kept}


# Timeline events written outside the state machine, with their Chinese names; a step's event
# is named by the step's own label.
OTHER_EVENTS = {
    "register": "登记",
    "contact_card": "发放联系卡",
    "public_rating": "群众评价",
    "attach": "上传附件",
    "accept_onsite": "确认现场核查有效",
    "exposure_propose": "提议媒体曝光",
    "exposure_approve": "批准媒体曝光",
    "exposure_reject": "不予曝光",
    "exposure_withdraw": "撤回媒体曝光",
}


def event_label(kind: str) -> str:
    """The Chinese name of a timeline event, so no page shows a raw event code."""
    if kind in STEPS:
        return STEPS[kind].label
    return OTHER_EVENTS.get(kind, "其他记录")


def available_steps(user: User, case: Case) -> list[Step]:
    """The transitions this user may take on this case now (requirements are checked on taking)."""
    return [
        s for s in STEPS.values()
        if case.status in s.sources and user.role in s.roles and not s.refuse(case, user)
    ]


@dataclass(frozen=True)
class Offer:
    """A transition as the case page and the API offer it: ready (``waiting_for`` empty), or
    waiting for something to happen on the case first, said in Chinese."""

    step: Step
    waiting_for: list[str]

    @property
    def name(self) -> str:
        """The step's name."""
        return self.step.name

    @property
    def label(self) -> str:
        """The step's Chinese name."""
        return self.step.label

    @property
    def target(self) -> str | None:
        """The status the step moves the case to, if any."""
        return self.step.target


def offered_steps(user: User, case: Case) -> list[Offer]:
    """The transitions of ``available_steps``, each with what it still waits for on the case, so
    no form is offered that taking would refuse for a reason the form cannot change."""
    return [Offer(s, s.waits(case, user)) for s in available_steps(user, case)]


# ---------------------------------------------------------------- acceptance


@step("accept", "受理", {S.REGISTERED}, INTAKE, S.ACCEPTED)
def _accept(case: Case, user: User, data: dict, now: datetime) -> None:
    case.legal_track = data["legal_track"]
    case.accepted_at = now
    deadlines.stop_clock(case, Stage.ACCEPT, now)
    deadlines.start_clock(case, Stage.HANDLE, now)
    if case.inspection_referral or Channel(case.channel).is_inspection:
        deadlines.start_clock(case, Stage.REPORT, now)
    if case.legal_track == LegalTrack.PETITION:
        deadlines.start_clock(case, Stage.NOTICE, now)
    if data.get("notice_text"):
        _issue_notice(case, user, NoticeKind.ACCEPTANCE, data["notice_text"], now)


@needs("accept")
def _accept_needs(case: Case, user: User, data: dict) -> list[str]:
    if data.get("legal_track") not in (LegalTrack.VIOLATION_REPORT, LegalTrack.PETITION):
        return ["受理时须定性为「举报」或「信访」（其他途径请用「转其他途径」）"]
    return []


@step("decline", "不予受理", {S.REGISTERED}, INTAKE, S.DECLINED)
def _decline(case: Case, user: User, data: dict, now: datetime) -> None:
    case.legal_track = LegalTrack.PETITION
    _issue_notice(case, user, NoticeKind.DECLINE, data["notice_text"], now)
    deadlines.stop_clock(case, Stage.ACCEPT, now)


@needs("decline")
def _decline_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if data.get("notice_text", "").strip() else ["须填写不予受理的书面告知（理由与依据）"]


@step("transfer", "转其他途径", {S.REGISTERED}, INTAKE, S.TRANSFERRED)
def _transfer(case: Case, user: User, data: dict, now: datetime) -> None:
    case.legal_track = LegalTrack.OTHER_CHANNEL
    case.transferred_to = data["transferred_to"]
    case.transfer_reason = data["transfer_reason"]
    if data.get("notice_text"):
        _issue_notice(case, user, NoticeKind.TRANSFER, data["notice_text"], now)
    deadlines.stop_clock(case, Stage.ACCEPT, now)


@needs("transfer")
def _transfer_needs(case: Case, user: User, data: dict) -> list[str]:
    missing = []
    if not data.get("transferred_to", "").strip():
        missing.append("须写明转往何处（途径或部门）")
    if not data.get("transfer_reason", "").strip():
        missing.append("须写明转办理由")
    return missing


@step("notify", "书面告知", {S.ACCEPTED, S.ASSIGNED, S.SIGNED, S.HANDLING}, INTAKE | HANDLERS)
def _notify(case: Case, user: User, data: dict, now: datetime) -> None:
    _issue_notice(case, user, NoticeKind.ACCEPTANCE, data["notice_text"], now)


@needs("notify")
def _notify_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if data.get("notice_text", "").strip() else ["须填写告知内容"]


def _issue_notice(case: Case, user: User, kind: str, text: str, now: datetime) -> None:
    """Record a written notice; an acceptance notice meets the notice clock."""
    db.session.add(CaseNotice(case_id=case.id, kind=kind, text=text, issued_by_id=user.id, issued_at=now))
    if kind == NoticeKind.ACCEPTANCE:
        deadlines.stop_clock(case, Stage.NOTICE, now)


@step("report", "报送办理情况", {S.ACCEPTED, S.ASSIGNED, S.SIGNED, S.HANDLING}, INTAKE | HANDLERS)
def _report(case: Case, user: User, data: dict, now: datetime) -> None:
    deadlines.stop_clock(case, Stage.REPORT, now)


@needs("report")
def _report_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if data.get("note", "").strip() else ["须填写办理情况报告内容"]


OPEN = frozenset({S.REGISTERED, S.ACCEPTED}) | AFTER_ASSIGN


@step("link_repeat", "标记为重复件", OPEN, INTAKE)
def _link_repeat(case: Case, user: User, data: dict, now: datetime) -> None:
    link_repeat(case, user, data["repeat_of_id"], now)


@needs("link_repeat")
def _link_repeat_needs(case: Case, user: User, data: dict) -> list[str]:
    if not data.get("repeat_of_id"):
        return ["须选择原案件"]
    refusal = link_refusal(case, data["repeat_of_id"])
    return [refusal] if refusal else []


# ---------------------------------------------------------------- assignment and returns


@step("assign", "交办", {S.ACCEPTED}, INTAKE, S.ASSIGNED)
def _assign(case: Case, user: User, data: dict, now: datetime) -> None:
    routed = routed_department(case)
    department_id = data.get("department_id") or (routed.id if routed else None)
    if routed is not None and department_id != routed.id:
        case.department_override_reason = data["override_reason"]
    case.department_id = department_id
    if "responsible_person_id" in data:
        case.responsible_person_id = data["responsible_person_id"]
    if data.get("leading_official_id"):
        case.leading_official_id = data["leading_official_id"]
    case.assigned_at, case.assigned_by_id = now, user.id
    deadlines.start_clock(case, Stage.SIGN, now)
    deadlines.start_clock(case, Stage.RETURN_WINDOW, now)


@needs("assign")
def _assign_needs(case: Case, user: User, data: dict) -> list[str]:
    missing = []
    routed = routed_department(case)
    chosen = data.get("department_id") or (routed.id if routed else None)
    if chosen is None or db.session.get(Department, chosen) is None:
        missing.append("须指定承办部门")
    elif routed is not None and chosen != routed.id and not data.get("override_reason", "").strip():
        missing.append(f"改派至非默认部门（默认：{routed.name}）须说明理由")
    missing += _people_exist(data, ("responsible_person_id", "leading_official_id"))
    if data.get("leading_official_id"):
        leader = db.session.get(User, data["leading_official_id"])
        if leader is not None and leader.role != Role.LEADING_OFFICIAL:
            missing.append("包案领导须为包案领导角色的用户")
    return missing


def routed_department(case: Case) -> Department | None:
    """The department the routing table gives this case's sector."""
    return department_for_sector(case.sector)


def _people_exist(data: dict, keys: tuple[str, ...]) -> list[str]:
    """A message for each named user id that does not exist."""
    return [f"用户 {data[k]} 不存在" for k in keys if data.get(k) and db.session.get(User, data[k]) is None]


@step("sign", "签收", {S.ASSIGNED}, HANDLERS, S.SIGNED)
def _sign(case: Case, user: User, data: dict, now: datetime) -> None:
    case.signed_at = now
    if case.responsible_person_id is None:
        case.responsible_person_id = user.id
    deadlines.stop_clock(case, Stage.SIGN, now)
    deadlines.stop_clock(case, Stage.RETURN_WINDOW, now)
    deadlines.start_clock(case, Stage.ONSITE, now)
    if case.first_onsite_at is not None:  # the inspector was on site before the case was signed for
        deadlines.stop_clock(case, Stage.ONSITE, case.first_onsite_at)


@step("request_return", "申请退单", {S.ASSIGNED}, HANDLERS, S.RETURN_REQUESTED)
def _request_return(case: Case, user: User, data: dict, now: datetime) -> None:
    """The objection is lodged in time (the window is met); while the assigner decides, no sign
    deadline runs against the unit that objected, and nobody reminds it to sign."""
    db.session.add(CaseReturn(case_id=case.id, reason=data["reason"], requested_by_id=user.id, requested_at=now))
    deadlines.stop_clock(case, Stage.RETURN_WINDOW, now)
    deadlines.drop_clock(case, Stage.SIGN)


@needs("request_return")
def _request_return_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if data.get("reason", "").strip() else ["须说明退单理由（为何不属本单位职责）"]


@waits_for("request_return")
def _request_return_waits(case: Case, user: User) -> list[str]:
    window = deadlines.clock_for(case, Stage.RETURN_WINDOW)
    if window is not None and clock.now() > window.due_at:
        return ["已超过退单期限（交办后5个工作日内），请签收办理"]
    return []


def _only_assigner(case: Case, user: User) -> str | None:
    """Only the person who assigned the case, or the command office, decides a return."""
    if user.role == Role.COMMAND_OFFICE or case.assigned_by_id == user.id:
        return None
    return "只有交办人或指挥部办公室可以审批退单。"


@step("approve_return", "同意退单", {S.RETURN_REQUESTED}, INTAKE, S.ACCEPTED, refuse=_only_assigner)
def _approve_return(case: Case, user: User, data: dict, now: datetime) -> None:
    _decide_return(case, user, True, data.get("note", ""), now)
    case.assigned_at = None
    case.responsible_person_id = None
    deadlines.stop_clock(case, Stage.SIGN, now)
    deadlines.stop_clock(case, Stage.RETURN_WINDOW, now)


@step("reject_return", "不同意退单", {S.RETURN_REQUESTED}, INTAKE, S.ASSIGNED, refuse=_only_assigner)
def _reject_return(case: Case, user: User, data: dict, now: datetime) -> None:
    """The case stays with the unit: its sign deadline runs afresh from the decision."""
    _decide_return(case, user, False, data["note"], now)
    deadlines.start_clock(case, Stage.SIGN, now)


@needs("approve_return")
def _approve_return_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if _pending_return(case) else ["没有待审批的退单申请"]


@needs("reject_return")
def _reject_return_needs(case: Case, user: User, data: dict) -> list[str]:
    missing = [] if data.get("note", "").strip() else ["须说明不同意退单的理由"]
    return missing + _approve_return_needs(case, user, data)


def _pending_return(case: Case) -> CaseReturn | None:
    """The return request waiting for a decision, if any."""
    return db.session.scalar(
        select(CaseReturn).where(CaseReturn.case_id == case.id, CaseReturn.approved.is_(None))
    )


def _decide_return(case: Case, user: User, approved: bool, note: str, now: datetime) -> None:
    """Record the decision on the pending return request."""
    pending = _pending_return(case)
    pending.approved, pending.decided_by_id, pending.decided_at, pending.decision_note = approved, user.id, now, note


# ---------------------------------------------------------------- on site and handling


@step("record_onsite", "现场核查", onsite_rules.ONSITE_STATES, FIELD)
def _record_onsite(case: Case, user: User, data: dict, now: datetime) -> None:
    """Store the check with its photos through the on-site rule; its summary becomes the event's note."""
    inspection = record_desk_check(case, user, data, now)
    data["note"] = onsite_rules.summary(inspection)
    data["inspection_id"] = str(inspection.id)


@needs("record_onsite")
def _record_onsite_needs(case: Case, user: User, data: dict) -> list[str]:
    if data.get("notes", "").strip() or data.get("findings") or data.get("photos"):
        return []
    return ["须填写核查情况"]


@step("plan", "制定一案一策", {S.SIGNED, S.HANDLING}, HANDLERS, S.HANDLING)
def _plan(case: Case, user: User, data: dict, now: datetime) -> None:
    db.session.add(CasePlan(
        case_id=case.id, measures=data["measures"], department_id=case.department_id,
        responsible_person_id=data.get("responsible_person_id"), responsible_name=data["responsible_name"],
        target_date=data["target_date"], created_by_id=user.id, created_at=now,
    ))


@needs("plan")
def _plan_needs(case: Case, user: User, data: dict) -> list[str]:
    missing = [label for key, label in (("measures", "须填写化解措施"), ("responsible_name", "须填写责任人"))
               if not str(data.get(key, "")).strip()]
    if not data.get("target_date"):
        missing.append("须填写整改期限")
    elif data["target_date"] < clock.beijing_date(clock.now()):
        missing.append("整改期限不能早于今天")
    return missing + _people_exist(data, ("responsible_person_id",))


@waits_for("plan")
def _plan_waits(case: Case, user: User) -> list[str]:
    waiting = [] if _has_onsite_check(case) else ["须先完成现场核查"]
    if needs_leader(case) and case.leading_official_id is None:
        waiting.append("督察交办件和越级访须先明确包案领导")
    return waiting


def _has_onsite_check(case: Case) -> bool:
    """Any on-site check recorded, flagged or not: handling goes on while a doubtful one is reviewed."""
    query = select(exists().where(Inspection.case_id == case.id, Inspection.kind == InspectionKind.ONSITE_CHECK))
    return bool(db.session.scalar(query))


def needs_leader(case: Case) -> bool:
    """Inspection referrals and above-level petitions are led by a named official (领导包案)."""
    return bool(case.inspection_referral) or case.above_level or Channel(case.channel).is_inspection


@step("set_leader", "明确包案领导", AFTER_ASSIGN | {S.ACCEPTED}, OVERSEERS)
def _set_leader(case: Case, user: User, data: dict, now: datetime) -> None:
    case.leading_official_id = data["leading_official_id"]


@needs("set_leader")
def _set_leader_needs(case: Case, user: User, data: dict) -> list[str]:
    leader = db.session.get(User, data.get("leading_official_id") or 0)
    return [] if leader is not None and leader.role == Role.LEADING_OFFICIAL else ["须选择一名包案领导"]


@step("leader_visit", "领导现场核查", AFTER_ASSIGN, {Role.LEADING_OFFICIAL})
def _leader_visit(case: Case, user: User, data: dict, now: datetime) -> None:
    db.session.add(LeaderVisit(case_id=case.id, leader_id=user.id, visited_at=data.get("visited_at") or now,
                               note=data.get("note", ""), recorded_at=now))


def _plan_not_signed_off(case: Case, user: User) -> str | None:
    """A plan is signed off once; a new plan can be signed off again."""
    plan = latest_plan(case)
    if plan is not None and plan.leader_signed_off_at is not None:
        return "该方案已审定；制定新的一案一策后可再次审定。"
    return None


@step("leader_sign_off", "领导审定方案", {S.HANDLING}, {Role.LEADING_OFFICIAL}, refuse=_plan_not_signed_off)
def _leader_sign_off(case: Case, user: User, data: dict, now: datetime) -> None:
    plan = latest_plan(case)
    plan.leader_signed_off_by_id, plan.leader_signed_off_at = user.id, now


@waits_for("leader_sign_off")
def _leader_sign_off_waits(case: Case, user: User) -> list[str]:
    return [] if latest_plan(case) is not None else ["尚无一案一策方案可审定"]


def latest_plan(case: Case) -> CasePlan | None:
    """The plan in force: the newest one."""
    return db.session.scalar(
        select(CasePlan).where(CasePlan.case_id == case.id).order_by(CasePlan.id.desc()).limit(1)
    )


@step("enforce", "记录执法措施", {S.SIGNED, S.HANDLING}, HANDLERS)
def _enforce(case: Case, user: User, data: dict, now: datetime) -> None:
    db.session.add(EnforcementMeasure(
        case_id=case.id, kind=data["kind"], document_number=data.get("document_number", ""),
        decided_on=data.get("decided_on"), amount_yuan=data.get("amount_yuan"), note=data.get("note", ""),
        recorded_by_id=user.id, recorded_at=now,
    ))


# ---------------------------------------------------------------- extension


@step("request_extension", "申请延期", {S.HANDLING}, HANDLERS)
def _request_extension(case: Case, user: User, data: dict, now: datetime) -> None:
    db.session.add(CaseExtension(case_id=case.id, days=data["days"], reason=data["reason"],
                                 requested_by_id=user.id, requested_at=now))


@needs("request_extension")
def _request_extension_needs(case: Case, user: User, data: dict) -> list[str]:
    missing = []
    if not 1 <= int(data.get("days") or 0) <= MAX_EXTENSION_DAYS:
        missing.append(f"延期天数须为 1 至 {MAX_EXTENSION_DAYS} 天")
    if not data.get("reason", "").strip():
        missing.append("须说明延期理由")
    return missing


@waits_for("request_extension")
def _request_extension_waits(case: Case, user: User) -> list[str]:
    waiting = []
    if _extensions(case, approved=None):
        waiting.append("已申请延期，待审批")
    elif _extensions(case, approved=True):
        waiting.append("每件只能延期一次（已批准延期）")
    handling = deadlines.clock_for(case, Stage.HANDLE)
    if handling is not None and handling.done_at is None and handling.due_at <= clock.now():
        # 信访工作条例 第三十四条: an extension is asked for before the time runs out.
        waiting.append("办理期限已过，不能再申请延期（须在期限届满前申请）")
    return waiting


def _extensions(case: Case, approved: bool | None) -> list[CaseExtension]:
    """The case's extension requests with a given decision (None: pending)."""
    decided = CaseExtension.approved.is_(None) if approved is None else CaseExtension.approved.is_(approved)
    query = select(CaseExtension).where(CaseExtension.case_id == case.id, decided)
    return list(remembered(("extensions", case.id, approved), lambda: tuple(db.session.scalars(query))))


def _not_own_extension(case: Case, user: User) -> str | None:
    """Only a pending request is decided, and nobody decides their own."""
    pending = _extensions(case, approved=None)
    if not pending:
        return "没有待审批的延期申请"
    if pending[0].requested_by_id == user.id:
        return "不能审批本人提出的延期申请。"
    return None


@step("approve_extension", "批准延期", {S.HANDLING}, OVERSEERS, refuse=_not_own_extension)
def _approve_extension(case: Case, user: User, data: dict, now: datetime) -> None:
    request = _extensions(case, approved=None)[0]
    request.approved, request.decided_by_id, request.decided_at = True, user.id, now
    deadlines.extend_clock(case, Stage.HANDLE, request.days)
    _issue_notice(case, user, NoticeKind.EXTENSION, data["notice_text"], now)


@needs("approve_extension")
def _approve_extension_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if data.get("notice_text", "").strip() else ["须填写告知信访人的延期理由"]


@step("reject_extension", "不批准延期", {S.HANDLING}, OVERSEERS, refuse=_not_own_extension)
def _reject_extension(case: Case, user: User, data: dict, now: datetime) -> None:
    request = _extensions(case, approved=None)[0]
    request.approved, request.decided_by_id, request.decided_at = False, user.id, now


# ---------------------------------------------------------------- reply, review, follow-up, close


@step("reply", "答复办结", {S.HANDLING}, HANDLERS, S.REPLIED)
def _reply(case: Case, user: User, data: dict, now: datetime) -> None:
    db.session.add(CaseReply(
        case_id=case.id, request_summary=data["request_summary"], facts_and_reasons=data["facts_and_reasons"],
        decision=data["decision"], legal_basis=data["legal_basis"], replied_by_id=user.id, replied_at=now,
    ))
    case.replied_at = now
    deadlines.stop_clock(case, Stage.HANDLE, now)


@needs("reply")
def _reply_needs(case: Case, user: User, data: dict) -> list[str]:
    labels = {"request_summary": "信访请求", "facts_and_reasons": "事实和理由", "legal_basis": "法律依据"}
    missing = [f"答复须写明{label}" for key, label in labels.items() if not data.get(key, "").strip()]
    if not data.get("decision"):
        missing.append("答复须写明处理意见（支持/解释说明/不予支持）")
    return missing


@waits_for("reply")
def _reply_waits(case: Case, user: User) -> list[str]:
    return [] if latest_plan(case) is not None else ["须先制定一案一策"]


def latest_reply(case: Case) -> CaseReply | None:
    """The newest written reply."""
    query = select(CaseReply).where(CaseReply.case_id == case.id).order_by(CaseReply.id.desc()).limit(1)
    return remembered(("latest_reply", case.id), lambda: db.session.scalar(query))


def _not_own_reply(case: Case, user: User) -> str | None:
    """Nobody passes their own reply: a second person reads it before the petitioner does."""
    reply = latest_reply(case)
    if reply is not None and reply.replied_by_id == user.id:
        return "不能审核通过本人作出的答复，请由其他管理人员审核。"
    return None


@step("review_pass", "审核通过", {S.REPLIED}, OVERSEERS, S.REVIEWED, refuse=_not_own_reply)
def _review_pass(case: Case, user: User, data: dict, now: datetime) -> None:
    _review(case, user, True, data.get("note", ""), now)
    deadlines.start_clock(case, Stage.FOLLOW_UP, now)


@step("review_redo", "退回重办", {S.REPLIED}, OVERSEERS, S.HANDLING)
def _review_redo(case: Case, user: User, data: dict, now: datetime) -> None:
    _review(case, user, False, data["note"], now)
    case.replied_at = None
    deadlines.resume_clock(case, Stage.HANDLE)


@needs("review_pass")
def _review_pass_needs(case: Case, user: User, data: dict) -> list[str]:
    reply = latest_reply(case)
    return [] if reply is not None and reply.review_passed is None else ["没有待审核的书面答复"]


@needs("review_redo")
def _review_redo_needs(case: Case, user: User, data: dict) -> list[str]:
    missing = [] if data.get("note", "").strip() else ["须写明退回重办的理由"]
    return missing + _review_pass_needs(case, user, data)


def _review(case: Case, user: User, passed: bool, note: str, now: datetime) -> None:
    """Record the supervisor's review on the newest reply."""
    reply = latest_reply(case)
    reply.review_passed, reply.reviewed_by_id, reply.reviewed_at, reply.review_note = passed, user.id, now, note


@step("follow_up", "回访", {S.REVIEWED}, OVERSEERS | HANDLERS, S.FOLLOWED_UP)
def _follow_up(case: Case, user: User, data: dict, now: datetime) -> None:
    record_follow_up(case, user, data.get("satisfaction"), data.get("not_possible_reason", ""),
                     data.get("note", ""), "desk", now)


@needs("follow_up")
def _follow_up_needs(case: Case, user: User, data: dict) -> list[str]:
    if data.get("satisfaction") or data.get("not_possible_reason", "").strip():
        return []
    return ["须记录满意度，或说明无法回访的原因"]


def record_follow_up(case: Case, user: User | None, satisfaction: str | None, not_possible_reason: str,
                     note: str, source: str, now: datetime, contact_card_id: int | None = None) -> FollowUp:
    """Record a follow-up; a dissatisfied rating reopens the case (also used by the public page)."""
    follow_up = FollowUp(case_id=case.id, satisfaction=satisfaction, not_possible_reason=not_possible_reason,
                         note=note, source=source, recorded_by_id=user.id if user else None, recorded_at=now,
                         contact_card_id=contact_card_id)
    db.session.add(follow_up)
    deadlines.stop_clock(case, Stage.FOLLOW_UP, now)
    if satisfaction == Satisfaction.DISSATISFIED:
        case.dissatisfied = True
        reopen_case(case, now)
    db.session.flush()
    return follow_up


def _only_listed(case: Case, user: User) -> str | None:
    """The regular follow-up is for cases on the long-unresolved list (久拖不解)."""
    return None if is_listed(case, clock.now()) else "该案件不在久拖不解名单上，无需定期回访。"


@step("revisit", "定期回访", OPEN_STATUSES, OVERSEERS | HANDLERS, refuse=_only_listed)
def _revisit(case: Case, user: User, data: dict, now: datetime) -> None:
    """Record a regular follow-up of a case still open; it closes nothing and starts the next interval."""
    db.session.add(FollowUp(case_id=case.id, periodic=True, not_possible_reason=data.get("not_possible_reason", ""),
                            note=data.get("note", ""), source="desk", recorded_by_id=user.id, recorded_at=now))
    deadlines.start_clock(case, Stage.REVISIT, now)


@needs("revisit")
def _revisit_needs(case: Case, user: User, data: dict) -> list[str]:
    if data.get("note", "").strip() or data.get("not_possible_reason", "").strip():
        return []
    return ["须记录回访情况（向信访人通报的进展及其意见），或说明无法回访的原因"]


@step("close", "销号", {S.REVIEWED, S.FOLLOWED_UP}, OVERSEERS, S.CLOSED)
def _close(case: Case, user: User, data: dict, now: datetime) -> None:
    case.closed_at = now
    for open_clock in deadlines.open_clocks(case):
        deadlines.stop_clock(case, open_clock.stage, now)


@needs("close")
def _close_needs(case: Case, user: User, data: dict) -> list[str]:
    return [item.missing for item in close_checklist(case) if not item.met]


@dataclass(frozen=True)
class Requirement:
    """One condition of a step, as a checklist shows it: what it is, whether it is met, what to do."""

    label: str
    met: bool
    missing: str


def close_checklist(case: Case) -> list[Requirement]:
    """What 销号 needs, each with whether this case meets it; the case page shows it before the step.

    The evidence requirement: an on-site check that counts (unflagged, or accepted by a
    supervisor or the command office) with at least one received photo, or one that gives a
    reason why no photo could be taken (vocab.NoPhotoReason).
    """
    reply = latest_reply(case)
    return [
        Requirement("书面答复已审核通过", reply is not None and bool(reply.review_passed),
                    "须有审核通过的书面答复"),
        Requirement("已回访，或已记录无法回访的原因", _has_follow_up(case),
                    "须完成回访，或记录无法回访的原因"),
        Requirement("有一次有效的现场核查（带照片，或注明无法拍照的原因）", _has_onsite_evidence(case),
                    "须有一次有效的现场核查（带已上传的照片，或注明无法拍照的原因）；存疑的核查须经确认"),
    ]


def _has_follow_up(case: Case) -> bool:
    """A closing follow-up that is not a dissatisfied rating (which would have reopened the case);
    a regular follow-up of a long-unresolved case (定期回访) is not one."""
    query = select(FollowUp.id).where(
        FollowUp.case_id == case.id,
        FollowUp.periodic.is_(False),
        (FollowUp.satisfaction.is_(None)) | (FollowUp.satisfaction != Satisfaction.DISSATISFIED),
    )
    return db.session.scalar(query.limit(1)) is not None


def _has_onsite_evidence(case: Case) -> bool:
    """A counting on-site check of this case with a received photo, or with a no-photo reason."""
    checks = db.session.scalars(
        select(Inspection).where(Inspection.case_id == case.id, Inspection.kind == InspectionKind.ONSITE_CHECK)
    )
    for check in checks:
        if not onsite_rules.counts_as_onsite(check):
            continue
        if check.no_photo_reason or any(p.status == PhotoStatus.RECEIVED for p in check.photos):
            return True
    return False


@step("reopen", "重新办理", {S.CLOSED, S.FOLLOWED_UP}, OVERSEERS, S.HANDLING)
def _reopen_step(case: Case, user: User, data: dict, now: datetime) -> None:
    if data.get("reason_kind") == "repeat":
        case.repeat_count += 1
    else:
        case.dissatisfied = True
    reopen_case(case, now)


@needs("reopen")
def _reopen_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if data.get("note", "").strip() else ["须说明重新办理的原因"]


# ---------------------------------------------------------------- reminders (催办)
# A supervisor or the command office presses the handler between the automatic warnings:
# the same people the yellow-clock reminder reaches are told, and the timeline keeps it.


@step("remind", "催办", {S.ASSIGNED, S.SIGNED, S.HANDLING}, OVERSEERS)
def _remind(case: Case, user: User, data: dict, now: datetime) -> None:
    note = data.get("note", "").strip()
    message = f"【催办】{user.full_name}催办案件{case.number}，请抓紧办理。" + (f"（{note}）" if note else "")
    # Through the outbox, as the yellow-clock reminder: SMS and robots by each person's settings.
    notify(NotificationKind.REMINDER, deadlines.reminder_recipients(case), message, case, now, exclude=user)


@needs("remind")
def _remind_needs(case: Case, user: User, data: dict) -> list[str]:
    return [] if deadlines.reminder_recipients(case) else ["没有可催办的承办人或承办部门人员"]
