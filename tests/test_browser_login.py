"""A person signs in through the login page in Chromium and sees their own cases."""

import pytest

pytestmark = pytest.mark.browser


def test_supervisor_signs_in_and_sees_own_town(page, live_server, city, artifacts_dir):
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    page.get_by_label("用户名").fill("sup_T1")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误。"

    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/desk/")
    assert "测试sup_T1（二级网格管理员）" in page.locator("header").inner_text()
    rows = page.locator("table.cases tbody tr")
    assert rows.count() == 2
    numbers = {row.get_attribute("data-number") for row in rows.all()}
    assert numbers == {city.cases["V11"].number, city.cases["V12"].number}
    page.screenshot(path=str(artifacts_dir / "home-supervisor.png"), full_page=True)

    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{live_server}/login")
    assert "您已退出登录" in page.content()
