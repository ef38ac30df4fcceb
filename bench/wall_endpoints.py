"""Time every wall endpoint other than the plain viewport, beside what it costs without HTTP.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wallbench .venv/bin/python bench/wall_endpoints.py
    DATABASE_URL=sqlite:////tmp/wall.db .venv/bin/python bench/wall_endpoints.py --runs 5

The database must hold a demo city (``flask db upgrade`` then ``flask demo seed --cases
1000000``). In one run the script prints:

* the floor: a signed-in request that runs no query of its own (``GET /api/v1/me``);
* the statistics endpoints (side panels, village scores for the panels' period and for a
  chosen month): through the app's WSGI stack without If-None-Match, and the service
  function alone on the same database (its SQL and the Python around it, no HTTP);
* filtered viewport views (a period of whole days, as the wall picks it, and to the minute,
  an open deadline state, two filters, a filtered view at zoom 15+), with the path each
  takes and the bare SQL behind it (as ``bench/wall_viewport.py``).

Figures go to stdout; docs/benchmarks.md records them.
"""

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from wall_viewport import bench_view, percentile, signed_in_client, timed  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.services import clock  # noqa: E402
from app.services.campaign.periods import describe  # noqa: E402
from app.services.campaign.scoring import grid_scores, grid_totals, live_town_ranking, town_ranking  # noqa: E402
from app.services.wall import open_states  # noqa: E402
from app.services.wall.layers import village_scores  # noqa: E402
from app.services.wall.panels import (  # noqa: E402
    live_progress_counts,
    progress_counts,
    wall_panels,
    wall_period,
)
from config import Config  # noqa: E402

# (label, lon, lat, zoom, filters): filtered viewport views: a period, alone or beside one filter
# (of whole days from the summary's received-day rows, to the minute with its ends live), open
# deadline states (alone and beside a filter), one filter with its rings split, two filters, zoom 15+.
FILTERED_VIEWS = [
    ("city, last 30 days as picked on the wall", 120.57, 32.39, 11, {"received_from": "picked"}),
    ("town NW, last 30 days as picked", 120.42, 32.48, 12, {"received_from": "picked"}),
    ("city, last 30 days to the minute", 120.57, 32.39, 11, {"received_from": "month"}),
    ("city, last 30 days as picked + 噪声", 120.57, 32.39, 11, {"received_from": "picked", "category": ["noise"]}),
    ("city zoomed out, last 30 days as picked + 来访", 120.57, 32.39, 9,
     {"received_from": "picked", "channel": ["visit"]}),
    ("town NW, last 30 days as picked + 越级访", 120.42, 32.48, 12,
     {"received_from": "picked", "flag": ["above_level"]}),
    ("city, last 30 days to the minute + 噪声", 120.57, 32.39, 11, {"received_from": "month", "category": ["noise"]}),
    ("city, 已超期", 120.57, 32.39, 11, {"state": ["red"]}),
    ("city, 临期", 120.57, 32.39, 11, {"state": ["yellow"]}),
    ("city, 噪声 (rings split)", 120.57, 32.39, 11, {"category": ["noise"]}),
    ("city, 已超期 + 噪声", 120.57, 32.39, 11, {"state": ["red"], "category": ["noise"]}),
    ("town centre, 临期 + 来访", 120.57, 32.39, 13, {"state": ["yellow"], "channel": ["visit"]}),
    ("city, 噪声 + 来访", 120.57, 32.39, 11, {"category": ["noise"], "channel": ["visit"]}),
    ("town centre, 噪声 + 越级访", 120.57, 32.39, 13, {"category": ["noise"], "flag": ["above_level"]}),
    ("village, 噪声", 120.63, 32.35, 15, {"category": ["noise"]}),
    ("village, 已超期", 120.63, 32.35, 15, {"state": ["red"]}),
]


class UrlMoment(datetime):
    """A moment that prints itself as a query-string value (``bench_view`` builds its URL with str)."""

    def __str__(self) -> str:
        """The ISO form with its offset, URL-encoded."""
        return quote(self.isoformat())


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed calls per endpoint and method")
    parser.add_argument("--user", default="command")
    parser.add_argument("--password", default="firstline2026")
    parser.add_argument("--stats-only", action="store_true", help="skip the live viewport views")
    parser.add_argument("--beijing-time", metavar="HH:MM",
                        help="move the app's clock forward to the next HH:MM in Beijing first (the live parts of "
                             "a day's counts depend on the hour)")
    parser.add_argument("--check", action="store_true",
                        help="also read each statistic from the cases (once) and check the summary gives the same")
    return parser.parse_args()


def row(label: str, endpoint: list[float], service: list[float]) -> str:
    """One table row: endpoint and service p50/p95 in milliseconds."""
    return (f"| {label} | {percentile(endpoint, .5):.0f} | {percentile(endpoint, .95):.0f} | "
            f"{percentile(service, .5):.0f} | {percentile(service, .95):.0f} |")


def main() -> None:
    """Time everything, at the hour asked for (``--beijing-time``) or now."""
    args = parse_args()
    if args.beijing_time is None:
        run(args)
        return
    hours, minutes = (int(part) for part in args.beijing_time.split(":"))
    now = clock.now()
    target = clock.day_start(clock.beijing_date(now)) + timedelta(hours=hours, minutes=minutes)
    target += timedelta(days=1) if target < now else timedelta(0)
    with clock.travel(target - now):
        print(f"clock moved forward {target - now} to {args.beijing_time} Beijing time")
        run(args)


