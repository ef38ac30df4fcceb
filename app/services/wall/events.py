"""The wall's live feed: case events as Server-Sent Events, by polling ``case_events``.

Polling the table (id greater than the last one sent) works across processes and needs
no extra service. Each poll ends its transaction, so SQLite's snapshot moves on and new
rows are seen. A case turning red writes no event (its clock just runs out), so each poll
also reports the open cases whose ``due_at`` passed since the previous poll; early-warning
alerts raised since the last one sent come as ``alert`` events.

Every message carries a cursor as its SSE id: ``<event id>-<µs since the epoch>-<alert id>``,
the last case event sent, the moment up to which due times were checked, and the last
alert sent. Each poll ends with the cursor alone, so the browser's ``Last-Event-ID`` is
always where the wall stopped; a reconnect replays the events, alerts and cases that
turned red during the gap (a gap is replayed up to ``REPLAY_LIMIT`` back). An id of digits
only (an event id, as older pages sent) resumes the events but cannot replay reds.

Every poll writes something, so a client that has gone is noticed within one poll. The
stream ends after ``max_seconds`` (the browser's EventSource reconnects by itself and
sends ``Last-Event-ID``), which also bounds how long one worker thread is held.
"""

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Alert, Case, CaseEvent, Grid, User
from app.models.vocab import OPEN_STATUSES
from app.services import clock
from app.services.access import case_scope
from app.services.cases.lifecycle import event_label
from app.services.wall.cells import summary_pending
from app.services.wall.clusters import STATE_NAMES, state_rank
from app.services.wall.layers import alert_feature

RETRY_MS = 3000
# A wall that was away longer than this gets the reds of this last stretch only; its map
# and panels reload on reconnect, so counts are right whatever the feed shows.
REPLAY_LIMIT = timedelta(hours=24)
_BATCH = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_EVENT_ID = re.compile(r"[0-9]{1,18}")
_CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,18})-([0-9]{1,18})")
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
        {"id": r.id, "type": event_type(r.kind), "kind": r.kind, "kind_label": event_label(r.kind),
         "case_id": r.case_id, "number": r.number, "status": r.status, "category": r.category, "town": r.town,
         "state": STATE_NAMES[r.worst], "at": r.at.isoformat()}
        for r in rows
    ]


def turned_red(user: User, since: datetime, now: datetime) -> list[dict]:
    """Open cases in scope whose due time passed in (since, now], earliest due first."""
    rows = db.session.execute(
        select(Case.id, Case.number, Case.category, Case.due_at, Grid.name.label("town"))
        .outerjoin(Grid, Grid.id == Case.town_id)
        .where(Case.due_at > since, Case.due_at <= now, Case.status.in_(_OPEN), case_scope(user))
        .order_by(Case.due_at, Case.id)
        .limit(_BATCH)
    ).all()
    return [{"type": "turned_red", "case_id": r.id, "number": r.number, "category": r.category,
             "town": r.town, "state": "red", "due_at": r.due_at.isoformat()} for r in rows]


def new_alerts(after_id: int) -> list[dict]:
    """Early-warning alerts raised after ``after_id``, oldest first."""
    alerts = db.session.scalars(select(Alert).where(Alert.id > after_id).order_by(Alert.id).limit(_BATCH))
    return [{"type": "alert", **alert_feature(alert)} for alert in alerts]


def latest_alert_id() -> int:
    """The newest alert id: a fresh connection starts after it."""
    return db.session.scalar(select(Alert.id).order_by(Alert.id.desc()).limit(1)) or 0


def latest_event_id() -> int:
    """The newest event id: a fresh connection starts after it."""
    return db.session.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1)) or 0


@dataclass(frozen=True)
class Cursor:
    """Where a wall's feed stands: last case event and alert sent, due times checked up to."""

    event_id: int
    checked: datetime | None
    alert_id: int
    # The newest map cell waiting for the summary refresh at an earlier poll (not in the SSE
    # id: a reconnecting wall reloads its map anyway).
    waiting: int | None = None

    def __str__(self) -> str:
        """The SSE id: ``<event id>-<µs since the epoch>-<alert id>``."""
        checked = (self.checked - _EPOCH) // _MICROSECOND if self.checked else 0
        return f"{self.event_id}-{checked}-{self.alert_id}"


