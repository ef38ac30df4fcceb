"""The wall read from five metres, in Chromium at 1920×1080 and 3840×2160 on the demo city:
town names on the map, a legend whose counts are the viewport API's, clusters drawn as ring
charts of their deadline states, the base map's layers, and nothing fetched from outside
127.0.0.1. And a wall that lost its connection replays what it missed when it comes back."""

from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.models import Case
from app.models.vocab import OPEN_STATUSES
from app.services.cases.timeline import append_event
from tests.helpers import SHORT_PATROLS, sign_in_to_wall

pytestmark = pytest.mark.browser

CASES = 2000
STATE_KEYS = ("red", "yellow", "green", "closed", "open")


def guarded_context(browser, width, height, outside):
    """A browser context that refuses (and records) every request not to 127.0.0.1."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": width, "height": height})

    def route(request_route):
        if urlsplit(request_route.request.url).hostname == "127.0.0.1":
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    return context


def legend_from_api(context, url):
    """The sums the legend should show, computed here from the viewport API's own answer."""
    body = context.request.get(url).json()
    counts = dict.fromkeys((*STATE_KEYS, "above_level", "inspection", "leader"), 0)
    for cluster in body["clusters"]:
        for state, count in cluster["states"].items():
            counts[state] += count
        for flag in ("above_level", "inspection", "leader"):
            counts[flag] += cluster[flag]
    return body, counts


def assert_names_apart(page):
    """No two town or village names on the map overlap."""
    names = page.locator(".grid-label")
    boxes = [names.nth(i).bounding_box() for i in range(names.count())]
    for i, box in enumerate(boxes):
        for other in boxes[i + 1:]:
            assert (min(box["x"] + box["width"], other["x"] + other["width"]) <= max(box["x"], other["x"]) + 0.5
                    or min(box["y"] + box["height"], other["y"] + other["height"])
                    <= max(box["y"], other["y"]) + 0.5), (box, other)


def assert_names_clear_of_symbols(page):
    """No village name on the map touches a case symbol (cluster, case, 久拖不解 ring). A town's
    name must show, inside its town: in the crowded centre of the city view some find no clear
    place and take the one that hides the fewest counts (judged on the screenshots)."""
    touching = page.evaluate("""() => {
      const map = window.wallMap;
      const frame = map.getContainer().getBoundingClientRect();
      const circles = [];
      map.eachLayer((layer) => {
        if (layer.getRadius && layer.options.pane === "cases") {
          const p = map.latLngToContainerPoint(layer.getLatLng());
          circles.push({ x: p.x, y: p.y, r: layer.getRadius(), count: "state" in layer.options });
        }
      });
      const hits = [];
      for (const node of document.querySelectorAll(".grid-label")) {
        // The name's glyphs: its text's width, one em high (CJK glyphs fill their em square).
        const r = node.firstChild.getBoundingClientRect();
        const em = parseFloat(getComputedStyle(node).fontSize);
        const middle = (r.top + r.bottom) / 2 - frame.top;
        const box = { left: r.left - frame.left, right: r.right - frame.left, top: middle - em / 2,
                      bottom: middle + em / 2 };
        for (const c of circles) {
          const dx = c.x - Math.max(box.left, Math.min(c.x, box.right));
          const dy = c.y - Math.max(box.top, Math.min(c.y, box.bottom));
          if (dx * dx + dy * dy < c.r * c.r) {
            hits.push([node.classList.contains("grid-label-town"), c.count, node.textContent]);
          }
        }
      }
      return { hits, circles: circles.length };
    }""")
    assert touching["circles"] > 0
    assert not [name for town, _, name in touching["hits"] if not town], touching


def assert_names_clear_of_panels(page):
    """No town or village name sits under a panel drawn over the map (legend, layer switch, counts)."""
    panels = [page.locator(selector).bounding_box()
              for selector in ("#legend", "#in-view", ".leaflet-control-layers", ".leaflet-control-zoom")]
    names = page.locator(".grid-label")
    for i in range(names.count()):
        box = names.nth(i).bounding_box()
        for panel in panels:
            assert (box["x"] + box["width"] <= panel["x"] + 0.5 or panel["x"] + panel["width"] <= box["x"] + 0.5
                    or box["y"] + box["height"] <= panel["y"] + 0.5
                    or panel["y"] + panel["height"] <= box["y"] + 0.5), (names.nth(i).inner_text(), box, panel)