def run(args: argparse.Namespace) -> None:
    """Sign in as the command office and time every statistics endpoint and live view."""
    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
        RATELIMIT_ENABLED = False

    app = create_app(BenchConfig)
    client = signed_in_client(app, args.user, args.password)
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.username == args.user))
        backend = db.engine.dialect.name
        start, now = wall_period({}).start, clock.now()
        open_states.take_snapshot(now)  # as the worker does every minute: the state views read it
        db.session.commit()
    month = UrlMoment.fromtimestamp((now - timedelta(days=30)).timestamp(), now.tzinfo)
    print(f"backend {backend}, {args.runs} timed calls per endpoint and method; panels' period from {start:%Y-%m-%d}")
    floor = timed(lambda: client.get("/api/v1/me"), args.runs)
    print(f"floor: a signed-in GET /api/v1/me p50 {percentile(floor, .5):.1f} ms, "
          f"p95 {percentile(floor, .95):.1f} ms\n")

    def service(call):
        """Time a service function inside an app context, with a fresh session each call."""
        def once():
            with app.app_context():
                call(db.session.get(User, user_id), clock.now())
        return timed(once, args.runs)

    print("| endpoint | endpoint p50 ms | endpoint p95 ms | service p50 ms | service p95 ms |\n" + "|---" * 5 + "|")
    picked = UrlMoment.fromtimestamp(clock.day_start(clock.beijing_date(now) - timedelta(days=29)).timestamp(),
                                     now.tzinfo)
    stats = [
        ("panels", "/api/v1/wall/panels", lambda user, at: wall_panels(user, at, {})),
        ("panels, last 30 days as picked on the wall", f"/api/v1/wall/panels?received_from={picked}",
         lambda user, at: wall_panels(user, at, {"received_from": picked})),
        ("panels, 30 days to the minute", f"/api/v1/wall/panels?received_from={month}",
         lambda user, at: wall_panels(user, at, {"received_from": at - timedelta(days=30)})),
        ("village scores, panels' period", "/api/v1/wall/village-scores", lambda user, at: village_scores({})),
        ("village scores, last 30 days as picked", f"/api/v1/wall/village-scores?received_from={picked}",
         lambda user, at: village_scores({"received_from": picked})),
        ("village scores, 30 days to the minute", f"/api/v1/wall/village-scores?received_from={month}",
         lambda user, at: village_scores({"received_from": at - timedelta(days=30)})),
    ]
    for label, url, call in stats:
        print(row(label, timed(lambda u=url: client.get(u), args.runs), service(call)), flush=True)
    if args.check:
        with app.app_context():
            check_against_the_cases(db.session.get(User, user_id), clock.now())
    if args.stats_only:
        return

    print("\n| view | zoom | path | cases in view | clusters/points | endpoint p50 ms | endpoint p95 ms | "
          "bare SQL p50 ms | bare SQL p95 ms | p95 ratio | 304 p50 ms |\n" + "|---" * 11 + "|")
    for label, lon, lat, zoom, filters in FILTERED_VIEWS:
        moments = {"month": month, "picked": picked}
        filters = {name: moments.get(values, values) if isinstance(values, str) else values
                   for name, values in filters.items()}
        print(bench_view(app, client, user_id, backend, label, lon, lat, zoom, args.runs, filters), flush=True)


def check_against_the_cases(user: User, now: datetime) -> None:
    """Read the panels' counts, the village scores and the ranking from the cases, once each, and
    stop if the summary's differ; print how long the reading from the cases took. The clock
    stands still meanwhile: at a million cases one turns overdue every few seconds."""
    with mock.patch.object(clock, "now", return_value=now):
        compare_at(user, now)


def compare_at(user: User, now: datetime) -> None:
    """``check_against_the_cases`` at one moment."""
    picked = clock.day_start(clock.beijing_date(now) - timedelta(days=29))
    for label, filters in (("panels' period", {}), ("last 30 days as picked", {"received_from": picked}),
                           ("30 days to the minute", {"received_from": now - timedelta(days=30)})):
        period = wall_period(filters)
        for name, summary, live in figure_pairs(user, now, period.start, period.end):
            started = time.perf_counter()
            expected = live()
            took = (time.perf_counter() - started) * 1000
            if summary() != expected:
                raise SystemExit(f"{label} {name}: the summary differs from the cases")
            print(f"{label}, {name}: summary equals the cases (read from the cases in {took:,.0f} ms)", flush=True)


def figure_pairs(user: User, now: datetime, start: datetime, end: datetime) -> list:
    """(name, from the summary, from the cases) for each statistic of a period."""
    period = describe(start, end)

    def villages_summed():
        return [(s.grid_id, s.score, s.zeroed, s.deductions) for s in grid_totals(start, end)]

    def villages_live():
        return [(s.grid_id, s.score, s.zeroed, len(s.deductions)) for s in grid_scores(start, end)]

    return [("counts", lambda: progress_counts(user, now, period), lambda: live_progress_counts(user, now, period)),
            ("villages", villages_summed, villages_live),
            ("ranking", lambda: town_ranking(start, end), lambda: live_town_ranking(start, end))]


if __name__ == "__main__":
    main()
