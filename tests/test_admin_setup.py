"""A new administrator sets up a city from an empty database through the pages alone, and
the inspectors then sign in. Every change lands on the audit log."""

import io
import json

from openpyxl import Workbook
from sqlalchemy import select

from app.extensions import db
from app.models import AdminAuditEntry, DeadlineRule, Department, Grid, SectorRoute, User
from tests.factories import tiny_city_features
from tests.page_client import PageClient, secrets_on


def staff_workbook() -> bytes:
    """A staff list as an office would type it in Excel."""
    book = Workbook()
    sheet = book.active
    sheet.append(["用户名", "姓名", "角色", "网格编码", "部门编码", "电话", "单位", "初始密码"])
    sheet.append(["wang_v11", "王网格", "三级网格员", "V11", None, 13800000001, None, None])
    sheet.append(["li_v11", "李网格", "网格员", "V11", None, 13800000002, None, None])
    sheet.append(["zhou_t1", "周镇长", "二级网格管理员", "T1", None, None, "西镇政府", None])
    sheet.append(["env_officer", "赵执法", "职能部门人员", None, "env", "0513-8000000", None, "river-side-walk-42"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_new_admin_sets_up_a_city_from_an_empty_database(app):
    result = app.test_cli_runner().invoke(args=["accounts", "create-admin", "chief", "--name", "王主任"],
                                          input="long-chosen-secret\nlong-chosen-secret\n")
    assert result.exit_code == 0, result.output

    admin = PageClient(app)
    assert admin.login("chief", "long-chosen-secret").headers["Location"] == "/account/password"
    assert admin.get("/admin/").headers["Location"] == "/account/password"  # nothing else until it is changed
    new = "our grid city 2026"
    changed = admin.post("/account/password", {"current_password": "long-chosen-secret", "new_password": new,
                                               "confirm_password": new})
    assert changed.status_code == 302
    overview = admin.get("/admin/")
    assert overview.status_code == 200 and overview.text.count("待完成") == 4

    geojson = json.dumps({"type": "FeatureCollection", "features": tiny_city_features()}).encode()
    imported = admin.post("/admin/grids", {"file": (io.BytesIO(geojson), "city.geojson")}, follow_redirects=True)
    assert "新增 7 个" in imported.text
    assert db.session.scalar(select(Grid).where(Grid.code == "V11")).level == 3

    assert "已补充标准职能部门 7 个" in admin.post("/admin/departments/defaults", follow_redirects=True).text
    assert "已载入默认时限规则" in admin.post("/admin/deadlines/defaults", follow_redirects=True).text
    assert db.session.query(SectorRoute).count() == 8 and db.session.query(DeadlineRule).count() > 10

    staff = admin.post("/admin/users/import", {"file": (io.BytesIO(staff_workbook()), "staff.xlsx"), "mode": "import"})
    assert staff.status_code == 200, staff.text
    passwords = secrets_on(staff.text)
    assert set(passwords) == {"wang_v11", "li_v11", "zhou_t1", "env_officer"}
    assert passwords["env_officer"] == "（使用表中初始密码）"
    assert admin.get("/admin/").text.count("已完成") == 4

    inspector = app.test_client()
    token = inspector.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    signed_in = inspector.post("/api/v1/auth/login", json={"username": "wang_v11", "password": passwords["wang_v11"]},
                               headers={"X-CSRFToken": token})
    assert signed_in.status_code == 200
    token = signed_in.get_json()["csrf_token"]  # a new token with the new session
    blocked = inspector.get("/api/v1/cases")
    assert blocked.status_code == 403 and "修改" in blocked.get_json()["message"]
    own = inspector.post("/api/v1/auth/password", json={"current_password": passwords["wang_v11"],
                                                        "new_password": "village patrol 11"},
                         headers={"X-CSRFToken": token})
    assert own.status_code == 200 and own.get_json()["scope"] == "V11村"
    assert inspector.get("/api/v1/cases").status_code == 200

    officer = PageClient(app)
    assert officer.login("env_officer", "river-side-walk-42").headers["Location"] == "/account/password"
    assert db.session.scalar(select(User).where(User.username == "zhou_t1")).unit == "西镇政府"

    actions = [e.action for e in db.session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.id))]
    assert actions[0] == "user.create"  # the command's own admin, made by the server operator
    assert {"grid.import", "department.create", "deadline_rule.create", "user.import"} <= set(actions)
    assert actions.count("user.create") == 5
    log = admin.get("/admin/audit")
    assert "导入网格" in log.text and "批量导入用户" in log.text and "王主任" in log.text
    assert db.session.query(Department).count() == 7


def test_a_bad_grid_file_is_reported_feature_by_feature_and_nothing_is_imported(app, city):
    admin = PageClient(app)
    admin.login("admin")
    features = tiny_city_features()[:3]
    features[1]["properties"]["level"] = 7
    orphan = {"code": "X1", "name": "无上级", "level": 3, "parent_code": "NOPE"}
    features.append({"type": "Feature", "properties": orphan, "geometry": features[0]["geometry"]})
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    page = admin.post("/admin/grids", {"file": (io.BytesIO(content), "bad.geojson")})
    assert page.status_code == 422
    assert "有 2 个要素有误，未导入任何网格" in page.text
    assert "level 必须是 1、2 或 3" in page.text and "上级网格 NOPE 不存在" in page.text
    assert db.session.scalar(select(Grid).where(Grid.code == "X1")) is None
    assert "不是有效的 JSON" in admin.post("/admin/grids", {"file": (io.BytesIO(b"{oops"), "x.geojson")}).text
    assert not db.session.scalars(select(AdminAuditEntry)).all()
