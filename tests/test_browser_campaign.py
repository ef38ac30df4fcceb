"""The campaign pages in Chromium, as the command office uses them: the phase board, grid
scores down to the case behind a deduction, an alert raised at intake, the ledger export."""

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models.vocab import CaseStatus, Channel
from app.services import clock
from app.services.campaign.phases import create_campaign
from tests.factories import make_case
from tests.helpers import sign_in

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 20, 4, tzinfo=UTC)  # 12:00 Beijing, in the tackling phase
V11, V21 = (120.505, 32.31), (120.525, 32.31)


def test_command_office_reads_the_campaign_from_phase_to_case(page, live_server, city, artifacts_dir):
    with clock.frozen_at(NOW):
        create_campaign(city.users["command"], 2026)
        above = make_case(*V11, channel=Channel.ABOVE_LEVEL_BEIJING, above_level=True, above_level_count=1,
                          received_at=datetime(2026, 11, 10, 4, tzinfo=UTC), status=CaseStatus.HANDLING)
        db.session.commit()
        sign_in(page, live_server, "command")
        page.get_by_role("link", name="专项行动").first.click()
        assert "攻坚化解" in page.locator("main").inner_text()

        page.get_by_role("link", name="考核与排名").click()
        row = page.locator('tr[data-grid="V11村"]')
        assert "该项清零" in row.inner_text() and "西镇" in row.inner_text()  # with its town: names repeat
        row.get_by_role("link", name=above.number).click()
        page.wait_for_url(f"{live_server}/desk/cases/{above.id}")
        assert "越级访" in page.locator("main").inner_text()

        # Three odour complaints registered through the desk form raise one alert at intake.
        for n, lon in enumerate((120.525, 120.527, 120.526)):
            page.goto(f"{live_server}/desk/cases/new")
            page.get_by_label("来源渠道").select_option(label="12369电话")
            page.get_by_label("污染类型").select_option(label="大气")
            page.get_by_label("行业（决定默认承办部门）").select_option(label="工业企业")
            page.get_by_label("标题").fill(f"化工园区异味{n + 1}")
            page.get_by_label("经度").fill(str(lon))
            page.get_by_label("纬度").fill("32.31")
            page.get_by_label("匿名").check()
            page.get_by_role("button", name="保存登记").click()
            page.wait_for_url(f"{live_server}/desk/cases/**")
        page.goto(f"{live_server}/desk/campaign/alerts")
        alerts = page.locator("ul.alerts li[data-category]")
        assert alerts.count() == 1
        assert "3 件" in alerts.first.inner_text()
        page.screenshot(path=str(artifacts_dir / "campaign-alerts.png"), full_page=True)

        page.get_by_role("link", name="考核与排名").click()
        with page.expect_download() as download:
            page.get_by_role("link", name="导出 .xlsx").first.click()
        assert download.value.suggested_filename.endswith(".xlsx")
        page.screenshot(path=str(artifacts_dir / "campaign-scores.png"), full_page=True)
