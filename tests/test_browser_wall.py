"""The map wall in Chromium at 1920×1080 on the demo city: map and every panel have content,
a click opens a case card, a new case reaches the wall live, and the screen does not scroll.
At 1920×1080 and 3840×2160 every panel fits (no scrolling, no clipping, no overlapping
labels) and the sources and alerts layers can be toggled, read and clicked."""

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from app.extensions import db
from app.models import Case, Source
from app.models.vocab import Sector, SourceKind
from app.services import clock
from app.services.campaign import early_warning
from app.services.cases.timeline import append_event
from app.services.geo.coords import wgs84_to_gcj02
from app.services.geo.grid_locator import locate_point
from tests.factories import EAST, NORTH, SOUTH, WEST, make_case
from tests.helpers import SHORT_PATROLS, assert_alert_tags_clear_of_counts, sign_in_to_wall

pytestmark = pytest.mark.browser

CASES = 3000
PANELS = ("panel-totals", "panel-progress", "panel-difficult", "panel-rates", "panel-categories", "panel-towns")


def test_the_wall_shows_the_demo_city_live(app, browser, live_server, artifacts_dir, monkeypatch):
    monkeypatch.setitem(app.config, "WALL_SSE_POLL_SECONDS", 0.5)
    # Short streams: the browser must reconnect (with Last-Event-ID) to see the new event.
    monkeypatch.setitem(app.config, "WALL_SSE_MAX_SECONDS", 2)
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(CASES), *SHORT_PATROLS])
    assert result.exit_code == 0, result.output
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in_to_wall(page, live_server)

    wall_map = page.locator("#wall-map")
    assert int(wall_map.get_attribute("data-in-view")) > 0.9 * CASES  # the whole city is in view
    assert page.locator("#wall-map canvas").count() >= 1  # cases and grids on Leaflet's canvas
    assert page.evaluate("window.wallStats.symbols") > 5
    for panel in PANELS:
        assert page.locator(f"#{panel} .panel-body").inner_text().strip(), panel
    # header, every town when they fit (else the first, a gap row, the last four), and the total
    panels = page.evaluate("() => fetch('/api/v1/wall/panels').then((answer) => answer.json())")
    rows = page.locator("#panel-towns tr")
    assert rows.count() == 2 + min(len(panels["towns"]), 8)
    total = [cell.strip() for cell in rows.last.locator("td").all_inner_texts()]
    assert total[1:4] == [f"合计 {len(panels['towns'])} 个", "", str(panels["counts"]["above_level"])]
    # Scores read as on the campaign pages (Python's own printing of the same numbers).
    first = [cell.strip() for cell in rows.nth(1).locator("td").all_inner_texts()]
    assert first[2] == str(float(panels["towns"][0]["score"]))
    assert page.locator("#phase").inner_text() not in ("", "攻坚行动加载中…")
    # The map says which cases it counts (the panels state their own period).
    assert page.locator("#in-view").inner_text().endswith("（全部受理时间）")
    assert page.locator("#legend-period").inner_text() == "全部受理时间"
    # Leaflet's own controls speak Chinese too.
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "放大"
    assert page.locator(".leaflet-control-layers-toggle").get_attribute("title") == "图层"
    page.locator('#live[data-state="open"]').wait_for(timeout=10_000)
    no_scroll = page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]")
    assert no_scroll == [1080, 1920]

    # A filter redraws the cases: the whole city is in view, so the map counts every noise case.
    with app.app_context():
        from app.models import Case

        noise = db.session.scalar(db.select(db.func.count()).where(Case.location.isnot(None),
                                                                   Case.category == "noise"))
    for value, expected in (("noise", noise), ("", None)):
        renders = page.evaluate("window.wallStats.renders")
        page.select_option("#filters select[name=category]", value)
        page.wait_for_function("(n) => window.wallStats.renders > n", arg=renders, timeout=10_000)
        if expected is not None:
            assert int(wall_map.get_attribute("data-in-view")) == expected > 0
            # Every figure of the map names the filter; the panels say they do not follow it.
            assert page.locator("#in-view").inner_text().endswith("（全部受理时间 · 噪声）")
            assert page.locator("#legend-period").inner_text() == "全部受理时间 · 噪声"
            page.wait_for_function("() => document.getElementById('legend-measure').textContent"
                                   ".endsWith('未办结（件） · 全部受理时间 · 噪声')", timeout=10_000)
            assert "统计面板不随类型" in page.locator("#period").inner_text()
            # one filter: the rings split by state from the worker's snapshot, which says when
            legend = page.locator("#legend").inner_text()
            assert "未细分" not in legend and "状态截至" in legend, legend
            page.screenshot(path=str(artifacts_dir / "wall-filtered-noise.png"))
    assert "统计面板不随" not in page.locator("#period").inner_text()
    # The scores' shading is for the panels' period, and says so.
    page.select_option("#measure", "score")
    period = page.locator("#panel-totals .panel-period").inner_text()
    shading = page.locator("#legend-measure").inner_text()
    assert shading == f"村（社区）着色：考核扣分（分，清零计满分） · 统计期间 {period}"
    page.select_option("#measure", "open")
    renders = page.evaluate("window.wallStats.renders")
    page.fill("#filters input[name=received_from]", "2026-01-01")
    page.wait_for_function("(n) => window.wallStats.renders > n", arg=renders, timeout=10_000)
    assert page.locator("#legend-period").inner_text() == "2026-01-01 起受理"
    # A period that ends before it starts is refused on the spot: nothing asked, the last period kept.
    refused = []
    page.on("response", lambda response: response.status >= 400 and refused.append(response.url))
    shown = wall_map.get_attribute("data-in-view")
    bar = page.locator("#filters").bounding_box()
    page.fill("#filters input[name=received_to]", "2025-12-01")
    page.locator("#period-error").wait_for(state="visible", timeout=5_000)
    assert page.locator("#filters").bounding_box() == bar  # the message hangs below: the map does not move
    page.screenshot(path=str(artifacts_dir / "wall-period-error.png"))
    page.wait_for_timeout(500)
    assert wall_map.get_attribute("data-in-view") == shown and refused == []
    # Moving the map meanwhile asks for the period still applied, and the count names that one.
    renders = page.evaluate("window.wallStats.renders")
    page.evaluate("() => { window.wallMap.panBy([40, 0], { animate: false }); }")
    page.wait_for_function("(n) => window.wallStats.renders > n", arg=renders, timeout=10_000)
    assert refused == [] and page.locator("#legend-period").inner_text() == "2026-01-01 起受理"
    assert page.locator("#in-view").inner_text().endswith("（2026-01-01 起受理）")
    # A period that has ended: the headline counts its intake late as of now, the ranking as of its last day.
    page.fill("#filters input[name=received_to]", "2026-10-31")
    page.locator("table.towns th", has_text="超期(含积案，截至10-31)").wait_for(timeout=10_000)
    assert "至今超期" in page.locator("#panel-difficult").inner_text()
    page.fill("#filters input[name=received_to]", "")
    assert page.locator("#period-error").is_hidden()
    page.locator("table.towns th", has_text="现超期(含积案)").first.wait_for(timeout=10_000)
    assert "现有久拖不解" in page.locator("#panel-difficult").inner_text()  # the list now, not the period's
    renders = page.evaluate("window.wallStats.renders")
    page.fill("#filters input[name=received_from]", "")
    page.wait_for_function("(n) => window.wallStats.renders > n", arg=renders, timeout=10_000)
    assert int(wall_map.get_attribute("data-in-view")) > 0.9 * CASES

    # A slow answer for a period picked before another never draws over the newer one: the
    # panels, the village shading and the map all keep the last period picked.
    held = []
    slow = "**/api/v1/wall/*received_from=2026-03-01*"
    page.route(slow, lambda route: held.append(route))
    page.fill("#filters input[name=received_from]", "2026-03-01")
    page.wait_for_timeout(300)
    renders = page.evaluate("window.wallStats.renders")
    page.fill("#filters input[name=received_from]", "2026-11-01")
    page.wait_for_function("(n) => window.wallStats.renders > n", arg=renders, timeout=10_000)
    page.locator("#period", has_text="2026-11-01").wait_for(timeout=10_000)
    page.wait_for_function("() => (window.wallStats.villagesFor || '').includes('2026-11-01')", timeout=10_000)
    assert len(held) >= 3, [route.request.url for route in held]  # viewport, villages, panels
    for route in held:
        route.continue_()
    page.wait_for_timeout(1_500)
    page.unroute(slow)
    assert "2026-11-01" in page.locator("#period").inner_text()
    assert page.locator("#legend-period").inner_text() == "2026-11-01 起受理"
    assert "2026-11-01" in page.evaluate("window.wallStats.villagesFor")
    page.fill("#filters input[name=received_from]", "")

    with app.app_context():
        from app.models import Case

        case = db.session.scalar(db.select(Case).where(Case.location.isnot(None)).order_by(Case.id.desc()).limit(1))
        lon, lat = db.session.execute(db.select(db.func.ST_X(case.location), db.func.ST_Y(case.location))).one()
        append_event(case, "close", note="销号")
        db.session.commit()
        number = case.number
    page.locator("#feed li", has_text=number).wait_for(timeout=5_000)

    page.screenshot(path=str(artifacts_dir / "wall-1920x1080.png"))
    click_case(page, lon, lat)
    card = page.locator("#card")
    card.wait_for(state="visible", timeout=10_000)
    text = card.inner_text()
    assert "责任单位" in text and "办理时限" in text
    assert "电话" not in text and "身份证" not in text
    assert errors == []
    context.close()


