"""Repeat petitions (重复件) and reopening a closed case (重新办理).

A new petition about an earlier case is linked to it, at registration or later from the
desk: an above-level channel counts one more above-level visit on the original, an
irregular petition one more irregular one, and a closed original is reopened as a repeat.

Repeat links form a tree (each case has at most one original): a case is never its own
original, and never the original of one of its own originals (a cycle A→B→A would count
each visit twice). Linking an already linked case to another original moves it: the old
original gives back the visits this case had counted on it.
A dissatisfied follow-up or the desk's own reopen step reopens a case the same way: back
to handling with a fresh handling clock.
"""

from datetime import datetime

from sqlalchemy import select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Case, User
from app.models.vocab import CaseStatus, Channel, Stage
from app.services.access import case_scope
from app.services.cases import deadlines
from app.services.cases.timeline import append_event


def link_refusal(case: Case, original_id: int) -> str | None:
    """Why ``case`` may not become a repeat of ``original_id`` (Chinese), or None when it may.

    Walks up from the chosen original: meeting ``case`` on the way means the link would close a cycle.
    """
    if original_id == case.id:
        return "不能标记为自身的重复件"
    if original_id == case.repeat_of_id:
        return "已是该案件的重复件"
    seen: set[int] = set()
    current = original_id
    while current is not None and current not in seen:
        if current == case.id:
            return "所选原案件本身是本案件的重复件，不能互为重复件"
        seen.add(current)
        current = db.session.scalar(select(Case.repeat_of_id).where(Case.id == current))
    return None


def link_repeat(case: Case, user: User, original_id: int | None, now: datetime) -> None:
    """Link a repeat petition to its original (moving it from an earlier one): count
    above-level and irregular visits, reopen the original if closed."""
    if original_id is None:
        return
    original = db.session.scalar(select(Case).where(Case.id == original_id, case_scope(user)))
    if original is None:
        raise NotFound("所选原案件不存在，或不在您的管辖范围内。")
    refusal = link_refusal(case, original.id)
    if refusal is not None:
        raise Conflict(f"不能标记为重复件：{refusal}。", {"repeat_of_id": [refusal]})
    if case.repeat_of is not None:
        _count_visits(case.repeat_of, case, -1)
    case.repeat_of_id = original.id
    case.repeat_of = original
    _count_visits(original, case, +1)
    if original.status == CaseStatus.CLOSED:
        reopen_as_repeat(original, user, case, now)


def _count_visits(original: Case, repeat: Case, sign: int) -> None:
    """Add (or give back) the above-level and irregular visits a repeat counts on its original."""
    if Channel(repeat.channel).above_level:
        original.above_level_count = max(0, (original.above_level_count or 0) + sign)
        original.above_level = original.above_level_count > 0 or Channel(original.channel).above_level
    if repeat.irregular_count:
        original.irregular_count = max(0, (original.irregular_count or 0) + sign)


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
