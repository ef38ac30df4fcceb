"""A patrol day in the inspector's app, offline, in Chromium with a mocked GPS.

The bootstrap carries today's patrol. Signed in online, the inspector loses the network,
starts a patrol, walks (the mocked position moves and the track is sampled every 5 s),
checks in at three sources (nothing found inside the radius, nothing found outside it,
problem found with a photo) and ends the patrol. Nothing reaches the server until the
network is back; then the patrol, its track, the check-ins, the discovery case and its photo
arrive once, a full resend changes nothing, and the town supervisor sees the patrol. While
the page is hidden (screen locked) the track pauses.

The phone's own due-date arithmetic (static/m/patrol.js) is checked against
services.patrol_rules on the same patrol days.
"""

import re
from datetime import date, timedelta

import pytest
from geoalchemy2.shape import from_shape, to_shape
from playwright.sync_api import expect
from shapely.geometry import Point
from sqlalchemy import func, select

from app.extensions import db
from app.models import Inspection, Patrol, PatrolCheckin, Photo, Source, source_cases
from app.models.vocab import CheckinOutcome, InspectionKind, ListKind, PhotoStatus
from app.services import clock
from app.services.clock import beijing_date
from app.services.geo.grid_locator import locate_point
from app.services.patrols import rules as patrol_rules
from app.services.patrols.rules import PatrolRule
from app.services.settings import set_setting
from tests.helpers import REQUEUE_EVERYTHING, camera_jpeg, count, phone_context, sign_in_phone

SYNC_TIMEOUT_MS = 30000
TRACK_INTERVAL_S = 5  # the smallest interval the setting allows; the default is 30 s
START = {"longitude": 120.505, "latitude": 32.31, "accuracy": 8}
# Three sources in village V11 (tests/factories.py); the phone starts in the middle of it.
FACTORY = (120.503, 32.31)  # about 190 m west of the start
RESTAURANT = (120.507, 32.312)  # about 290 m north-east
WHARF = (120.509, 32.305)  # about 660 m south-east
# What the browser does when the screen locks or another app comes to the front.
SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def make_source(code: str, name: str, kind: str, sector: str, lon: float, lat: float, age_days: int,
                is_key: bool = False) -> Source:
    """A source registered `age_days` ago, placed in its grid as the register would."""
    hit = locate_point(lon, lat)
    source = Source(code=code, name=name, kind=kind, sector=sector, address=f"{name}门口",
                    location=from_shape(Point(lon, lat), srid=4326), grid_id=hit.grid_id, town_id=hit.town_id,
                    is_key=is_key, created_at=clock.now() - timedelta(days=age_days))
    db.session.add(source)
    return source


@pytest.fixture
def sources(city) -> dict[str, Source]:
    """Overdue, due today and not yet due sources in V11, one in V12 the inspector never sees."""
    made = {
        "factory": make_source("JG01-0001", "东方化工厂", "factory", "industrial", *FACTORY, age_days=10, is_key=True),
        "restaurant": make_source("JG01-0002", "老王饭店", "restaurant", "tertiary", *RESTAURANT, age_days=2),
        "wharf": make_source("JG01-0003", "河口码头", "wharf", "riverside_wharf", *WHARF, age_days=0),
        "elsewhere": make_source("JG01-0004", "邻村砖厂", "factory", "industrial", 120.515, 32.31, age_days=10),
    }
    set_setting("patrol_track_interval_s", TRACK_INTERVAL_S)
    db.session.commit()
    return made


def source_row(page, source: Source):
    """The source's entry in today's patrol."""
    return page.locator(f'li.source[data-source-id="{source.id}"]')


def track_points(page) -> int:
    """How many track points the patrol panel says it holds."""
    found = re.search(r"已记录 (\d+) 个轨迹点", page.locator("#patrol-state").inner_text())
    return int(found.group(1)) if found else 0


def walk_to(page, phone, lon: float, lat: float) -> None:
    """Move the mocked GPS and wait until the track has sampled the new position."""
    before = track_points(page)
    phone.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 8})
    expect(page.locator("#patrol-state")).not_to_contain_text(f"已记录 {before} 个轨迹点",
                                                              timeout=(TRACK_INTERVAL_S + 3) * 1000)


def check_in(page, phone, source: Source, at: tuple[float, float]):
    """Stand at `at` and open the check-in at the source."""
    phone.set_geolocation({"longitude": at[0], "latitude": at[1], "accuracy": 8})
    source_row(page, source).get_by_role("link", name="打卡").click()
    expect(page.locator("#checkin-gps")).to_have_attribute("data-state", "accepted")


