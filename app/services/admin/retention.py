"""Retention of petitioners' personal data (个人信息保存期限) and its anonymisation.

A case that ended (closed, declined, or sent to another channel) longer ago than
``PERSONAL_DATA_RETENTION_DAYS`` keeps its facts, its deadlines and its timeline, but
loses the petitioner's name, phone and ID number. Where staff wrote one of those into
free text (the description, a notice, a reply, a follow-up note...), that text keeps its
words with the personal data replaced. The timeline's notes are hash-chained evidence and
are never rewritten: a purge counts the notes that still mention the petitioner, so an
operator sees them.

``flask privacy purge`` lists what it would do (changing nothing) unless told ``--execute``.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import (
    Case,
    CaseEvent,
    CaseExtension,
    CaseNotice,
    CasePlan,
    CaseReply,
    CaseReturn,
    EnforcementMeasure,
    FollowUp,
    Inspection,
    LeaderVisit,
    Notification,
    NotificationDelivery,
)
from app.models.vocab import CaseStatus
from app.services.admin import audit

REPLACEMENT = "[已匿名]"
PERSONAL_FIELDS = ("petitioner_name", "petitioner_phone", "petitioner_id_number")
CASE_TEXT_FIELDS = ("title", "description", "address", "transfer_reason", "department_override_reason")
# Free-text columns of the records around a case, where staff may have named the petitioner.
RECORD_TEXT_FIELDS = [
    (CaseNotice, ("text",)),
    (CaseReply, ("request_summary", "facts_and_reasons", "review_note")),
    (FollowUp, ("note", "not_possible_reason")),
    (CasePlan, ("measures",)),
    (CaseReturn, ("reason", "decision_note")),
    (CaseExtension, ("reason",)),
    (EnforcementMeasure, ("note",)),
    (LeaderVisit, ("note",)),
    (Inspection, ("notes",)),
    (Notification, ("message",)),
    (NotificationDelivery, ("body",)),
]
# A name shorter than this is too likely to be part of other words to replace in text.
_MIN_NAME_LENGTH = 2


@dataclass
class PurgeItem:
    """One case whose personal data is (or would be) removed."""

    case_id: int
    number: str
    ended_at: datetime
    fields: list[str]
    texts_changed: int = 0
    timeline_mentions: int = 0


@dataclass
class PurgeReport:
    """What a purge did, or would do."""

    cutoff: datetime
    executed: bool
    items: list[PurgeItem] = field(default_factory=list)

    @property
    def texts_changed(self) -> int:
        """Free-text fields rewritten, over all cases."""
        return sum(item.texts_changed for item in self.items)

    @property
    def timeline_mentions(self) -> int:
        """Timeline notes that still name a petitioner (kept: hash-chained evidence)."""
        return sum(item.timeline_mentions for item in self.items)


def _ended_before(cutoff: datetime):
    """Cases that ended before the cutoff: closed by closed_at, declined/transferred by last change."""
    return or_(
        and_(Case.status == CaseStatus.CLOSED, Case.closed_at < cutoff),
        and_(Case.status.in_([CaseStatus.DECLINED, CaseStatus.TRANSFERRED]), Case.updated_at < cutoff),
    )


def due_for_purge(cutoff: datetime) -> list[Case]:
    """Ended cases past the cutoff that still hold a petitioner's personal data."""
    holds_data = or_(*(getattr(Case, name).is_not(None) for name in PERSONAL_FIELDS))
    return list(db.session.scalars(select(Case).where(_ended_before(cutoff), holds_data).order_by(Case.id)))


def purge(now: datetime, retention: timedelta, execute: bool = False) -> PurgeReport:
    """Anonymise every case due (``execute``), or only report what would change (the default)."""
    report = PurgeReport(cutoff=now - retention, executed=execute)
    for case in due_for_purge(report.cutoff):
        secrets = _personal_values(case)
        item = PurgeItem(case.id, case.number, case.closed_at or case.updated_at,
                         [name for name in PERSONAL_FIELDS if getattr(case, name)])
        item.texts_changed = _scrub_texts(case, secrets, execute)
        item.timeline_mentions = _timeline_mentions(case, secrets)
        if execute:
            for name in PERSONAL_FIELDS:
                setattr(case, name, None)
        report.items.append(item)
    if execute:
        db.session.flush()
        if report.items:
            audit.record(None, "privacy.purge", "case", "", None, {
                "cutoff": report.cutoff, "cases": [item.number for item in report.items],
                "texts_changed": report.texts_changed, "timeline_mentions_kept": report.timeline_mentions,
            })
    return report


def _personal_values(case: Case) -> list[str]:
    """The strings to look for in free text: the phone, the ID number, and a name long enough."""
    values = [case.petitioner_phone, case.petitioner_id_number]
    if case.petitioner_name and len(case.petitioner_name) >= _MIN_NAME_LENGTH:
        values.append(case.petitioner_name)
    return [v for v in values if v]


def _scrub(text: str | None, secrets: list[str]) -> str | None:
    """The text with every personal value replaced."""
    if not text:
        return text
    for value in secrets:
        text = text.replace(value, REPLACEMENT)
    return text


def _scrub_texts(case: Case, secrets: list[str], execute: bool) -> int:
    """Rewrite (or, without ``execute``, count) the free-text fields that mention the petitioner."""
    changed = 0
    targets = [(case, CASE_TEXT_FIELDS)]
    for model, fields in RECORD_TEXT_FIELDS:
        targets += [(row, fields) for row in db.session.scalars(select(model).where(model.case_id == case.id))]
    for row, fields in targets:
        for name in fields:
            old = getattr(row, name)
            new = _scrub(old, secrets)
            if new != old:
                changed += 1
                if execute:
                    setattr(row, name, new)
    return changed


def _timeline_mentions(case: Case, secrets: list[str]) -> int:
    """Timeline notes of the case that contain a personal value."""
    if not secrets:
        return 0
    notes = db.session.scalars(select(CaseEvent.note).where(CaseEvent.case_id == case.id))
    return sum(1 for note in notes if note and any(value in note for value in secrets))
