"""Times and dates outside the years the app handles are refused with a 4xx naming the field.

A year 1 or 9999 once overflowed deep inside a service (the same period a year earlier) or
while SQLAlchemy bound it (the shift to UTC), answering 500; a year 1900 was simply stored.
Every time and date a request carries goes through the schemas' ``Moment`` and ``Day``
fields, which refuse what falls outside ``EARLIEST_YEAR``–``LATEST_YEAR``.
"""

import ast
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from app.bounds import DAY_OUT_OF_RANGE, MOMENT_OUT_OF_RANGE
from app.extensions import db
from app.models import Patrol
from app.services.campaign.phases import create_campaign
from tests.helpers import Desk, onsite_body, register

APP = Path(__file__).resolve().parent.parent / "app"
# A moment that falls before year 1 once converted to UTC: it overflowed in the column type.
BEFORE_YEAR_ONE_IN_UTC = "0001-01-01T07:59:59+08:00"


@pytest.fixture
def desk(app, city):
    """The city's people, each signed in through the API."""
    return Desk(app)


def put(desk, username, url, payload):
    """PUT JSON as a user, CSRF token included."""
    client, token = desk.client(username)
    return client.put(url, json=payload, headers={"X-CSRFToken": token})


@pytest.mark.parametrize("received_from", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                                           BEFORE_YEAR_ONE_IN_UTC])
def test_wall_period_out_of_range_is_a_422(desk, received_from):
    """The wall compares with the same period a year earlier: year 0 used to be a 500."""
    response = desk.get("command", f"/api/v1/wall/panels?received_from={received_from.replace('+', '%2B')}")
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["received_from"] == [f"收到时间（起）：{MOMENT_OUT_OF_RANGE}"]


@pytest.mark.parametrize("received_at", [BEFORE_YEAR_ONE_IN_UTC, "0001-06-01T00:00:00+00:00",
                                         "1900-05-01T09:00:00+08:00", "2100-01-01T09:00:00+08:00"])
def test_case_received_far_from_now_is_refused(desk, received_at):
    """A case received in year 1 or 1900 is a slip, not a record; nothing is stored."""
    client, token = desk.client("command")
    body = {"channel": "letter", "category": "air", "sector": "industrial", "title": "异味", "lon": 120.505,
            "lat": 32.312, "received_at": received_at}
    response = client.post("/api/v1/cases", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["received_at"] == [f"收到时间：{MOMENT_OUT_OF_RANGE}"]
    assert "时间超出允许范围（2000—2099年）" in response.get_json()["message"]


def test_the_bounds_themselves_are_accepted(desk):
    """The first and last years are inside."""
    case = register(desk, received_at="2000-01-01T09:00:00+08:00")["case"]
    assert case["received_at"].startswith("2000-01-01")


def test_onsite_check_time_out_of_range_is_a_422(desk, city):
    """record_onsite's captured_at: the UTC shift of year 1 used to overflow in the column type."""
    case = register(desk)["case"]
    response = desk.post("insp_V11", f"/api/v1/cases/{case['id']}/actions/record_onsite",
                         {"notes": "现场", "findings": {"source_found": True}, "captured_at": BEFORE_YEAR_ONE_IN_UTC})
    assert response.status_code == 422, response.get_json()
    assert "captured_at" in response.get_json()["errors"]


def test_patrol_and_inspection_times_out_of_range_are_422(desk, city):
    """The phone's uploads: a patrol's started_at and an on-site check's captured_at."""
    patrol = put(desk, "insp_V11", f"/api/v1/patrols/{uuid.uuid4()}", {"started_at": BEFORE_YEAR_ONE_IN_UTC})
    assert patrol.status_code == 422, patrol.get_json()
    assert patrol.get_json()["errors"]["started_at"] == [f"开始时间：{MOMENT_OUT_OF_RANGE}"]
    body = onsite_body(city.cases["V11"].id, captured_at="9999-12-31T23:59:59-08:00")
    inspection = put(desk, "insp_V11", f"/api/v1/inspections/{uuid.uuid4()}", body)
    assert inspection.status_code == 422, inspection.get_json()
    assert db.session.scalar(select(func.count()).select_from(Patrol)) == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"])
def test_calendar_day_out_of_range_is_refused(desk, day):
    """The working calendar only holds days of the years deadlines are counted in."""
    response = put(desk, "admin", f"/api/v1/calendar/{day}", {"is_working_day": False})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["day"] == [f"日期：{DAY_OUT_OF_RANGE}"]


def test_query_dates_out_of_range_are_422(desk):
    """Period filters of the campaign and patrol reports go through the same Day field."""
    for url in ("/api/v1/scores/grids?start=0001-01-01", "/api/v1/patrol-compliance?start=9999-12-31"):
        response = desk.get("command", url)
        assert response.status_code == 422, (url, response.get_json())
        assert response.get_json()["errors"]["start"] == [f"开始日期：{DAY_OUT_OF_RANGE}"]


def test_an_overflow_while_binding_is_a_400_not_a_500(app):
    """Defence in depth: should a far time reach the database, SQLAlchemy wraps the column
    type's OverflowError in StatementError, which the OverflowError handler missed (500)."""
    wrapped = StatementError("(builtins.OverflowError) date value out of range", "INSERT …", {},
                             OverflowError("date value out of range"))
    with app.test_request_context("/api/v1/cases", method="POST"):
        response = app.make_response(app.handle_user_exception(wrapped))
    assert response.status_code == 400
    assert response.get_json()["message"] == "参数超出允许的范围，请检查后重试。"


def test_request_times_and_dates_go_through_the_bounded_fields():
    """No schema declares a time or date with marshmallow's own fields, which have no bounds."""
    raw = ("AwareDateTime", "DateTime", "NaiveDateTime", "Date")
    wrong = []
    for path in sorted(APP.rglob("*.py")):
        if path.parent.name == "schemas" and path.name in ("common.py", "messages.py"):  # the fields' home
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in raw and isinstance(node.value, ast.Name)
                    and node.value.id == "fields"):
                wrong.append(f"{path.relative_to(APP.parent)}:{node.lineno} fields.{node.attr}")
    assert wrong == []


