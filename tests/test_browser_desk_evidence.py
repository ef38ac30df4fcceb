"""The evidence on the desk in Chromium: a case whose inspector sent two photos from the phone;
the supervisor sees both thumbnails, opens one in the lightbox, moves on with the keyboard,
reads the camera time and the distance, then passes the review and closes the case."""

import hashlib
import uuid

import pytest

from tests.helpers import REPLY, Desk, make_jpeg, onsite_body, plan_date, sign_in, take_action

pytestmark = pytest.mark.browser

HANDLER = "officer_env"


def replied_case_with_two_photos(app, city):
    """Sign, check on site from the phone with two photos, plan and reply: ready for review."""
    desk = Desk(app)
    case_id = city.cases["V11"].id
    desk.act(HANDLER, case_id, "sign")
    record_id, photo_ids = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    client, token = desk.client("insp_V11")
    body = onsite_body(case_id, photo_ids)
    assert client.put(f"/api/v1/inspections/{record_id}", json=body, headers={"X-CSRFToken": token}).status_code == 201
    for photo_id, colour in zip(photo_ids, [(90, 140, 60), (60, 90, 160)], strict=True):
        data = make_jpeg(1200, 900, color=colour)
        sent = client.put(f"/api/v1/inspections/{record_id}/photos/{photo_id}", data=data, headers={
            "X-CSRFToken": token, "Content-Type": "image/jpeg", "X-Content-SHA256": hashlib.sha256(data).hexdigest()})
        assert sent.status_code == 201
    desk.act(HANDLER, case_id, "plan", measures="限期整改", responsible_name="王五", target_date=plan_date())
    desk.act(HANDLER, case_id, "reply", **REPLY)
    return case_id


def centre(box) -> tuple[float, float]:
    """The middle of an on-screen box."""
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def overlap(a, b) -> bool:
    """Whether two on-screen boxes share any pixel."""
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_review_and_close_after_looking_at_the_photos(app, page, live_server, city, artifacts_dir):
    case_id = replied_case_with_two_photos(app, city)
    sign_in(page, live_server, "sup_T1")
    page.goto(f"{live_server}/desk/cases/{case_id}")
    evidence = page.locator("#evidence")
    thumbs = evidence.locator("a.thumb img")
    assert thumbs.count() == 2
    # Functions, not bare expressions: Playwright re-compiles those on each poll, which the CSP refuses.
    page.wait_for_function("(s) => [...document.querySelectorAll(s)].every(i => i.naturalWidth > 0)",
                           arg="#evidence a.thumb img")
    assert "计入现场核查" in evidence.inner_text() and "距案件位置 0 米" in evidence.inner_text()
    page.locator('#case-map[data-ready="true"]').wait_for()
    assert page.locator("#case-map path.check-point").count() == 1
    assert page.locator("#case-map path.check-accuracy").count() == 1  # ±8.5 m around the check
    page.locator("#case-map path.check-point").hover()
    assert "距案件位置 0 米" in page.locator("#case-map .leaflet-tooltip").inner_text()
    page.screenshot(path=str(artifacts_dir / "desk-evidence-case.png"), full_page=True)

    thumbs.first.click()
    lightbox = page.locator("#lightbox")
    lightbox.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('lightbox-image').naturalWidth > 0")
    caption = page.locator("#lightbox-caption")
    assert "相机时间 2026-11-29 10:00" in caption.inner_text()
    assert "核查点距案件位置 0 米" in caption.inner_text() and "现场核查" in caption.inner_text()
    assert page.locator("#lightbox-count").inner_text() == "第 1 张，共 2 张"
    first_src = page.locator("#lightbox-image").get_attribute("src")
    page.screenshot(path=str(artifacts_dir / "desk-evidence-lightbox.png"))
    page.keyboard.press("ArrowRight")
    assert page.locator("#lightbox-count").inner_text() == "第 2 张，共 2 张"
    assert page.locator("#lightbox-image").get_attribute("src") != first_src
    page.keyboard.press("ArrowLeft")
    assert page.locator("#lightbox-count").inner_text() == "第 1 张，共 2 张"
    lightbox.get_by_role("button", name="下一张").click()
    assert page.locator("#lightbox-count").inner_text() == "第 2 张，共 2 张"
    page.keyboard.press("Escape")
    lightbox.wait_for(state="hidden")

    review = page.locator('details.action[data-step="review_pass"]')
    review.locator("summary").click()
    assert review.locator("a.thumb img").count() == 2  # the evidence sits in the review form too
    review.locator("a.thumb").nth(1).click()
    assert page.locator("#lightbox-count").inner_text() == "第 2 张，共 2 张"
    page.keyboard.press("Escape")
    review.get_by_role("button", name="审核通过").click()
    page.wait_for_load_state()
    assert "已审核通过" in page.locator(".flash-ok").inner_text()
    take_action(page, "follow_up", {"满意度": "满意"})
    close = page.locator('details.action[data-step="close"]')
    close.locator("summary").click()
    assert page.locator("#close-checklist li.met").count() == 3
    page.screenshot(path=str(artifacts_dir / "desk-evidence-close-form.png"), full_page=True)
    close.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已销号" in page.locator(".pill").inner_text()


