"""Notifications in Chromium: the command office assigns a case at the desk, and the
department officer's 消息 badge, open in another browser, shows it within seconds without a
reload; a fake SMS provider and a fake 企业微信 group receive one message each with no
personal data; a failing provider is retried, and the admin sees every attempt."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import NotificationDelivery
from app.services import clock
from app.services.notify import delivery
from tests.helpers import Desk, register, sign_in, sign_in_phone, take_action, wire_notifications

pytestmark = pytest.mark.browser

PERSONAL = ("李四", "13900001111", "V11村工业路8号")  # the petitioner's name, phone and address


def _accepted_case(app):
    desk = Desk(app)
    case = register(desk)["case"]
    desk.act("command", case["id"], "accept", legal_track="petition", notice_text="您反映的问题已受理。")
    return case


def test_an_assignment_reaches_the_department_badge_sms_and_work_group(
        app, browser, page, live_server, city, fake_providers, monkeypatch, artifacts_dir):
    wire_notifications(app, city, fake_providers, monkeypatch, {"officer_env": "13700000001"})
    case = _accepted_case(app)
    officer = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    sign_in(officer, live_server, "officer_env")
    badge = officer.locator("#notice-badge")
    expect(badge).to_be_hidden()
    fake_providers.received.clear()

    sign_in(page, live_server, "command")
    page.goto(f"{live_server}/desk/cases/{case['id']}")
    take_action(page, "assign", done="交办")

    # No reload on the officer's page: the badge follows by itself.
    expect(badge).to_have_text("1", timeout=15000)
    expect(badge).to_be_visible()
    officer.screenshot(path=str(artifacts_dir / "notify-desk-badge.png"))
    (sms,) = fake_providers.delivered("aliyun")
    (group,) = fake_providers.delivered("wecom")
    assert sms["to"] == ["13700000001"] and sms["texts"] == ["交办", case["number"]]
    assert case["number"] in group["texts"][0]
    for text in sms["texts"] + group["texts"]:
        assert not any(value in text for value in PERSONAL)
    officer.get_by_role("link", name="消息").click()
    expect(officer.locator(".notices li.unread")).to_contain_text(case["number"])
    officer.screenshot(path=str(artifacts_dir / "notify-desk-messages.png"), full_page=True)
    officer.context.close()


def test_a_failing_provider_is_retried_and_the_admin_sees_each_attempt(
        app, page, live_server, city, fake_providers, monkeypatch, artifacts_dir):
    wire_notifications(app, city, fake_providers, monkeypatch, {"officer_env": "13700000001"})
    case = _accepted_case(app)
    fake_providers.fail_next = 1  # the provider is down for the first message: the SMS
    Desk(app).act("command", case["id"], "assign")
    db.session.rollback()
    sms = db.session.scalar(select(NotificationDelivery).where(NotificationDelivery.channel == "sms"))
    assert (sms.status, sms.attempts) == ("pending", 1) and "503" in sms.last_error

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="系统管理", exact=True).click()
    page.get_by_role("link", name="消息推送").click()
    row = page.locator("table.deliveries tr.status-pending")
    expect(row).to_contain_text("待发送")
    expect(row).to_contain_text("503")
    page.screenshot(path=str(artifacts_dir / "notify-admin-retrying.png"), full_page=True)

    db.session.rollback()  # let go of this test's read snapshot before writing beside the live server
    with clock.travel(timedelta(minutes=2)):  # the worker's minute task, after the first pause
        assert delivery.deliver_due()["sent"] == 1
    page.reload()
    row = page.locator("table.deliveries tr", has_text="短信")
    expect(row).to_contain_text("已发送")
    expect(row).to_contain_text("失败")
    expect(row).to_contain_text("成功")
    assert [r["failed"] for r in fake_providers.received if r["channel"] == "aliyun"] == [True, False]
    page.screenshot(path=str(artifacts_dir / "notify-admin-sent.png"), full_page=True)


def test_the_phone_shows_the_new_task_with_a_badge_and_what_changed(
        app, phone, live_server, city, fake_providers, monkeypatch, artifacts_dir):
    wire_notifications(app, city, fake_providers, monkeypatch, {})
    case = _accepted_case(app)
    Desk(app).act("command", case["id"], "assign")
    page = phone.new_page()
    sign_in_phone(page, live_server)
    expect(page.locator("#tasks-badge")).to_have_text("1")
    expect(page.locator("#news")).to_contain_text("现场核查任务")
    expect(page.locator(f'li.task[data-number="{case["number"]}"] .chip.new')).to_have_text("新")
    page.screenshot(path=str(artifacts_dir / "notify-phone-news.png"))
    page.get_by_role("button", name="知道了").click()
    expect(page.locator("#news")).to_be_hidden()
    expect(page.locator("#tasks-badge")).to_be_hidden()
