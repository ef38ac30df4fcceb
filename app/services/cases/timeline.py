"""The case timeline: append events to a per-case hash chain and verify it."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseEvent, User
from app.models.types import utcnow

GENESIS_HASH = "0" * 64


def event_hash(event: CaseEvent) -> str:
    """The sha256 of an event's content and the hash before it, in canonical JSON."""
    content = {
        "case_id": event.case_id,
        "seq": event.seq,
        "kind": event.kind,
        "actor_id": event.actor_id,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "note": event.note,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_event(
    case: Case,
    kind: str,
    actor: User | None = None,
    note: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """Add the next event to a case's chain (flushed, not committed).

    Writers on the same case queue: the case row is locked (FOR NO KEY UPDATE on
    PostgreSQL, until commit; SQLite writers queue at BEGIN IMMEDIATE) before the last
    event is read, so twenty on-site checks of one case arriving together all go in one
    after another. The unique (case_id, seq) pair stays the guarantee that the chain can
    never fork (a writer that skipped this function would fail, and be answered 503). NO
    KEY UPDATE, not UPDATE: rows that merely reference the case (an inspection inserted
    earlier in the same transaction) hold a key-share lock on it that must not block this.
    """
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update(key_share=True))
    last = db.session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc()).limit(1)
    )
    event = CaseEvent(
        case_id=case.id,
        seq=(last.seq + 1) if last else 1,
        kind=kind,
        actor_id=actor.id if actor else None,
        at=(at or utcnow()).astimezone(UTC),
        note=note,
        data=data or {},
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class ChainBreak:
    """Where a case's chain stops holding, and why."""

    case_id: int
    seq: int
    reason: str


def verify_chain(case_id: int) -> list[ChainBreak]:
    """Walk one case's events in order; report every changed, removed or reordered event."""
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ).all()
    return _check_events(case_id, events)


def verify_all_chains() -> Iterator[ChainBreak]:
    """Every break in every case, streaming events in (case, seq) order so memory stays flat.

    A case with no events at all is reported too: registration always writes one.
    """
    events = db.session.scalars(
        select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq).execution_options(yield_per=5000)
    )
    seen: set[int] = set()
    for case_id, group in groupby(events, key=lambda e: e.case_id):
        seen.add(case_id)
        yield from _check_events(case_id, list(group))
    for case_id in db.session.scalars(select(Case.id).order_by(Case.id)):
        if case_id not in seen:
            yield ChainBreak(case_id, 0, "办理记录全部缺失")


def _check_events(case_id: int, events: list[CaseEvent]) -> list[ChainBreak]:
    """The breaks in one case's ordered events."""
    breaks: list[ChainBreak] = []
    expected_prev = GENESIS_HASH
    for position, event in enumerate(events, start=1):
        if event.seq != position:
            breaks.append(ChainBreak(case_id, position, "事件缺失（序号不连续）"))
        if event.prev_hash != expected_prev:
            breaks.append(ChainBreak(case_id, event.seq, "前序哈希不符（前一事件被修改或删除）"))
        if event_hash(event) != event.hash:
            breaks.append(ChainBreak(case_id, event.seq, "事件内容被修改"))
        expected_prev = event.hash
    return breaks
