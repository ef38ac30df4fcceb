"""Deadline state of a clock: on time (green), ≥ 75 % used (yellow), overdue (red)."""

from datetime import datetime
from enum import StrEnum

from app.models import Case
from app.models.vocab import OPEN_STATUSES

YELLOW_AT = 0.75


class DeadlineState(StrEnum):
    """How a clock stands, as the queue and the map wall colour it."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    CLOSED = "closed"
    NONE = "none"


def clock_state(started_at: datetime, due_at: datetime | None, now: datetime) -> DeadlineState:
    """The state of one clock that started at ``started_at`` and is due at ``due_at``."""
    if due_at is None:
        return DeadlineState.NONE
    if now >= due_at:
        return DeadlineState.RED
    total = (due_at - started_at).total_seconds()
    used = (now - started_at).total_seconds()
    if total <= 0 or used / total >= YELLOW_AT:
        return DeadlineState.YELLOW
    return DeadlineState.GREEN


def case_deadline_state(case: Case, now: datetime) -> DeadlineState:
    """The colour of a case: grey when finished, else the state of its current clock."""
    if case.status not in OPEN_STATUSES:
        return DeadlineState.CLOSED
    return clock_state(case.received_at, case.due_at, now)
