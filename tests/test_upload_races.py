"""Uploads that meet other requests: a clash is a 503 the phone retries, a conflict a 409 that shows
only what the caller may read, and of several photos sent under one id exactly one is kept."""

import hashlib
import http.cookiejar
import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg.errors
import pytest
from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CaseEvent, Inspection, Photo
from app.services.cases.timeline import verify_chain
from app.services.field import photos as photo_files
from app.services.field import sync
from tests.factories import PASSWORD
from tests.helpers import INSPECTOR, Desk, make_jpeg, onsite_body, put, put_bytes

BUSY = {"code": 503, "message": "服务器繁忙，正在自动重试。", "errors": {"retry": ["transient"]}}


@pytest.fixture
def desk(app, city):
    return Desk(app)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def driver_error(sqlstate: str) -> Exception:
    """The error the database driver raises for this SQLSTATE (SQLite words it differently)."""
    if db.engine.dialect.name == "postgresql":
        return psycopg.errors.lookup(sqlstate)("simulated")
    if sqlstate.startswith("23"):
        return sqlite3.IntegrityError("UNIQUE constraint failed: case_events.case_id, case_events.seq"
                                      if sqlstate == "23505" else "NOT NULL constraint failed: case_events.kind")
    return sqlite3.OperationalError("database is locked")


@contextmanager
def fails_once(statement_start: str, error: Exception):
    """The first statement starting with ``statement_start`` fails with this driver error."""
    raised = []

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(statement_start) and not raised:
            raised.append(statement)
            raise error

    event.listen(db.engine, "before_cursor_execute", fail)
    try:
        yield raised
    finally:
        event.remove(db.engine, "before_cursor_execute", fail)


# Where the clashes below are injected: the upload's append to the case's timeline. It is a
# write every on-site check makes inside its transaction, after the inspection row went in,
# on the table where a real race lands (two appends on one case meet on (case_id, seq), and
# the case row they queue on can deadlock or time out). These tests used to inject into the
# map summary's refresh, which the upload ran before its commit; the worker runs that now,
# after the commit, so it can no longer fail an upload.
CLASH_AT = "INSERT INTO case_events"


@pytest.mark.parametrize("sqlstate", ["23505", "40001", "40P01", "55P03"],
                         ids=["unique key raced", "serialization failure", "deadlock", "lock not available"])
def test_a_clash_with_another_transaction_is_503_and_the_retry_goes_in(desk, city, sqlstate):
    url, body = f"/api/v1/inspections/{uuid.uuid4()}", onsite_body(city.cases["V11"].id)
    with fails_once(CLASH_AT, driver_error(sqlstate)) as raised:
        busy = put(desk, INSPECTOR, url, body)
    assert raised, "the upload never appended to the case's timeline"
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    assert {key: busy.get_json()[key] for key in BUSY} == BUSY
    assert count(Inspection) == 0
    assert put(desk, INSPECTOR, url, body).status_code == 201
    assert count(Inspection) == 1
    assert db.session.scalars(select(CaseEvent.kind)).all().count("record_onsite") == 1


def test_a_clash_while_the_signed_in_person_loads_is_a_busy_page_not_a_500(desk, city):
    """The desk's write met a held lock while loading who is signed in: the page that says so
    must not ask the database again (its menu did, and failed as a bare 500)."""
    client, token = desk.client("sup_T1")
    failures = []

    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT users."):
            failures.append(statement)
            raise driver_error("40001")

    event.listen(db.engine, "before_cursor_execute", fail)
    try:
        answer = client.post("/desk/bulk/sign", data={"csrf_token": token, "case_ids": city.cases["V11"].id})
    finally:
        event.remove(db.engine, "before_cursor_execute", fail)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "服务器正忙，未能保存" in answer.get_data(as_text=True) and len(failures) == 1


