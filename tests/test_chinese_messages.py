"""Every message a person reads is Chinese and names fields in Chinese: the API's 422 bodies,
the desk's and the admin pages' forms. A probe sends wrong-typed values to every JSON
operation of the API document, and bad input to the forms, and reads what comes back."""

import re

import pytest

from app.extensions import api
from app.schemas.messages import FIELD_LABELS, error_lines, labelled
from tests.helpers import Desk, register
from tests.page_client import PageClient

ENGLISH = re.compile(r"\b(Not a valid|Missing data|Must be|may not be|Invalid|Unknown field|Length must|"
                     r"Shorter than|Longer than|required field|String does not)\b")
WRONG = {"string": 12345, "integer": "abc", "number": "abc", "boolean": "maybe", "array": "x", "object": "x"}


def spec() -> dict:
    return api.spec.to_dict()


def resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    return schema


def request_fields(document: dict) -> set[str]:
    """Every parameter and request-body property a client can send."""
    components, names, seen = document["components"]["schemas"], set(), set()

    def walk(schema: dict) -> None:
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in seen:
                seen.add(ref)
                walk(resolve(schema, components))
            return
        for name, prop in schema.get("properties", {}).items():
            if not prop.get("readOnly"):
                names.add(name)
            walk(prop)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key])

    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            names.update(p["name"] for p in operation.get("parameters", []))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content.get("schema", {}))
    return names


def leaves(errors) -> list[str]:
    if isinstance(errors, dict):
        return [text for value in errors.values() for text in leaves(value)]
    return list(errors) if isinstance(errors, list) else [str(errors)]


def test_every_field_a_request_can_carry_has_a_chinese_name(app):
    with app.test_request_context():
        missing = sorted(request_fields(spec()) - set(FIELD_LABELS))
    assert missing == []
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in FIELD_LABELS.values())


def test_errors_are_led_by_the_field_name_once():
    errors = {"lon": ["须为数字。"], "findings": {"source_found": ["此项必填。"]}, "_schema": ["整单有误。"]}
    assert labelled(errors) == {"lon": ["经度：须为数字。"], "_schema": ["整单有误。"],
                                "findings": {"source_found": ["核查结论 · 是否找到污染源：此项必填。"]}}
    assert error_lines({"end": ["结束日期：早于开始日期"]}) == ["结束日期：早于开始日期"]


@pytest.mark.parametrize("username", ["command", "insp_V11"])
def test_wrong_typed_input_to_every_api_operation_answers_in_chinese(app, city, username):
    desk = Desk(app)
    client, token = desk.client(username)
    with app.test_request_context():
        document = spec()
    components, refused = document["components"]["schemas"], 0
    for path, operations in document["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        if "{" in path and ("uuid" in path or "inspection" in path or "photo" in path):
            url = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000001", path)
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if method not in ("post", "put", "patch") or body_schema is None:
                continue
            properties = resolve(body_schema, components).get("properties", {})
            body = {name: WRONG.get(resolve(prop, components).get("type", "string"), 12345)
                    for name, prop in properties.items() if not prop.get("readOnly")}
            response = client.open(url, method=method.upper(), json=body, headers={"X-CSRFToken": token})
            assert response.status_code < 500, (method, path, response.get_data(as_text=True)[:300])
            if response.status_code != 422:
                continue
            refused += 1
            answer = response.get_json()
            for text in [answer["message"], *leaves(answer["errors"])]:
                assert not ENGLISH.search(text), (method, path, text)
                assert not re.match(r"([^：]+)：\1：", text), (method, path, text)
                assert re.search(r"[\u4e00-\u9fff]", text), (method, path, text)
            for key, texts in answer["errors"].items():
                if not key.startswith("_") and not isinstance(texts, dict):
                    assert all(t.startswith(FIELD_LABELS.get(key, "?")) for t in texts), (method, path, key, texts)
    assert refused >= (10 if username == "command" else 3)


def page_text(response) -> str:
    """The text a person sees: tags and the CSRF token stripped."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def alerts(response) -> str:
    """What the page says went wrong: its flash, error and field-error elements."""
    html = response.get_data(as_text=True)
    found = re.findall(r'class="(?:flash flash-error|error|field-error)"[^>]*>(.*?)</(?:p|span|ul)>', html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text) for text in found)


def test_bad_input_on_the_desk_and_admin_forms_reads_in_chinese(app, city):
    desk, admin, supervisor = PageClient(app), PageClient(app), PageClient(app)
    desk.login("command")
    admin.login("admin")
    supervisor.login("sup_T1")
    case = register(Desk(app))["case"]
    probes = [
        desk.post("/desk/cases/new", {"channel": "letter", "category": "air", "sector": "industrial",
                                      "title": "", "lon": "东经120度", "lat": "abc", "anonymous": "true"}),
        desk.post(f"/desk/cases/{case['id']}/actions/accept", {"legal_track": "nonsense", "notice_text": ""},
                  follow_redirects=True),
        supervisor.post(f"/desk/cases/{case['id']}/actions/extend", {"days": "三天", "reason": ""},
                        follow_redirects=True),
        desk.post("/desk/sources/new", {"name": "", "lon": "abc", "lat": "", "source_class": "factory"}),
        desk.get("/desk/patrols/?start=2026-13-40"),
        desk.get("/desk/campaign/scores?start=not-a-date"),
        admin.post("/admin/settings", {"repeat_radius_m": "很远"}, follow_redirects=True),
        admin.post("/admin/users/new", {"username": "", "full_name": "", "role": "nobody"}),
        admin.post("/admin/deadlines/rules", {"stage": "sign", "amount": "零", "unit": "hours"}, follow_redirects=True),
    ]
    for response in probes:
        said = alerts(response)
        assert response.status_code < 500 and said.strip(), (response.request.path, page_text(response)[:400])
        assert not ENGLISH.search(said), (response.request.path, said)
        raw = [name for name in FIELD_LABELS if re.search(rf"(?<![\w.]){name}(?![\w])", said)]
        assert raw == [], (response.request.path, said)