@pytest.fixture
def campaign(city):
    """The 2026 campaign with the plan's phases (自查自纠 09-20…10-15, 攻坚化解 10-16…12-15,
    总结评估 12-16…12-31) and required submissions."""
    created = create_campaign(city.users["command"], 2026)
    db.session.commit()
    return created


@pytest.mark.parametrize(("code", "change", "field"), [
    ("tackling", {"starts_on": "0293-01-01"}, "starts_on"),            # outside the app's years
    ("tackling", {"ends_on": "2099-12-31"}, "ends_on"),                # far from the campaign's year
    ("tackling", {"ends_on": "2026-12-20"}, "ends_on"),                # runs into 总结评估
    ("tackling", {"starts_on": "2026-10-10"}, "starts_on"),            # starts inside 自查自纠
    ("evaluation", {"starts_on": "2026-09-01", "ends_on": "2026-09-10"}, "starts_on"),  # before the others
    ("self_inspection", {"starts_on": "2025-09-01"}, "ends_on"),       # the campaign would last 16 months
    ("tackling", {"starts_on": "2026-12-01", "ends_on": "2026-11-01"}, "ends_on"),  # ends before it starts
])
def test_campaign_phase_dates_must_make_a_campaign(desk, campaign, code, change, field):
    """Phases stay in the campaign's year (or next to it), in order and without overlap; a
    campaign stretched over centuries made the weekly reception check take 24 s."""
    phase = next(p for p in campaign.phases if p.code == code)
    before = (phase.starts_on, phase.ends_on)
    response = put(desk, "command", f"/api/v1/campaigns/phases/{phase.id}", change)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    db.session.refresh(phase)
    assert (phase.starts_on, phase.ends_on) == before


def test_campaign_phase_moved_within_its_year_is_kept(desk, campaign):
    """A phase moved within the year and in order is accepted; the campaign's span follows."""
    phase = next(p for p in campaign.phases if p.code == "self_inspection")
    response = put(desk, "command", f"/api/v1/campaigns/phases/{phase.id}", {"starts_on": "2026-09-01"})
    assert response.status_code == 200, response.get_json()
    db.session.refresh(campaign)
    assert campaign.starts_on.isoformat() == "2026-09-01"


def test_requirement_due_date_stays_near_the_campaign(desk, campaign):
    """A report due in 4810 (or five years on) is refused; one due in January after is kept."""
    requirement = campaign.requirements[0]
    for due_on in ("4810-01-01", "2031-01-01"):
        response = put(desk, "command", f"/api/v1/campaigns/requirements/{requirement.id}", {"due_on": due_on})
        assert response.status_code == 422 and "due_on" in response.get_json()["errors"], response.get_json()
    response = put(desk, "command", f"/api/v1/campaigns/requirements/{requirement.id}", {"due_on": "2027-01-10"})
    assert response.status_code == 200, response.get_json()
