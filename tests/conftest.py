"""Fixtures: one migrated database per test session, emptied after every test.

The backend comes from TEST_DATABASE_URL (PostGIS in `make test`'s second run); without
it, a temporary SpatiaLite file.
"""

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.factories import TinyCity, build_tiny_city
from tests.helpers import GPS, FakeProviders, phone_context

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# CI runs both databases' suites side by side on two cores: a page under that load can take
# longer than Playwright's 5 s default to settle (a GPS fix, a service worker, a redraw).
# Waits end as soon as their condition holds, so a longer ceiling slows only a failing test.
expect.set_options(timeout=15_000)


# Lines a test module leaves for the end of the run (Schemathesis' request counts): output
# written during a test is captured, so they are printed in the terminal summary instead.
RUN_SUMMARY = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the lines test modules left in RUN_SUMMARY."""
    for line in config.stash.get(RUN_SUMMARY, []):
        terminalreporter.write_line(line)


def _test_database_url(tmp_dir: str) -> str:
    """PostGIS when the environment names one, else a SpatiaLite file in a temp folder."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/test.db"


@pytest.fixture(scope="session")
def app():
    """The app, on a database migrated from empty by the real migrations."""
    # A browser test's server thread may still be writing a photo as the session ends: the
    # folder is removed as far as it can be rather than failing the run ("Directory not empty").
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp_dir:

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = _test_database_url(tmp_dir)
            PHOTO_DIR = f"{tmp_dir}/photos"
            AUDIT_CHECKPOINT_DIR = f"{tmp_dir}/checkpoints"

        app = create_app(Config)
        app.test_client_class = FreshContextClient
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Run each test in an app context and leave the database and photo folder empty behind it."""
    with app.app_context():
        yield
        db.session.remove()
        empty_all_tables()
        shutil.rmtree(app.config["PHOTO_DIR"], ignore_errors=True)
        shutil.rmtree(app.config["AUDIT_CHECKPOINT_DIR"], ignore_errors=True)


def empty_all_tables(attempts: int = 5) -> None:
    """Delete every row of every app table (SpatiaLite's own tables are untouched).

    A browser test's live-feed stream may still be polling for a moment after its page
    closed; if PostgreSQL picks the clean-up as a deadlock victim, try again.
    """
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    for attempt in range(attempts):
        try:
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    _empty_postgresql(conn, tables)
                else:
                    for table in tables:
                        conn.execute(text(f"DELETE FROM {table}"))
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def _empty_postgresql(conn, tables: list[str]) -> None:
    """Delete the rows of the tables that hold any (children first), then restart every id
    sequence: what TRUNCATE ... RESTART IDENTITY does, in a quarter of its time when a test
    filled a few tables of fifty."""
    filled = set(conn.scalars(text(" UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table})" for table in tables))))
    for table in (t for t in tables if t in filled):
        conn.execute(text(f"DELETE FROM {table}"))
    conn.execute(text("SELECT setval(c.oid, s.seqstart, false) FROM pg_class c JOIN pg_sequence s "
                      "ON s.seqrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE n.nspname = current_schema()"))


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    Tests run inside an app context (to use db.session); without this, requests would
    share its ``g`` and database session, hiding per-request state such as the loaded
    user or the CSRF token.
    """

    def open(self, *args, **kwargs):
        # End the test's own transaction around the request: what the test set up is then
        # visible to the request, and what the request wrote is visible to the test after
        # it (SQLite reads from a snapshot taken when a transaction starts).
        outer = has_app_context()
        if outer:
            db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if outer:
            db.session.commit()
        return response


@pytest.fixture
def client(app):
    """A test client with cookies, as a browser would have."""
    return app.test_client()


@pytest.fixture
def city(app) -> TinyCity:
    """A small city: 2 towns, 4 villages, a user of every role, cases in every village."""
    return build_tiny_city()


class AuthActions:
    """Sign a test client in and out through the real API, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def csrf(self) -> str:
        """A fresh CSRF token bound to this client's session."""
        return self._client.get("/api/v1/auth/csrf").get_json()["csrf_token"]

    def login(self, username: str, password: str = "test-password-1"):
        """POST /api/v1/auth/login and return the response."""
        return self._client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": password},
            headers={"X-CSRFToken": self.csrf()},
        )

    def logout(self):
        """POST /api/v1/auth/logout."""
        return self._client.post("/api/v1/auth/logout", headers={"X-CSRFToken": self.csrf()})


@pytest.fixture
def auth(client) -> AuthActions:
    """Sign-in helper bound to the test client."""
    return AuthActions(client)


def _closing_responses(app):
    """The app with every response body closed however its sending ends.

    Werkzeug's development server closes a response only after draining the request socket;
    when the browser has reset the connection (it navigated on mid-download), that read
    raises first and a static file's handle is left open, so ``filterwarnings=error`` fails
    the test on a ResourceWarning. Here the body is closed when the generator is closed.
    """

    def serve(environ, start_response):
        body = app(environ, start_response)

        def chunks():
            try:
                yield from body
            finally:
                if hasattr(body, "close"):
                    body.close()

        return chunks()

    return serve


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP on a free local port, for the browser tests."""
    server = make_server("127.0.0.1", 0, _closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never Playwright's own downloaded browser)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page, Chinese locale, Beijing time."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    """A phone standing in the middle of village V11 with a good GPS fix (its browser cannot tell Wi-Fi)."""
    context = phone_context(browser, GPS)
    yield context
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where browser tests leave screenshots for people to look at."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def fake_providers():
    """A local fake of the SMS providers and group robots on 127.0.0.1 (nothing leaves the machine)."""
    fake = FakeProviders()
    yield fake
    fake.close()
