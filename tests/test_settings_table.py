"""One settings table: every setting is validated, defaulted and shown on the admin page from one row."""

import re

import pytest

from app.errors import InvalidInput
from app.services import settings
from app.services.settings import SettingDef, get_setting, set_setting
from tests.page_client import PageClient

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_setting_has_a_chinese_label_and_a_default_that_passes_its_own_check():
    for row in settings.SETTINGS.values():
        assert CHINESE.search(row.label), row.key
        assert CHINESE.search(row.message), row.key
        assert row.check(row.default), row.key


def test_a_new_row_is_a_setting_with_its_check_and_appears_labelled_on_the_admin_page(app, city, monkeypatch):
    row = SettingDef("demo_threshold_m", 42, settings._number(1, 100), "应为 1 至 100 米", "演示阈值（米）",
                     "只为本测试添加的参数。")
    monkeypatch.setitem(settings.SETTINGS, row.key, row)
    with app.app_context():
        assert get_setting("demo_threshold_m") == 42
        with pytest.raises(InvalidInput, match="演示阈值"):
            set_setting("demo_threshold_m", 1000)
    admin = PageClient(app)
    assert admin.login("admin").status_code == 302
    page = admin.get("/admin/settings").text
    assert "演示阈值（米）" in page and "只为本测试添加的参数。" in page
    saved = admin.post("/admin/settings", {"demo_threshold_m": "60"}, follow_redirects=True)
    assert "修改 1 项" in saved.text
    with app.app_context():
        assert get_setting("demo_threshold_m") == 60


def test_the_admin_page_labels_every_setting(app, city):
    admin = PageClient(app)
    assert admin.login("admin").status_code == 302
    page = admin.get("/admin/settings").text
    for row in settings.SETTINGS.values():
        assert row.label in page.replace("&#34;", '"'), row.key
