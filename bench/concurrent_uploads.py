"""Inspector uploads racing each other and a flaky network, on a real server: what is stored, refused, left behind.

    .venv/bin/python bench/concurrent_uploads.py                      # SQLite + SpatiaLite, a temporary file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/firstline_bench \\
        .venv/bin/python bench/concurrent_uploads.py --empty-database   # PostgreSQL: that database is emptied

The script migrates the database (PostgreSQL: after emptying every app table of the database
in DATABASE_URL, which it does only when told with --empty-database; give it one of its own),
seeds the tests' tiny city plus a few cases per village, and serves the app with gunicorn
(threaded workers) on 127.0.0.1. Then:

(a) the same inspector sends ``--simultaneous`` different on-site checks of one case at the
    same moment, straight to the server; each is resent after Retry-After on a 503;
(b) ``--uploaders`` inspectors send ``--records`` on-site checks between them, each with one
    small photo, through a TCP proxy on 127.0.0.1 that cuts ``--cut`` of the connections,
    half of those part-way through the request and half part-way through the response.
    Each uploader works like the phone's outbox: one record after another, the record
    before its photo, resending on a network error (after a short pause) and on a 503
    (after Retry-After); a 409 or another refusal is a failure it reports and skips.

It prints the answers of (a), then for (b): records stored once, duplicates, refused (409),
transient retries (503), network retries, records left unsent, orphan photo files, duration.
Every loop is bounded (attempts per request, and ``--max-seconds`` for the whole run).
``--app-root`` serves another checkout of the app (an earlier commit, say) on the same
database, seeded by this one, to compare.
"""

import argparse
import hashlib
import http.client
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

from PIL import Image
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402 - the project root goes on the path first
from app.extensions import db  # noqa: E402
from app.models import Case, CaseEvent, Grid, Inspection, Photo  # noqa: E402
from app.models.vocab import PhotoStatus  # noqa: E402
from config import Config  # noqa: E402
from tests.factories import VILLAGE_BOXES, build_tiny_city, make_case  # noqa: E402

GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PASSWORD = "test-password-1"
MAX_ATTEMPTS = 60
NETWORK_PAUSE_S = 0.2


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simultaneous", type=int, default=20, help="on-site checks of one case sent at once (a)")
    parser.add_argument("--records", type=int, default=1000, help="records sent through the cutting proxy (b)")
    parser.add_argument("--uploaders", type=int, default=4, help="inspectors uploading at once (b), at most 4")
    parser.add_argument("--cut", type=float, default=0.1, help="share of proxied connections cut part-way")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=10, help="threads per gunicorn worker")
    parser.add_argument("--cases-per-village", type=int, default=5, help="extra open cases per village")
    parser.add_argument("--max-seconds", type=float, default=1800, help="give up on what is unsent after this")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--app-root", type=Path, default=ROOT,
                        help="serve the app from this checkout (e.g. an earlier commit, to compare)")
    parser.add_argument("--empty-database", action="store_true",
                        help="allow emptying the PostgreSQL database named in DATABASE_URL")
    args = parser.parse_args()
    if not 1 <= args.uploaders <= len(VILLAGE_BOXES):
        parser.error(f"--uploaders must be 1 to {len(VILLAGE_BOXES)} (one inspector per village)")
    return args


# ---------------------------------------------------------------- database and server


def bench_config(database_url: str, photo_dir: Path) -> type[Config]:
    """The app's settings for seeding and counting, on the bench's database and photo folder."""

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        PHOTO_DIR = str(photo_dir)
        SECRET_KEY = "bench-secret"
        RATELIMIT_ENABLED = False

    return BenchConfig


