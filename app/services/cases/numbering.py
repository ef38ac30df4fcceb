"""Case numbers (案件编号) people read aloud and write on contact cards: HJ2026-000123."""

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CaseNumberCounter


def format_case_number(year: int, serial: int) -> str:
    """The printed form of a case number."""
    return f"HJ{year}-{serial:06d}"


def reserve_case_numbers(year: int, count: int = 1) -> int:
    """Reserve ``count`` consecutive serials for a year; return the first.

    One atomic UPDATE ... RETURNING per call, so concurrent intakes never get the same
    number; the first number of a year inserts the counter row (a racing insert retries).
    """
    for _ in range(3):
        stmt = (
            update(CaseNumberCounter)
            .where(CaseNumberCounter.year == year)
            .values(last_number=CaseNumberCounter.last_number + count)
            .returning(CaseNumberCounter.last_number)
        )
        last = db.session.execute(stmt).scalar()
        if last is not None:
            return last - count + 1
        try:
            with db.session.begin_nested():
                db.session.execute(insert(CaseNumberCounter).values(year=year, last_number=count))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError("could not reserve a case number")


def next_case_number(year: int) -> str:
    """Issue the next case number of a year."""
    return format_case_number(year, reserve_case_numbers(year))
