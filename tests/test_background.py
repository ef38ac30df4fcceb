"""The task queue: a task asked for inside a transaction is sent only when it commits, and a
real worker process (``flask worker``) does what a request enqueued, on both databases and on
both queues (the embedded SQLite file and Redis, as in production)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from app import create_app
from app.extensions import db
from app.models import Alert, Case, Notification, Photo
from app.services import background
from config import TestConfig
from tests.factories import make_case
from tests.helpers import INSPECTOR, Desk, make_jpeg, onsite_body, put, put_bytes

ROOT = Path(__file__).resolve().parent.parent
POINTS = [(120.525, 32.310), (120.527, 32.310), (120.525, 32.313)]  # ~190 m and ~330 m apart


def test_a_task_waits_for_the_commit_and_a_rollback_drops_it(city, monkeypatch):
    ran = []
    monkeypatch.setitem(background._TASKS, "test.record", lambda **kw: ran.append(kw))
    background.enqueue("test.record", n=1)
    assert ran == []
    db.session.rollback()
    db.session.commit()
    assert ran == []
    background.enqueue("test.record", n=2)
    db.session.commit()
    assert ran == [{"n": 2}]
    with pytest.raises(KeyError):
        background.enqueue("test.no_such_task")


def test_a_task_takes_sqlites_write_lock_when_it_begins(city, monkeypatch):
    """The worker runs beside the web server: a task that read first and wrote later failed
    at once with "database is locked" when a request had written meanwhile (the early-warning
    scan during a deadline sweep). Its transaction begins with the lock, and waits for it."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    begun = []

    def note(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            begun.append(statement)

    monkeypatch.setitem(background._TASKS, "test.count", lambda: db.session.scalar(select(func.count(Case.id))))
    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert background.run_now("test.count") == 4
        db.session.scalar(select(func.count(Case.id)))  # the test's own reads stay deferred
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert begun == ["BEGIN IMMEDIATE", "BEGIN"]


def test_the_periodic_work_is_scheduled_in_the_worker():
    assert {(p.name, p.minutes) for p in background.schedules()} >= {("deadlines.sweep", 5), ("early_warning.scan", 15)}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A throwaway Redis on a free 127.0.0.1 port (the production queue); skipped where Redis is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.skip("redis-server did not start")
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, tmp_path):
    """The embedded queue (a SQLite file) and the production one (Redis): the same code runs on both."""
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    return f"sqlite:///{tmp_path / 'tasks.db'}"


@contextmanager
def worker_beside(app, queue_url: str, tmp_path: Path):
    """A web app sending to ``queue_url`` and a real ``flask worker`` process taking from it."""
    database_url = db.engine.url.render_as_string(hide_password=False)

    class QueuedConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        TASK_QUEUE_URL = queue_url
        PHOTO_DIR = app.config["PHOTO_DIR"]

    web = create_app(QueuedConfig)
    env = {**os.environ, "DATABASE_URL": database_url, "TASK_QUEUE_URL": queue_url, "SECRET_KEY": "worker-test",
           "PHOTO_DIR": app.config["PHOTO_DIR"], "FIRSTLINE_INSTANCE_DIR": str(tmp_path / "instance")}
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield web, lambda: worker.poll() is None or pytest.fail(log_path.read_text())
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
        with web.app_context():
            db.engine.dispose()


def wait_for(condition, alive) -> None:
    """Poll the database until ``condition()`` holds (the worker is another process), for up to a minute."""
    deadline = time.monotonic() + 60
    while not condition() and time.monotonic() < deadline:
        alive()
        db.session.commit()
        time.sleep(0.2)


def test_a_worker_process_does_what_a_request_enqueued(app, city, tmp_path, queue_url):
    # Two odour complaints already on file; the third, registered by a request, completes a
    # cluster. Intake only enqueues the early-warning scan: the worker process raises the alert.
    for n, (lon, lat) in enumerate(POINTS[:2]):  # two different people: early warning counts people
        make_case(lon, lat, category="air", petitioner_phone=f"1390000000{n}")
    db.session.commit()
    with worker_beside(app, queue_url, tmp_path) as (web, alive):
        with web.app_context():
            response = Desk(web).post("command", "/api/v1/cases", {
                "channel": "phone_12369", "category": "air", "sector": "industrial", "title": "夜间异味",
                "lon": POINTS[2][0], "lat": POINTS[2][1], "anonymous": True})
            assert response.status_code == 201, response.get_json()
            new_id = response.get_json()["case"]["id"]
            db.session.remove()
        assert db.session.query(Alert).count() == 0  # nothing happened inside the request
        wait_for(lambda: db.session.query(Alert).count() > 0, alive)
    (alert,) = db.session.query(Alert).all()
    assert new_id in alert.case_ids and len(alert.case_ids) >= 3
    assert db.session.query(Notification).filter_by(kind="early_warning").count() == 1


def test_the_worker_makes_an_uploaded_photos_thumbnail(app, city, tmp_path, queue_url):
    with worker_beside(app, queue_url, tmp_path) as (web, alive):
        with web.app_context():
            desk = Desk(web)
            record_id, photo_id = uuid.uuid4(), uuid.uuid4()
            assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}",
                       onsite_body(city.cases["V11"].id, [photo_id])).status_code == 201
            stored = put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{photo_id}", make_jpeg())
            assert stored.status_code == 201 and stored.get_json()["processing"] is True
            db.session.remove()
        wait_for(lambda: not db.session.get(Photo, photo_id).processing, alive)
        with web.app_context():
            with desk.client(INSPECTOR)[0].get(f"/api/v1/photos/{photo_id}/thumb") as thumb:
                assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
            db.session.remove()
