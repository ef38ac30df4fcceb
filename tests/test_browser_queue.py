"""The work queue in Chromium: a department officer opens 待签收, finds a hotline case by its
work-order number, signs two cases at once and reads the result for each; the command office
narrows by town, then village. Screenshots at 1280 px and at 390 px."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.vocab import CaseStatus
from tests.factories import make_case
from tests.helpers import sign_in

pytestmark = pytest.mark.browser


def test_tabs_search_and_bulk_sign(page, live_server, city, artifacts_dir):
    hotline = make_case(120.505, 32.311, channel="transfer_12345", work_order_number="GD-20261206-7788",
                        title="化工厂排放刺鼻气体")
    make_case(120.506, 32.312, status=CaseStatus.SIGNED, title="已签收的旧案")
    db.session.commit()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "officer_env")

    to_sign = page.locator('nav.tabs a[data-tab="to_sign"]')
    assert to_sign.locator(".count").inner_text() == "3"  # V11, V21 and the hotline case
    to_sign.click()
    page.wait_for_url("**tab=to_sign**")
    assert page.locator("tbody tr").count() == 3
    assert page.locator('nav.tabs a[aria-current="page"]').get_attribute("data-tab") == "to_sign"

    page.get_by_label("搜索").fill("GD-20261206-7788")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-number") == hotline.number
    page.screenshot(path=str(artifacts_dir / "desk-queue-search-1280.png"), full_page=True)

    page.get_by_role("link", name="清除").click()
    page.locator('nav.tabs a[data-tab="to_sign"]').click()
    page.wait_for_url("**tab=to_sign**")
    page.get_by_label(f"选择 {hotline.number}").check()
    page.get_by_label(f"选择 {city.cases['V11'].number}").check()
    page.get_by_role("button", name="批量签收").click()
    flashes = page.locator(".flash").all_inner_texts()
    assert f"{hotline.number}：已签收。" in flashes
    assert f"{city.cases['V11'].number}：已签收。" in flashes
    assert "共 2 件，签收成功 2 件。" in flashes
    assert page.locator('nav.tabs a[data-tab="to_sign"] .count').inner_text() == "1"

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "desk-queue-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width  # the page does not scroll sideways on a phone


def test_the_village_list_follows_the_town(page, live_server, city):
    sign_in(page, live_server, "command")
    village = page.get_by_label("村（社区）")
    assert village.locator("option:not([hidden])").count() == 5  # 全部 and four villages
    page.get_by_label("镇（街道）").select_option(label="东镇")
    shown = village.locator("option:not([hidden])").all_inner_texts()
    assert shown == ["全部", "V21村（东镇）", "V22村（东镇）"]  # names repeat across towns: each says whose
    village.select_option(label="V22村（东镇）")
    page.get_by_role("button", name="筛选").click()
    # The filter is a GET form: wait for the new page, not the old one still on screen.
    page.wait_for_url(lambda url: "grid_id=" in url and "grid_id=&" not in url)
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-number") == city.cases["V22"].number