def test_bootstrap_carries_todays_patrol(client, auth, sources):
    auth.login("insp_V11")
    body = client.get("/api/v1/field/bootstrap").get_json()
    assert body["settings"]["patrol_radius_m"] == 100
    assert body["settings"]["patrol_track_interval_s"] == TRACK_INTERVAL_S
    items = body["patrol"]["items"]
    assert [i["source"]["name"] for i in items] == ["东方化工厂", "老王饭店", "河口码头"]  # own village only
    assert [i["due"]["state"] for i in items] == ["overdue", "due", "ok"]
    assert body["patrol"]["level"] == 3


def server_due(days: list[date], rule: PatrolRule | None, registered: date, today: date) -> dict:
    """A source's due state as services.patrol_rules computes it and the API sends it."""
    window_start = today - timedelta(days=patrol_rules.LOOKBACK_DAYS)
    due = patrol_rules.due_on(days, rule, registered, window_start) if rule else None
    state = patrol_rules.DueState(1, 3, "ordinary", rule, tuple(sorted(set(days), reverse=True)), due,
                                  patrol_rules.state_on(today, due))
    return state.as_dict(today)


LOCAL_DUE = """async (cases) => {
  const { localDue } = await import("/static/m/patrol.js");
  return cases.map(({ due, extra, today }) => localDue(due, extra, today));
}"""


@pytest.mark.browser
def test_the_phone_recomputes_due_dates_with_the_servers_rule(page, live_server):
    """After an offline check-in the app's due date is the one the server will compute."""
    today = date(2026, 11, 30)
    day = lambda n: today - timedelta(days=n)  # noqa: E731
    every_2_days, twice_a_week = PatrolRule(1, 2), PatrolRule(2, 7)
    cases = [  # (rule, patrol days the server knows, check-ins on the phone, registered, today)
        (every_2_days, [day(5)], [today], day(30), today),
        (every_2_days, [day(5)], [], day(30), today),
        (every_2_days, [today], [today], day(30), today),
        (twice_a_week, [day(3)], [], day(20), today),  # fewer patrols than required: from registration
        (twice_a_week, [day(3)], [today], day(20), today),
        (twice_a_week, [day(1), day(6)], [], day(20), today + timedelta(days=1)),  # 6 days ago + 7 = due that day
        (None, [day(1)], [today], day(20), today),
    ]
    page.goto(f"{live_server}/m/")
    phone = page.evaluate(LOCAL_DUE, [
        {"due": server_due(known, rule, registered, now), "extra": [d.isoformat() for d in extra],
         "today": now.isoformat()} for rule, known, extra, registered, now in cases])
    expected = [server_due(known + extra, rule, registered, now) for rule, known, extra, registered, now in cases]
    assert phone == expected
    assert [p["state"] for p in phone] == ["ok", "overdue", "ok", "overdue", "ok", "due", "not_required"]


