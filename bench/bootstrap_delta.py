"""Size and time the inspector app's sync beside a floor, on a seeded demo city.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bootstrap_delta.py
    DATABASE_URL=sqlite:////tmp/city.db .venv/bin/python bench/bootstrap_delta.py --runs 30

The database must hold a demo city (``flask db upgrade`` then ``flask demo seed --cases
1000000``; ``bench/seed_million.py --keep`` leaves one). The inspector is the one of the
village with the most open cases (or ``--user``). Through the app's own WSGI stack, signed
in, the script measures in one run:

* the floor: ``GET /api/v1/me``, the signed-in inspector's own record (the user and their
  grid, two statements: what every signed-in request pays, plus one read);
* the old bootstrap (no token: the nearest 500 open cases, whole), as phones before delta
  sync fetch it on every refresh;
* the first sync (``since=``, every page followed): bytes, gzip bytes, pages, time;
* a delta sync with nothing changed, and one after ``--changes`` cases of the village were
  touched (their ``updated_at`` moved to now, as any edit does), p50 and p95.

Gzip sizes are what the JSON weighs compressed (level 6), as a compressing server sends it.
The touched cases keep their new ``updated_at``: use a database kept for benchmarks.
Figures go to stdout; docs/benchmarks.md records them.
"""

import argparse
import gzip
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, update  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Case, User  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.models.vocab import OPEN_STATUSES, Role  # noqa: E402
from config import Config  # noqa: E402

URL = "/api/v1/field/bootstrap"


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="timed calls per measurement")
    parser.add_argument("--user", help="an inspector's username (default: the busiest village's)")
    parser.add_argument("--password", default="firstline2026")
    parser.add_argument("--changes", type=int, default=20, help="cases touched before the changed delta")
    return parser.parse_args()


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def timed(call, runs: int) -> list[float]:
    """Wall times of ``runs`` calls after one warm-up call."""
    call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def signed_in_client(app, username: str, password: str):
    """A test client with a session, signed in through the real API."""
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password},
                           headers={"X-CSRFToken": token})
    if response.status_code != 200:
        raise SystemExit(f"sign-in failed: {response.status_code} {response.get_data(as_text=True)[:200]}")
    return client


def busiest_inspector() -> tuple[str, int, int]:
    """The inspector of the village with the most open cases: username, grid id, open cases."""
    opened = [str(s) for s in OPEN_STATUSES]
    grid_id, count = db.session.execute(
        select(Case.grid_id, func.count()).where(Case.status.in_(opened), Case.grid_id.isnot(None))
        .group_by(Case.grid_id).order_by(func.count().desc()).limit(1)).one()
    username = db.session.scalar(select(User.username).where(User.role == Role.INSPECTOR, User.grid_id == grid_id)
                                 .order_by(User.username).limit(1))
    return username, grid_id, count


def get(client, since: str | None):
    """One bootstrap call; the response, checked."""
    response = client.get(URL if since is None else f"{URL}?since={since}")
    if response.status_code != 200:
        raise SystemExit(f"{URL} answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
    return response


def first_sync(client) -> tuple[list[bytes], str]:
    """Every page of a first sync, and the token it ends with."""
    pages, since = [], ""
    while True:
        body = get(client, since)
        pages.append(body.get_data())
        data = body.get_json()
        if not data["next"]:
            return pages, data["sync_token"]
        since = data["next"]


def kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def line(name: str, samples: list[float]) -> str:
    return f"| {name} | {percentile(samples, .5):.1f} | {percentile(samples, .95):.1f} |"


def main() -> None:
    """Sign in as the busiest village's inspector and measure."""
    args = parse_args()

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
        RATELIMIT_ENABLED = False

    app = create_app(BenchConfig)
    with app.app_context():
        total = db.session.scalar(select(func.count(Case.id)))
        username, grid_id, open_cases = busiest_inspector()
        if args.user:
            username = args.user
            grid_id = db.session.scalar(select(User.grid_id).where(User.username == username))
        backend = db.engine.dialect.name
    client = signed_in_client(app, username, args.password)
    print(f"backend {backend}, {total:,} cases; inspector {username} (grid {grid_id}, "
          f"{open_cases:,} open cases in the busiest village); {args.runs} timed calls each")

    old = get(client, None).get_data()
    pages, token = first_sync(client)
    print("\n| answer | bytes | gzip bytes | pages |\n|---|---|---|---|")
    print(f"| old bootstrap (no token, 500 cases whole) | {kb(len(old))} | {kb(len(gzip.compress(old, 6)))} | 1 |")
    first_raw = sum(len(p) for p in pages)
    first_gzip = sum(len(gzip.compress(p, 6)) for p in pages)
    print(f"| first sync (since=, all pages) | {kb(first_raw)} | {kb(first_gzip)} | {len(pages)} |")

    floor = timed(lambda: client.get("/api/v1/me"), args.runs)
    old_times = timed(lambda: get(client, None), max(5, args.runs // 4))
    first_times = timed(lambda: first_sync(client), max(5, args.runs // 4))
    quiet_body = get(client, token).get_data()
    quiet = timed(lambda: get(client, token), args.runs)
    with app.app_context():
        touched = list(db.session.scalars(select(Case.id).where(Case.grid_id == grid_id)
                                          .order_by(Case.id.desc()).limit(args.changes)))
        db.session.execute(update(Case).where(Case.id.in_(touched)).values(updated_at=utcnow()))
        db.session.commit()
    changed_body = get(client, token)
    changed = timed(lambda: get(client, token), args.runs)
    data = changed_body.get_json()
    print(f"| delta, nothing changed (grid, patrol, settings) | {kb(len(quiet_body))} | "
          f"{kb(len(gzip.compress(quiet_body, 6)))} | 1 |")
    print(f"| delta after {args.changes} changes | {kb(len(changed_body.get_data()))} | "
          f"{kb(len(gzip.compress(changed_body.get_data(), 6)))} | 1 ({len(data['cases'])} cases, "
          f"{len(data['removed'])} removed) |")
    print("\n| request | p50 ms | p95 ms |\n|---|---|---|")
    print(line("floor: GET /api/v1/me", floor))
    print(line("old bootstrap (no token)", old_times))
    print(line("first sync (all pages)", first_times))
    print(line("delta sync, nothing changed", quiet))
    print(line(f"delta sync, {args.changes} cases changed", changed))


if __name__ == "__main__":
    main()
