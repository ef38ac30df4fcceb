"""The source register in Chromium: add a source by clicking the grid map, then see it on its
detail page map and in the register."""

import pytest

from tests.helpers import sign_in

pytestmark = pytest.mark.browser


def test_add_a_source_by_clicking_the_map(page, live_server, city, artifacts_dir):
    sign_in(page, live_server, "sup_T1")
    page.get_by_role("link", name="监管对象台账").click()
    page.get_by_role("link", name="新增监管对象").click()
    page.locator("input[name=name]").fill("西河印染有限公司")
    page.locator("#f-kind").select_option(label="工业企业")
    page.get_by_label("排污许可证编号").fill("91320000MA1TEST00X001P")
    page.locator('#pick-map[data-ready="true"]').wait_for()
    box = page.locator("#pick-map").bounding_box()
    page.locator("#pick-map").click(position={"x": box["width"] * 0.12, "y": box["height"] * 0.5})  # village V11
    assert page.get_by_label("经度").input_value() != ""
    assert page.locator("#pick-map .leaflet-interactive").count() >= 5  # 4 villages + the marker
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{live_server}/desk/sources/**")
    assert "V11村" in page.locator(".facts").inner_text()
    assert "已登记监管对象 JGT1-0001" in page.locator(".flash-ok").inner_text()
    page.locator('#source-map[data-ready="true"]').wait_for()
    page.screenshot(path=str(artifacts_dir / "source-detail.png"), full_page=True)
    page.get_by_role("link", name="返回台账").click()
    assert page.locator('tr[data-code="JGT1-0001"]').count() == 1
