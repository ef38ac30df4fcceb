"""The desk in Chromium: register a case by clicking the map, accept and assign it, sign it
as the department, and watch its colour in the queue as the clock moves (never sleeping)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.services import clock
from tests.helpers import open_action, sign_in, take_action

pytestmark = pytest.mark.browser


def queue_state(page, live_server, number):
    page.goto(f"{live_server}/desk/")
    return page.locator(f'tr[data-number="{number}"]').get_attribute("data-state")


def test_register_assign_sign_and_watch_the_colour(page, live_server, city, artifacts_dir):
    sign_in(page, live_server, "command")
    page.get_by_role("link", name="登记案件").click()
    page.get_by_label("来源渠道").select_option(label="来访")
    page.get_by_label("污染类型").select_option(label="噪声")
    page.get_by_label("行业（决定默认承办部门）").select_option(label="工业企业")
    page.get_by_label("标题").fill("机械厂夜间噪声扰民")
    page.get_by_label("问题描述").fill("每晚十一点后冲压声明显")
    page.locator('#pick-map[data-ready="true"]').wait_for()
    expect(page.locator("#pick-map .leaflet-control-zoom-out")).to_have_attribute("title", "缩小")  # not "Zoom out"
    box = page.locator("#pick-map").bounding_box()
    page.locator("#pick-map").click(position={"x": box["width"] * 0.12, "y": box["height"] * 0.5})  # village V11
    assert page.get_by_label("经度").input_value() != ""
    page.get_by_label("电话").fill("13911112222")
    page.get_by_role("button", name="保存登记").click()
    page.wait_for_url(f"{live_server}/desk/cases/**")
    number = page.locator("h1").inner_text().split()[0]
    assert "V11村" in page.locator(".facts").inner_text()
    assert "市生态环境局" in page.locator(".facts").inner_text()

    take_action(page, "accept", {"定性": "信访"})
    # A second click while the answer is on its way sends nothing: no second request finds the
    # case already assigned and answers 「不能交办」 over the first one's success. (The server
    # here answers 204, so the page stays as it was sent.)
    posts = []
    page.route("**/actions/assign", lambda route: (posts.append(route.request.url), route.fulfill(status=204)))
    button = open_action(page, "assign").locator("button[type=submit]")
    button.click()
    expect(button).to_be_disabled()
    button.click(force=True)
    page.wait_for_timeout(300)
    assert len(posts) == 1
    page.unroute("**/actions/assign")
    page.reload()
    take_action(page, "assign", done="已交办")
    assert "已交办" in page.locator(".pill").inner_text()
    page.get_by_role("button", name="退出").click()

    sign_in(page, live_server, "officer_env")
    page.locator(f'tr[data-number="{number}"] a').click()
    take_action(page, "sign")
    assert queue_state(page, live_server, number) == "green"  # 24 h for the first on-site check
    # Hours pass: the idle desk session has timed out, so the officer signs in again.
    with clock.travel(timedelta(hours=19)):
        sign_in(page, live_server, "officer_env")
        assert queue_state(page, live_server, number) == "yellow"
    with clock.travel(timedelta(hours=25)):
        sign_in(page, live_server, "officer_env")
        assert queue_state(page, live_server, number) == "red"
        page.screenshot(path=str(artifacts_dir / "desk-queue-overdue.png"), full_page=True)