def shown_legend(page):
    """The legend's counts as the wall's map element publishes them, and as its text reads."""
    return page.evaluate("() => JSON.parse(document.getElementById('wall-map').dataset.legend)")


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_the_wall_is_legible_and_its_legend_matches_the_api(app, browser, live_server, artifacts_dir,
                                                             width, height):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(CASES), *SHORT_PATROLS])
    assert result.exit_code == 0, result.output
    outside = []
    context = guarded_context(browser, width, height, outside)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    viewports = []
    page.on("request", lambda request: "/api/v1/wall/viewport" in request.url and viewports.append(request.url))
    sign_in_to_wall(page, live_server)
    page.locator('#wall-map[data-panels-ready="true"]').wait_for(timeout=10_000)
    page.wait_for_function("() => window.wallStats.basemapFeatures > 0", timeout=10_000)

    # Every town's name is on the map at the city view, at a size read from across the room,
    # clear of the case symbols (a count beside a name read as one string: 「7金沙镇」).
    page.wait_for_function("() => window.wallStats.symbols > 0", timeout=10_000)
    page.wait_for_timeout(1000)  # the 久拖不解 rings arrive on their own request
    labels = page.evaluate("() => JSON.parse(document.getElementById('wall-map').dataset.labels)")
    towns = page.locator(".grid-label-town")
    assert labels["town"] == towns.count() >= 5
    assert_names_clear_of_panels(page)
    page.screenshot(path=str(artifacts_dir / f"wall-legible-{width}x{height}.png"))
    assert_names_clear_of_symbols(page)
    font_px = float(towns.first.evaluate("(node) => getComputedStyle(node).fontSize").removesuffix("px"))
    assert font_px >= 22 * width / 1920 - 0.5
    assert_names_apart(page)

    # The legend's counts are the API's for the same view; the clusters hold mixed states.
    body, expected = legend_from_api(context, viewports[-1])
    shown = shown_legend(page)
    assert {k: shown[k] for k in expected} == expected
    assert sum(expected[k] for k in STATE_KEYS) == body["total"] > 0.9 * CASES
    legend = page.locator("#legend").inner_text()
    for text in ("已超期", "已结束", "越级访", "预警", "久拖不解", "村（社区）着色：未办结（件）",
                 "国道、省道", "河流、水面", "地名"):
        assert text in legend, text
    assert f"{expected['closed']:,} 件" in legend
    # The seed counted the open cases' states per cell, so every ring is split and says when.
    assert not expected.get("open") and body["states_as_of"] and "状态截至" in legend and "未细分" not in legend
    mixed = [c for c in body["clusters"] if sum(1 for v in c["states"].values() if v) >= 2]
    assert mixed, "the demo city's clusters hold cases of more than one state"

    # Zoomed in: village names appear where they fit, still apart, and the legend follows the view.
    page.evaluate("() => { window.wallMap.setZoom(window.wallMap.getZoom() + 2, { animate: false }); }")
    page.wait_for_function("() => JSON.parse(document.getElementById('wall-map').dataset.labels).village > 0",
                           timeout=10_000)
    page.wait_for_timeout(1500)
    assert_names_apart(page)
    assert_names_clear_of_symbols(page)
    assert_names_clear_of_panels(page)
    _, expected = legend_from_api(context, viewports[-1])
    assert {k: shown_legend(page)[k] for k in expected} == expected
    page.screenshot(path=str(artifacts_dir / f"wall-legible-zoomed-{width}x{height}.png"))
    assert outside == []
    assert errors == []
    context.close()


def test_a_wall_that_lost_its_connection_replays_what_it_missed(app, browser, live_server, artifacts_dir,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "WALL_SSE_POLL_SECONDS", 0.5)
    monkeypatch.setitem(app.config, "WALL_SSE_MAX_SECONDS", 2)  # streams end: the wall must reconnect
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", "300", *SHORT_PATROLS])
    assert result.exit_code == 0, result.output
    outside = []
    context = guarded_context(browser, 1920, 1080, outside)
    page = context.new_page()
    viewports = []
    page.on("request", lambda request: "/api/v1/wall/viewport" in request.url and viewports.append(request.url))
    sign_in_to_wall(page, live_server)
    page.locator('#live[data-state="open"]').wait_for(timeout=10_000)
    before = shown_legend(page)

    # The wall goes off the air: its event stream cannot reach the server.
    page.route("**/api/v1/wall/events**", lambda request_route: request_route.abort())
    page.locator('#live[data-state="retrying"]').wait_for(timeout=10_000)
    with app.app_context():  # meanwhile cases are closed on the desk
        closing = db.session.scalars(db.select(Case).where(Case.status.in_(list(OPEN_STATUSES)),
                                                           Case.location.isnot(None))
                                     .order_by(Case.id).limit(3)).all()
        numbers = [case.number for case in closing]
        for case in closing:
            case.status = "closed"
            append_event(case, "close", note="销号")
        db.session.commit()
    page.wait_for_timeout(2000)
    feed = page.locator("#feed").inner_text()
    assert not any(number in feed for number in numbers)  # nothing arrived while away

    page.unroute("**/api/v1/wall/events**")  # back on the air: the missed closures are replayed
    for number in numbers:
        page.locator("#feed li.feed-closed", has_text=number).wait_for(timeout=15_000)
    page.wait_for_function("(closed) => JSON.parse(document.getElementById('wall-map').dataset.legend).closed"
                           " >= closed + 3", arg=before["closed"], timeout=15_000)
    _, expected = legend_from_api(context, viewports[-1])
    assert {k: shown_legend(page)[k] for k in expected} == expected
    page.screenshot(path=str(artifacts_dir / "wall-replayed.png"))
    assert outside == []
    context.close()