@pytest.mark.browser
def test_an_offline_patrol_day_reaches_the_server_once(browser, live_server, city, sources, artifacts_dir,
                                                        tmp_path):
    phone = phone_context(browser, START)
    page = phone.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "确定结束本次巡查？"
    sign_in_phone(page, live_server)
    page.get_by_role("link", name="今日巡查").click()
    rows = page.locator("li.source")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("东方化工厂")  # overdue and due first, nearest first
    expect(rows.nth(0)).to_contain_text("已超期 8 天")  # the desk's words (models.vocab.PatrolDueState)
    expect(rows.nth(0).locator(".chip.key")).to_have_text("重点")
    expect(rows.nth(1)).to_contain_text("老王饭店")
    expect(rows.nth(1)).to_contain_text("今日到期")
    expect(rows.nth(2)).to_contain_text("河口码头")
    expect(rows.nth(2).locator(".chip")).to_have_text("按期")
    expect(rows.nth(2)).to_contain_text(f"下次 {beijing_date(clock.now()) + timedelta(days=2)}")
    expect(rows.nth(0).locator(".distance")).to_contain_text(re.compile(r"距您 1[89]\d 米"))
    expect(page.locator("#view-patrols")).to_contain_text("仅在本页面打开时记录轨迹，锁屏或切到其他应用时不记录")
    page.screenshot(path=str(artifacts_dir / "field-patrol-today.png"), full_page=True)

    phone.set_offline(True)
    page.get_by_role("button", name="开始巡查").click()
    expect(page.locator("#patrol-state")).to_contain_text("已记录 1 个轨迹点")
    page.evaluate(SET_VISIBILITY, "hidden")  # the screen locks: no track while the page is hidden
    expect(page.locator("#patrol-state")).to_contain_text("轨迹记录已暂停")
    phone.set_geolocation({"longitude": 120.504, "latitude": 32.31, "accuracy": 8})
    page.wait_for_timeout((TRACK_INTERVAL_S + 1) * 1000)
    expect(page.locator("#patrol-state")).to_contain_text("已记录 1 个轨迹点")
    page.evaluate(SET_VISIBILITY, "visible")  # back in front: a fix at once, then every interval
    expect(page.locator("#patrol-state")).to_contain_text("已记录 2 个轨迹点")
    expect(page.locator("#patrol-state")).to_contain_text(f"每 {TRACK_INTERVAL_S} 秒记录一次位置")
    walk_to(page, phone, *FACTORY)

    check_in(page, phone, sources["factory"], FACTORY)
    expect(page.locator("#checkin-distance")).to_have_text("距该对象约 0 米")
    expect(page.locator("#checkin-warn")).to_be_hidden()
    page.get_by_role("button", name="未发现问题").click()
    factory_row = source_row(page, sources["factory"])
    expect(factory_row).to_contain_text("今日已巡查")
    expect(factory_row).to_have_attribute("data-state", "ok")  # recomputed on the phone: due again in 2 days

    check_in(page, phone, sources["wharf"], (120.509, 32.307))  # about 220 m short of the wharf
    expect(page.locator("#checkin-distance")).to_have_attribute("data-outside", "true")
    expect(page.locator("#checkin-warn")).to_contain_text("超出 100 米打卡范围：仍可打卡")
    page.screenshot(path=str(artifacts_dir / "field-patrol-checkin-outside.png"), full_page=True)
    page.get_by_role("button", name="未发现问题").click()

    check_in(page, phone, sources["restaurant"], RESTAURANT)
    page.get_by_role("button", name="发现问题", exact=True).click()
    expect(page.locator("#record-title")).to_have_text("巡查发现")
    expect(page.get_by_label("标题")).to_have_value("巡查发现：老王饭店")
    expect(page.get_by_label("行业")).to_have_value("tertiary")
    expect(page.locator("#gps-status")).to_have_attribute("data-state", "accepted")
    page.get_by_label("污染类型").select_option(label="大气")
    page.get_by_label("问题描述").fill("后厨油烟直排，无净化设施")
    page.locator("#photo-camera").set_input_files(camera_jpeg(tmp_path / "fumes.jpg", (80, 80, 80)))
    expect(page.locator('#photo-list li[data-state="ready"]')).to_have_count(1)
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#view-patrols")).to_be_visible()
    expect(source_row(page, sources["restaurant"])).to_contain_text("今日已巡查")

    page.get_by_role("button", name="结束巡查").click()
    # Ending waits up to 5 s for a last fresh fix (END_FIX_TIMEOUT_MS in static/m/patrol.js).
    expect(page.get_by_role("button", name="开始巡查")).to_be_visible(timeout=10_000)
    expect(page.locator("#pending b")).to_have_text("5")  # the patrol, three check-ins, the discovery
    assert (count(Patrol), count(PatrolCheckin), count(Inspection)) == (0, 0, 0)  # nothing left the phone

    phone.set_offline(False)
    expect(page.locator("#pending b")).to_have_text("0", timeout=SYNC_TIMEOUT_MS)
    assert_the_day_arrived_once(sources)
    page.get_by_role("link", name="上传", exact=True).click()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(5)
    expect(page.locator("li.outbox-item")).to_contain_text([  # newest first
        "巡查打卡：老王饭店（发现问题）", "巡查发现：老王饭店", "服务器标记：超出打卡范围（距对象 222 米）",
        "巡查打卡：东方化工厂（未发现问题）", "（已结束，轨迹"])
    page.screenshot(path=str(artifacts_dir / "field-patrol-outbox.png"), full_page=True)

    # Everything back in the queue as if the server had never answered: resent, all 200, nothing new.
    page.evaluate(REQUEUE_EVERYTHING)
    resent = []
    page.on("response", lambda r: resent.append(r.status) if r.request.method == "PUT" else None)
    page.reload()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(5, timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#pending b")).to_have_text("0")
    assert resent == [200] * 5
    assert_the_day_arrived_once(sources)

    patrol_id = db.session.scalars(select(Patrol.id)).one()
    phone.close()
    supervisor_sees_the_patrol(browser, live_server, patrol_id, artifacts_dir)


def assert_the_day_arrived_once(sources: dict[str, Source]) -> None:
    """One patrol with its track, three check-ins (one flagged), one discovery case with its photo."""
    db.session.rollback()
    patrol = db.session.scalars(select(Patrol)).one()
    assert patrol.ended_at is not None and patrol.ended_at > patrol.started_at
    line = to_shape(patrol.track)
    assert line.geom_type == "LineString" and len(line.coords) == len(patrol.track_points) >= 5
    assert line.coords[0] == pytest.approx((120.505, 32.31))
    assert patrol.distance_m > 180
    checkins = {c.source_id: c for c in db.session.scalars(select(PatrolCheckin))}
    assert set(checkins) == {sources[k].id for k in ("factory", "wharf", "restaurant")}
    assert all(c.patrol_id == patrol.id for c in checkins.values())
    assert [c.source_id for c in checkins.values() if c.outside_radius] == [sources["wharf"].id]
    found = checkins[sources["restaurant"].id]
    assert found.outcome == CheckinOutcome.PROBLEM_FOUND
    inspection = db.session.scalars(select(Inspection)).one()
    assert inspection.kind == InspectionKind.PATROL_DISCOVERY and found.inspection_id == inspection.id
    assert found.case_id == inspection.case_id and found.case.list_kind == ListKind.POTENTIAL
    assert found.case.title == "巡查发现：老王饭店"
    linked = db.session.execute(select(source_cases.c.source_id).where(source_cases.c.case_id == found.case_id))
    assert linked.scalars().all() == [sources["restaurant"].id]
    assert count(Photo, Photo.status == PhotoStatus.RECEIVED) == 1
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1


def supervisor_sees_the_patrol(browser, live_server, patrol_id, artifacts_dir) -> None:
    """The town's supervisor, on the desk, reads the patrol with its track and check-ins."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("sup_T1")
    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    answer = page.request.get(f"{live_server}/api/v1/patrols/{patrol_id}")
    assert answer.status == 200
    body = answer.json()
    assert body["track"]["type"] == "LineString" and len(body["track"]["coordinates"]) >= 5
    assert body["checkin_count"] == 3 and body["outside_radius_count"] == 1 and body["problem_count"] == 1
    assert {c["source_name"] for c in body["checkins"]} == {"东方化工厂", "河口码头", "老王饭店"}
    assert page.goto(f"{live_server}/desk/patrols/{patrol_id}").status == 200  # the desk's patrol page
    expect(page.locator("#checkins tbody tr")).to_have_count(3)
    expect(page.locator("#checkins")).to_contain_text("超出范围")
    page.screenshot(path=str(artifacts_dir / "desk-patrol-from-field.png"), full_page=True)
    context.close()


def test_a_problem_found_at_a_check_in_survives_the_app_being_killed(browser, live_server, city, sources, tmp_path):
    """Typed, photographed, then the app is killed offline: it reopens on the same discovery
    with its check-in, and saving sends both."""
    phone = phone_context(browser, START)
    page = phone.new_page()
    sign_in_phone(page, live_server)
    page.get_by_role("link", name="今日巡查").click()
    phone.set_offline(True)
    check_in(page, phone, sources["restaurant"], RESTAURANT)
    page.get_by_role("button", name="发现问题", exact=True).click()
    page.get_by_label("污染类型").select_option(label="大气")
    page.get_by_label("问题描述").fill("后厨油烟直排，无净化设施")
    page.locator("#photo-camera").set_input_files(camera_jpeg(tmp_path / "fumes.jpg", (80, 80, 80)))
    expect(page.locator('#photo-list li[data-state="ready"]')).to_have_count(1)
    expect(page.locator("#draft-state")).to_have_attribute("data-photos", "1")
    page.close()  # killed: no unload, no goodbye

    page = phone.new_page()
    page.goto(f"{live_server}/m/")
    expect(page.locator("#view-record")).to_be_visible()
    expect(page.locator("#record-title")).to_have_text("巡查发现")
    expect(page.locator("#draft-notice")).to_contain_text("含 1 张照片")
    expect(page.get_by_label("问题描述")).to_have_value("后厨油烟直排，无净化设施")
    expect(page.get_by_label("标题")).to_have_value("巡查发现：老王饭店")
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#pending b")).to_have_text("2")  # the discovery and its check-in
    phone.set_offline(False)
    expect(page.locator("#pending b")).to_have_text("0", timeout=30_000)
    db.session.rollback()
    checkin = db.session.scalars(select(PatrolCheckin)).one()
    assert checkin.source_id == sources["restaurant"].id and checkin.outcome == CheckinOutcome.PROBLEM_FOUND
    inspection = db.session.scalars(select(Inspection)).one()
    assert checkin.inspection_id == inspection.id and inspection.kind == InspectionKind.PATROL_DISCOVERY
    assert checkin.case.title == "巡查发现：老王饭店" and checkin.case.description == "后厨油烟直排，无净化设施"
    assert count(Photo, Photo.status == PhotoStatus.RECEIVED) == 1
    phone.close()
