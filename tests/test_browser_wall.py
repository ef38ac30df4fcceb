"""The map wall in Chromium at 1920×1080 on the demo city: map and every panel have content,
a click opens a case card, a new case reaches the wall live, and the screen does not scroll."""

import pytest

from app.extensions import db
from app.services.coords import wgs84_to_gcj02
from app.services.timeline import append_event
from tests.factories import EAST, NORTH, SOUTH, WEST

pytestmark = pytest.mark.browser

CASES = 3000
PANELS = ("panel-totals", "panel-progress", "panel-difficult", "panel-rates", "panel-categories", "panel-towns")


def sign_in_to_wall(page, live_server):
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("command")
    page.get_by_label("密码").fill("firstline2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/desk/")
    page.goto(f"{live_server}/wall/")
    page.locator('#wall-map[data-ready="true"]').wait_for(timeout=30_000)


def test_the_wall_shows_the_demo_city_live(app, browser, live_server, artifacts_dir, monkeypatch):
    monkeypatch.setitem(app.config, "WALL_SSE_POLL_SECONDS", 0.5)
    # Short streams: the browser must reconnect (with Last-Event-ID) to see the new event.
    monkeypatch.setitem(app.config, "WALL_SSE_MAX_SECONDS", 2)
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(CASES)])
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
    assert page.locator("#panel-towns tr").count() == 11  # header + top ten towns
    assert page.locator("#phase").inner_text() not in ("", "攻坚行动加载中…")
    page.locator('#live[data-state="open"]').wait_for(timeout=10_000)
    no_scroll = page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]")
    assert no_scroll == [1080, 1920]

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
    centre = page.evaluate("() => { const c = window.wallMap.getCenter(); return [c.lng, c.lat]; }")
    stored = ((WEST + EAST) / 2, (SOUTH + NORTH) / 2)
    expected = wgs84_to_gcj02(*stored) if system == "gcj02" else stored
    assert abs(centre[0] - expected[0]) < 1e-4 and abs(centre[1] - expected[1]) < 1e-4
    context.close()
