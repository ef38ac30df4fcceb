"""The app starts, answers health checks and serves its API document."""

from datetime import UTC

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Case


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


def test_timestamps_come_back_in_utc_whatever_the_server_zone(app, city):
    """The connection speaks UTC (the city's server may run in Asia/Shanghai): a read
    timestamp carries datetime.UTC itself, so nothing converts it again."""
    with app.app_context():
        received = db.session.scalar(select(Case.received_at).where(Case.id == city.cases["V11"].id))
        assert received.tzinfo is UTC
        if db.engine.dialect.name == "postgresql":
            assert db.session.scalar(select(func.current_setting("TimeZone"))) == "UTC"


def test_a_sqlite_writer_waits_ten_seconds_for_the_lock(app):
    """SpatiaLite sets its own 5 s busy timeout when it loads; ours is set after it."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert db.session.scalar(text("PRAGMA busy_timeout")) == 10000
