"""The case timeline is a hash chain that shows any change or removal; numbers never repeat."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.extensions import db
from app.models import CaseEvent
from app.services.cases.numbering import next_case_number, reserve_case_numbers
from app.services.cases.timeline import GENESIS_HASH, append_event, verify_chain


def _three_events(case, actor):
    beijing = timezone(timedelta(hours=8))
    append_event(case, "registered", actor, note="登记")
    append_event(case, "assigned", actor, note="交办", data={"department": "env"})
    append_event(case, "signed", actor, note="签收", at=datetime(2026, 11, 2, 9, 30, tzinfo=beijing))
    db.session.commit()


def test_events_chain_from_genesis(city):
    case, actor = city.cases["V11"], city.users["sup_T1"]
    _three_events(case, actor)
    events = db.session.query(CaseEvent).filter_by(case_id=case.id).order_by(CaseEvent.seq).all()
    # The factory registered the case (seq 1); the three steps follow it.
    assert [e.kind for e in events] == ["register", "registered", "assigned", "signed"]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    assert events[3].at == datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
    assert verify_chain(case.id) == []


def test_database_refuses_to_update_an_event(city):
    case = city.cases["V11"]
    _three_events(case, city.users["sup_T1"])
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE case_events SET note = '篡改' WHERE seq = 3"))
    db.session.rollback()


def test_removed_event_breaks_the_chain(city):
    case = city.cases["V11"]
    _three_events(case, city.users["sup_T1"])
    db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 3))
    db.session.commit()
    reasons = [b.reason for b in verify_chain(case.id)]
    assert any("缺失" in r for r in reasons) and any("前序哈希" in r for r in reasons)


def test_forked_chain_is_refused_by_the_database(city):
    case = city.cases["V11"]
    _three_events(case, city.users["sup_T1"])
    db.session.add(CaseEvent(case_id=case.id, seq=4, kind="x", note="", data={}, prev_hash="a", hash="b",
                             at=datetime.now(UTC)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_case_numbers_are_consecutive_per_year(app):
    first = next_case_number(2030)
    second = next_case_number(2030)
    assert (first, second) == ("HJ2030-000001", "HJ2030-000002")
    assert reserve_case_numbers(2030, 100) == 3
    assert next_case_number(2030) == "HJ2030-000103"
    assert next_case_number(2031) == "HJ2031-000001"
