"""The routing table and settings: readable by all signed in, editable by the admin only."""

from tests.helpers import Desk, register


def test_admin_reroutes_a_sector_and_new_cases_follow(app, city):
    desk = Desk(app)
    routes = {r["sector"]: r for r in desk.get("command", "/api/v1/routes").get_json()}
    assert routes["tertiary"]["department_name"] == "市城市管理局"
    env_id = routes["industrial"]["department_id"]
    assert desk.client("sup_T1")[0].put("/api/v1/routes/tertiary", json={"department_id": env_id},
                                        headers={"X-CSRFToken": desk.client("sup_T1")[1]}).status_code == 403
    client, token = desk.client("admin")
    changed = client.put("/api/v1/routes/tertiary", json={"department_id": env_id}, headers={"X-CSRFToken": token})
    assert changed.status_code == 200 and changed.get_json()["department_name"] == "市生态环境局"
    case = register(desk, sector="tertiary")["case"]
    assert case["department"]["name"] == "市生态环境局"
    assert client.put("/api/v1/routes/nonsense", json={"department_id": env_id},
                      headers={"X-CSRFToken": token}).status_code == 404
    bad = client.put("/api/v1/routes/tertiary", json={"department_id": 99999}, headers={"X-CSRFToken": token})
    assert bad.status_code == 422


def test_admin_changes_repeat_radius_with_checks(app, city):
    desk = Desk(app)
    client, token = desk.client("admin")
    assert client.get("/api/v1/settings").get_json()["repeat_radius_m"] == 200
    too_big = client.put("/api/v1/settings/repeat_radius_m", json={"value": 99999}, headers={"X-CSRFToken": token})
    assert too_big.status_code == 422 and "5000" in too_big.get_json()["message"]
    first = register(desk)["case"]
    before = register(desk, petitioner_phone="13500000000", lon=120.5085, lat=32.312)  # ~330 m east
    assert first["number"] not in [c["number"] for c in before["repeat_candidates"]]
    ok = client.put("/api/v1/settings/repeat_radius_m", json={"value": 500}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.get_json()["repeat_radius_m"] == 500
    after = register(desk, petitioner_phone="13500000001", lon=120.5085, lat=32.312)
    assert first["number"] in [c["number"] for c in after["repeat_candidates"]]
