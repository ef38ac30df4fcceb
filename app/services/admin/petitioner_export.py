"""Everything Firstline holds about one petitioner, for a lawful request (个人信息查阅复制).

Found by exact phone number, ID number or name (a name alone may match several people:
the operator checks the result before handing it over). The export names the cases, the
petitioner's data as stored, the notices and replies written to them, the follow-ups, the
contact cards they were given and the timeline. Staff are named only where the petitioner
was already given the name: the handler on a contact card.
"""

from sqlalchemy import or_, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, CaseEvent, CaseNotice, CaseReply, ContactCard, FollowUp, User
from app.services import clock
from app.services.admin import audit as admin_audit


def find_cases(phone: str = "", id_number: str = "", name: str = "") -> list[Case]:
    """Cases whose petitioner matches any of the given values exactly."""
    conditions = []
    if phone.strip():
        conditions.append(Case.petitioner_phone == phone.strip())
    if id_number.strip():
        conditions.append(Case.petitioner_id_number == id_number.strip().upper())
    if name.strip():
        conditions.append(Case.petitioner_name == name.strip())
    if not conditions:
        raise InvalidInput("请至少给出电话、身份证号或姓名之一。")
    return list(db.session.scalars(select(Case).where(or_(*conditions)).order_by(Case.received_at, Case.id)))


def export_petitioner(actor: User | None, phone: str = "", id_number: str = "", name: str = "") -> dict:
    """The export as JSON-ready data; the audit log notes the cases, never the search values."""
    cases = find_cases(phone, id_number, name)
    matched_by = [label for label, value in (("phone", phone), ("id_number", id_number), ("name", name))
                  if value.strip()]
    admin_audit.record(actor, "privacy.export", "petitioner", "", None,
                       {"matched_by": matched_by, "cases": [c.number for c in cases]})
    return {
        "generated_at": clock.now().isoformat(),
        "matched_by": matched_by,
        "case_count": len(cases),
        "cases": [_case_export(case) for case in cases],
    }


def _rows(model, case_id: int, order) -> list:
    """The records of one kind about a case, in order."""
    return list(db.session.scalars(select(model).where(model.case_id == case_id).order_by(order)))


def _iso(value):
    """A date or time as ISO text, or None."""
    return value.isoformat() if value is not None else None


def _case_export(case: Case) -> dict:
    """One case as the petitioner may read it."""
    return {
        "number": case.number, "status": case.status, "channel": case.channel, "category": case.category,
        "title": case.title, "description": case.description, "address": case.address,
        "received_at": _iso(case.received_at), "replied_at": _iso(case.replied_at), "closed_at": _iso(case.closed_at),
        "petitioner": {"anonymous": case.anonymous, "name": case.petitioner_name, "phone": case.petitioner_phone,
                       "id_number": case.petitioner_id_number},
        "notices": [{"kind": n.kind, "text": n.text, "issued_at": _iso(n.issued_at)}
                    for n in _rows(CaseNotice, case.id, CaseNotice.issued_at)],
        "replies": [{"request_summary": r.request_summary, "facts_and_reasons": r.facts_and_reasons,
                     "decision": r.decision, "legal_basis": r.legal_basis, "replied_at": _iso(r.replied_at)}
                    for r in _rows(CaseReply, case.id, CaseReply.replied_at)],
        "follow_ups": [{"satisfaction": f.satisfaction, "note": f.note, "recorded_at": _iso(f.recorded_at)}
                       for f in _rows(FollowUp, case.id, FollowUp.recorded_at)],
        "contact_cards": [{"code": c.code, "handler_name": c.handler_name, "handler_phone": c.handler_phone,
                           "handler_unit": c.handler_unit, "issued_at": _iso(c.issued_at)}
                          for c in _rows(ContactCard, case.id, ContactCard.issued_at)],
        "timeline": [{"at": _iso(e.at), "kind": e.kind, "note": e.note}
                     for e in _rows(CaseEvent, case.id, CaseEvent.seq)],
    }
