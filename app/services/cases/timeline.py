"""The case timeline: append events to a per-case hash chain, anchored by a signed head
(``services.seals``), and verify both."""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseEvent, ChainHead, User
from app.models.types import utcnow
from app.services.seals import (
    CASE_CHAIN,
    GENESIS_HASH,
    Anchor,
    ChainBreak,
    advance_head,
    canonical,
    check_against_anchor,
    check_against_head,
    head,
    heads,
    missing_span,
)


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
    return hashlib.sha256(canonical(content)).hexdigest()


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
    advance_head(CASE_CHAIN, case.id, event.seq, event.hash)
    return event


def verify_chain(case_id: int) -> list[ChainBreak]:
    """Walk one case's events in order against its signed head; every break found."""
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ).all()
    return _check_events(case_id, events) + _check_end(case_id, events, head(CASE_CHAIN, case_id))


def chain_holds(case_id: int) -> bool:
    """True when one case's events link up from the first to the last (its head aside)."""
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).all()
    return not _check_events(case_id, events)


def verify_all_chains(anchors: dict[int, Anchor] | None = None) -> Iterator[ChainBreak]:
    """Every break in every case, streaming events in (case, seq) order so memory stays flat.

    Besides each chain against its head (and against the checkpoint's ``anchors``, when the
    chain holds otherwise): a case with no events at all (registration always writes one),
    and a case gone though its head or the checkpoint remembers it (deleted behind the app's back).
    """
    signed, anchors = heads(CASE_CHAIN), anchors or {}
    events = db.session.scalars(
        select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq).execution_options(yield_per=5000)
    )
    seen: set[int] = set()
    for case_id, group in groupby(events, key=lambda e: e.case_id):
        seen.add(case_id)
        chain = list(group)
        breaks = _check_events(case_id, chain) + _check_end(case_id, chain, signed.get(case_id))
        anchor = anchors.get(case_id)
        if not breaks and anchor is not None:
            held = next((e.hash for e in chain if e.seq == anchor.length), None)
            breaks = check_against_anchor(CASE_CHAIN, case_id, held, anchor)
        yield from breaks
    cases = set(db.session.scalars(select(Case.id)))
    for case_id in sorted(cases - seen):
        yield ChainBreak(CASE_CHAIN, case_id, 0, "办理记录全部缺失")
    for case_id in sorted((set(signed) | set(anchors)) - cases):
        remembered = f"签名链头记有 {signed[case_id].length} 条" if case_id in signed else \
            f"检查点 {anchors[case_id].taken_at} 时有 {anchors[case_id].length} 条"
        yield ChainBreak(CASE_CHAIN, case_id, 0, f"案件被删除（{remembered}办理记录）")


def _check_end(case_id: int, events: list[CaseEvent], signed: ChainHead | None) -> list[ChainBreak]:
    """The chain's end against its signed head."""
    last = events[-1] if events else None
    return check_against_head(CASE_CHAIN, case_id, last.seq if last else 0, last.hash if last else None, signed)


def _check_events(case_id: int, events: list[CaseEvent]) -> list[ChainBreak]:
    """The breaks in one case's ordered events."""
    breaks: list[ChainBreak] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    for event in events:
        if event.seq != expected_seq:
            breaks.append(ChainBreak(CASE_CHAIN, case_id, expected_seq,
                                     f"事件缺失（{missing_span(expected_seq, event.seq)}被删除）"))
        if event.prev_hash != expected_prev:
            breaks.append(ChainBreak(CASE_CHAIN, case_id, event.seq, "前序哈希不符（前一事件被修改或删除）"))
        if event_hash(event) != event.hash:
            breaks.append(ChainBreak(CASE_CHAIN, case_id, event.seq, "事件内容被修改"))
        expected_prev, expected_seq = event.hash, event.seq + 1
    return breaks