def parse_cursor(last_event_id: str) -> Cursor | None:
    """The cursor in a ``Last-Event-ID`` header; digits alone are an event id; else None."""
    text = last_event_id.strip()
    if _EVENT_ID.fullmatch(text):
        return Cursor(int(text), None, -1)
    match = _CURSOR.fullmatch(text)
    if match is None:
        return None
    event_id, checked, alert_id = (int(group) for group in match.groups())
    try:
        return Cursor(event_id, _EPOCH + checked * _MICROSECOND, alert_id)
    except OverflowError:  # a time no clock will reach: resume the events, replay no reds
        return Cursor(event_id, None, alert_id)


def resume_from(cursor: Cursor | None, now: datetime) -> Cursor:
    """Where a stream starts: after the newest rows when fresh, else the cursor (gap bounded)."""
    if cursor is None:
        return Cursor(latest_event_id(), now, latest_alert_id())
    checked = now if cursor.checked is None else min(max(cursor.checked, now - REPLAY_LIMIT), now)
    alert_id = latest_alert_id() if cursor.alert_id < 0 else cursor.alert_id
    return Cursor(cursor.event_id, checked, alert_id)


def sse(data: dict, cursor: Cursor | None = None) -> str:
    """One SSE message; the named ``event`` lets the browser listen per type."""
    head = f"id: {cursor}\n" if cursor is not None else ""
    return f"{head}event: {data['type']}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def poll(user: User, cursor: Cursor, now: datetime) -> tuple[list[str], Cursor]:
    """The messages since the cursor (events, alerts, reds), each carrying the cursor after it."""
    messages = []
    for event in new_events(user, cursor.event_id, now):
        cursor = replace(cursor, event_id=event["id"])
        messages.append(sse(event, cursor))
    for alert in new_alerts(cursor.alert_id):
        cursor = replace(cursor, alert_id=alert["id"])
        messages.append(sse(alert, cursor))
    reds = turned_red(user, cursor.checked or now, now)
    dues = [datetime.fromisoformat(red["due_at"]) for red in reds]
    for index, red in enumerate(reds):
        # Move past a due time only once every case due at that moment has been sent.
        if index + 1 == len(reds) or dues[index + 1] != dues[index]:
            cursor = replace(cursor, checked=dues[index])
        messages.append(sse(red, cursor))
    if len(reds) < _BATCH:  # a full batch continues after its last due time next poll
        cursor = replace(cursor, checked=now)
    caught_up, cursor = summary_caught_up(cursor)
    return messages + caught_up, cursor


def summary_caught_up(cursor: Cursor) -> tuple[list[str], Cursor]:
    """A ``cells`` message once the map's summary holds every change that waited at an earlier poll.

    The worker refreshes the summary just after a write commits (``wall.cells``), so a wall
    that reloaded its map on the write's event may have read the summary a moment early;
    this message tells it to read its map again (the ETag changed when the summary caught
    up). Read after the events, so a change whose event was sent is waiting here already.
    """
    oldest, newest = summary_pending()
    messages, waiting = [], cursor.waiting
    if waiting is not None and (oldest is None or oldest > waiting):
        messages.append(sse({"type": "cells"}, cursor))
        waiting = None
    return messages, replace(cursor, waiting=newest if waiting is None else waiting)


def event_stream(user: User, cursor: Cursor | None, poll_seconds: float, max_seconds: float) -> Iterator[str]:
    """Yield SSE text until ``max_seconds`` pass; the caller's client may leave at any yield."""
    started = time.monotonic()
    cursor = resume_from(cursor, clock.now())
    db.session.rollback()
    # An id alone sets the browser's last event id (an id-only message dispatches nothing),
    # so a reconnect resumes from the cursor even when nothing came in between.
    yield f"retry: {RETRY_MS}\nid: {cursor}\n\n"
    while time.monotonic() - started < max_seconds:
        messages, cursor = poll(user, cursor, clock.now())
        db.session.rollback()  # end the snapshot: the next poll sees new rows
        # Writing on every poll keeps proxies from timing out and is how the server learns
        # that the client has gone: the next write fails and the generator ends.
        yield "".join(messages) + f": keep-alive\nid: {cursor}\n\n"
        time.sleep(poll_seconds)
