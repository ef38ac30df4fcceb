"""Entering next year's holidays in Chromium: the desk warns, the admin pastes the notice,
checks the parsed days and confirms, and the estimate mark leaves the case page."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.vocab import Stage
from app.services import clock
from app.services.cases.deadlines import start_clock
from tests.factories import NOTICE_2027
from tests.helpers import sign_in

pytestmark = pytest.mark.browser

DECEMBER_10 = datetime(2026, 12, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_admin_enters_2027_and_the_case_loses_its_estimate(page, live_server, city, artifacts_dir):
    case = city.cases["V11"]
    with clock.frozen_at(DECEMBER_10):
        start_clock(case, Stage.HANDLE, DECEMBER_10)
        db.session.commit()
        sign_in(page, live_server, "command")
        expect(page.locator(".calendar-missing")).to_contain_text("2027 年节假日安排尚未录入")
        page.goto(f"{live_server}/desk/cases/{case.id}")
        expect(page.locator(".case-head")).to_contain_text("按周末估算")
        expect(page.locator(".case-head")).to_contain_text("2027-02-09 00:00")
        page.screenshot(path=artifacts_dir / "calendar-case-estimated.png", full_page=True)

        page.context.clear_cookies()
        page.goto(f"{live_server}/login")
        page.get_by_label("用户名").fill("admin")
        page.get_by_label("密码").fill("test-password-1")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        page.goto(f"{live_server}/admin/")
        expect(page.locator(".calendar-missing")).to_contain_text("2027 年节假日安排尚未录入")
        page.get_by_role("link", name="导入国务院节假日通知").click()
        page.get_by_label("通知正文（从中国政府网复制全文粘贴）").fill(NOTICE_2027)
        page.get_by_role("button", name="识别并预览").click()
        expect(page.locator("h2")).to_contain_text("请核对 2027 年的放假安排")
        page.screenshot(path=artifacts_dir / "calendar-import-preview.png", full_page=True)
        page.get_by_role("button", name="确认无误，保存 2027 年节假日安排").click()
        expect(page.locator(".flash-ok")).to_contain_text("1 件案件的期限已按新日历重新计算")
        expect(page.locator("#calendar")).to_contain_text("春节调休上班")

        page.goto(f"{live_server}/desk/cases/{case.id}")
        expect(page.locator(".case-head")).not_to_contain_text("按周末估算")
        expect(page.locator(".case-head")).to_contain_text("2027-02-16 00:00")
