"""What the inspector app downloads to work offline.

Everything the app shows without a network comes from here, once per sign-in and on each
refresh: the inspector's grid polygon, its open cases, today's patrol (the sources of the
grid with their due state, as ``GET /api/v1/patrol/today`` gives it) and the settings the
phone applies by itself (GPS accuracy limits, the check-in radius, the track interval).

The cases come in one of two ways. A phone that sends no sync token (an app from before
delta sync) gets its grid's nearest-due open cases whole, as always. A phone that sends one
(``since``; an empty one on its first sync) gets, page by page (``next``), only what changed
since its last sync: cases to add or replace, and the ids of cases to drop (closed, declined
or transferred since). Its first sync is the nearest-due open cases, capped, so a
busy village's phone downloads a day's work, not the village's history; the last page
carries the ``sync_token`` to send next time. Changes are found by ``cases.updated_at`` in
the grid; a short overlap re-sends what a slow transaction may have committed late, which
the phone applies twice to no effect.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, nulls_last, or_, select
from sqlalchemy.orm import undefer

from app.bounds import moment_in_range
from app.errors import Forbidden
from app.extensions import db
from app.models import Case, Grid, User
from app.models.types import utcnow
from app.models.vocab import OPEN_STATUSES, DeadlineState, NoPhotoReason, PatrolDueState, Role
from app.services import clock
from app.services.cases import notifications
from app.services.cases.deadlines import deadline_colours
from app.services.cases.privacy import petitioner_views
from app.services.cases.queries import PAGE_LOADS, CaseView, case_views, list_cases
from app.services.field import onsite_rules
from app.services.geo.grid_geojson import grid_feature
from app.services.patrols import rounds
from app.services.settings import get_setting

MAX_OFFLINE_CASES = 500
# Cases per page of a sync: a page stays small on a village's mobile network.
SYNC_PAGE = 250
# How far back each delta looks again, for rows a slow transaction committed after the last
# sync read past their updated_at.
SYNC_OVERLAP = timedelta(minutes=2)


def bootstrap_for(user: User, since: str | None = None) -> dict:
    """My grid's polygon, its open cases (personal data masked), today's patrol, settings.

    Without ``since`` the cases are the nearest-due open ones, whole; with it (a sync token,
    or "" for a first sync) a page of ``delta`` says what changed (see the module's docstring).
    The user, the cases and the news come as objects (a ``User``, ``CaseView``s, ``Notification``s) for the API to dump
    with its schemas; the rest is plain JSON data already.
    """
    if user.role != Role.INSPECTOR or user.grid_id is None:
        raise Forbidden("移动端仅供三级网格员使用。")
    grid = db.session.scalar(select(Grid).options(undefer(Grid.geom)).where(Grid.id == user.grid_id))
    common = _offline_kit(user, grid)
    if since is None:
        cases = list_cases(user, page=1, per_page=MAX_OFFLINE_CASES, open=True)["items"]
        return common | {"cases": case_views(user, cases)}
    return common | delta(user, since)


def _offline_kit(user: User, grid: Grid) -> dict:
    """Everything but the cases: the grid, today's patrol, settings, labels, server time."""
    return {
        "user": user,
        "grid": grid_feature(grid),
        "patrol": rounds.today_for(user),
        "settings": {
            "gps_accept_m": get_setting("gps_accept_m"),
            "gps_warn_m": get_setting("gps_warn_m"),
            "photo_long_edge_px": 1600,
            "max_upload_bytes": _max_upload(),
            "patrol_radius_m": get_setting("patrol_radius_m"),
            "patrol_track_interval_s": get_setting("patrol_track_interval_s"),
            "onsite_max_distance_m": get_setting("onsite_max_distance_m"),
            "onsite_max_accuracy_m": get_setting("onsite_max_accuracy_m"),
            "photo_max_age_minutes": get_setting("photo_max_age_minutes"),
            "photo_far_m": get_setting("photo_far_m"),
            "upload_originals_on_wifi": get_setting("upload_originals_on_wifi"),
        },
        "labels": {"deadline_states": DeadlineState.labels(), "patrol_states": PatrolDueState.labels()},
        "no_photo_reasons": NoPhotoReason.labels(),
        # The case states in which the phone offers an on-site check (the server's one rule).
        "onsite_states": sorted(onsite_rules.ONSITE_STATES),
        "server_time": clock.now().isoformat(),
        # What changed for me since I last looked: the badge and the short list on the task screen.
        "news": notifications.summary(user),
    }


@dataclass(frozen=True)
class SyncCursor:
    """Where a phone's sync stands: its grid, whether it is a first (full) sync, the time its
    last completed sync started (``since``), when this one started (``started``), and the
    last row of the previous page (``after``: a due-order offset for a first sync, the
    (updated_at, id) of the last change for a delta)."""

    grid_id: int
    full: bool
    since: datetime | None = None
    started: datetime | None = None
    after: list | int | None = None

    def encode(self) -> str:
        """The opaque token the phone keeps and sends back."""
        raw = {"g": self.grid_id, "f": self.full, "s": _iso(self.since), "t": _iso(self.started), "a": self.after}
        return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, grid_id: int) -> "SyncCursor":
        """The cursor a token names; a first sync when it is empty, unreadable, not shaped as
        the server writes tokens, or of another grid (the inspector was moved: the phone starts again).

        Only the server makes tokens, so one that is not exactly its shape (a forged one, or one
        damaged on the phone) is never used to query: a fresh first sync is always correct, and
        the phone already replaces its list on it (``full``), where an error would leave it
        resending the same token for ever.
        """
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            cursor = cls._checked(raw)
        except (ValueError, binascii.Error):
            return cls(grid_id=grid_id, full=True)
        if cursor.grid_id != grid_id:
            return cls(grid_id=grid_id, full=True)
        return cursor

    @classmethod
    def _checked(cls, raw) -> "SyncCursor":
        """The cursor of a decoded token, every field of the type ``encode`` writes; ValueError otherwise."""
        if not isinstance(raw, dict) or not _is_int(raw.get("g")) or not isinstance(raw.get("f"), bool):
            raise ValueError("sync token: grid or kind")
        full, since, started, after = raw["f"], _token_time(raw.get("s")), _token_time(raw.get("t")), raw.get("a")
        if full:
            # A first sync's position is an offset into the nearest-due list.
            if after is not None and not (_is_int(after) and 0 <= after < MAX_OFFLINE_CASES):
                raise ValueError("sync token: offset")
        elif since is None:
            raise ValueError("sync token: a delta without its start")
        elif after is not None:
            # A delta's position is the (updated_at, id) of the last change sent.
            if not (isinstance(after, list) and len(after) == 2 and _is_int(after[1])):
                raise ValueError("sync token: last change")
            after = [_token_time(after[0]).isoformat(), after[1]]
        return cls(grid_id=raw["g"], full=full, since=since, started=started, after=after)