def prepare_database(app, cases_per_village: int) -> None:
    """Migrate, empty every app table, and seed the tiny city with more open cases per village."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        tables = ", ".join(t.name for t in reversed(db.metadata.sorted_tables))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        build_tiny_city()
        for west, south, east, north in VILLAGE_BOXES.values():
            for step in range(1, cases_per_village + 1):
                share = step / (cases_per_village + 1)
                make_case(west + (east - west) * share, south + (north - south) * (1 - share))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(app_root: Path, database_url: str, photo_dir: Path, instance: Path, workers: int, threads: int):
    """gunicorn serving the app in ``app_root`` on 127.0.0.1; return the process, its port and its log file."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url, "PHOTO_DIR": str(photo_dir), "FIRSTLINE_INSTANCE_DIR": str(instance),
        "SECRET_KEY": "bench-secret", "RATELIMIT_ENABLED": "0", "DEMO_SEED_ON_FIRST_RUN": "0",
        "SPATIALITE_LIBRARY_PATH": os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite"),
    }
    log = instance / "gunicorn.log"
    process = subprocess.Popen(
        [GUNICORN, "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
         "--timeout", "120", "--error-logfile", str(log), "wsgi:app"],
        cwd=app_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if process.poll() is not None:
            sys.exit(f"gunicorn stopped at start; see {log}:\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port, log
        except OSError:
            time.sleep(0.1)
    process.terminate()
    sys.exit(f"gunicorn did not answer within 30 s; see {log}")


# ---------------------------------------------------------------- the cutting proxy


def message_length(buffer: bytes) -> int | None:
    """The length of the HTTP message starting the buffer, once its head is complete (else None)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    body = 0
    for line in buffer[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            body = int(value.strip())
    return end + 4 + body


class CuttingProxy:
    """Forward connections from a port on 127.0.0.1 to the server, cutting a share of them part-way.

    A cut connection is closed after a random number of bytes of the request (the server
    never sees all of it) or of the response (the server did the work, the client never
    hears the answer): the two ways a phone's upload dies on a bad network.
    """

    def __init__(self, upstream_port: int, share: float, rng: random.Random):
        self.upstream_port, self.share, self.rng = upstream_port, share, rng
        self.cuts = Counter()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True

    def start(self) -> None:
        """Accept connections in a background thread."""
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        """Stop accepting connections."""
        self.running = False
        self.listener.close()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                draw = self.rng.random()
            fate = "request" if draw < self.share / 2 else "response" if draw < self.share else "none"
            threading.Thread(target=self._serve, args=(client, fate), daemon=True).start()

    def _serve(self, client: socket.socket, fate: str) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        sending = threading.Thread(target=self._pump, args=(client, upstream, fate == "request", fate), daemon=True)
        sending.start()
        self._pump(upstream, client, fate == "response", fate)
        sending.join(timeout=60)
        for sock in (client, upstream):
            sock.close()

    def _pump(self, source: socket.socket, target: socket.socket, cut: bool, fate: str) -> None:
        """Copy one direction; when ``cut``, stop at a random byte of the message and close both ends."""
        seen, cut_at = b"", None
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                _shutdown(target, socket.SHUT_WR)
                return
            if cut and cut_at is None:
                seen += chunk
                total = message_length(seen)
                if total is not None:
                    with self.lock:
                        cut_at = self.rng.randint(1, total - 1) - (len(seen) - len(chunk))
            if cut_at is not None and cut_at <= len(chunk):
                _send(target, chunk[:max(cut_at, 0)])
                with self.lock:
                    self.cuts[fate] += 1
                for sock in (source, target):
                    _shutdown(sock, socket.SHUT_RDWR)
                return
            if cut_at is not None:
                cut_at -= len(chunk)
            if not _send(target, chunk):
                _shutdown(source, socket.SHUT_RDWR)
                return


def _send(sock: socket.socket, data: bytes) -> bool:
    """Send all of data; False when the other side has gone."""
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _shutdown(sock: socket.socket, how: int) -> None:
    """Shut a socket down, whatever state it is in."""
    try:
        sock.shutdown(how)
    except OSError:
        pass


# ---------------------------------------------------------------- the phone


@dataclass
class Tally:
    """What the uploaders saw: each record's fate, refusals by kind, and what they resent."""

    outcomes: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    transient: int = 0
    network: int = 0


class Phone:
    """One inspector's outbox talking HTTP to a port on 127.0.0.1, with its session cookie and CSRF token."""

    def __init__(self, port: int, username: str, deadline: float, tally: Tally):
        self.port, self.username, self.deadline, self.tally = port, username, deadline, tally
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.lock = threading.Lock()

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        """One request on a new connection: (status, headers, body), or None when the network failed."""
        headers = {"Connection": "close", "X-CSRFToken": self.token, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
        if response.getheader("Content-Length") != str(len(data)):
            return None  # the head or the body was cut short: the answer never arrived whole
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response.status, response.headers, data

    def send(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, bytes] | None:
        """Send until the server answers other than 503, as the outbox does; None when it gave up."""
        for _ in range(MAX_ATTEMPTS):
            if time.monotonic() > self.deadline:
                return None
            answer = self.request(method, path, body, headers)
            if answer is None:
                self._count("network")
                time.sleep(NETWORK_PAUSE_S)
                continue
            status, response_headers, data = answer
            if status == 503:
                self._count("transient")
                time.sleep(float(response_headers.get("Retry-After", "1")))
                continue
            return status, data
        return None

    def sign_in(self) -> None:
        """Fetch a CSRF token and sign in."""
        answer = self.send("GET", "/api/v1/auth/csrf")
        if answer is None or answer[0] != 200:
            sys.exit(f"{self.username}: no CSRF token: {answer}")
        self.token = json.loads(answer[1])["csrf_token"]
        login = json.dumps({"username": self.username, "password": PASSWORD}).encode()
        answer = self.send("POST", "/api/v1/auth/login", login, {"Content-Type": "application/json"})
        if answer is None or answer[0] != 200:
            sys.exit(f"{self.username}: sign-in failed: {answer}")

    def upload(self, record: dict, photo: bytes | None) -> str:
        """Send a record, then its photo; return 'stored', 'refused', 'rejected' or 'unsent'."""
        body = json.dumps(record["body"], ensure_ascii=False).encode()
        answer = self.send("PUT", f"/api/v1/inspections/{record['id']}", body, {"Content-Type": "application/json"})
        outcome = self._judge(answer, "inspection")
        if outcome != "stored" or photo is None:
            return outcome
        photo_id = record["body"]["photos"][0]["id"]
        headers = {"Content-Type": "image/jpeg", "X-Content-SHA256": hashlib.sha256(photo).hexdigest()}
        answer = self.send("PUT", f"/api/v1/inspections/{record['id']}/photos/{photo_id}", photo, headers)
        return self._judge(answer, "photo")

    def _judge(self, answer: tuple[int, bytes] | None, what: str) -> str:
        """Name one final answer, counting a refusal other than 409 by what and status."""
        if answer is None:
            return "unsent"
        status = answer[0]
        if status in (200, 201):
            return "stored"
        if status == 409:
            return "refused"
        with self.lock:
            self.tally.rejected[f"{what} {status}"] += 1
        return "rejected"

    def _count(self, resend: str) -> None:
        """Count one resend ('network' or 'transient')."""
        with self.lock:
            setattr(self.tally, resend, getattr(self.tally, resend) + 1)


def onsite_record(case_id: int, box: tuple[float, float, float, float], marker: str, rng: random.Random,
                  with_photo: bool) -> dict:
    """An on-site check as the phone makes it: its own id, the phone's time and position."""
    west, south, east, north = box
    captured = (datetime.now(UTC) - timedelta(minutes=rng.randint(1, 600))).isoformat()
    lon, lat = rng.uniform(west, east), rng.uniform(south, north)
    photos = [{"id": str(uuid.uuid4()), "captured_at": captured, "lon": lon, "lat": lat}] if with_photo else []
    return {"id": str(uuid.uuid4()), "body": {
        "kind": "onsite_check", "case_id": case_id, "captured_at": captured,
        "location": {"lon": lon, "lat": lat, "accuracy_m": 8.0, "source": "gps", "mock": False},
        "findings": {"source_found": True, "violation_found": False, "measures": "现场检查", "outcome": "未见异常"},
        "notes": marker, "photos": photos}}


def small_photo(rng: random.Random) -> bytes:
    """A small JPEG of noise: every one different, so every one is its own file."""
    pixels = Image.frombytes("RGB", (96, 72), rng.randbytes(96 * 72 * 3))
    out = io.BytesIO()
    pixels.save(out, "JPEG", quality=80)
    return out.getvalue()


# ---------------------------------------------------------------- the two runs


def run_together(target, arguments) -> None:
    """Run ``target`` once per argument, each in its own thread, and wait for all."""
    threads = [threading.Thread(target=target, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def simultaneous_checks(port: int, case_id: int, box, count: int, rng: random.Random, deadline: float) -> None:
    """(a): one inspector, ``count`` different on-site checks of one case at the same moment."""
    phone = Phone(port, "insp_V11", deadline, Tally())
    phone.sign_in()
    records = [onsite_record(case_id, box, f"同时核查 {n}", rng, with_photo=False) for n in range(count)]
    barrier, first, final = threading.Barrier(count, timeout=120), Counter(), Counter()
    lock = threading.Lock()

    def send(record):
        path, body = f"/api/v1/inspections/{record['id']}", json.dumps(record["body"], ensure_ascii=False).encode()
        barrier.wait()
        answer = phone.request("PUT", path, body, {"Content-Type": "application/json"})
        with lock:
            first[answer[0] if answer else "network"] += 1
        if answer is None or answer[0] == 503:
            answer = phone.send("PUT", path, body, {"Content-Type": "application/json"})
        with lock:
            final[answer[0] if answer else "unsent"] += 1

    started = time.perf_counter()
    run_together(send, records)
    print(f"(a) {count} different on-site checks of one case at once, in {time.perf_counter() - started:.1f} s")
    print(f"    first answers: {_counts(first)}")
    print(f"    after resending 503s: {_counts(final)}")


def outbox_run(port: int, cases: dict[str, list[int]], args, rng: random.Random, deadline: float):
    """(b): ``args.uploaders`` inspectors send ``args.records`` records with a photo each; return the tally."""
    villages = sorted(VILLAGE_BOXES)[:args.uploaders]
    tally = Tally()
    queues: dict[str, list] = {code: [] for code in villages}
    for n in range(args.records):
        code = villages[n % len(villages)]
        case_id = cases[code][n // len(villages) % len(cases[code])]
        record = onsite_record(case_id, VILLAGE_BOXES[code], f"外业记录 {n}", rng, with_photo=True)
        queues[code].append((record, small_photo(rng)))

    def work(code):
        phone = Phone(port, f"insp_{code}", deadline, tally)
        phone.sign_in()
        for record, photo in queues[code]:
            outcome = phone.upload(record, photo)
            with phone.lock:
                tally.outcomes[outcome] += 1

    started = time.perf_counter()
    run_together(work, villages)
    return tally, time.perf_counter() - started


def _counts(counter: Counter) -> str:
    """'key × n, …' in key order, or 'none'."""
    return ", ".join(f"{key} × {value}" for key, value in sorted(counter.items(), key=str)) or "none"


# ---------------------------------------------------------------- what the server kept


def server_figures(app, records: int) -> dict:
    """Count, in the database and the photo folder, what (b) left behind.

    A record is stored once when exactly one row carries its text, its effect on the case
    (the timeline's "record_onsite" event) happened once, and its photo arrived. Anything
    more is a duplicate. A photo file is an orphan when no photo row names its content.
    """
    with app.app_context():
        rows = db.session.execute(
            select(Inspection.id, Inspection.notes).where(Inspection.notes.like("外业记录 %"))).all()
        events = Counter(data.get("inspection_id") for data in db.session.scalars(
            select(CaseEvent.data).where(CaseEvent.kind == "record_onsite")))
        photos = db.session.execute(select(Photo.inspection_id, Photo.status, Photo.sha256)).all()
        db.session.remove()
    per_text = Counter(notes for _, notes in rows)
    received = {str(i) for i, status, _ in photos if status == PhotoStatus.RECEIVED}
    known = {sha for _, _, sha in photos if sha}
    ids = {str(i): notes for i, notes in rows}
    stored_once = sum(1 for i, notes in ids.items() if per_text[notes] == 1 and events[i] == 1 and i in received)
    duplicates = sum(n - 1 for n in per_text.values() if n > 1) + sum(events[i] - 1 for i in ids if events[i] > 1)
    files = [p for p in Path(app.config["PHOTO_DIR"]).rglob("*") if p.is_file()]
    orphans = [p for p in files if p.name.split(".")[0] not in known or p.name.endswith(".tmp")]
    return {"stored_once": stored_once, "duplicates": duplicates, "records_in_db": len(ids),
            "missing": records - len(set(ids) & received), "files": len(files), "orphans": len(orphans)}


def main() -> None:
    """Set up, run (a) and (b), print the figures, clean up."""
    args = parse_args()
    rng = random.Random(args.seed)
    database_url = os.environ.get("DATABASE_URL")
    if database_url and database_url.startswith("postgresql") and not args.empty_database:
        sys.exit("This empties every app table of the database in DATABASE_URL: add --empty-database to agree.")
    work = Path(tempfile.mkdtemp(prefix="firstline-bench-"))
    database_url = database_url or f"sqlite:///{work}/bench.db"
    photo_dir = work / "photos"
    app = create_app(bench_config(database_url, photo_dir))
    print(f"database: {make_url(database_url).get_backend_name()}; "
          f"gunicorn {args.workers} workers × {args.threads} threads; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.1f}")
    prepare_database(app, args.cases_per_village)
    cases = cases_by_village(app)
    server, port, log = start_server(args.app_root, database_url, photo_dir, work, args.workers, args.threads)
    proxy = CuttingProxy(port, args.cut, random.Random(args.seed + 1))
    deadline = time.monotonic() + args.max_seconds
    try:
        simultaneous_checks(port, cases["V11"][0], VILLAGE_BOXES["V11"], args.simultaneous, rng, deadline)
        if args.records:
            proxy.start()
            tally, seconds = outbox_run(proxy.port, cases, args, rng, deadline)
            print(f"(b) {args.records} records with a photo each, {args.uploaders} uploaders, {args.cut:.0%} of "
                  f"connections cut ({_counts(proxy.cuts)} cut part-way)")
            print_outbox_figures(tally, server_figures(app, args.records), args.records, seconds)
    finally:
        proxy.stop()
        server.terminate()
        server.wait(timeout=60)
    clashes = Counter(line.split("database clash ")[1].split(" on ")[0]
                      for line in log.read_text().splitlines() if "database clash" in line)
    print(f"server log, database clashes answered 503: {_counts(clashes)}")
    shutil.rmtree(work, ignore_errors=True)


def cases_by_village(app) -> dict[str, list[int]]:
    """The seeded cases' ids by the code of their village."""
    cases: dict[str, list[int]] = {code: [] for code in VILLAGE_BOXES}
    with app.app_context():
        for case_id, code in db.session.execute(select(Case.id, Grid.code).join(Grid, Case.grid_id == Grid.id)):
            cases[code].append(case_id)
        db.session.remove()
    return cases


def print_outbox_figures(tally: Tally, figures: dict, records: int, seconds: float) -> None:
    """The figures of (b), as docs/benchmarks.md records them."""
    print(f"    records stored once:        {figures['stored_once']} "
          f"(record and photo; {figures['records_in_db']} records in the database)")
    print(f"    duplicates:                 {figures['duplicates']}")
    print(f"    refused (409):              {tally.outcomes['refused']}")
    print(f"    other refusals:             {_counts(tally.rejected)}")
    print(f"    transient retries (503):    {tally.transient}")
    print(f"    network retries:            {tally.network}")
    print(f"    records left unsent:        {figures['missing']} (refused: {tally.outcomes['refused']}, "
          f"given up after resending: {tally.outcomes['unsent']})")
    print(f"    orphan photo files:         {figures['orphans']} of {figures['files']}")
    print(f"    duration:                   {seconds:.1f} s ({records / seconds:.1f} records/s)")


if __name__ == "__main__":
    main()
