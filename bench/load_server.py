"""What the load benchmarks (mixed_load.py, sync_burst.py) share: the server as production runs
it (gunicorn with threads, one ``flask worker``, Redis as the queue when it is installed), a
signed-in HTTP client that keeps its connection, and the figures they print.
"""

import http.client
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from config import Config  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_app(database_url: str, photo_dir: Path):
    """The app on the bench's database, for preparing it and counting what the server did."""

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        PHOTO_DIR = str(photo_dir)
        SECRET_KEY = "bench-secret"
        RATELIMIT_ENABLED = False
        TASK_QUEUE_URL = "immediate"

    return create_app(BenchConfig)


def prepared(prefix: str, seed_cases: int | None) -> tuple[str, Path, object]:
    """The bench's database URL (``DATABASE_URL``), a fresh work folder and the app on them,
    the demo seeded first when ``seed_cases`` asks for it."""
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("set DATABASE_URL (a PostGIS database of the bench's own)")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    app = bench_app(database_url, work / "photos")
    if seed_cases:
        seed_demo(app, seed_cases)
    return database_url, work, app


def seed_demo(app, cases: int) -> None:
    """Migrate, empty every app table, and seed the demo city with ``cases`` cases."""
    from flask_migrate import upgrade

    from app.demo.seed import seed_demo_city

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        tables = ", ".join(t.name for t in reversed(db.metadata.sorted_tables))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
        db.session.commit()
        started = time.perf_counter()
        seed_demo_city(cases)
        db.session.commit()
        print(f"demo city seeded with {cases} cases in {time.perf_counter() - started:.0f} s")
        db.session.remove()
        db.engine.dispose()


@contextmanager
def redis_queue(folder: Path):
    """A throwaway Redis on a free port, or None when redis-server is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                               "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Server:
    """gunicorn and the worker, as ``make run`` and docs/deploy.md start them."""

    port: int
    processes: list[subprocess.Popen]
    log: Path


@contextmanager
def serve(database_url: str, photo_dir: Path, instance: Path, queue_url: str, workers: int, threads: int,
          task_threads: int):
    """Start gunicorn (``workers`` × ``threads``) and one worker (``task_threads``); stop both after."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url, "PHOTO_DIR": str(photo_dir), "FIRSTLINE_INSTANCE_DIR": str(instance),
        "SECRET_KEY": "bench-secret", "RATELIMIT_ENABLED": "0", "DEMO_SEED_ON_FIRST_RUN": "0",
        "TASK_QUEUE_URL": queue_url, "FLASK_APP": "wsgi",
        "SPATIALITE_LIBRARY_PATH": os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite"),
    }
    instance.mkdir(parents=True, exist_ok=True)
    log = instance / "server.log"
    out = log.open("w")
    web = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--backlog", "2048", "wsgi:app"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    worker = subprocess.Popen([str(VENV_BIN / "flask"), "worker", "--workers", str(task_threads)],
                              cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(port, [web, worker], log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        for process in server.processes:
            process.terminate()
        for process in server.processes:
            process.wait(timeout=60)
        out.close()


def _wait_until_up(server: Server) -> None:
    """Wait for /healthz (30 s at most)."""
    for _ in range(300):
        if any(p.poll() is not None for p in server.processes):
            sys.exit(f"the server stopped at start; see {server.log}:\n{server.log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"the server did not answer within 30 s; see {server.log}")


class Client:
    """One signed-in person: a session cookie and CSRF token, one kept-alive connection per thread."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.local = threading.local()

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
                timeout: float = 120) -> tuple[int, dict, bytes]:
        """One request on this thread's connection (reopened once if the server closed it)."""
        headers = {"Accept-Encoding": "gzip, br", "X-CSRFToken": self.token, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                                timeout=timeout)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                self.local.connection = None
                if attempt:
                    raise
                continue
            for value in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(value)
                self.cookies.update({name: morsel.value for name, morsel in jar.items()})
            return response.status, dict(response.headers), data
        raise AssertionError("unreachable")

    def sign_in(self, username: str, password: str) -> "Client":
        """Fetch a CSRF token and sign in through the API."""
        status, _, data = self.request("GET", "/api/v1/auth/csrf")
        self.token = json.loads(data)["csrf_token"]
        login = json.dumps({"username": username, "password": password}).encode()
        for _ in range(5):  # a 503 is a clash the server could not wait out: try again, as the apps do
            status, headers, data = self.request("POST", "/api/v1/auth/login", login,
                                                 {"Content-Type": "application/json", "Accept-Encoding": "identity"})
            if status != 503:
                break
            time.sleep(float(headers.get("Retry-After", 2)))
        if status != 200:
            sys.exit(f"{username}: sign-in failed: {status} {data[:200]!r}")
        self.token = json.loads(data)["csrf_token"]  # signing in starts a new CSRF token
        return self


@dataclass
class Samples:
    """Latencies (seconds) and outcomes of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    bytes: int = 0

    def add(self, latency: float, status: int, size: int, ok: bool) -> None:
        """Record one answer."""
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.bytes += size
        self.errors += not ok


def percentile_ms(samples: list[float], share: float) -> float:
    """The nearest-rank percentile, in milliseconds."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def table_row(label: str, samples: Samples) -> str:
    """One Markdown row: count, errors, p50, p95, p99, max (ms), mean size."""
    n = len(samples.latencies)
    size = samples.bytes / n / 1024 if n else 0
    return (f"| {label} | {n} | {samples.errors} | {percentile_ms(samples.latencies, 0.5):.0f} | "
            f"{percentile_ms(samples.latencies, 0.95):.0f} | {percentile_ms(samples.latencies, 0.99):.0f} | "
            f"{1000 * max(samples.latencies, default=float('nan')):.0f} | {size:.1f} |")


TABLE_HEAD = ("| what | requests | errors | p50 ms | p95 ms | p99 ms | max ms | mean KB (as sent) |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|")
