"""The evidence loop end to end, in Chromium: a phone and a desk against the same live server.

An inspector records an on-site check offline with two camera photos; back online, the
outbox empties. The town supervisor looks at the photos on the desk (the camera's own time,
the distance to the case, the keyboard to move on), passes the review and closes the case,
and the timeline tells the story in Chinese. A second case is checked on site, handled and
closed entirely at the desk, its photo uploaded through the desk's own form.
"""

import re
from datetime import UTC

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Inspection, Photo
from app.models.vocab import CaseStatus, PhotoStatus
from app.services.field.onsite_rules import metres
from tests.helpers import (
    REPLY,
    SYNC_TIMEOUT_MS,
    Desk,
    camera_file,
    choose_findings,
    count,
    minutes_ago,
    open_action,
    open_check,
    phone_context,
    plan_date,
    take_action,
)
from tests.helpers import sign_in as desk_sign_in
from tests.helpers import sign_in_phone as phone_sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
# About 15 m north-east of V11's case (tests/factories.py), with a good fix.
NEAR_V11 = {"latitude": 32.3101, "longitude": 120.5051, "accuracy": 6}
# Waits written as functions: Playwright compiles a bare expression again on every poll, and
# the desk's Content-Security-Policy (no 'unsafe-eval') refuses that.
THUMBS_LOADED = "() => [...document.querySelectorAll('#evidence a.thumb img')].every((i) => i.naturalWidth > 0)"
LIGHTBOX_LOADED = "() => document.getElementById('lightbox-image').naturalWidth > 0"


@pytest.fixture
def phone(browser):
    """The inspector's phone, standing a few metres from V11's case."""
    context = phone_context(browser, NEAR_V11)
    yield context
    context.close()


@pytest.fixture
def desk(browser):
    """A supervisor's desktop browser: a wide screen, Chinese locale, Beijing time."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    yield context.new_page()
    context.close()


def camera_time(moment) -> str:
    """How the desk writes a time (city time, to the minute)."""
    return f"{moment:%Y-%m-%d %H:%M}"


def close_after_looking_at_the_evidence(page, photos, artifacts_dir, name):
    """Review, follow up and close from the case page, checking the evidence is in front of the supervisor."""
    review = open_action(page, "review_pass")
    expect(review.locator("h4")).to_have_text("现场证据（请先查看再决定）")
    expect(review.locator("a.thumb img")).to_have_count(photos)
    review.get_by_role("button", name="审核通过").click()
    page.wait_for_load_state()
    expect(page.locator(".flash-ok")).to_contain_text("已审核通过，案件现为「已审核」")
    take_action(page, "follow_up", {"满意度": "满意", "回访情况": "信访人表示异味已消除"}, done="已回访")
    checklist = page.locator("#close-checklist li")
    expect(checklist).to_have_count(3)
    expect(page.locator("#close-checklist li.met")).to_have_count(3)
    close = open_action(page, "close")
    expect(close.locator("a.thumb img")).to_have_count(photos)
    expect(close.locator(".evidence-card")).to_contain_text("计入现场核查")
    close.get_by_label("备注").fill("整改到位，同意销号")
    page.screenshot(path=str(artifacts_dir / f"{name}-close-form.png"), full_page=True)
    close.get_by_role("button", name="销号").click()
    page.wait_for_load_state()
    expect(page.locator(".flash-ok")).to_have_text("已销号，案件现为「已销号」。")
    expect(page.locator(".pill")).to_have_text("已销号")
    expect(page.locator("#close-checklist")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / f"{name}-closed.png"), full_page=True)


def timeline(page) -> list[str]:
    """The case's timeline entries, oldest first, each event named in Chinese (never by its code)."""
    names = page.locator("ol.timeline li strong").all_inner_texts()
    assert names and all(re.fullmatch(r"[\u4e00-\u9fff]+", name) for name in names), names
    return page.locator("ol.timeline li").all_inner_texts()


