"""Form posts on the pages: run one change, commit it, and tell the person how it went."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import flash

from app.errors import DomainError
from app.extensions import db


class Attempt:
    """How a form's change went: ``ok`` once committed, ``error`` when a rule refused it.

    ``message`` is flashed after the commit; set it inside the block when it needs the
    change's result (a name, a count).
    """

    def __init__(self, message: str):
        self.message = message
        self.ok = False
        self.error: DomainError | None = None


@contextmanager
def attempt(message: str = "", not_found_page: bool = False) -> Iterator[Attempt]:
    """Commit the block's change and flash ``message``; on a refusal roll back and flash why.

    A refusal is a ``DomainError``: its Chinese message goes to the top of the next page.
    With ``not_found_page`` a NotFound is not a message but the 404 page (out of scope
    must look like nothing there). Any other exception passes through untouched.
    """
    outcome = Attempt(message)
    try:
        yield outcome
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if not_found_page and exc.status == 404:
            raise
        outcome.error = exc
        flash(exc.message, "error")
    else:
        outcome.ok = True
        if outcome.message:
            flash(outcome.message, "ok")
