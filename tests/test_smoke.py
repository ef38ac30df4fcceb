"""The app starts, answers health checks and serves its API document."""

import pytest

from app.extensions import db


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_tiny_city_builds(city):
    assert len(city.cases) == 4
    assert city.cases["V11"].grid.code == "V11"
    assert city.cases["V11"].town.code == "T1"


def test_postgres_plans_each_statement_for_its_own_parameters(app):
    """No server-side prepared statements: a generic plan made the wall's state filter 30x slower."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only")
        assert db.session.connection().connection.dbapi_connection.prepare_threshold is None
