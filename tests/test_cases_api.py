"""Case list and detail: one scope rule per role, 404 outside it, personal data masked."""

import pytest

from app.extensions import db
from app.models.vocab import CaseStatus

# Which villages' cases each demo role sees in the tiny city (V11, V21 industrial → env;
# V12, V22 tertiary → urban; the leader leads V11's case).
SCOPES = {
    "insp_V11": {"V11"},
    "insp_V22": {"V22"},
    "sup_T1": {"V11", "V12"},
    "sup_T2": {"V21", "V22"},
    "officer_env": {"V11", "V21"},
    "officer_urban": {"V12", "V22"},
    "leader": {"V11"},
    "command": {"V11", "V12", "V21", "V22"},
    "admin": {"V11", "V12", "V21", "V22"},
}


def _visible(client) -> set[str]:
    items = client.get("/api/v1/cases?per_page=200").get_json()["items"]
    return {item["grid"]["code"] for item in items}


@pytest.mark.parametrize("username", sorted(SCOPES))
def test_each_role_lists_exactly_its_scope(client, auth, city, username):
    auth.login(username)
    assert _visible(client) == SCOPES[username]


@pytest.mark.parametrize("username", sorted(SCOPES))
def test_each_role_gets_404_outside_scope_and_200_inside(client, auth, city, username):
    auth.login(username)
    for code, case in city.cases.items():
        response = client.get(f"/api/v1/cases/{case.id}")
        expected = 200 if code in SCOPES[username] else 404
        assert response.status_code == expected, (username, code)
        if expected == 404:
            assert response.get_json()["message"] == "案件不存在，或不在您的管辖范围内。"


def test_inspector_asking_for_another_villages_case_gets_404(client, auth, city):
    auth.login("insp_V11")
    response = client.get(f"/api/v1/cases/{city.cases['V12'].id}")
    assert response.status_code == 404
    assert city.cases["V12"].number not in response.text


def test_nonexistent_case_looks_the_same_as_out_of_scope(client, auth, city):
    auth.login("insp_V11")
    outside = client.get(f"/api/v1/cases/{city.cases['V12'].id}").get_json()
    missing = client.get("/api/v1/cases/999999").get_json()
    assert outside == missing


def test_ids_past_the_database_range_are_404_and_filters_400(client, auth, city):
    # Past 2**31 - 1 an id cannot exist: 404 (the one error shape);
    # a filter past the range is refused with a message, never a 500 from the database.
    auth.login("command")
    huge = 99999999999999999999
    for path in (f"/api/v1/cases/{huge}", f"/api/v1/cases/{2**31}", f"/desk/cases/{huge}",
                 f"/api/v1/cases/{2**31}/attachments"):  # POST has the same path: still 404, not 405
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.get(f"/api/v1/cases/{huge}").get_json()["code"] == 404
    response = client.get(f"/api/v1/cases?grid_id={huge}")
    assert response.status_code == 400
    assert response.get_json()["message"] == "参数超出允许的范围，请检查后重试。"


def test_cases_need_login(client, city):
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get(f"/api/v1/cases/{city.cases['V11'].id}").status_code == 401


@pytest.mark.parametrize("username", ["sup_T1", "officer_env", "command"])
def test_handlers_see_personal_data_whole(client, auth, city, username):
    auth.login(username)
    petitioner = client.get(f"/api/v1/cases/{city.cases['V11'].id}").get_json()["petitioner"]
    assert petitioner == {
        "anonymous": False, "name": "张三丰", "phone": "13812345678",
        "id_number": "320682199001011234", "masked": False,
    }


@pytest.mark.parametrize("username", ["insp_V11", "leader", "admin"])
def test_others_see_name_and_phone_masked_and_no_id_number(client, auth, city, username):
    auth.login(username)
    response = client.get(f"/api/v1/cases/{city.cases['V11'].id}")
    petitioner = response.get_json()["petitioner"]
    assert petitioner["name"] == "张**"
    assert petitioner["phone"] == "*******5678"
    assert petitioner["id_number"] is None and petitioner["masked"] is True
    assert "13812345678" not in response.text and "320682199001011234" not in response.text


def test_list_masks_personal_data_for_inspectors(client, auth, city):
    auth.login("insp_V11")
    text = client.get("/api/v1/cases").text
    assert "张三丰" not in text and "13812345678" not in text


