"""Admin API for deadline rules and the working calendar: admins edit, others read, bad input is 422."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Case
from app.models.vocab import Channel, Stage
from app.services import clock
from app.services.cases.deadlines import compute_due, ensure_default_rules, rule_for
from app.services.cases.workcalendar import ensure_default_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def seeded(app):
    """Default rules and the 2026 calendar."""
    ensure_default_rules()
    ensure_default_calendar()
    db.session.commit()


def _send(client, auth, method: str, url: str, **kwargs):
    """A state-changing request with the session's CSRF token."""
    return client.open(url, method=method, headers={"X-CSRFToken": auth.csrf()}, **kwargs)


def _sign_rule_id(channel=None) -> int:
    return rule_for(Case(channel=channel or Channel.LETTER, legal_track=None, priority="normal"), Stage.SIGN).id


def _error_shape(response) -> dict:
    body = response.get_json()
    assert set(body) == {"code", "message", "description", "errors"}
    assert body["code"] == response.status_code
    return body


def test_signed_out_gets_401(client, seeded):
    assert client.get("/api/v1/deadline-rules").status_code == 401
    assert client.get("/api/v1/calendar?year=2026").status_code == 401
    assert _error_shape(client.get("/api/v1/calendar"))["message"] == "请先登录。"


def test_everyone_signed_in_reads_rules_and_calendar(client, auth, city, seeded):
    auth.login("insp_V11")
    rules = client.get("/api/v1/deadline-rules").get_json()
    sign_12345 = next(r for r in rules if r["stage"] == "sign" and r["channel"] == "transfer_12345")
    assert (sign_12345["amount"], sign_12345["unit"], sign_12345["unit_label"]) == (1, "working_days", "工作日")
    assert sign_12345["stage_label"] == "签收"
    days = client.get("/api/v1/calendar?year=2026").get_json()
    assert len(days) == 25
    assert {"day": "2026-02-14", "is_working_day": True, "name": "春节调休上班"} in days
    assert client.get("/api/v1/calendar?year=2027").get_json() == []


def test_calendar_defaults_to_this_year_in_the_city(client, auth, city, seeded):
    auth.login("command")
    # 16:30 UTC on 2025-12-31 is already 2026 in Beijing.
    with clock.frozen_at(datetime(2025, 12, 31, 16, 30, tzinfo=UTC)):
        days = client.get("/api/v1/calendar").get_json()
    assert [d["day"] for d in days][:2] == ["2026-01-01", "2026-01-02"]


def test_admin_patch_changes_the_next_due_date(client, auth, city, seeded):
    auth.login("admin")
    rule_id = _sign_rule_id()
    response = _send(client, auth, "PATCH", f"/api/v1/deadline-rules/{rule_id}", json={"amount": 12})
    assert response.status_code == 200
    assert response.get_json()["amount"] == 12
    start = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    due, _ = compute_due(Case(channel=Channel.LETTER, legal_track=None, priority="normal"), Stage.SIGN, start)
    assert due == start + timedelta(hours=12)


def test_admin_creates_a_rule_and_a_duplicate_is_409(client, auth, city, seeded):
    auth.login("admin")
    body = {"stage": "onsite", "channel": "central_inspection", "amount": 6, "unit": "hours", "basis": "督察件6小时"}
    created = _send(client, auth, "POST", "/api/v1/deadline-rules", json=body)
    assert created.status_code == 201
    assert created.get_json()["channel"] == "central_inspection" and created.get_json()["active"] is True
    duplicate = _send(client, auth, "POST", "/api/v1/deadline-rules", json=body)
    assert duplicate.status_code == 409
    _error_shape(duplicate)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"stage": "lunch", "amount": 0, "unit": "weeks"}, {"stage", "amount", "unit"}),
        ({"stage": "sign", "amount": -3, "unit": "hours", "channel": "pigeon"}, {"amount", "channel"}),
        ({"stage": "sign", "amount": 1.5, "unit": "hours"}, {"amount"}),
        ({}, {"stage", "amount", "unit"}),
    ],
)
def test_bad_rules_get_422_with_field_errors(client, auth, city, seeded, body, fields):
    auth.login("admin")
    response = _send(client, auth, "POST", "/api/v1/deadline-rules", json=body)
    assert response.status_code == 422
    assert set(_error_shape(response)["errors"]) == fields


