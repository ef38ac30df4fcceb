"""Everything recorded on a case, gathered for its page and the API."""

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Case,
    CaseEvent,
    CaseExtension,
    CaseNotice,
    CasePlan,
    CaseReply,
    CaseReturn,
    ContactCard,
    EnforcementMeasure,
    FollowUp,
    LeaderVisit,
    User,
)


@dataclass
class TimelineEntry:
    """A timeline event with the actor's name."""

    seq: int
    kind: str
    actor_name: str
    at: object
    note: str
    data: dict
    hash: str


def timeline_of(case: Case) -> list[TimelineEntry]:
    """The case's events, oldest first, with who took each."""
    rows = db.session.execute(
        select(CaseEvent, User.full_name).outerjoin(User, User.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    return [TimelineEntry(e.seq, e.kind, name or "系统", e.at, e.note, e.data, e.hash) for e, name in rows]


def _all(model, case: Case, order=None) -> list:
    """Every row of a per-case record table, oldest first."""
    order = order if order is not None else model.id
    return list(db.session.scalars(select(model).where(model.case_id == case.id).order_by(order)))


def records_of(case: Case) -> dict[str, list]:
    """Plans, replies, notices, returns, extensions, follow-ups, visits, measures, cards.

    On-site checks and their photos are the case's evidence: services.field.evidence.
    """
    return {
        "plans": _all(CasePlan, case),
        "notices": _all(CaseNotice, case),
        "returns": _all(CaseReturn, case),
        "extensions": _all(CaseExtension, case),
        "replies": _all(CaseReply, case),
        "follow_ups": _all(FollowUp, case),
        "leader_visits": _all(LeaderVisit, case),
        "enforcement": _all(EnforcementMeasure, case),
        "contact_cards": _all(ContactCard, case),
    }
