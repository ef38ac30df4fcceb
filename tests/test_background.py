"""The task queue: a task asked for inside a transaction is sent only when it commits, and a
real worker process (``flask worker``) does what a request enqueued, on both databases."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from app.models import Alert, Notification
from app.services import background
from config import TestConfig
from tests.factories import make_case
from tests.helpers import Desk

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


def test_the_periodic_work_is_scheduled_in_the_worker():
    assert {(p.name, p.minutes) for p in background.schedules()} >= {("deadlines.sweep", 5), ("early_warning.scan", 15)}


def test_a_worker_process_does_what_a_request_enqueued(app, city, tmp_path):
    # Two odour complaints already on file; the third, registered by a request, completes a
    # cluster. Intake only enqueues the early-warning scan: the worker process raises the alert.
    for lon, lat in POINTS[:2]:
        make_case(lon, lat, category="air")
    db.session.commit()
    queue_url = f"sqlite:///{tmp_path / 'tasks.db'}"
    database_url = db.engine.url.render_as_string(hide_password=False)

    class QueuedConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        TASK_QUEUE_URL = queue_url
        PHOTO_DIR = app.config["PHOTO_DIR"]

    web = create_app(QueuedConfig)
    env = {**os.environ, "DATABASE_URL": database_url, "TASK_QUEUE_URL": queue_url, "SECRET_KEY": "worker-test",
           "FIRSTLINE_INSTANCE_DIR": str(tmp_path / "instance")}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with web.app_context():
            response = Desk(web).post("command", "/api/v1/cases", {
                "channel": "phone_12369", "category": "air", "sector": "industrial", "title": "夜间异味",
                "lon": POINTS[2][0], "lat": POINTS[2][1], "anonymous": True})
            assert response.status_code == 201, response.get_json()
            new_id = response.get_json()["case"]["id"]
            db.session.remove()
        assert db.session.query(Alert).count() == 0  # nothing happened inside the request
        deadline = time.monotonic() + 60
        while db.session.query(Alert).count() == 0 and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            db.session.commit()
            time.sleep(0.2)
        (alert,) = db.session.query(Alert).all()
        assert new_id in alert.case_ids and len(alert.case_ids) >= 3
        assert db.session.query(Notification).filter_by(kind="early_warning").count() == 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
        with web.app_context():
            db.engine.dispose()
