"""The wall's live feed: case events as Server-Sent Events, by polling ``case_events``.

Polling the table (id greater than the last one sent) works across processes and needs
no extra service. Each poll ends its transaction, so SQLite's snapshot moves on and new
rows are seen. A case turning red writes no event (its clock just runs out), so each poll
also reports the open cases whose ``due_at`` passed since the previous poll.

Every poll writes something (events, or a keep-alive comment), so a client that has gone is
noticed within one poll. The stream ends after ``max_seconds`` (the browser's EventSource reconnects by itself and
sends ``Last-Event-ID``), which also bounds how long one worker thread is held.
"""

import json
import time
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseEvent, Grid, User
from app.models.vocab import OPEN_STATUSES
from app.services import clock
from app.services.access import case_scope
from app.services.wall import STATE_NAMES, state_rank

RETRY_MS = 3000
_BATCH = 200
_OPEN = sorted(str(s) for s in OPEN_STATUSES)


def event_type(kind: str) -> str:
    """What the wall calls a timeline event: a new case, a closure (销号) or a state change."""
    return {"register": "new_case", "close": "closed"}.get(kind, "state_change")


def new_events(user: User, after_id: int, now: datetime) -> list[dict]:
    """Timeline events after ``after_id`` on cases in the user's scope, oldest first."""
    rows = db.session.execute(
        select(CaseEvent.id, CaseEvent.kind, CaseEvent.at, Case.id.label("case_id"), Case.number, Case.status,
               Case.category, Grid.name.label("town"), state_rank(now).label("worst"))
        .join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(Grid, Grid.id == Case.town_id)
        .where(CaseEvent.id > after_id, case_scope(user))
        .order_by(CaseEvent.id)
        .limit(_BATCH)
    ).all()
    return [
        {"id": r.id, "type": event_type(r.kind), "kind": r.kind, "case_id": r.case_id,
         "number": r.number, "status": r.status, "category": r.category, "town": r.town,
         "state": STATE_NAMES[r.worst], "at": r.at.isoformat()}
        for r in rows
    ]


def turned_red(user: User, since: datetime, now: datetime) -> list[dict]:
    """Open cases in scope whose due time passed in (since, now]."""
    rows = db.session.execute(
        select(Case.id, Case.number, Case.category, Grid.name.label("town"))
        .outerjoin(Grid, Grid.id == Case.town_id)
        .where(Case.due_at > since, Case.due_at <= now, Case.status.in_(_OPEN), case_scope(user))
        .order_by(Case.due_at)
        .limit(_BATCH)
    ).all()
    return [{"type": "turned_red", "case_id": r.id, "number": r.number, "category": r.category,
             "town": r.town, "state": "red"} for r in rows]


def latest_event_id() -> int:
    """The newest event id: a fresh connection starts after it."""
    return db.session.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1)) or 0


def sse(data: dict, event_id: int | None = None) -> str:
    """One SSE message; the named ``event`` lets the browser listen per type."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {data['type']}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_stream(user: User, last_id: int | None, poll_seconds: float, max_seconds: float) -> Iterator[str]:
    """Yield SSE text until ``max_seconds`` pass; the caller's client may leave at any yield."""
    started = time.monotonic()
    last_id = latest_event_id() if last_id is None else last_id
    checked = clock.now()
    db.session.rollback()
    # The id alone sets the browser's last event id, so a reconnect resumes from here even
    # when no event came in between (an id-only message dispatches nothing).
    yield f"retry: {RETRY_MS}\nid: {last_id}\n\n"
    while time.monotonic() - started < max_seconds:
        now = clock.now()
        messages = []
        for event in new_events(user, last_id, now):
            last_id = event["id"]
            messages.append(sse(event, last_id))
        messages += [sse(event) for event in turned_red(user, checked, now)]
        checked = now
        db.session.rollback()  # end the snapshot: the next poll sees new rows
        # A comment on a quiet poll keeps proxies from timing out, and writing is how the
        # server learns that the client has gone: the next write fails and the generator ends.
        yield "".join(messages) or ": keep-alive\n\n"
        time.sleep(poll_seconds)