def test_an_offline_phone_check_is_reviewed_and_closed_at_the_desk(phone, desk, app, live_server, city,
                                                                    artifacts_dir, tmp_path):
    case = city.cases["V11"]
    Desk(app).act("officer_env", case.id, "sign")

    # The inspector, out of signal at the factory gate.
    handset = phone.new_page()
    phone_sign_in(handset, live_server)
    phone.set_offline(True)
    handset.reload()
    expect(handset.locator("#net")).to_have_text("离线")
    open_check(handset, city)
    first_taken, second_taken = minutes_ago(40), minutes_ago(38)
    handset.locator("#photo-camera").set_input_files(camera_file(
        tmp_path / "gate.jpg", first_taken, offset="+08:00", gps=(120.5051, 32.3101)))
    handset.locator("#photo-camera").set_input_files(camera_file(
        tmp_path / "outlet.jpg", second_taken, offset="+08:00", gps=(120.5052, 32.3100), color=(60, 90, 160)))
    photos = handset.locator('#photo-list li[data-state="ready"]')
    expect(photos).to_have_count(2)
    expect(photos.locator(".camera-time")).to_have_text([
        f"相机时间 {moment.month}月{moment.day}日 {moment:%H:%M}" for moment in (first_taken, second_taken)])
    choose_findings(handset)
    handset.get_by_label("情况说明").fill("厂区东侧排口有明显漆味，已责令停用喷漆房")
    expect(handset.locator("#record-check")).to_have_attribute("data-state", "ok")
    # The photos and the save button as the inspector sees them (the app's bars are fixed, so
    # a full-page shot would draw them mid-page).
    handset.get_by_role("button", name="保存记录").scroll_into_view_if_needed()
    handset.screenshot(path=str(artifacts_dir / "loop-phone-check.png"))
    handset.get_by_role("button", name="保存记录").click()
    expect(handset.locator("#pending b")).to_have_text("1")
    assert count(Inspection) == 0

    phone.set_offline(False)
    expect(handset.locator("#pending b")).to_have_text("0", timeout=SYNC_TIMEOUT_MS)
    handset.get_by_role("link", name="上传", exact=True).click()
    expect(handset.locator('li.outbox-item[data-state="sent"]')).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    handset.screenshot(path=str(artifacts_dir / "loop-phone-outbox.png"), full_page=True)
    assert count(Photo, Photo.status == PhotoStatus.RECEIVED) == 2
    check = db.session.scalars(select(Inspection)).one()
    distance = metres(check.distance_to_case_m)
    assert 5 <= distance <= 30 and not (check.far_from_case or check.poor_accuracy or check.incomplete)

    # The department handles it (nothing here touches the evidence).
    handler = Desk(app)
    handler.act("officer_env", case.id, "plan", measures="停用喷漆房，加装废气收集装置", responsible_name="王五",
                target_date=plan_date())
    handler.act("officer_env", case.id, "reply", **REPLY)

    # The town supervisor looks at what was found before passing it.
    desk_sign_in(desk, live_server, "sup_T1")
    desk.goto(f"{live_server}/desk/cases/{case.id}")
    card = desk.locator("#evidence .evidence-card")
    thumbs = card.locator("a.thumb img")
    expect(thumbs).to_have_count(2)
    desk.wait_for_function(THUMBS_LOADED)
    expect(card.locator("header")).to_contain_text("现场核查 · 测试insp_V11（手机端）")
    expect(card.locator(".position")).to_have_text(f"距案件位置 {distance} 米 · 定位精度 ±6 米")
    expect(card.locator(".flags")).to_have_text("计入现场核查")
    expect(card.locator(".findings .tag")).to_have_text(["属实：找到污染源", "未发现违法行为"])
    expect(card.locator(".photo-tile small").first).to_contain_text(f"相机 {camera_time(first_taken)}")
    expect(desk.locator("#case-map path.check-point")).to_have_count(1)
    # 15 m is a few pixels at this zoom: the dots sit together, no distance label hides them.
    expect(desk.locator("#case-map .distance-label")).to_have_count(0)
    desk.screenshot(path=str(artifacts_dir / "loop-desk-case.png"), full_page=True)

    thumbs.first.click()
    lightbox = desk.locator("#lightbox")
    expect(lightbox).to_be_visible()
    desk.wait_for_function(LIGHTBOX_LOADED)
    caption = desk.locator("#lightbox-caption")
    expect(caption).to_contain_text(f"相机时间 {camera_time(first_taken)}")  # 40 minutes before it arrived
    expect(caption).to_contain_text(f"核查点距案件位置 {distance} 米")
    expect(caption).to_contain_text("来源 现场拍摄")
    expect(desk.locator("#lightbox-count")).to_have_text("第 1 张，共 2 张")
    desk.screenshot(path=str(artifacts_dir / "loop-desk-lightbox.png"))
    desk.keyboard.press("ArrowRight")
    expect(desk.locator("#lightbox-count")).to_have_text("第 2 张，共 2 张")
    expect(caption).to_contain_text(f"相机时间 {camera_time(second_taken)}")
    desk.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()

    close_after_looking_at_the_evidence(desk, 2, artifacts_dir, "loop-desk")
    db.session.rollback()
    assert db.session.get(Case, case.id).status == CaseStatus.CLOSED
    entries = timeline(desk)
    onsite = [e for e in entries if "现场核查 · 测试insp_V11" in e]
    assert len(onsite) == 1
    assert f"照片 2 张；距案件位置 {distance} 米；计入现场核查。厂区东侧排口有明显漆味" in onsite[0]
    assert any("审核通过 · 测试sup_T1" in e and "已答复 → 已审核" in e for e in entries)
    assert "销号 · 测试sup_T1" in entries[-1] and "整改到位，同意销号" in entries[-1]


