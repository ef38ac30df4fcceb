"""Open-loop mixed traffic against the server as production runs it, beside its floor in the same run.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/firstline_bench \\
        .venv/bin/python bench/mixed_load.py --seed-cases 2000      # empties that database, seeds the demo
    DATABASE_URL=… .venv/bin/python bench/mixed_load.py             # a database already seeded

The server is gunicorn (``--workers`` × ``--threads``) with one ``flask worker`` beside it and
Redis as the queue when redis-server is installed (else the SQLite queue file), as
docs/deploy.md has it. The load is open loop: a fixed schedule of ``--rate`` requests a
second for ``--seconds``, each sent at its time whether or not the earlier ones have been
answered, and each latency counted from its *scheduled* send time, so a server that falls
behind shows it instead of slowing the generator down. The mix:

* desk queue 35 % — ``GET /desk/`` as the command office (the first page of its queue);
* case detail 25 % — ``GET /desk/cases/<id>`` of a random case;
* wall viewport 25 % — ``GET /api/v1/wall/viewport`` for one of bench/wall_viewport.py's views;
* inspector bootstrap 15 % — ``GET /api/v1/field/bootstrap`` as one of 20 inspectors: by
  default the delta sync a phone sends on each refresh (``?since=`` its sync token, each
  phone's first sync made before the timed run), ``--bootstrap full`` the whole bootstrap
  that phones before delta sync fetched every time.

The floor, first, in the same run: ``GET /healthz`` (one ``SELECT 1``) on the same schedule,
what the stack costs with no work of the application's own. Requests ask for compressed
answers, as browsers do. Figures go to stdout as Markdown; docs/benchmarks.md records them.
"""

import argparse
import json
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from load_server import TABLE_HEAD, Client, Samples, percentile_ms, prepared, redis_queue, serve, table_row
from sqlalchemy import func, select
from wall_viewport import VIEWS, viewport_box

from app.demo.people import DEMO_PASSWORD
from app.extensions import db
from app.models import Case, User
from app.models.vocab import Role

MIX = {"desk queue": 35, "case detail": 25, "wall viewport": 25, "inspector bootstrap": 15}


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100, help="requests a second")
    parser.add_argument("--seconds", type=float, default=60, help="length of the mixed run")
    parser.add_argument("--floor-seconds", type=float, default=20, help="length of the /healthz run before it")
    parser.add_argument("--seed-cases", type=int, default=0, help="empty the database and seed the demo city first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=16, help="threads per gunicorn process")
    parser.add_argument("--random-seed", type=int, default=7)
    parser.add_argument("--skip", action="append", default=[], choices=list(MIX),
                        help="leave this kind out of the mix (the others keep their shares); repeatable")
    parser.add_argument("--bootstrap", choices=["delta", "full"], default="delta",
                        help="the inspectors' sync: a delta with their token (today's phones) or the whole bootstrap")
    return parser.parse_args()


def targets(app) -> tuple[list[int], list[str]]:
    """Case ids to open and inspectors to bootstrap, from the database."""
    with app.app_context():
        case_ids = db.session.scalars(select(Case.id)).all()
        inspectors = db.session.scalars(
            select(User.username).where(User.role == Role.INSPECTOR, User.grid_id.isnot(None)).order_by(User.id)
            .limit(20)).all()
        total = db.session.scalar(select(func.count(Case.id)))
        db.session.remove()
    print(f"database: {total} cases, {len(inspectors)} inspectors in the bootstrap mix")
    return case_ids, inspectors


def first_sync(phone: Client) -> str:
    """A phone's first sync, every page followed; the sync token it keeps for its next one."""
    since = ""
    while True:
        status, _, data = phone.request("GET", f"/api/v1/field/bootstrap?since={since}",
                                        headers={"Accept-Encoding": "identity"})
        if status != 200:
            raise SystemExit(f"first sync failed: {status} {data[:200]!r}")
        body = json.loads(data)
        if not body.get("next"):
            return body["sync_token"]
        since = body["next"]


def run_schedule(rate: float, seconds: float, choose, fire) -> tuple[dict[str, Samples], float]:
    """Send ``rate`` × ``seconds`` requests at their scheduled times; latency from the schedule.

    ``choose(i)`` names the i-th request's kind, ``fire(kind)`` sends it and returns (status,
    size, ok). Returns the samples by kind and the time the last answer came after the start.
    """
    results: dict[str, Samples] = defaultdict(Samples)
    lock = threading.Lock()

    def one(due: float, kind: str) -> None:
        try:
            status, size, ok = fire(kind)
        except OSError:
            status, size, ok = 0, 0, False
        latency = time.perf_counter() - due
        with lock:
            results[kind].add(latency, status, size, ok)

    count = int(rate * seconds)
    with ThreadPoolExecutor(max_workers=600) as pool:
        start = time.perf_counter() + 0.5
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, due, choose(i))
    return results, time.perf_counter() - start


