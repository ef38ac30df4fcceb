"""The administration audit log (管理操作日志): every change an administrator makes.

``record`` is the one way an entry is written, by the admin pages, the admin API and the
operator's commands alike. ``before`` and ``after`` hold the changed record as plain JSON;
a password or an API key never appears in them (callers pass ``snapshot``s that omit it).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import AdminAuditEntry, User
from app.services import clock
from app.services.paging import page_of


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

    ``actor`` is None for an operator's command run on the server.
    """
    entry = AdminAuditEntry(
        actor_id=actor.id if actor is not None else None, at=clock.now(), action=action, entity=entity,
        entity_id=str(entity_id), before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


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
