"""What the offices print and stamp: the assignment sheet (交办单) and the written reply
(答复意见书). Both are built from the stored case, for one reader: petitioner data appears as
that reader may see it (``privacy.petitioner_view``), so a printed sheet never shows more
than the screen."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Case, CaseEvent, CaseReply, User
from app.models.vocab import Channel, ReplyDecision, Stage
from app.services.cases.deadlines import open_clocks
from app.services.cases.privacy import petitioner_view
from app.services.geo.place_names import city_name

# Clocks a department must keep, in the order the sheet lists them.
SHEET_STAGES = (Stage.SIGN, Stage.RETURN_WINDOW, Stage.ONSITE, Stage.REPORT, Stage.NOTICE, Stage.HANDLE)
# 信访工作条例 Art 35: a petitioner who disagrees may ask the next-higher organ for a review
# within 30 days of receiving the written reply.
REVIEW_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Deadline:
    """One line of the sheet's time limits."""

    label: str
    due_at: datetime


@dataclass(frozen=True)
class AssignmentSheet:
    """The 交办单: what, where, to whom, by when, and who assigned it."""

    city: str
    case: Case
    channel: str
    petitioner: dict
    deadlines: list[Deadline]
    assigned_by: str
    assigned_at: datetime | None
    note: str


@dataclass(frozen=True)
class ReplyLetter:
    """The 答复意见书 from the stored reply: request, facts and reasons, decision, basis."""

    city: str
    case: Case
    channel: str
    petitioner: dict
    reply: CaseReply
    decision: str
    issuer: str
    approved: bool
    review_window_days: int


def assignment_sheet(reader: User, case: Case) -> AssignmentSheet:
    """The sheet for a case that has been assigned (交办); 404 with a reason before that."""
    if case.assigned_at is None:
        raise NotFound("该案件尚未交办，没有交办单。")
    clocks = {c.stage: c for c in open_clocks(case)}
    lines = [Deadline(Stage(s).label, clocks[s].due_at) for s in SHEET_STAGES if s in clocks]
    if case.handle_due_at is not None and Stage.HANDLE not in clocks:
        lines.append(Deadline(Stage.HANDLE.label, case.handle_due_at))
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "assign")
                               .order_by(CaseEvent.seq.desc()).limit(1)).first()
    return AssignmentSheet(
        city=city_name(), case=case, channel=Channel(case.channel).label,
        petitioner=petitioner_view(case, reader), deadlines=lines,
        assigned_by=case.assigned_by.full_name if case.assigned_by else "",
        assigned_at=case.assigned_at, note=event.note if event else "",
    )


def reply_letter(reader: User, case: Case) -> ReplyLetter:
    """The latest written reply of a case; 404 with a reason when none was written."""
    reply = db.session.scalars(select(CaseReply).where(CaseReply.case_id == case.id)
                               .order_by(CaseReply.id.desc()).limit(1)).first()
    if reply is None:
        raise NotFound("该案件尚无书面答复，没有答复意见书。")
    return ReplyLetter(
        city=city_name(), case=case, channel=Channel(case.channel).label,
        petitioner=petitioner_view(case, reader), reply=reply, decision=ReplyDecision(reply.decision).label,
        issuer=case.department.name if case.department else "", approved=bool(reply.review_passed),
        review_window_days=REVIEW_WINDOW_DAYS,
    )
