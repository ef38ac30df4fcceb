"""Time the map wall's viewport endpoint beside the bare SQL query behind it.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/wallbench .venv/bin/python bench/wall_viewport.py
    DATABASE_URL=sqlite:////tmp/wall.db .venv/bin/python bench/wall_viewport.py --runs 15

The database must hold a demo city (``flask db upgrade`` then ``flask demo seed --cases
1000000``). For each viewport (a 1400 × 950 px map, as on a 1920 × 1080 wall, at several
zooms and places) the script times, in one run:

* the endpoint: ``GET /api/v1/wall/viewport`` through the app's own WSGI stack (sign-in
  session, argument parsing, scope, ETag, JSON), without If-None-Match, so every call runs
  the query;
* the bare SQL: the same SQLAlchemy SELECT the endpoint runs for that view, executed on a
  plain connection, rows fetched: the summary rows of the view's cells
  (``wall.summary_select``, with the open-state snapshot's split) when the summary answers, else the live ``GROUP BY``
  (``wall.cluster_query``); at point zoom, also the point SELECT;
* the revalidation: the same request with the ETag it got back (a 304).

Before the table it prints the floor: a signed-in request that runs no query of its own
(``GET /api/v1/me``), what any endpoint costs in this stack. With ``--filtered`` it
also times views with one filter set (``FILTERED_VIEWS``).

With ``--browser`` it also opens /wall in Chromium (Playwright, 1920 × 1080) on the same
database and times, for views with more than 100,000 cases in view, the time from a view
change to the redrawn case layer (request, JSON, drawing on the canvas), the drawing alone,
and the longest gap between animation frames during a loop of animated pans and zooms.

Figures go to stdout; docs/benchmarks.md records them.
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.services import clock
from app.services.wall import open_states  # noqa: E402
from app.services.wall.cells import AGGREGATE_SETTINGS, SMALL_AGGREGATE_SETTINGS  # noqa: E402
from app.services.wall.clusters import (  # noqa: E402
    POINTS_ZOOM,
    Viewport,
    answers_by_days,
    answers_from_snapshot,
    answers_from_summary,
    cluster_query,
    period_query,
    points_query,
    summary_select,
)
from config import Config  # noqa: E402

MAP_PX = (1400, 950)
# (label, lon, lat, zoom): the whole city, a town, a village, a street corner.
VIEWS = [
    ("city", 120.57, 32.39, 10),
    ("city", 120.57, 32.39, 11),
    ("town NW", 120.42, 32.48, 12),
    ("town SE", 120.70, 32.30, 12),
    ("town centre", 120.57, 32.39, 13),
    ("village", 120.50, 32.44, 14),
    ("village", 120.63, 32.35, 15),
    ("street", 120.57, 32.39, 16),
]
# (label, lon, lat, zoom, filters): one filter of category, channel, town or flag is read
# from the summary's filter rows up to zoom 14; a period or a deadline state runs live.
FILTERED_VIEWS = [
    ("city, 噪声", 120.57, 32.39, 11, {"category": ["noise"]}),
    ("city, 越级访", 120.57, 32.39, 11, {"flag": ["above_level"]}),
    ("town centre, 来访", 120.57, 32.39, 13, {"channel": ["visit"]}),
    ("village, 噪声", 120.50, 32.44, 14, {"category": ["noise"]}),
    ("village, 噪声", 120.63, 32.35, 15, {"category": ["noise"]}),
    ("city, 已超期", 120.57, 32.39, 11, {"state": ["red"]}),
    ("town centre, 已超期", 120.57, 32.39, 13, {"state": ["red"]}),
    ("village, 已超期", 120.63, 32.35, 15, {"state": ["red"]}),
]


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="timed calls per viewport and method")
    parser.add_argument("--user", default="command")
    parser.add_argument("--password", default="firstline2026")
    parser.add_argument("--browser", action="store_true", help="also time the wall in Chromium")
    parser.add_argument("--min-zoom", type=int, default=0, help="skip the viewports below this zoom")
    parser.add_argument("--filtered", action="store_true", help="also time views with one filter set")
    return parser.parse_args()


def viewport_box(lon: float, lat: float, zoom: int) -> dict:
    """The WGS-84 box a MAP_PX map shows around (lon, lat) at this zoom (Web Mercator)."""
    degrees_per_px = 360.0 / (256 * 2**zoom)
    half_w = MAP_PX[0] / 2 * degrees_per_px
    half_h = MAP_PX[1] / 2 * degrees_per_px * math.cos(math.radians(lat))
    return {"west": lon - half_w, "south": lat - half_h, "east": lon + half_w, "north": lat + half_h, "zoom": zoom}


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


def bench_view(app, client, user, backend, label, lon, lat, zoom, runs, filters=None) -> str:
    """One table row: endpoint, bare query and 304 timings for one viewport (and filters)."""
    filters = filters or {}
    box = viewport_box(lon, lat, zoom)
    lists = {name: values if isinstance(values, list) else [values] for name, values in filters.items()}
    query = [*box.items(), *((name, value) for name, values in lists.items() for value in values)]
    url = "/api/v1/wall/viewport?" + "&".join(f"{k}={v}" for k, v in query)
    started = time.perf_counter()
    body = client.get(url).get_json()
    if time.perf_counter() - started > 1.0:
        runs = min(runs, 5)  # a slow live view: a few calls say enough
    in_view = body["total"] if body["kind"] == "clusters" else len(body["points"])
    shapes = len(body["clusters"] if body["kind"] == "clusters" else body["points"])
    endpoint = timed(lambda: client.get(url), runs)
    # The ETag includes the minute (deadline states change with time): take a fresh one.
    etag = client.get(url).headers["ETag"]
    revalidate = timed(lambda: client.get(url, headers={"If-None-Match": etag}), runs)
    view = Viewport(box["west"], box["south"], box["east"], box["north"], zoom)
    with app.app_context():
        caller = db.session.get(User, user)
        queries, path = endpoint_queries(caller, view, body["kind"], filters)
        with db.engine.connect() as conn:
            if backend == "postgresql" and path.startswith("live"):  # as wall.tune_aggregate_session
                conn.execute(text(f"SELECT {AGGREGATE_SETTINGS}"))
            elif backend == "postgresql" and path.startswith("day rows"):
                conn.execute(text(f"SELECT {SMALL_AGGREGATE_SETTINGS}"))
            bare = timed(lambda: [conn.execute(query, parameters).all() for query, parameters in queries], runs)
    p95_ratio = percentile(endpoint, 0.95) / percentile(bare, 0.95)
    return (f"| {label} | {zoom} | {path} | {in_view:,} | {shapes:,} | {percentile(endpoint, .5):.1f} | "
            f"{percentile(endpoint, .95):.1f} | {percentile(bare, .5):.1f} | {percentile(bare, .95):.1f} | "
            f"{p95_ratio:.2f} | {percentile(revalidate, .5):.1f} |")


def endpoint_queries(caller: User, view: Viewport, kind: str, filters: dict) -> tuple[list, str]:
    """The SELECTs (with parameters) the endpoint runs for a view, and which path it takes."""
    now = clock.now()
    facets = answers_from_summary(caller, view, filters)
    wanted = answers_from_snapshot(caller, view, now, filters)
    if facets is not None:
        queries, path = [summary_select(view, now, facets)[:2]], "summary"
    elif wanted is not None:
        queries, path = [(open_states.state_query(view.zoom, view.cells, *wanted), {})], "state snapshot"
    elif (days := answers_by_days(caller, view, now, filters)) is not None:
        queries, path = [period_query(caller, view, now, filters, *days)], "day rows + ends live"
    else:
        queries, path = [(cluster_query(caller, view, now, filters), {})], "live"
    if view.zoom >= POINTS_ZOOM and kind == "points":
        queries.append((points_query(caller, view, now, filters), {}))
        path += " + points"
    return queries, path


def main() -> None:
    """Sign in as the command office and time every viewport."""
    args = parse_args()

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]
        RATELIMIT_ENABLED = False

    app = create_app(BenchConfig)
    client = signed_in_client(app, args.user, args.password)
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.username == args.user))
        backend = db.engine.dialect.name
    print(f"backend {backend}, {args.runs} timed calls per viewport and method, map {MAP_PX[0]}x{MAP_PX[1]} px")
    floor = timed(lambda: client.get("/api/v1/me"), args.runs)
    print(f"floor: a signed-in GET /api/v1/me (no query of its own) p50 {percentile(floor, .5):.1f} ms, "
          f"p95 {percentile(floor, .95):.1f} ms")
    header = ("| view | zoom | path | cases in view | clusters/points | endpoint p50 ms | endpoint p95 ms | "
              "bare SQL p50 ms | bare SQL p95 ms | p95 ratio | 304 p50 ms |\n" + "|---" * 11 + "|")
    print(header)
    for label, lon, lat, zoom in (view for view in VIEWS if view[3] >= args.min_zoom):
        print(bench_view(app, client, user_id, backend, label, lon, lat, zoom, args.runs), flush=True)
    if args.filtered:
        print("\nFiltered views\n" + header)
        for label, lon, lat, zoom, filters in FILTERED_VIEWS:
            print(bench_view(app, client, user_id, backend, label, lon, lat, zoom, args.runs, filters), flush=True)
    if args.browser:
        bench_browser(app, args.user, args.password)


BROWSER_VIEWS = [("city", 120.57, 32.39, 11), ("town NW", 120.45, 32.45, 12), ("town SE", 120.68, 32.32, 12)]
MEASURE_VIEW_JS = """([lon, lat, zoom]) => new Promise((resolve) => {
  const stats = window.wallStats, before = stats.renders, started = performance.now();
  window.wallMap.setView([lat, lon], zoom, { animate: false });
  const wait = () => stats.renders > before
    ? resolve({ total: performance.now() - started, draw: stats.lastDrawMs, symbols: stats.symbols,
                inView: Number(document.getElementById('wall-map').dataset.inView) })
    : requestAnimationFrame(wait);
  wait();
})"""
PAN_LOOP_JS = """() => new Promise((resolve) => {
  const map = window.wallMap, gaps = [];
  let last = performance.now(), steps = 0;
  const frame = (now) => { gaps.push(now - last); last = now; if (steps < 20) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  const step = () => {
    steps += 1;
    if (steps % 5 === 0) map.setZoom(map.getZoom() + (steps % 10 === 0 ? -1 : 1));
    else map.panBy([steps % 2 ? 300 : -300, steps % 3 ? 150 : -150]);
    if (steps < 20) setTimeout(step, 400);
    else setTimeout(() => resolve({ maxGap: Math.max(...gaps), frames: gaps.length }), 1500);
  };
  step();
})"""


def bench_browser(app, username: str, password: str) -> None:
    """Time the wall in Chromium: view change to redrawn layer, and frame gaps while panning."""
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                             args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        page.goto(f"{base}/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{base}/desk/")
        page.goto(f"{base}/wall/")
        page.locator('#wall-map[data-ready="true"]').wait_for(timeout=300_000)
        print("| view | zoom | cases in view | symbols drawn | view change → drawn ms | drawing ms |")
        print("|---|---|---|---|---|---|")
        for label, lon, lat, zoom in BROWSER_VIEWS:
            result = page.evaluate(MEASURE_VIEW_JS, [lon, lat, zoom])
            print(f"| {label} | {zoom} | {result['inView']:,} | {result['symbols']} | {result['total']:.0f} | "
                  f"{result['draw']:.1f} |", flush=True)
        loop = page.evaluate(PAN_LOOP_JS)
        print(f"pan/zoom loop: {loop['frames']} frames, longest gap between frames {loop['maxGap']:.0f} ms")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
