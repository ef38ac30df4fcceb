"""Media exposure (媒体曝光) in Chromium: the command office proposes a long-unresolved case, a
leader approves it, the public page shows it without personal data, and a withdrawn exposure
leaves the public page but stays on the case's record."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Case
from app.services import clock
from tests.helpers import sign_in, take_action

pytestmark = pytest.mark.browser

FAILINGS = "信访人反复越级信访，镇政府未按期制定整改方案，企业至今仍在夜间生产。"


def _desk(browser, live_server, username):
    """A signed-in desk page of its own browser context."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    sign_in(page, live_server, username)
    return page


def test_an_exposure_is_proposed_approved_published_and_withdrawn(browser, page, live_server, city, artifacts_dir):
    case = city.cases["V21"]
    case.above_level, case.above_level_count = True, 3
    db.session.commit()

    command = _desk(browser, live_server, "command")
    command.get_by_role("link", name="久拖不解").click()
    row = command.locator(f'tr[data-number="{case.number}"]')
    expect(row).to_contain_text("越级访 3 次仍未化解（标准：3 次及以上）")
    command.screenshot(path=str(artifacts_dir / "long-unresolved-list.png"), full_page=True)
    row.get_by_role("link", name=case.number).click()

    section = command.locator("#exposures")
    expect(section).to_contain_text("已列入久拖不解名单")
    section.locator("summary", has_text="提议媒体曝光").click()
    section.get_by_label("责任单位").fill("东镇人民政府")
    section.get_by_label("未履职情况").fill("张三丰反映的问题未解决")  # names the petitioner: refused
    section.get_by_role("button", name="提议媒体曝光").click()
    expect(command.locator(".flash-error")).to_contain_text("不得包含信访人姓名")
    section.locator("summary", has_text="提议媒体曝光").click()
    section.get_by_label("责任单位").fill("东镇人民政府")
    section.get_by_label("未履职情况").fill(FAILINGS)
    section.get_by_role("button", name="提议媒体曝光").click()
    expect(command.locator(".flash-ok")).to_contain_text("等待领导审批")
    expect(section.locator('[data-status="proposed"]')).to_contain_text("待审批")

    leader = _desk(browser, live_server, "leader")
    leader.get_by_role("link", name="久拖不解").click()
    proposal = leader.locator('.exposure-record[data-status="proposed"]')
    proposal.get_by_label("审批意见").fill("同意曝光，督促整改")
    proposal.get_by_role("button", name="批准曝光").click()
    expect(leader.locator(".flash-ok")).to_contain_text("已批准")

    page.goto(f"{live_server}/exposures")  # no sign-in
    published = page.locator(f'article.exposure[data-case="{case.number}"]')
    expect(published).to_contain_text("东镇人民政府")
    expect(published).to_contain_text(FAILINGS)
    expect(published).to_contain_text("整改中")
    text = page.locator("main").inner_text()
    for personal in ("张三丰", "13812345678", "320682199001011234", "测试路1号"):
        assert personal not in text
    page.screenshot(path=str(artifacts_dir / "exposures-public.png"), full_page=True)
    page.goto(f"{live_server}/exposures/print")
    expect(page.locator(f'article.exposure[data-case="{case.number}"]')).to_contain_text("东镇人民政府")
    page.screenshot(path=str(artifacts_dir / "exposures-print.png"), full_page=True)

    command.goto(f"{live_server}/desk/long-unresolved")
    approved = command.locator('.exposure-record[data-status="approved"]')
    approved.get_by_label("撤回理由").fill("责任单位已停产整改，经核实撤回")
    approved.get_by_role("button", name="撤回曝光").click()
    expect(command.locator(".flash-ok")).to_contain_text("已撤回曝光")

    page.goto(f"{live_server}/exposures")
    expect(page.locator("article.exposure")).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text("目前没有曝光的案件")

    command.goto(f"{live_server}/desk/cases/{case.id}")
    record = command.locator('#exposures [data-status="withdrawn"]')
    expect(record).to_contain_text("已撤回")
    expect(record).to_contain_text("撤回理由：责任单位已停产整改，经核实撤回")
    timeline = command.locator("ol.timeline").inner_text()
    for step in ("提议媒体曝光", "批准媒体曝光", "撤回媒体曝光"):
        assert step in timeline
    command.locator("#exposures").screenshot(path=str(artifacts_dir / "exposure-case-record.png"))
    for other in (command, leader):
        other.context.close()


def test_the_wall_rings_long_unresolved_cases_and_counts_them(page, live_server, city, artifacts_dir):
    for code in ("V12", "V21"):
        city.cases[code].reopened_count = 2
    db.session.commit()
    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, live_server, "command")
    page.goto(f"{live_server}/wall/")
    page.locator('#wall-map[data-ready="true"]').wait_for(timeout=30_000)
    expect(page.locator("#wall-map")).to_have_attribute("data-long-unresolved", "2")
    expect(page.locator("#legend-long")).to_have_text("久拖不解 2 件（本视图，不随筛选）")
    difficult = page.locator("#panel-difficult")
    expect(difficult.locator(".figure.long .figure-value")).to_have_text("2")
    expect(difficult).to_contain_text("久拖不解")
    page.screenshot(path=str(artifacts_dir / "wall-long-unresolved.png"))


def test_the_queue_and_the_list_show_a_follow_up_turning_yellow(app, page, live_server, city, artifacts_dir):
    case = city.cases["V21"]
    case.reopened_count = 2
    db.session.commit()
    assert app.test_cli_runner().invoke(args=["deadlines", "sweep"]).exit_code == 0
    db.session.rollback()
    revisit = db.session.get(Case, case.id).revisit_due_at
    with clock.frozen_at(revisit - timedelta(days=2)):  # 13 of 15 days used: yellow
        sign_in(page, live_server, "sup_T2")
        row = page.locator(f'table.cases tr[data-number="{case.number}"]')
        expect(row).to_have_attribute("data-state", "yellow")
        expect(row.locator(".revisit")).to_contain_text("定期回访")
        page.screenshot(path=str(artifacts_dir / "queue-revisit-yellow.png"), full_page=True)
        page.get_by_role("link", name="久拖不解").click()
        expect(page.locator(f'tr[data-number="{case.number}"] .due')).to_contain_text("临期")
        page.goto(f"{live_server}/desk/cases/{case.id}")
        take_action(page, "revisit", {"回访情况（通报的进展、信访人的意见）": "电话告知整改进展"}, done="已定期回访")
        expect(page.locator("#exposures")).to_contain_text("下次定期回访")
        page.screenshot(path=str(artifacts_dir / "case-revisit.png"), full_page=True)