def test_a_broken_rule_is_not_mistaken_for_a_clash(desk, city):
    with fails_once(CLASH_AT, driver_error("23502")), pytest.raises(IntegrityError):
        put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}", onsite_body(city.cases["V11"].id))


@contextmanager
def meeting_at(monkeypatch, module, name: str, parties: int, after: bool = False):
    """Hold ``parties`` threads as they call ``module.name`` (or once it returned) until all are there.

    PostgreSQL only: SQLite requests queue at BEGIN IMMEDIATE and can never be inside the
    same request at once.
    """
    if db.engine.dialect.name != "postgresql":
        yield
        return
    barrier, real = threading.Barrier(parties, timeout=60), getattr(module, name)

    def meet(*args, **kwargs):
        if not after:
            barrier.wait()
        result = real(*args, **kwargs)
        if after:
            barrier.wait()
        return result

    monkeypatch.setattr(module, name, meet)
    yield


def run_together(target, arguments) -> None:
    """Run ``target`` once per argument, each in its own thread, and wait for all."""
    threads = [threading.Thread(target=target, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_checks_of_one_case_arriving_together_all_go_in_on_the_first_try(desk, city, monkeypatch):
    case = city.cases["V11"]
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}", onsite_body(case.id)).status_code == 201
    # Later checks leave the case row as it is: only the timeline orders them.
    bodies = [onsite_body(case.id, captured_at=f"2026-11-29T10:0{n}:00+08:00", notes=f"复查{n}") for n in range(6)]
    answers = []
    with meeting_at(monkeypatch, sync, "append_event", len(bodies)):
        run_together(lambda body: answers.append(put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}",
                                                     body).status_code), bodies)
    assert answers == [201] * len(bodies)
    db.session.rollback()  # SQLite: read past the snapshot this test took before the threads wrote
    assert verify_chain(case.id) == []
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert kinds.count("record_onsite") == len(bodies) + 1


def test_two_records_announcing_one_photo_id_at_once_one_goes_in_the_other_is_a_conflict(desk, city,
                                                                                          monkeypatch):
    photo_id = uuid.uuid4()
    bodies = {name: onsite_body(city.cases[name.removeprefix("insp_")].id, [photo_id])
              for name in ("insp_V11", "insp_V12")}
    answers: dict[str, list[int]] = {name: [] for name in bodies}

    def upload(name):
        url = f"/api/v1/inspections/{uuid.uuid4()}"
        for _ in range(3):
            response = put(desk, name, url, bodies[name])
            answers[name].append(response.status_code)
            if response.status_code != 503:
                return response

    for name in bodies:
        desk.client(name)
    with meeting_at(monkeypatch, sync, "_check_photo_ids", 2, after=True):
        run_together(upload, bodies)
    first, second = sorted(answers.values())
    # On PostgreSQL both passed the check; the loser's insert waited for the winner and is
    # answered 503, and its retry finds the photo taken.
    assert first == [201] and second == ([503, 409] if db.engine.dialect.name == "postgresql" else [409])
    assert count(Inspection) == 1 and count(Photo) == 1


def stored_files() -> list[Path]:
    """Every photo file on disk (originals, display copies, thumbnails)."""
    return sorted(path for path in Path(current_app.config["PHOTO_DIR"]).rglob("*") if path.is_file())


@pytest.fixture
def announced(desk, city):
    """A stored on-site check announcing one photo; returns its photo URL."""
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}",
               onsite_body(city.cases["V11"].id, [photo_id])).status_code == 201
    return f"/api/v1/inspections/{record_id}/photos/{photo_id}"