def click_case(page, lon, lat):
    """Zoom the wall to street level on a case and click its symbol on the canvas."""
    renders = page.evaluate("window.wallStats.renders")
    page.evaluate("([lon, lat]) => { window.wallMap.setView([lat, lon], 18, { animate: false }); }", [lon, lat])
    page.wait_for_function("(n) => window.wallStats.renders > n", arg=renders, timeout=10_000)
    point = page.evaluate(
        "([lon, lat]) => { const p = window.wallMap.latLngToContainerPoint([lat, lon]); return { x: p.x, y: p.y }; }",
        [lon, lat],
    )
    box = page.locator("#wall-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


@pytest.mark.parametrize("system", ["cgcs2000", "gcj02"])
def test_a_gcj02_base_map_shifts_every_shape_and_tianditu_uses_them_as_stored(
    app, browser, live_server, city, monkeypatch, system
):
    monkeypatch.setitem(app.config, "WALL_TILE_URL", "/static/icons/firstline.svg?z={z}&x={x}&y={y}&s={s}")
    monkeypatch.setitem(app.config, "WALL_TILE_SYSTEM", system)
    monkeypatch.setitem(app.config, "WALL_SSE_MAX_SECONDS", 1)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("command")
    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/desk/")
    page.goto(f"{live_server}/wall/")
    page.locator('#wall-map[data-ready="true"]').wait_for(timeout=30_000)
    assert page.locator(".leaflet-tile").count() > 0
    stored = ((WEST + EAST) / 2, (SOUTH + NORTH) / 2)
    expected = wgs84_to_gcj02(*stored) if system == "gcj02" else stored
    at = page.evaluate("([lon, lat]) => window.wallMap.latLngToContainerPoint([lat, lon])", list(expected))
    # the city is fitted into the map beside the legend (its lower-left corner), 16 px apart
    legend, frame = page.locator(".wall-legend-main").bounding_box(), page.locator("#wall-map").bounding_box()
    left = legend["x"] + legend["width"] - frame["x"] + 16
    assert abs(at["x"] - (left + frame["width"] - 16) / 2) < 1.5 and abs(at["y"] - frame["height"] / 2) < 1.5
    context.close()


# ------------------------------------------------------------------ layers and layout

LAYER_CASES = 1500
SOURCES = 400
PATROL_AGES = [0, 1, 2, 3, 5, 7, 8, 11, 14, 15, 30, None]  # days before today; None = never


def bucket_for(age) -> str:
    """The bucket the wall must give a source patrolled ``age`` days ago (hand-written)."""
    if age is None:
        return "never"
    return "fresh" if age <= 2 else "due" if age <= 7 else "late" if age <= 14 else "overdue"


def add_sources(count: int) -> None:
    """Sources beside demo cases, patrolled 0 to 30 days ago or never."""
    rng = random.Random(5)
    points = db.session.execute(
        db.select(db.func.ST_X(Case.location), db.func.ST_Y(Case.location)).where(Case.location.isnot(None))
        .order_by(Case.id).limit(count)
    ).all()
    today = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    noon = today.replace(hour=12, minute=0, second=0, microsecond=0)  # ages count Beijing dates
    for index, (lon, lat) in enumerate(points):
        age = PATROL_AGES[index % len(PATROL_AGES)]
        lon, lat = lon + rng.uniform(-0.002, 0.002), lat + rng.uniform(-0.002, 0.002)
        hit = locate_point(lon, lat)
        db.session.add(Source(
            code=f"JGT-{index:04d}", name=f"测试企业{index}", kind=SourceKind.FACTORY, sector=Sector.INDUSTRIAL,
            location=from_shape(Point(lon, lat), srid=4326), grid_id=hit.grid_id if hit else None,
            town_id=hit.town_id if hit else None, is_key=index % 5 == 0, responsible_name="王负责",
            responsible_phone="13700002222", last_patrol_at=None if age is None else noon - timedelta(days=age)))
    db.session.commit()


def buckets_by_hand() -> dict[str, int]:
    """Every active source (the demo city's own and ours) counted per bucket by Beijing dates."""
    beijing = ZoneInfo("Asia/Shanghai")
    today = clock.now().astimezone(beijing).date()
    counts: dict[str, int] = {}
    for last in db.session.scalars(db.select(Source.last_patrol_at).where(Source.active.is_(True))):
        bucket = bucket_for(None if last is None else (today - last.astimezone(beijing).date()).days)
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def add_alert(nth: int) -> int:
    """Three people's air complaints within 60 m of one another beside the nth demo case; the active alerts then."""
    lon, lat = db.session.execute(
        db.select(db.func.ST_X(Case.location), db.func.ST_Y(Case.location)).where(Case.location.isnot(None))
        .order_by(Case.id).offset(nth).limit(1)
    ).one()
    for index in range(3):
        make_case(lon + 0.0002 * index, lat + 0.0003, received_at=clock.now() - timedelta(hours=index + 1),
                  petitioner_phone=f"1390000{nth:02d}{index:02d}")  # three different people
    early_warning.scan()
    db.session.commit()
    return len(early_warning.active_alerts(clock.now()))


def click_source(page, lon, lat):
    """Zoom the wall to street level on a source and click its ring on the canvas."""
    renders = page.evaluate("window.wallStats.sourceRenders")
    page.evaluate("([lon, lat]) => { window.wallMap.setView([lat, lon], 18, { animate: false }); }", [lon, lat])
    page.wait_for_function("(n) => window.wallStats.sourceRenders > n", arg=renders, timeout=10_000)
    point = page.evaluate(
        "([lon, lat]) => { const p = window.wallMap.latLngToContainerPoint([lat, lon]); return { x: p.x, y: p.y }; }",
        [lon, lat],
    )
    box = page.locator("#wall-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def boxes_intersect(a: dict, b: dict) -> bool:
    """Two bounding boxes overlap by more than half a pixel."""
    return (min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 0.5
            and min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 0.5)


def assert_everything_fits(page, width: int, height: int) -> None:
    """No scrolling anywhere, every panel inside the panel column, rate labels apart."""
    assert page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]") == [
        height, width]
    overflowing = page.evaluate("""() => [...document.querySelectorAll('.panel, .panel-body, #feed, .wall-panels')]
        .filter((node) => node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1)
        .map((node) => node.id || node.parentElement.id || node.className)""")
    assert overflowing == []
    outside = page.evaluate("""() => {
        const frame = document.querySelector('.wall-panels').getBoundingClientRect();
        return [...document.querySelectorAll('.panel')].filter((panel) => {
            const box = panel.getBoundingClientRect();
            return box.bottom > frame.bottom + 0.5 || box.right > frame.right + 0.5 || box.height < 20;
        }).map((panel) => panel.id);
    }""")
    assert outside == []
    cells = page.locator("#panel-rates .bars > *")
    assert cells.count() == 12
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    for i, first in enumerate(boxes):
        for second in boxes[i + 1:]:
            assert not boxes_intersect(first, second), (first, second)
    overlays = page.locator(".wall-legend:visible, .leaflet-control-layers, #in-view")
    boxes = [overlays.nth(i).bounding_box() for i in range(overlays.count())]
    map_box = page.locator("#wall-map").bounding_box()
    for i, box in enumerate(boxes):  # legends, toggles and the count sit on the map, apart
        assert box["x"] >= map_box["x"] and box["x"] + box["width"] <= map_box["x"] + map_box["width"]
        assert box["y"] >= map_box["y"] and box["y"] + box["height"] <= map_box["y"] + map_box["height"]
        assert not any(boxes_intersect(box, other) for other in boxes[i + 1:])


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_the_sources_and_alerts_layers_fit_the_wall(app, browser, live_server, artifacts_dir, monkeypatch,
                                                     width, height):
    monkeypatch.setitem(app.config, "WALL_SSE_POLL_SECONDS", 0.5)
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(LAYER_CASES), *SHORT_PATROLS])
    assert result.exit_code == 0, result.output
    add_sources(SOURCES)
    expected_buckets = buckets_by_hand()
    alerts = add_alert(100)
    assert alerts >= 1
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": width, "height": height})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in_to_wall(page, live_server)
    page.locator('#wall-map[data-panels-ready="true"]').wait_for(timeout=10_000)
    page.locator('#live[data-state="open"]').wait_for(timeout=10_000)

    with app.app_context():  # fill the live feed past what its panel holds
        for case in db.session.scalars(db.select(Case).order_by(Case.id).limit(15)):
            append_event(case, "sign", note="签收")
        db.session.commit()
    page.wait_for_function("() => document.querySelectorAll('#feed li').length >= 3", timeout=10_000)
    assert page.locator("#wall-map").get_attribute("data-alerts") == str(alerts)
    with app.app_context():  # a new alert reaches the feed and the map live
        alerts = add_alert(700)
    page.locator("#feed li.feed-alert", has_text="大气类投诉").wait_for(timeout=10_000)
    page.locator(f'#wall-map[data-alerts="{alerts}"]').wait_for(timeout=10_000)
    page.wait_for_timeout(1000)
    assert page.locator(".alert-icon").count() == alerts
    # Three alerts in the crowded centre, where no place around a ring is clear of every count:
    # the tags keep apart and near their rings, each hiding as few counts as it can.
    assert_alert_tags_clear_of_counts(page, most=2)
    assert "预警" in page.locator("#legend-alerts").inner_text()
    page.get_by_label("监管对象（距上次巡查天数）").check()
    page.locator("#wall-map[data-sources]").wait_for(timeout=10_000)
    assert page.locator("#legend-sources").is_visible()
    assert "从未巡查" in page.locator("#legend-sources").inner_text()
    in_view = page.evaluate("() => JSON.parse(document.getElementById('wall-map').dataset.sourceBuckets)")
    assert {k: v for k, v in in_view.items() if v} == expected_buckets
    assert_everything_fits(page, width, height)
    page.screenshot(path=str(artifacts_dir / f"wall-layers-{width}x{height}.png"))

    page.locator(".alert-icon").first.click()
    card = page.locator("#card")
    card.wait_for(state="visible", timeout=10_000)
    text = card.inner_text()
    assert "预警" in text and "大气" in text and "HJ" in text
    assert "张三丰" not in text and "13812345678" not in text
    card.get_by_role("button", name="关闭").click()

    with app.app_context():
        source = db.session.scalar(db.select(Source).where(Source.code == "JGT-0000"))
        lon, lat = db.session.execute(db.select(db.func.ST_X(source.location), db.func.ST_Y(source.location))).one()
    click_source(page, lon, lat)
    card.wait_for(state="visible", timeout=10_000)
    page.wait_for_function("() => document.getElementById('card').innerText.includes('距今')", timeout=10_000)
    text = card.inner_text()
    assert "测试企业0" in text and "责任单位" in text and "上次巡查" in text and "重点监管对象" in text
    assert "王负责" not in text and "13700002222" not in text

    page.select_option("#measure", "score")  # villages shaded by the points they lost
    page.get_by_label("监管对象（距上次巡查天数）").uncheck()
    assert page.locator("#legend-sources").is_hidden()
    assert errors == []
    context.close()
