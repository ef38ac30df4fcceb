"""The administration audit log (管理操作日志): every change an administrator makes.

``record`` is the one way an entry is written, by the admin pages, the admin API and the
operator's commands alike. ``before`` and ``after`` hold the changed record as plain JSON;
a password or an API key never appears in them (callers pass ``snapshot``s that omit it).
Entries form one hash chain with a signed head (``services.seals``), verified by
``verify_log`` like a case's timeline.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import AdminAuditEntry, User
from app.services import clock
from app.services.paging import page_of
from app.services.seals import (
    ADMIN_CHAIN,
    ADMIN_SUBJECT,
    GENESIS_HASH,
    Anchor,
    ChainBreak,
    advance_head,
    canonical,
    check_against_anchor,
    check_against_head,
    head,
    lock_head,
    missing_span,
)


def _plain(value):
    """A value as JSON can hold it (dates as ISO text, decimals as strings)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(record, fields: tuple[str, ...]) -> dict:
    """The named attributes of a record as a JSON-ready dict (for ``before``/``after``)."""
    return {name: _plain(getattr(record, name)) for name in fields}


def record(
    actor: User | None, action: str, entity: str, entity_id="", before: dict | None = None, after: dict | None = None
) -> AdminAuditEntry:
    """Write one audit entry (flushed with the change, committed by the caller with it).

    ``actor`` is None for an operator's command run on the server. Writers queue on the
    log's head row (locked until commit), so the chain never forks.
    """
    seq, prev_hash = _log_end()
    entry = AdminAuditEntry(
        actor_id=actor.id if actor is not None else None, at=clock.now(), action=action, entity=entity,
        entity_id=str(entity_id), before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None, seq=seq + 1, prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    db.session.flush()
    advance_head(ADMIN_CHAIN, ADMIN_SUBJECT, entry.seq, entry.hash)
    return entry


def _log_end() -> tuple[int, str]:
    """The log's last seq and hash: from its locked head, or (before the first signed entry)
    from the last entry written, so entries from before heads existed stay in the chain."""
    signed = lock_head(ADMIN_CHAIN, ADMIN_SUBJECT)
    if signed is not None:
        return signed.length, signed.last_hash
    last = db.session.scalar(select(AdminAuditEntry).order_by(AdminAuditEntry.seq.desc()).limit(1))
    return (last.seq, last.hash) if last else (0, GENESIS_HASH)


def entry_hash(entry: AdminAuditEntry) -> str:
    """The sha256 of an entry's content and the hash before it, in canonical JSON."""
    content = {
        "seq": entry.seq, "actor_id": entry.actor_id, "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id, "before": entry.before,
        "after": entry.after, "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical(content)).hexdigest()


def verify_log(anchor: Anchor | None = None) -> list[ChainBreak]:
    """Walk the admin audit log in order against its signed head (and the checkpoint's
    ``anchor``, when the log holds otherwise); every break found."""
    breaks: list[ChainBreak] = []
    expected_prev, expected_seq, last, held = GENESIS_HASH, 1, None, None
    entries = db.session.scalars(
        select(AdminAuditEntry).order_by(AdminAuditEntry.seq).execution_options(yield_per=5000))
    for entry in entries:
        if entry.seq != expected_seq:
            breaks.append(ChainBreak(ADMIN_CHAIN, ADMIN_SUBJECT, expected_seq,
                                     f"记录缺失（{missing_span(expected_seq, entry.seq)}被删除）"))
        if entry.prev_hash != expected_prev:
            breaks.append(ChainBreak(ADMIN_CHAIN, ADMIN_SUBJECT, entry.seq, "前序哈希不符（前一条记录被修改或删除）"))
        if entry_hash(entry) != entry.hash:
            breaks.append(ChainBreak(ADMIN_CHAIN, ADMIN_SUBJECT, entry.seq, "记录内容被修改"))
        if anchor is not None and entry.seq == anchor.length:
            held = entry.hash
        expected_prev, expected_seq, last = entry.hash, entry.seq + 1, entry
    signed = head(ADMIN_CHAIN, ADMIN_SUBJECT)
    breaks += check_against_head(ADMIN_CHAIN, ADMIN_SUBJECT, last.seq if last else 0,
                                 last.hash if last else None, signed)
    return breaks or check_against_anchor(ADMIN_CHAIN, ADMIN_SUBJECT, held, anchor)


@dataclass
class AuditPage:
    """One page of the audit log, newest first."""

    entries: list[AdminAuditEntry]
    total: int
    page: int
    pages: int


def list_entries(entity: str | None = None, actor_id: int | None = None, page: int = 1,
                 per_page: int = 50) -> AuditPage:
    """The audit log, newest first, optionally for one kind of record or one administrator."""
    query = select(AdminAuditEntry)
    if entity:
        query = query.where(AdminAuditEntry.entity == entity)
    if actor_id:
        query = query.where(AdminAuditEntry.actor_id == actor_id)
    found = page_of(query, page, per_page, order_by=(AdminAuditEntry.at.desc(), AdminAuditEntry.id.desc()))
    return AuditPage(list(found["items"]), found["meta"]["total"], page, max(1, found["meta"]["pages"]))


def changed_fields(entry: AdminAuditEntry) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field that differs, for the audit page."""
    before, after = entry.before or {}, entry.after or {}
    names = sorted(set(before) | set(after))
    return [(name, before.get(name), after.get(name)) for name in names if before.get(name) != after.get(name)]