def test_anonymous_case_shows_no_personal_data_to_anyone(client, auth, city):
    case = city.cases["V11"]
    case.anonymous, case.petitioner_name, case.petitioner_phone, case.petitioner_id_number = True, None, None, None
    db.session.commit()
    auth.login("command")
    petitioner = client.get(f"/api/v1/cases/{case.id}").get_json()["petitioner"]
    assert petitioner["anonymous"] is True and petitioner["name"] is None


def test_filters_narrow_within_scope(client, auth, city):
    city.cases["V12"].status = CaseStatus.CLOSED
    city.cases["V12"].above_level = True
    db.session.commit()
    auth.login("sup_T1")
    assert {i["number"] for i in client.get("/api/v1/cases?status=closed").get_json()["items"]} == {
        city.cases["V12"].number
    }
    assert client.get("/api/v1/cases?above_level=true").get_json()["meta"]["total"] == 1
    assert client.get("/api/v1/cases?open=true").get_json()["meta"]["total"] == 1
    # A filter cannot widen scope: asking for the other town's grid finds nothing.
    assert client.get(f"/api/v1/cases?grid_id={city.grids['V21'].id}").get_json()["meta"]["total"] == 0


def test_bad_filter_is_422_in_one_error_shape(client, auth, city):
    auth.login("command")
    response = client.get("/api/v1/cases?status=nonsense&per_page=0")
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] in ("状态 · 第 1 项：不是可选的值（可选值见接口文档）。",
                               "每页条数：须不小于 1 且不大于 200。")
    assert {"status", "per_page"} <= set(body["errors"])
    assert body["errors"]["per_page"] == ["每页条数：须不小于 1 且不大于 200。"]


def test_pagination_meta(client, auth, city):
    auth.login("command")
    body = client.get("/api/v1/cases?per_page=3&page=2").get_json()
    assert body["meta"] == {"page": 2, "per_page": 3, "total": 4, "pages": 2}
    assert len(body["items"]) == 1


def test_case_detail_has_location_and_labels(client, auth, city):
    auth.login("command")
    body = client.get(f"/api/v1/cases/{city.cases['V11'].id}").get_json()
    assert body["location"] == {"lon": 120.505, "lat": 32.31}
    assert body["status_label"] == "已交办"
    assert body["department"]["name"] == "市生态环境局"
    assert body["due_at"].endswith("+00:00")


def test_a_form_part_without_a_name_is_refused_in_chinese(client, auth, city):
    # Werkzeug files such a part under the key None, on which the CSRF check used to fail (500).
    auth.login("command")
    body = b"--XX\r\nContent-Disposition: form-data\r\n\r\nnull\r\n--XX--\r\n"
    response = client.post(f"/api/v1/cases/{city.cases['V11'].id}/attachments", data=body,
                           content_type="multipart/form-data; boundary=XX", headers={"X-CSRFToken": auth.csrf()})
    assert response.status_code == 400
    assert response.get_json()["message"] == "表单中有没有名称的字段，无法处理。"


# Far from every case of the tiny city, and of no category nearby: only the phone can match.
NOWHERE = "/api/v1/cases/repeat-candidates?lon=0&lat=0&category=air"


@pytest.mark.parametrize("username", ["sup_T1", "officer_env", "command"])
def test_repeat_candidates_by_phone_for_those_who_may_read_phones(client, auth, city, username):
    """Roles that see the petitioner's phone whole find earlier cases by it (every case of the
    tiny city has the same petitioner), within their scope."""
    auth.login(username)
    found = client.get(f"{NOWHERE}&phone=13812345678").get_json()
    assert {c["id"] for c in found} == {city.cases[code].id for code in SCOPES[username]}
    assert {c["reason"] for c in found} == {"同一信访人电话"}


@pytest.mark.parametrize("username", ["insp_V11", "leader", "admin"])
def test_repeat_candidates_never_confirm_a_phone_to_those_who_see_it_masked(client, auth, city, username):
    """An inspector, a leader or an administrator sees the phone masked; a guessed number must
    not find the case either (a right and a wrong guess answer alike)."""
    auth.login(username)
    right = client.get(f"{NOWHERE}&phone=13812345678")
    wrong = client.get(f"{NOWHERE}&phone=13900000000")
    assert right.status_code == wrong.status_code == 200
    assert right.get_json() == wrong.get_json() == []
