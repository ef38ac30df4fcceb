"""Answers read from the database, kept until the session next writes or its transaction ends.

A page asks some questions of one case several times while it is drawn (is it in my scope,
which clocks run, is an extension pending, is it on the long-unresolved list): each part of
the page asks through its own service, and each asked the database anew. ``remembered``
keeps the first answer for the same question. Anything the session is about to write (the
question's query would flush it first), a flush, a commit or a rollback forgets every
answer, so nothing read here is older than the session's own writes.

Answers are shared between the callers that ask the same question: never change one.
"""

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

T = TypeVar("T")
_MEMO = "read_memo"


def remembered(key: Hashable, read: Callable[[], T]) -> T:
    """``read()``'s answer, asked once per ``key`` until the session writes."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        return read()
    memo = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = read()
    return memo[key]


def note(key: Hashable, answer) -> None:
    """Keep an answer learnt another way (a case loaded through the scope filter is in scope)."""
    session = db.session
    if not (session.new or session.dirty or session.deleted):
        session.info.setdefault(_MEMO, {})[key] = answer


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session, *args) -> None:
    """A write may change any answer: ask again after it."""
    session.info.pop(_MEMO, None)
