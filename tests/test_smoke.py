"""The app starts, answers health checks and serves its API document."""


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_tiny_city_builds(city):
    assert len(city.cases) == 4
    assert city.cases["V11"].grid.code == "V11"
    assert city.cases["V11"].town.code == "T1"
