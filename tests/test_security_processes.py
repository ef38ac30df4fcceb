"""Nothing depends on a single process: two real app processes on one PostGIS database share
sign-in throttling (counted in the database) and see each other's grid imports in their
point→grid locators (each process caches its own, keyed on the database's grid revision)."""

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from app.extensions import db
from tests.factories import grid_feature

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = (120.56, 32.31)  # east of the tiny city: in no grid until the import below


class Browser:
    """One HTTP client with its own cookies, talking to one app process."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = self.call("GET", "/api/v1/auth/csrf")[1]["csrf_token"]

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"):
        """(status, JSON body or text) of one request."""
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Content-Type", content_type)
        request.add_header("Referer", self.base + "/")
        if method != "GET":
            request.add_header("X-CSRFToken", self.token)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, raw, kind = response.status, response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers.get_content_type()
        return status, json.loads(raw) if kind.endswith("json") else raw.decode("utf-8")

    def json(self, method: str, path: str, payload: dict):
        """A JSON request."""
        return self.call(method, path, json.dumps(payload).encode())

    def login(self, username: str, password: str = "test-password-1") -> int:
        """Sign in through the API (keeping the new CSRF token a sign-in answers with); the status code."""
        status, body = self.json("POST", "/api/v1/auth/login", {"username": username, "password": password})
        if status == 200:
            self.token = body["csrf_token"]
        return status

    def upload(self, path: str, field: str, filename: str, content: bytes) -> tuple[int, str]:
        """Post a multipart form with one file and the CSRF token; the page it leads to."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{self.token}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
                f"Content-Type: application/geo+json\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", path, body, f"multipart/form-data; boundary={boundary}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_process(database_url: str, instance: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``flask run`` on a free port against the shared database; waits until /healthz answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "FIRSTLINE_INSTANCE_DIR": str(instance),
           "SECRET_KEY": "two-process-test", "AUDIT_KEY": "two-process-audit", "RATELIMIT_ENABLED": "false",
           "FLASK_DEBUG": "0"}
    with log.open("w") as out:  # the child keeps its own copy of the handle
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port),
             "--no-reload", "--no-debugger"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return process, base
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"app process did not start: {log.read_text()}")


@pytest.fixture
def two_processes(app, city, tmp_path):
    """Processes A and B serving the test database."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two app processes on one database are a PostGIS deployment; set TEST_DATABASE_URL "
                    "(the embedded SQLite file serves one process)")
    url = db.engine.url.render_as_string(hide_password=False)
    started = [start_process(url, tmp_path / name, tmp_path / f"{name}.log") for name in ("a", "b")]
    yield [base for _, base in started]
    for process, _ in started:
        process.terminate()
        process.wait(timeout=30)


def register_at(browser: Browser, lon: float, lat: float, **extra) -> dict:
    """Register a case at a point through the API; the case as returned."""
    status, body = browser.json("POST", "/api/v1/cases", {
        "channel": "letter", "category": "air", "sector": "industrial", "title": "异味", "lon": lon, "lat": lat,
        "anonymous": True, **extra})
    assert status == 201, body
    return body["case"]


def test_throttling_and_grid_imports_hold_across_processes(two_processes):
    a, b = two_processes
    attacker = Browser(a)
    for _ in range(5):
        assert attacker.login("insp_V11", "wrong-password") == 401
    assert Browser(b).login("insp_V11") == 429  # counted through A, refused by B

    command_on_b = Browser(b)
    assert command_on_b.login("command") == 200
    before = register_at(command_on_b, *OUTSIDE, outside_city=True)  # not yet part of the city
    assert before["outside_grid"] is True  # B's locator is now built and cached

    admin_on_a = Browser(a)
    assert admin_on_a.login("admin") == 200
    features = [grid_feature("T3", "新镇", 2, "C", (120.54, 32.30, 120.58, 32.32)),
                grid_feature("V31", "V31村", 3, "T3", (120.54, 32.30, 120.58, 32.32))]
    geojson = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    status, page = admin_on_a.upload("/admin/grids", "file", "new-town.geojson", geojson)
    assert status == 200 and "导入完成：新增 2 个" in page  # the redirect is followed to the grids page

    after = register_at(command_on_b, *OUTSIDE)
    assert after["outside_grid"] is False and after["grid"]["code"] == "V31" and after["outside_city"] is False
