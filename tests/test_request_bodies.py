"""A JSON body is checked once before any view reads it: not JSON, nested too deep, or holding
a lone UTF-16 surrogate (half an emoji cut by a length limit on a phone) is a 400 with a
Chinese message, never a 500; JSON sent under another Content-Type is a 415 saying so.

The inspector app's outbox keeps a 4xx record with its message for the person to correct
(and retries 5xx forever), so each of these must be a 4xx whose message is not taken for a
CSRF refusal.
"""

import json
import uuid

import pytest

from app.api.arguments import NOT_JSON
from app.request_checks import MAX_JSON_DEPTH
from tests.helpers import Desk, onsite_body

CASE = {"channel": "letter", "category": "air", "sector": "industrial", "title": "化工厂夜间异味", "lon": 120.505,
        "lat": 32.312, "petitioner_name": "李四", "petitioner_phone": "13900001111"}


@pytest.fixture
def desk(app, city):
    """The city's people, each signed in through the API."""
    return Desk(app)


def send(desk, username, method, url, body: str, content_type="application/json"):
    """Send a raw body as a user, CSRF token included (the test client's ``json=`` could not
    write every body a fuzzer or a broken client sends)."""
    client, token = desk.client(username)
    return client.open(url, method=method, data=body.encode("utf-8"), content_type=content_type,
                       headers={"X-CSRFToken": token})


def assert_refused(response, status, field, text):
    """A 4xx in the app's one error shape, its message Chinese and not taken for a CSRF refusal."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert text in body["message"] and "CSRF" not in body["message"], body
    assert field in body["errors"], body


@pytest.mark.parametrize(("method", "url", "body", "field", "label"), [
    ("POST", "/api/v1/cases/{case}/actions/remind", '{"note": "\\udc80"}', "note", "备注"),
    ("POST", "/api/v1/cases", '{"title": "ab\\ud800", "channel": "letter"}', "title", "标题"),
    ("PUT", "/api/v1/inspections/{uuid}", '{"notes": "\\udfff"}', "notes", "说明"),
    ("PUT", "/api/v1/patrols/{uuid}", '{"started_at": "2026-11-29T09:00:00+08:00", "notes": "现场\\ud83d"}',
     "notes", "说明"),
    ("PUT", "/api/v1/patrols/{uuid}", '{"track": [{"\\ud83d": 1}]}', "track", "轨迹"),
])
def test_a_lone_surrogate_is_a_400_naming_the_field(desk, city, method, url, body, field, label):
    """Valid JSON, but no text: the database driver failed on it with UnicodeEncodeError (500)."""
    url = url.format(case=city.cases["V11"].id, uuid=uuid.uuid4())
    user = "command" if "/cases" in url else "insp_V11"
    response = send(desk, user, method, url, body)
    assert_refused(response, 400, field, f"{label}：内容含有无效字符")


def test_a_whole_emoji_passes(desk, city):
    """A surrogate pair is one character (😀), not a broken one."""
    response = send(desk, "command", "POST", "/api/v1/cases", '{"title": "异味\\ud83d\\ude00", ' + _rest())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["case"]["title"] == "异味😀"


def _rest() -> str:
    """The rest of a valid case body, after its title."""
    return json.dumps({k: v for k, v in CASE.items() if k != "title"}, ensure_ascii=False)[1:]


@pytest.mark.parametrize("depth", [100_000, MAX_JSON_DEPTH + 1])
def test_a_body_nested_too_deep_is_a_400(desk, depth):
    """100,000 '[' made webargs' parser hit the recursion limit (500)."""
    response = send(desk, "command", "POST", "/api/v1/cases", "[" * depth + "]" * depth)
    assert_refused(response, 400, "json", "嵌套过深")


def test_nesting_within_the_limit_reaches_the_schema(desk):
    """A body no deeper than the limit is the schema's to judge (here: not an object, 422)."""
    response = send(desk, "command", "POST", "/api/v1/cases", "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert response.status_code == 422, response.get_json()


@pytest.mark.parametrize("body", ['{"title": ', "{'title': 'x'}", "\ufeff{}x"])
def test_a_body_that_is_not_json_is_a_400_in_chinese(desk, body):
    """Broken JSON: webargs' English "Invalid JSON body." never reaches anyone."""
    assert_refused(send(desk, "command", "POST", "/api/v1/cases", body), 400, "json", "不是有效的 JSON")


def test_json_sent_as_text_is_a_415_saying_how_to_send_it(desk, city):
    """JSON under Content-Type: text/plain used to be read as no body at all: a 422 with 此项必填
    under every field, pointing at the wrong mistake."""
    response = send(desk, "command", "POST", "/api/v1/cases", json.dumps(CASE), content_type="text/plain")
    assert_refused(response, 415, "json", NOT_JSON)
    form = send(desk, "insp_V11", "PUT", f"/api/v1/inspections/{uuid.uuid4()}", "notes=x",
                content_type="application/x-www-form-urlencoded")
    assert_refused(form, 415, "json", NOT_JSON)


def test_an_empty_body_still_means_no_fields(desk, city):
    """A step whose fields all have defaults may be sent without a body, with or without the header."""
    case_id = city.cases["V11"].id
    for content_type in ("application/json", "text/plain"):
        response = send(desk, "command", "POST", f"/api/v1/cases/{case_id}/actions/remind", "", content_type)
        assert response.status_code != 415 and response.status_code < 500, response.get_json()


def test_the_phone_upload_with_a_valid_body_still_goes_through(desk, city):
    """The check costs the ordinary upload nothing but one parse."""
    client, token = desk.client("insp_V11")
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=onsite_body(city.cases["V11"].id),
                          headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.get_json()
