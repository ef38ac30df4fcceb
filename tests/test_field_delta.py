"""The phone's delta sync (issue 15, item 4): a first sync of the nearest-due open cases, then
only what changed (and what to drop), a page at a time; phones without a token as before."""

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Case
from app.models.types import utcnow
from app.models.vocab import CaseStatus
from app.services.field import bootstrap
from tests.factories import make_case
from tests.helpers import Desk

V11 = (120.505, 32.31)


def _sync(desk, since):
    response = desk.get("insp_V11", f"/api/v1/field/bootstrap?since={since}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _all_pages(desk, since=""):
    """Follow ``next`` to the end; the pages, in order."""
    pages = [_sync(desk, since)]
    while pages[-1]["next"]:
        pages.append(_sync(desk, pages[-1]["next"]))
    return pages


def _settle():
    """Every case last changed an hour ago, so a delta holds only what a test changes now."""
    db.session.execute(update(Case).values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()


def test_a_phone_without_a_token_gets_every_open_case_whole(app, city):
    body = Desk(app).get("insp_V11", "/api/v1/field/bootstrap").get_json()
    assert [c["number"] for c in body["cases"]] == [city.cases["V11"].number]
    assert "description" in body["cases"][0] and "sync_token" not in body


def test_first_sync_then_only_what_changed(app, city):
    extra = make_case(*V11, title="第二件")
    closing = make_case(*V11, title="将办结")
    db.session.commit()
    _settle()
    desk = Desk(app)
    first = _all_pages(desk)
    assert len(first) == 1 and first[0]["full"] is True and first[0]["removed"] == []
    assert {c["id"] for c in first[0]["cases"]} == {city.cases["V11"].id, extra.id, closing.id}
    assert "description" not in first[0]["cases"][0]  # the phone's slim case
    assert first[0]["cases"][0]["yellow_from"]
    token = first[0]["sync_token"]

    quiet = _sync(desk, token)
    assert quiet["cases"] == [] and quiet["removed"] == [] and quiet["full"] is False

    db.session.get(Case, extra.id).title = "第二件（已改）"
    db.session.get(Case, closing.id).status = CaseStatus.CLOSED
    added = make_case(*V11, title="新案件")
    make_case(120.535, 32.31, title="别的村")
    db.session.commit()
    changed = _all_pages(desk, token)
    assert changed[0]["full"] is False
    assert {c["id"]: c["title"] for c in changed[0]["cases"]} == {extra.id: "第二件（已改）", added.id: "新案件"}
    assert changed[0]["removed"] == [closing.id]
    assert changed[-1]["sync_token"] and changed[-1]["next"] is None


def test_a_sync_follows_pages_to_the_end(app, city, monkeypatch):
    monkeypatch.setattr(bootstrap, "SYNC_PAGE", 2)
    for n in range(4):
        make_case(*V11, title=f"案件{n}")
    db.session.commit()
    pages = _all_pages(Desk(app))
    assert [len(p["cases"]) for p in pages] == [2, 2, 1]
    assert [p["full"] for p in pages] == [True, False, False]  # forget the old list once, on page 1
    assert all(p["sync_token"] is None for p in pages[:-1]) and pages[-1]["sync_token"]
    assert len({c["id"] for p in pages for c in p["cases"]}) == 5


def test_the_first_sync_is_the_nearest_due_cases_capped(app, city, monkeypatch):
    monkeypatch.setattr(bootstrap, "MAX_OFFLINE_CASES", 3)
    later = [make_case(*V11, due_at=utcnow() + timedelta(days=10 + n)) for n in range(3)]
    db.session.commit()
    cases = [c for p in _all_pages(Desk(app)) for c in p["cases"]]
    assert len(cases) == 3 and later[-1].id not in {c["id"] for c in cases}


@pytest.mark.parametrize("token", ["not-a-token", "e30"])
def test_an_unreadable_token_starts_again(app, city, token):
    body = _sync(Desk(app), token)
    assert body["full"] is True and [c["id"] for c in body["cases"]] == [city.cases["V11"].id]


def _token(raw: dict) -> str:
    """A token as a phone could forge it: base64url JSON of anything."""
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


ISO = "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize("raw", [
    {"g": None, "f": True, "a": "abc"},
    {"g": None, "f": True, "a": [1, 2]},
    {"g": None, "f": True, "a": -5},
    {"g": None, "f": True, "a": 10**9},
    {"g": None, "f": "yes"},
    {"g": "x", "f": True},
    [1, 2, 3],
    {"g": None, "f": False, "s": ISO, "a": 5},
    {"g": None, "f": False, "s": ISO, "a": ["x", 1]},
    {"g": None, "f": False, "s": ISO, "a": [ISO, "x"]},
    {"g": None, "f": False, "s": ISO, "a": [ISO]},
    {"g": None, "f": False, "s": "2026-01-01T00:00:00"},
    {"g": None, "f": False, "s": "0001-01-01T00:00:00+00:00"},
    {"g": None, "f": False, "s": 5},
    {"g": None, "f": False, "s": ISO, "t": "9999-12-31T23:59:59+00:00"},
])
def test_a_forged_token_starts_again_instead_of_failing(app, city, raw):
    # The phone replaces its list on a full page; an error would leave it resending the token for ever.
    grid_id = city.cases["V11"].grid_id
    forged = raw if isinstance(raw, list) else raw | {"g": raw["g"] if raw["g"] is not None else grid_id}
    body = _sync(Desk(app), _token(forged))
    assert body["full"] is True and [c["id"] for c in body["cases"]] == [city.cases["V11"].id]
    assert body["sync_token"] and bootstrap.SyncCursor.decode(body["sync_token"], grid_id).full is False


def test_a_token_of_another_grid_starts_again(app, city):
    desk = Desk(app)
    token = _sync(desk, "")["sync_token"]
    other = desk.get("insp_V12", f"/api/v1/field/bootstrap?since={token}").get_json()
    assert other["full"] is True and [c["id"] for c in other["cases"]] == [city.cases["V12"].id]
