"""Repeat petitions (重复件) and reopening a closed case (重新办理).

A new petition about an earlier case is linked to it, at registration or later from the
desk: an above-level channel counts one more above-level visit on the original, an
irregular petition one more irregular one, and a closed original is reopened as a repeat.
A dissatisfied follow-up or the desk's own reopen step reopens a case the same way: back
to handling with a fresh handling clock.
"""

from datetime import datetime

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Case, User
from app.models.vocab import CaseStatus, Channel, Stage
from app.services.access import case_scope
from app.services.cases import deadlines
from app.services.cases.timeline import append_event


def link_repeat(case: Case, user: User, original_id: int | None, now: datetime) -> None:
    """Link a repeat petition to its original: count above-level visits, reopen if closed."""
    if original_id is None:
        return
    original = db.session.scalar(select(Case).where(Case.id == original_id, case_scope(user)))
    if original is None:
        raise NotFound("所选原案件不存在，或不在您的管辖范围内。")
    case.repeat_of_id = original.id
    if Channel(case.channel).above_level:
        original.above_level = True
        original.above_level_count += 1
    if case.irregular_count:
        original.irregular_count = (original.irregular_count or 0) + 1
    if original.status == CaseStatus.CLOSED:
        reopen_as_repeat(original, user, case, now)


def reopen_as_repeat(original: Case, user: User, new_case: Case, now: datetime) -> None:
    """A new petition on a closed case reopens it (marked repeat) with a fresh handling clock."""
    original.repeat_count += 1
    reopen_case(original, now)
    append_event(original, "reopen", user, note=f"新信访 {new_case.number} 重复反映，重新办理",
                 data={"from": CaseStatus.CLOSED, "to": original.status, "reason_kind": "repeat"}, at=now)


def reopen_case(case: Case, now: datetime) -> None:
    """Back to handling with a fresh handling clock."""
    case.status = CaseStatus.HANDLING
    case.closed_at = None
    case.replied_at = None
    case.reopened_count += 1
    deadlines.start_clock(case, Stage.HANDLE, now)
