"""A morning's sync burst: many phones sending on-site checks with phone-sized photos at once.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/firstline_bench \\
        .venv/bin/python bench/sync_burst.py --seed-cases 2000     # empties that database, seeds the demo
    DATABASE_URL=… .venv/bin/python bench/sync_burst.py --clients 50 --records 4

The server runs as production runs it (bench/load_server.py): gunicorn with threads, one
``flask worker``, Redis as the queue when installed. ``--clients`` phones, each signed in as
one of the demo city's inspectors, send ``--records`` on-site checks of cases in their grid,
each with ``--photos`` photos, as the phone's outbox does: one record after another, the
record, then its photos one by one. Every photo is the size the phone sends (its own copy,
1600 px on the long side, about 400 KB of JPEG) and a different file.

Printed, in one run:

* the floor: the same upload by one phone on the otherwise idle server (record and photo
  acknowledgement times), and ``/healthz`` sampled five times a second during the burst;
* the burst: acknowledgement times of records and photos (the answer comes once the photo
  is safely on disk), errors, the burst's length and photos acknowledged a second;
* the worker: how long after the burst's last acknowledgement every photo had its display
  copy and thumbnail, and the map wall's summary held every check;
* beforehand, in this process, what the upload request still does with a photo (check it,
  write it durably) beside what moved to the worker (the display copy and thumbnail).
"""

import argparse
import hashlib
import io
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from geoalchemy2.shape import to_shape
from load_server import TABLE_HEAD, Client, Samples, prepared, redis_queue, serve, table_row
from PIL import Image, ImageFilter
from sqlalchemy import func, select

from app.demo.people import DEMO_PASSWORD
from app.extensions import db
from app.models import Case, Photo, User, WallDirtyCell
from app.models.vocab import PhotoStatus, Role
from app.services.field import photos as pipeline
from app.services.field.onsite_rules import ONSITE_STATES

EDGE = (1600, 1200)
# Sends of one request before the outbox gives up on it for now (counted as an error here).
MAX_RESENDS = 5


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="phones syncing at once")
    parser.add_argument("--records", type=int, default=4, help="on-site checks per phone")
    parser.add_argument("--photos", type=int, default=3, help="photos per check")
    parser.add_argument("--floor-records", type=int, default=5, help="checks sent by one phone on the idle server")
    parser.add_argument("--seed-cases", type=int, default=0, help="empty the database and seed the demo city first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=16, help="threads per gunicorn process")
    parser.add_argument("--task-threads", type=int, default=2, help="threads of the background worker")
    return parser.parse_args()


def phone_photos(count: int, rng: random.Random) -> list[bytes]:
    """Base photos like a phone's copy: 1600 × 1200, smooth shapes plus sensor grain, ~400 KB."""
    photos = []
    for _ in range(count):
        small = Image.frombytes("RGB", (40, 30), rng.randbytes(40 * 30 * 3)).resize(EDGE, Image.Resampling.BICUBIC)
        grain = Image.effect_noise(EDGE, 28).convert("RGB")
        picture = Image.blend(small.filter(ImageFilter.GaussianBlur(3)), grain, 0.18)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=88)
        photos.append(out.getvalue())
    return photos