@pytest.mark.parametrize(("body", "field"), [({"amount": 0}, "amount"), ({"unit": "fortnights"}, "unit"),
                                             ({"stage": "handle"}, "stage")])  # fmt: skip
def test_bad_patches_get_422(client, auth, city, seeded, body, field):
    auth.login("admin")
    response = _send(client, auth, "PATCH", f"/api/v1/deadline-rules/{_sign_rule_id()}", json=body)
    assert response.status_code == 422
    assert field in _error_shape(response)["errors"]


def test_patching_a_missing_rule_is_404(client, auth, city, seeded):
    auth.login("admin")
    assert _send(client, auth, "PATCH", "/api/v1/deadline-rules/999999", json={"amount": 3}).status_code == 404


def test_supervisor_gets_403_on_every_edit_even_with_bad_input(client, auth, city, seeded):
    auth.login("sup_T1")
    rule_id = _sign_rule_id()
    attempts = [
        ("POST", "/api/v1/deadline-rules", {"stage": "sign", "amount": 1, "unit": "hours", "channel": "visit"}),
        ("POST", "/api/v1/deadline-rules", {"stage": "lunch"}),
        ("PATCH", f"/api/v1/deadline-rules/{rule_id}", {"amount": 1}),
        ("PUT", "/api/v1/calendar/2026-03-09", {"is_working_day": False}),
        ("DELETE", "/api/v1/calendar/2026-02-16", None),
    ]
    for method, url, body in attempts:
        response = _send(client, auth, method, url, json=body)
        assert response.status_code == 403, (method, url)
        assert _error_shape(response)["message"] == "您无权执行此操作。"
    db.session.expire_all()
    assert rule_for(Case(channel=Channel.LETTER, legal_track=None, priority="normal"), Stage.SIGN).amount == 24


def test_admin_edits_the_calendar_and_due_dates_follow(client, auth, city, seeded):
    auth.login("admin")
    body = {"is_working_day": False, "name": "本市停工日"}
    put = _send(client, auth, "PUT", "/api/v1/calendar/2026-03-09", json=body)
    assert put.status_code == 200
    assert put.get_json() == {"day": "2026-03-09", "is_working_day": False, "name": "本市停工日"}
    # A 12345 order of Fri 03-06 16:00: Sat, Sun, and now Mon 03-09 off → due 24:00 Tue 03-10.
    start = datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI)
    due, _ = compute_due(Case(channel=Channel.TRANSFER_12345, legal_track=None, priority="normal"), Stage.SIGN, start)
    assert due == datetime(2026, 3, 11, 0, 0, tzinfo=SHANGHAI)
    assert _send(client, auth, "DELETE", "/api/v1/calendar/2026-03-09").status_code == 204
    assert _send(client, auth, "DELETE", "/api/v1/calendar/2026-03-09").status_code == 404
    db.session.expire_all()
    due, _ = compute_due(Case(channel=Channel.TRANSFER_12345, legal_track=None, priority="normal"), Stage.SIGN, start)
    assert due == datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/calendar/2026-02-30", {"is_working_day": True}, "day"),
        ("/api/v1/calendar/next-monday", {"is_working_day": True}, "day"),
        ("/api/v1/calendar/2026-03-09", {"name": "无状态"}, "is_working_day"),
        ("/api/v1/calendar/2026-03-09", {"is_working_day": "maybe"}, "is_working_day"),
        ("/api/v1/calendar/2026-03-09", {"is_working_day": False, "name": "长" * 65}, "name"),
    ],
)
def test_bad_calendar_input_gets_422(client, auth, city, seeded, url, body, field):
    auth.login("admin")
    response = _send(client, auth, "PUT", url, json=body)
    assert response.status_code == 422
    assert field in _error_shape(response)["errors"]


@pytest.mark.parametrize("query", ["year=abc", "year=1900"])
def test_bad_calendar_year_gets_422(client, auth, city, query):
    auth.login("command")
    response = client.get(f"/api/v1/calendar?{query}")
    assert response.status_code == 422
    assert "year" in _error_shape(response)["errors"]


def test_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/deadline-rules"])
    assert "patch" in paths["/api/v1/deadline-rules/{rule_id}"]
    assert {"put", "delete"} <= set(paths["/api/v1/calendar/{day}"])
