"""Exports never fail on stored text: every character a workbook cannot hold is dropped.

A case title with U+0010 once made the ledger answer 500 for everyone whose scope held it.
"""

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Grid
from tests.helpers import Desk

UNWRITABLE = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if chr(c) not in "\t\n\r")


@pytest.fixture
def dirty_city(city):
    """Every stored text an export shows, salted with every control character it can store.

    (PostgreSQL text cannot hold U+0000 at all; SQLite can.)
    """
    salt = UNWRITABLE.replace("\x00", "") if db.engine.dialect.name == "postgresql" else UNWRITABLE
    dirty = f"河道{salt}异味"
    for case in city.cases.values():
        case.title = case.description = case.address = dirty
        case.petitioner_name = f"张{salt[:30]}三"  # names hold 64 characters: half here, half below
    for grid in db.session.query(Grid):
        grid.name = f"{grid.name}{salt}"
    for user in city.users.values():
        user.full_name = f"李{salt[30:]}四"
    city.cases["V11"].title = f"=1/{salt}"  # typed text, never a formula
    db.session.commit()
    return city


def _period() -> str:
    today = datetime.now(UTC).date()
    return f"start={(today - timedelta(days=10)).isoformat()}&end={(today + timedelta(days=1)).isoformat()}"


EXPORTS = [
    "ledger",
    "/api/v1/exports/ranking.xlsx?{period}",
    "/desk/campaign/ranking.xlsx?{period}",
    "/api/v1/patrol-compliance/export.xlsx?{period}",
]


def ledger(desk: Desk):
    """The case ledger as the worker makes it: ask, then fetch the finished file (in the tests
    the queue runs the job as soon as the request that asked for it commits)."""
    today = datetime.now(UTC).date()
    job = desk.post("command", "/api/v1/exports/ledger", {
        "start": (today - timedelta(days=10)).isoformat(), "end": (today + timedelta(days=1)).isoformat(),
        "personal": True})
    assert job.status_code == 202, job.get_json()
    response = desk.get("command", f"/api/v1/exports/{job.get_json()['id']}/file")
    response.get_data()  # buffered, so the file it was sent from can close now
    response.close()
    return response


@pytest.mark.parametrize("url", EXPORTS)
def test_every_export_opens_with_control_characters_in_stored_text(app, dirty_city, url):
    desk = Desk(app)
    response = ledger(desk) if url == "ledger" else desk.get("command", url.format(period=_period()))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    book = load_workbook(io.BytesIO(response.data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row
             if isinstance(c, str)]
    assert cells
    assert not any(ch in UNWRITABLE for text in cells for ch in text)


def test_the_ledger_keeps_the_readable_text(app, dirty_city):
    response = ledger(Desk(app))
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    first = next(n for n, row in enumerate(rows) if "信访人姓名" in row) + 1  # below the period line and headings
    titles = {row[6] for row in rows[first:]}
    assert "河道异味" in titles and "=1/" in titles
    assert rows[first][-3] == "张三"
