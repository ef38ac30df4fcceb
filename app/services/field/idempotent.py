"""Records the field app uploads are stored once, whoever sends them first.

The phone makes each record's key (an on-site check's or a check-in's id, a patrol's id, a
contact card's code) when it captures the record, and resends until it hears back; the same
record may therefore arrive twice, even at the same moment over two connections. Each
upload looks for the stored record first (a plain resend is answered from it); a new one is
inserted here, and a request that loses the race to insert it answers as a resend would.
Whether a resend is the same record is decided on its content: the sha256 of one canonical
JSON text (``content_sha``).
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User
from app.services import clock

Row = TypeVar("Row")


def canonical_json(body: dict) -> str:
    """One text for one content: sorted keys, no spaces, times and ids as strings."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value) -> str:
    """JSON for datetimes (UTC ISO) and UUIDs."""
    if isinstance(value, datetime):
        return value.astimezone(clock.now().tzinfo).isoformat()
    return str(value)


def content_sha(body: dict) -> str:
    """The sha256 of a record's canonical content."""
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def insert_once(row: Row, stored: Callable[[], Row | None]) -> Row | None:
    """Insert ``row`` in a savepoint; None when it went in, else the row stored first under its key.

    When another request stored the same key meanwhile, the savepoint rolls back and
    ``stored()``, called once the session has forgotten what it loaded, finds that row. Any
    other integrity error (a missing foreign key, say) is raised as it is.
    """
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        db.session.expire_all()
        winner = stored()
        if winner is None:
            raise
        return winner
    return None


def conflict_versions(user: User, owner_id: int, record_id: uuid.UUID | str, stored: Callable[[], dict],
                      body: dict) -> dict:
    """The ``errors`` of a 409 on an upload: the caller's body, and the stored record only if it is theirs.

    Anyone signed in may send any id, so a conflict must not become a way to read another
    inspector's notes and position: for someone else's record, ``server`` is null and only
    the record's id is named. ``stored`` is called only for the caller's own record.
    """
    client = json.loads(canonical_json(body))
    if owner_id == user.id:
        return {"server": stored(), "client": client}
    return {"server": None, "client": client, "id": str(record_id)}