def _iso(moment: datetime | None) -> str | None:
    """A time as a token holds it."""
    return moment.isoformat() if moment else None


def _time(text: str | None) -> datetime | None:
    """A time a token holds (already checked by ``_token_time``)."""
    return datetime.fromisoformat(text) if text else None


def _is_int(value) -> bool:
    """An integer as JSON has it (a bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _token_time(text) -> datetime | None:
    """A token's time: None, or ISO text with a zone within the app's years (``app.bounds``) and
    not after tomorrow;
    ValueError otherwise (a naive time cannot be compared with the stored ones, and one far out
    of range overflows when the overlap is subtracted)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("sync token: time is not text")
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() is None or not moment_in_range(moment) or moment > utcnow() + timedelta(days=1):
        raise ValueError("sync token: time out of range")
    return moment


def delta(user: User, token: str) -> dict:
    """One page of the phone's sync: ``cases`` to add or replace, ``removed`` ids to drop,
    ``full`` (a first sync: the phone replaces what it holds, on the first page), and either
    ``next`` (ask again with it) or ``sync_token`` (keep it for the next sync)."""
    cursor = SyncCursor.decode(token, user.grid_id)
    if cursor.started is None:
        cursor = SyncCursor(cursor.grid_id, cursor.full, cursor.since, started=utcnow(), after=cursor.after)
    page = _first_sync_page(cursor) if cursor.full else _changes_page(cursor)
    cases, removed, following = page
    done = SyncCursor(cursor.grid_id, full=False, since=cursor.started)
    return {
        "cases": _phone_views(user, cases),
        "removed": removed,
        "full": cursor.full and not cursor.after,
        "next": following.encode() if following else None,
        "sync_token": None if following else done.encode(),
    }


def _first_sync_page(cursor: SyncCursor) -> tuple[list[Case], list[int], SyncCursor | None]:
    """A page of the grid's nearest-due open cases, up to MAX_OFFLINE_CASES in all."""
    offset = int(cursor.after or 0)
    size = min(SYNC_PAGE, MAX_OFFLINE_CASES - offset)
    query = (select(Case).where(Case.grid_id == cursor.grid_id, Case.status.in_([str(s) for s in OPEN_STATUSES]))
             .options(*PAGE_LOADS).order_by(nulls_last(Case.due_at.asc()), Case.id).offset(offset).limit(size + 1))
    cases = list(db.session.scalars(query).unique())
    more = len(cases) > size and offset + size < MAX_OFFLINE_CASES
    following = SyncCursor(cursor.grid_id, True, cursor.since, cursor.started, offset + size) if more else None
    return cases[:size], [], following


def _changes_page(cursor: SyncCursor) -> tuple[list[Case], list[int], SyncCursor | None]:
    """A page of the grid's cases changed since the last sync, oldest change first: the open
    ones whole, the others (closed, declined, transferred) as ids to drop."""
    query = select(Case).where(Case.grid_id == cursor.grid_id, Case.updated_at > cursor.since - SYNC_OVERLAP)
    if cursor.after:
        moment, last_id = _time(cursor.after[0]), int(cursor.after[1])
        query = query.where(or_(Case.updated_at > moment, and_(Case.updated_at == moment, Case.id > last_id)))
    query = query.options(*PAGE_LOADS).order_by(Case.updated_at, Case.id).limit(SYNC_PAGE + 1)
    rows = list(db.session.scalars(query).unique())
    page = rows[:SYNC_PAGE]
    following = None
    if len(rows) > SYNC_PAGE:
        last = page[-1]
        following = SyncCursor(cursor.grid_id, False, cursor.since, cursor.started, [_iso(last.updated_at), last.id])
    opened = [case for case in page if case.status in OPEN_STATUSES]
    return opened, [case.id for case in page if case.status not in OPEN_STATUSES], following


def _phone_views(user: User, cases: list[Case]) -> list[CaseView]:
    """The cases as the inspector sees them, each with the time it turns yellow."""
    colours = deadline_colours(cases, clock.now())
    petitioners = petitioner_views(cases, user)
    views = []
    for case in cases:
        state, turns = colours[case.id]
        view = CaseView(case, petitioners[case.id], str(state))
        view.yellow_from = turns
        views.append(view)
    return views


def _max_upload() -> int:
    """The largest request body the server takes."""
    return int(current_app.config["MAX_CONTENT_LENGTH"])
