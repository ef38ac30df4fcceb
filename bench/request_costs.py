"""What one request of each kind of the mixed load costs, in-process, one at a time.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/request_costs.py
    DATABASE_URL=… .venv/bin/python bench/request_costs.py --profile "desk queue"

The database must hold a demo city (``flask demo seed``; ``bench/mixed_load.py
--seed-cases 2000`` leaves one). Through the app's own WSGI stack (no HTTP, no server),
signed in, each kind of ``bench/mixed_load.py`` is called ``--runs`` times after three
warm-up calls: the desk queue and a random case page as the command office, a random wall
viewport (the views of ``bench/wall_viewport.py``), and an inspector's delta sync. The floor
is ``GET /api/v1/me`` (the signed-in user: what every request pays). It prints p50, the
fastest call and the statements a call sends; ``--profile KIND`` adds cProfile's top
functions for that kind.

To compare two versions of the code in one run (the machine is shared: never compare
across runs), call it alternately from two checkouts: ``ROOT=/path/to/other/checkout``
imports the app from there. Figures go to stdout; docs/benchmarks.md records them.
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import event, select  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.people import DEMO_PASSWORD  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Case, User  # noqa: E402
from app.models.vocab import Role  # noqa: E402


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="timed calls of each kind")
    parser.add_argument("--profile", help="print cProfile's top functions for this kind")
    parser.add_argument("--random-seed", type=int, default=1)
    return parser.parse_args()


def first_sync_token(phone) -> str:
    """The sync token a phone keeps after its first sync (every page followed)."""
    since = ""
    while True:
        body = phone.get(f"/api/v1/field/bootstrap?since={since}").get_json()
        if not body.get("next"):
            return body["sync_token"]
        since = body["next"]


def main() -> None:
    """Sign in, time each kind, print one line each (and a profile when asked)."""
    args = parse_args()
    # Imported here: the bench modules put this checkout first on the path, and the app must
    # already have come from ROOT.
    from bootstrap_delta import signed_in_client
    from wall_viewport import VIEWS, viewport_box

    app = create_app()
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
        case_ids = db.session.scalars(select(Case.id)).all()
        inspector = db.session.scalar(select(User.username).where(User.role == Role.INSPECTOR,
                                                                   User.grid_id.isnot(None)).order_by(User.id))
        db.session.remove()
    desk = signed_in_client(app, "command", DEMO_PASSWORD)
    phone = signed_in_client(app, inspector, DEMO_PASSWORD)
    token = first_sync_token(phone)
    views = ["&".join(f"{k}={v}" for k, v in viewport_box(lon, lat, zoom).items()) for _, lon, lat, zoom in VIEWS]
    rng = random.Random(args.random_seed)
    kinds = {
        "floor: GET /api/v1/me": lambda: desk.get("/api/v1/me"),
        "desk queue": lambda: desk.get("/desk/"),
        "case detail": lambda: desk.get(f"/desk/cases/{rng.choice(case_ids)}"),
        "wall viewport": lambda: desk.get(f"/api/v1/wall/viewport?{rng.choice(views)}"),
        "inspector delta sync": lambda: phone.get(f"/api/v1/field/bootstrap?since={token}"),
    }
    print(f"code from {Path(sys.modules['app'].__file__).parent.parent}; {len(case_ids)} cases; "
          f"{args.runs} calls each")
    print("| request | p50 ms | min ms | statements a call |\n|---|---:|---:|---:|")
    for name, call in kinds.items():
        for _ in range(3):
            call().close()
        profile = cProfile.Profile() if name == args.profile else None
        times, statements[0] = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            if profile:
                profile.enable()
            response = call()
            if profile:
                profile.disable()
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {response.status_code}")
            response.close()
        times.sort()
        print(f"| {name} | {times[len(times) // 2] * 1000:.1f} | {times[0] * 1000:.1f} | "
              f"{statements[0] / args.runs:.1f} |")
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
            print(out.getvalue())


if __name__ == "__main__":
    main()