def main() -> None:
    """Seed if asked, serve, run the floor then the mix, print the tables."""
    args = parse_args()
    database_url, work, app = prepared("firstline-mixed-", args.seed_cases)
    case_ids, inspectors = targets(app)
    rng = random.Random(args.random_seed)
    with redis_queue(work) as redis_url:
        queue_url = redis_url or f"sqlite:///{work / 'tasks.db'}"
        with serve(database_url, work / "photos", work / "instance", queue_url, args.workers, args.threads,
                   2) as server:
            print(f"gunicorn {args.workers} × {args.threads} threads + 1 worker; queue {queue_url.split(':')[0]}; "
                  f"inspectors' {args.bootstrap} sync")
            desk = Client(server.port).sign_in("command", DEMO_PASSWORD)
            phones = [Client(server.port).sign_in(name, DEMO_PASSWORD) for name in inspectors]
            tokens = {id(phone): first_sync(phone) for phone in phones} if args.bootstrap == "delta" else {}
            anonymous = Client(server.port)
            views = [viewport_box(lon, lat, zoom) for _, lon, lat, zoom in VIEWS]

            def fire(kind: str) -> tuple[int, int, bool]:
                if kind == "floor":
                    status, _, data = anonymous.request("GET", "/healthz")
                elif kind == "desk queue":
                    status, _, data = desk.request("GET", "/desk/")
                elif kind == "case detail":
                    status, _, data = desk.request("GET", f"/desk/cases/{rng.choice(case_ids)}")
                elif kind == "wall viewport":
                    box = rng.choice(views)
                    status, _, data = desk.request("GET", "/api/v1/wall/viewport?" + "&".join(
                        f"{k}={v}" for k, v in box.items()))
                else:
                    phone = rng.choice(phones)
                    since = f"?since={tokens[id(phone)]}" if tokens else ""
                    status, _, data = phone.request("GET", f"/api/v1/field/bootstrap{since}")
                return status, len(data), status == 200

            floor, floor_s = run_schedule(args.rate, args.floor_seconds, lambda i: "floor", fire)
            names = [kind for kind in MIX if kind not in args.skip]
            weights = [MIX[kind] for kind in names]
            plan = random.Random(args.random_seed).choices(names, weights, k=int(args.rate * args.seconds))
            mixed, mixed_s = run_schedule(args.rate, args.seconds, plan.__getitem__, fire)
    everything = Samples()
    for samples in mixed.values():
        everything.latencies += samples.latencies
        everything.errors += samples.errors
        everything.bytes += samples.bytes
    print(f"\nopen loop, {args.rate:.0f} requests/s; floor {args.floor_seconds:.0f} s, "
          f"then the mix {args.seconds:.0f} s")
    print(TABLE_HEAD)
    print(table_row(f"floor: /healthz ({len(floor['floor'].latencies) / floor_s:.0f}/s answered)", floor["floor"]))
    print(table_row(f"mix, all ({len(everything.latencies) / mixed_s:.0f}/s answered)", everything))
    for kind in names:
        print(table_row(kind, mixed[kind]))
    statuses = {kind: mixed[kind].statuses for kind in names}
    print(f"\nstatuses: {statuses}")
    ratio = percentile_ms(everything.latencies, 0.95) / percentile_ms(floor["floor"].latencies, 0.95)
    print(f"p95 of the mix is {ratio:.1f} × the floor's")


if __name__ == "__main__":
    main()
