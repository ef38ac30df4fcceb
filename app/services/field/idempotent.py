"""Records the field app uploads are stored once, whoever sends them first.

The phone makes each record's key (an on-site check's or a check-in's id, a patrol's id, a
contact card's code) when it captures the record, and resends until it hears back; the same
record may therefore arrive twice, even at the same moment over two connections. Each
upload looks for the stored record first (a plain resend is answered from it); a new one is
inserted here, and a request that loses the race to insert it answers as a resend would.
"""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from app.extensions import db

Row = TypeVar("Row")


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