def test_photos_sent_under_one_id_at_once_keep_exactly_one_and_leave_no_other_file(desk, announced):
    shots = [make_jpeg(1200, 900, color=(40 * i, 90, 60)) for i in range(4)]
    desk.client(INSPECTOR)
    answers = {}

    def upload(index):
        answers[index] = put_bytes(desk, INSPECTOR, announced, shots[index]).status_code

    run_together(upload, range(len(shots)))
    assert sorted(answers.values()) == [201, 409, 409, 409]
    kept = shots[next(i for i, code in answers.items() if code == 201)]
    photo = db.session.scalar(select(Photo))
    assert photo.sha256 == photo_files.sha256_hex(kept)
    assert [path.name.split(".")[0] for path in stored_files()] == [photo.sha256] * 3  # original, display, thumb
    assert photo_files.photo_path("original", photo.sha256).read_bytes() == kept


def test_one_file_written_by_many_at_once_arrives_whole(tmp_path):
    data = bytes(range(256)) * 8192
    target = tmp_path / "original" / "ab" / "abcdef.jpg"
    barrier, failures = threading.Barrier(8, timeout=60), []

    def write():
        barrier.wait()
        try:
            photo_files.write_once(target, data)
        except OSError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and target.read_bytes() == data
    assert [path.name for path in target.parent.iterdir()] == ["abcdef.jpg"]


def test_a_conflict_on_someone_elses_record_names_only_its_id(desk, city):
    record_id = uuid.uuid4()
    url = f"/api/v1/inspections/{record_id}"
    mine = onsite_body(city.cases["V11"].id, notes="厂区东侧有暗管", lon=120.50731, lat=32.31217)
    assert put(desk, INSPECTOR, url, mine).status_code == 201
    guess = put(desk, "insp_V12", url, onsite_body(city.cases["V12"].id, notes="别人的记录"))
    assert guess.status_code == 409
    errors = guess.get_json()["errors"]
    assert errors["server"] is None and errors["id"] == str(record_id)
    assert errors["client"]["notes"] == "别人的记录"
    shown = json.dumps(guess.get_json(), ensure_ascii=False)
    assert "厂区东侧有暗管" not in shown and "120.50731" not in shown and "32.31217" not in shown
    own = put(desk, INSPECTOR, url, mine | {"notes": "改过"})
    assert own.status_code == 409 and own.get_json()["errors"]["server"]["notes"] == "厂区东侧有暗管"


class HttpSession:
    """A client of the live server over real HTTP, with its own cookies (the test client
    cannot send a body slowly)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def token(self) -> str:
        with self.opener.open(f"{self.base}/api/v1/auth/csrf") as answer:
            return json.load(answer)["csrf_token"]

    def login(self, username: str) -> int:
        """Sign in through the API; the status (a login writes the session's record)."""
        request = urllib.request.Request(
            f"{self.base}/api/v1/auth/login", method="POST",
            data=json.dumps({"username": username, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.token()})
        try:
            with self.opener.open(request) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def test_a_photo_arriving_slowly_keeps_no_other_writer_waiting(live_server, announced):
    """A phone on a weak signal sends its photo for many seconds. The server reads the whole
    body before it opens a transaction (on SQLite a writer's first transaction takes the write
    lock), so a login at the desk meanwhile goes in at once instead of failing after ten."""
    phone = HttpSession(live_server)
    assert phone.login(INSPECTOR) == 200
    photo = make_jpeg(800, 600)
    address = urlsplit(live_server)
    upload = socket.create_connection((address.hostname, address.port))
    head = (f"PUT {announced} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(photo)}\r\nX-Content-SHA256: {hashlib.sha256(photo).hexdigest()}\r\n"
            f"X-CSRFToken: {phone.token()}\r\nCookie: {phone.cookie()}\r\nConnection: close\r\n\r\n")
    upload.sendall(head.encode() + photo[:len(photo) // 2])
    time.sleep(0.5)  # the server has the head and half the photo, and waits for the rest
    try:
        assert HttpSession(live_server).login("sup_T1") == 200  # not 503 after the busy timeout
    finally:
        upload.sendall(photo[len(photo) // 2:])
        answer = b""
        while chunk := upload.recv(65536):
            answer += chunk
        upload.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert count(Photo) == 1
