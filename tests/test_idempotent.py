"""Records uploaded from phones are stored once: the loser of an insert race gets the winner's row."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CardCodeBlock
from app.services.field.idempotent import insert_once


def block(user_id: int, first: int) -> CardCodeBlock:
    return CardCodeBlock(user_id=user_id, device_id="phone-1", first_serial=first, last_serial=first + 9)


def stored(first: int):
    return lambda: db.session.scalar(select(CardCodeBlock).where(CardCodeBlock.first_serial == first))


def test_the_first_insert_goes_in_and_a_second_under_the_same_key_gets_the_first(city):
    inspector = city.users["insp_V11"]
    first = block(inspector.id, 500)
    assert insert_once(first, stored(500)) is None
    late = block(inspector.id, 500)  # the same key, as from a request that lost the race
    winner = insert_once(late, stored(500))
    assert winner is not None and winner.id == first.id
    assert db.session.scalar(select(db.func.count()).select_from(CardCodeBlock)) == 1
    db.session.commit()  # the failed savepoint left the transaction usable


def test_an_integrity_error_that_is_not_a_lost_race_is_raised(city):
    with pytest.raises(IntegrityError):
        insert_once(block(987654, 700), stored(700))  # no such user: not someone else's row
    db.session.rollback()