def test_a_case_is_checked_on_site_handled_and_closed_entirely_at_the_desk(desk, app, live_server, city,
                                                                           artifacts_dir, tmp_path):
    case = city.cases["V12"]  # a restaurant street: the urban management bureau handles it
    Desk(app).act("officer_urban", case.id, "sign")
    taken = minutes_ago(30)
    photo = camera_file(tmp_path / "后厨排烟口.jpg", taken, offset="+08:00", gps=(120.5151, 32.3101))

    desk_sign_in(desk, live_server, "officer_urban")
    desk.goto(f"{live_server}/desk/cases/{case.id}")
    form = open_action(desk, "record_onsite")
    desk.locator('#onsite-map[data-ready="true"]').wait_for()
    expect(desk.locator("#onsite-distance")).to_have_text("核查点距案件位置约 0 米")
    form.get_by_label("现场照片（可多选；JPEG、PNG、HEIC）").set_input_files(photo)
    form.get_by_label("属实：找到污染源").check()
    form.get_by_label("存在违法行为").check()
    form.get_by_label("现场采取的措施").fill("责令清洗油烟净化器")
    form.get_by_label("核查情况").fill("后厨油烟净化器未开启，排烟口油渍明显")
    desk.screenshot(path=str(artifacts_dir / "loop-desk-onsite-form.png"), full_page=True)
    form.get_by_role("button", name="现场核查").click()
    desk.wait_for_load_state()
    expect(desk.locator(".flash-ok")).to_have_text("已记录现场核查，计入现场核查。")
    card = desk.locator("#evidence .evidence-card")
    expect(card.locator("header")).to_contain_text("现场核查 · 测试officer_urban（办公端）")
    expect(card.locator(".flags .tag")).to_have_text(["地图手选位置", "计入现场核查"])
    expect(card.locator(".findings .tag")).to_have_text(["属实：找到污染源", "存在违法行为"])
    card.locator("a.thumb").click()
    caption = desk.locator("#lightbox-caption")
    expect(caption).to_contain_text(f"相机时间 {camera_time(taken)}")
    expect(caption).to_contain_text("来源 办公端上传")
    expect(desk.locator("#lightbox-count")).to_have_text("第 1 张，共 1 张")
    desk.wait_for_function(LIGHTBOX_LOADED)
    desk.screenshot(path=str(artifacts_dir / "loop-desk-only-lightbox.png"))
    desk.keyboard.press("Escape")

    take_action(desk, "plan", {"化解措施": "限期加装并正常使用油烟净化设施", "责任人": "李四",
                               "整改期限": "2026-12-20"}, done="已制定一案一策")
    take_action(desk, "reply", {"信访请求": "要求整治餐饮油烟", "事实和理由": "经现场核查属实，已责令整改",
                                "处理意见": "支持", "法律依据": "《大气污染防治法》第八十一条"}, done="已答复办结")
    desk.get_by_role("button", name="退出").click()

    desk_sign_in(desk, live_server, "sup_T1")
    desk.goto(f"{live_server}/desk/cases/{case.id}")
    close_after_looking_at_the_evidence(desk, 1, artifacts_dir, "loop-desk-only")
    db.session.rollback()
    assert db.session.get(Case, case.id).status == CaseStatus.CLOSED
    stored = db.session.scalars(select(Photo)).one()
    assert stored.origin == "desk" and stored.exif_taken_at == taken.astimezone(UTC)
    onsite = [e for e in timeline(desk) if "现场核查 · 测试officer_urban" in e]
    assert len(onsite) == 1 and "照片 1 张；距案件位置 0 米；计入现场核查。后厨油烟净化器未开启" in onsite[0]