def unique(photo: bytes) -> bytes:
    """The same picture as another file: a JPEG comment with a fresh id after the start marker."""
    comment = uuid.uuid4().hex.encode()
    return photo[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + photo[2:]


def phones(app, count: int) -> list[tuple[str, list[tuple[int, float, float]]]]:
    """Inspectors with cases in their grid that take an on-site check: (username, [(case, lon, lat)])."""
    with app.app_context():
        found = []
        for user in db.session.scalars(select(User).where(User.role == Role.INSPECTOR, User.grid_id.isnot(None))
                                       .order_by(User.id)):
            cases = db.session.scalars(select(Case).where(Case.grid_id == user.grid_id,
                                                          Case.status.in_(list(ONSITE_STATES)),
                                                          Case.location.isnot(None)).limit(5)).all()
            if cases:
                found.append((user.username, [(c.id, to_shape(c.location).x, to_shape(c.location).y) for c in cases]))
            if len(found) == count:
                break
        db.session.remove()
    if not found:
        raise SystemExit("no inspector has a case that takes an on-site check: seed the demo city")
    return [found[i % len(found)] for i in range(count)]


def record(case: tuple[int, float, float], photos: int, marker: str) -> tuple[str, dict]:
    """An on-site check as the phone makes it, announcing its photos."""
    case_id, lon, lat = case
    captured = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    announced = [{"id": str(uuid.uuid4()), "captured_at": captured, "lon": lon, "lat": lat, "origin": "camera"}
                 for _ in range(photos)]
    return str(uuid.uuid4()), {
        "kind": "onsite_check", "case_id": case_id, "captured_at": captured,
        "location": {"lon": lon, "lat": lat, "accuracy_m": 8.0, "source": "gps", "mock": False},
        "findings": {"source_found": True, "violation_found": False, "measures": "现场检查", "outcome": "未见异常"},
        "notes": marker, "photos": announced}


class Tally:
    """Acknowledgement times of records and photos, shared by the phones."""

    def __init__(self):
        self.records, self.photos = Samples(), Samples()
        self.lock = threading.Lock()
        self.last_ack = 0.0
        self.resends = 0

    def add(self, samples: Samples, started: float, status: int, size: int) -> None:
        """Record one acknowledgement."""
        now = time.perf_counter()
        with self.lock:
            samples.add(now - started, status, size, status in (200, 201))
            self.last_ack = max(self.last_ack, now)


def send(phone: Client, path: str, body: bytes, headers: dict, tally: Tally) -> int:
    """PUT as the outbox does: a 503 (a clash the server could not wait out) is resent after
    its ``Retry-After``, a few times; the final status."""
    for _ in range(MAX_RESENDS):
        status, answer_headers, _ = phone.request("PUT", path, body, headers)
        if status != 503:
            return status
        with tally.lock:
            tally.resends += 1
        time.sleep(float(answer_headers.get("Retry-After", 2)))
    return status


def sync(phone: Client, cases, records: int, photos: int, bases: list[bytes], tally: Tally, rng) -> None:
    """One phone's outbox: each record, then its photos, one request at a time (acknowledgement
    times run from the first send, resends included)."""
    for n in range(records):
        record_id, body = record(rng.choice(cases), photos, f"晨间同步 {n}")
        started = time.perf_counter()
        status = send(phone, f"/api/v1/inspections/{record_id}", json.dumps(body).encode(),
                      {"Content-Type": "application/json"}, tally)
        tally.add(tally.records, started, status, 0)
        for announced in body["photos"]:
            data = unique(rng.choice(bases))
            headers = {"Content-Type": "image/jpeg", "X-Content-SHA256": hashlib.sha256(data).hexdigest()}
            started = time.perf_counter()
            status = send(phone, f"/api/v1/inspections/{record_id}/photos/{announced['id']}", data, headers, tally)
            tally.add(tally.photos, started, status, len(data))


def pipeline_split(bases: list[bytes], folder: Path, runs: int = 15) -> dict[str, float]:
    """Median ms of the request's part of a photo (check; durable write) and of the worker's (derivatives)."""
    times: dict[str, list[float]] = {"check": [], "durable write": [], "derivatives": []}
    for n in range(runs):
        data = unique(bases[n % len(bases)])
        started = time.perf_counter()
        pipeline.process_upload(data)
        checked = time.perf_counter()
        pipeline.write_once(folder / f"{n}.jpg", data)
        written = time.perf_counter()
        image = pipeline._open(data)
        pipeline._derivatives(image, pipeline._orientation(image))
        done = time.perf_counter()
        times["check"].append(checked - started)
        times["durable write"].append(written - checked)
        times["derivatives"].append(done - written)
    return {name: 1000 * sorted(values)[len(values) // 2] for name, values in times.items()}


def processing(app) -> tuple[int, int]:
    """(photos received, of which still processing)."""
    with app.app_context():
        received = db.session.scalar(select(func.count(Photo.id)).where(Photo.status == PhotoStatus.RECEIVED))
        waiting = db.session.scalar(select(func.count(Photo.id)).where(Photo.status == PhotoStatus.RECEIVED,
                                                                       Photo.derived_at.is_(None)))
        db.session.remove()
    return received, waiting


def wall_waiting(app) -> int:
    """Map cells changed by committed checks that the worker has not yet refreshed on the wall's summary."""
    with app.app_context():
        waiting = db.session.scalar(select(func.count()).select_from(WallDirtyCell))
        db.session.remove()
    return waiting


def main() -> None:
    """Seed if asked, serve, send the floor then the burst, wait for the worker, print."""
    args = parse_args()
    database_url, work, app = prepared("firstline-burst-", args.seed_cases)
    rng = random.Random(11)
    bases = phone_photos(8, rng)
    print(f"photos: {EDGE[0]} × {EDGE[1]} JPEG, {sum(map(len, bases)) / len(bases) / 1024:.0f} KB on average")
    split = pipeline_split(bases, work / "split")
    print("one photo, median: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in split.items())
          + " (check and write in the request; derivatives in the worker)")
    senders = phones(app, args.clients)
    with redis_queue(work) as redis_url:
        queue_url = redis_url or f"sqlite:///{work / 'tasks.db'}"
        with serve(database_url, work / "photos", work / "instance", queue_url, args.workers, args.threads,
                   args.task_threads) as server:
            print(f"gunicorn {args.workers} × {args.threads} threads + 1 worker × {args.task_threads} threads; "
                  f"queue {queue_url.split(':')[0]}")
            clients = [Client(server.port).sign_in(name, DEMO_PASSWORD) for name, _ in senders]

            floor = Tally()
            sync(clients[0], senders[0][1], args.floor_records, args.photos, bases, floor, rng)
            while processing(app)[1]:
                time.sleep(0.5)

            burst, health, stop = Tally(), Samples(), threading.Event()
            watcher = Client(server.port)

            def sample_health() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    status, _, _ = watcher.request("GET", "/healthz")
                    health.add(time.perf_counter() - started, status, 0, status == 200)
                    stop.wait(0.2)

            threads = [threading.Thread(target=sync, args=(client, cases, args.records, args.photos, bases, burst,
                                                           random.Random(i)))
                       for i, (client, (_, cases)) in enumerate(zip(clients, senders, strict=True))]
            health_thread = threading.Thread(target=sample_health)
            health_thread.start()
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            burst_s = burst.last_ack - started
            derived_s = wall_s = None
            while derived_s is None or wall_s is None:
                if derived_s is None and not processing(app)[1]:
                    derived_s = time.perf_counter() - burst.last_ack
                if wall_s is None and not wall_waiting(app):
                    wall_s = time.perf_counter() - burst.last_ack
                time.sleep(0.2)
            stop.set()
            health_thread.join()
            received, _ = processing(app)
    photos = len(burst.photos.latencies)
    print(f"\nburst: {args.clients} phones × {args.records} checks × {args.photos} photos = "
          f"{args.clients * args.records} checks, {photos} photos ({burst.photos.bytes / 2**20:.0f} MB)")
    print(TABLE_HEAD)
    print(table_row("floor: check acknowledged, one phone, idle server", floor.records))
    print(table_row("floor: photo acknowledged, one phone, idle server", floor.photos))
    print(table_row("floor: /healthz during the burst", health))
    print(table_row("burst: check acknowledged", burst.records))
    print(table_row("burst: photo acknowledged", burst.photos))
    print(f"\nburst length (first send to last acknowledgement): {burst_s:.1f} s; "
          f"{photos / burst_s:.1f} photos/s and {len(burst.records.latencies) / burst_s:.1f} checks/s acknowledged")
    print(f"every display copy and thumbnail made {derived_s:.1f} s after the last acknowledgement "
          f"({received} photos received in all)")
    print(f"the map wall's summary held every check {wall_s:.1f} s after the last acknowledgement")
    print(f"statuses: checks {burst.records.statuses}, photos {burst.photos.statuses}; "
          f"{burst.resends} resends after a 503 (the outbox resends after Retry-After)")


if __name__ == "__main__":
    main()