def test_desk_check_with_a_photo_at_a_picked_point_is_flagged_then_accepted(app, page, live_server, city,
                                                                           artifacts_dir, tmp_path):
    case_id = city.cases["V11"].id
    Desk(app).act(HANDLER, case_id, "sign")
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(make_jpeg(1200, 900))
    sign_in(page, live_server, HANDLER)
    page.goto(f"{live_server}/desk/cases/{case_id}")
    form = page.locator('details.action[data-step="record_onsite"]')
    form.locator("summary").click()
    assert form.get_by_label("经度").input_value() == "120.505000"  # the case's own location
    page.locator('#onsite-map[data-ready="true"]').wait_for()
    box = page.locator("#onsite-map").bounding_box()
    page.locator("#onsite-map").click(position={"x": box["width"] / 2 + 80, "y": box["height"] / 2})
    assert form.get_by_label("经度").input_value() != "120.505000"
    assert "核查点距案件位置约" in page.locator("#onsite-distance").inner_text()
    form.get_by_label("现场照片（可多选；JPEG、PNG、HEIC）").set_input_files(str(photo))
    form.get_by_label("属实：找到污染源").check()
    form.get_by_label("未发现违法行为").check()
    form.get_by_label("核查情况").fill("厂区东侧围墙外闻到异味")
    page.screenshot(path=str(artifacts_dir / "desk-onsite-form.png"), full_page=True)
    form.get_by_role("button", name="现场核查").click()
    page.wait_for_load_state()
    warning = page.locator(".flash-warn").inner_text()
    assert "暂不计入现场核查" in warning and "离案件位置过远" in warning
    card = page.locator("#evidence .evidence-card")
    assert "办公端" in card.inner_text() and "待确认" in card.inner_text() and "地图手选位置" in card.inner_text()
    page.locator('#case-map path.check-line').wait_for()
    dots = [page.locator(f"#case-map path.{dot}").bounding_box() for dot in ("case-point", "check-point")]
    assert centre(page.locator("#case-map").bounding_box()) == pytest.approx(
        [(a + b) / 2 for a, b in zip(*map(centre, dots), strict=True)], abs=3)  # fitted to the case and the check
    label = page.locator("#case-map .distance-label").bounding_box()
    assert not any(overlap(label, dot) for dot in dots)  # the distance hides neither dot
    page.get_by_role("button", name="退出").click()

    sign_in(page, live_server, "sup_T1")
    page.goto(f"{live_server}/desk/cases/{case_id}")
    accept = page.locator("#evidence details.accept-check")
    accept.locator("summary").click()
    accept.get_by_label("确认说明（为何认可：如电话核实、照片可证）").fill("围墙外即排放口，照片可证")
    accept.get_by_role("button", name="确认该核查有效").click()
    page.wait_for_load_state()
    assert "已确认该核查有效" in page.locator(".flash-ok").inner_text()
    assert "已确认（测试sup_T1）" in page.locator("#evidence .evidence-card").inner_text()
    page.screenshot(path=str(artifacts_dir / "desk-onsite-accepted.png"), full_page=True)
