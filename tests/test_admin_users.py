"""Administration pages: accounts, departments and routing, deadlines, settings, API keys, and
the audit log that every change (through the pages or the admin API) writes."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AdminAuditEntry, ApiKey, Department, User
from app.services.admin import api_keys as api_keys_service
from app.services.admin.api_keys import verify_api_key
from tests.helpers import Desk
from tests.page_client import PageClient


@pytest.fixture
def admin(app, city):
    person = PageClient(app)
    assert person.login("admin").status_code == 302
    return person


def audit(action):
    return list(db.session.scalars(select(AdminAuditEntry).where(AdminAuditEntry.action == action)))


def test_admin_pages_are_for_admins_only(app, city, admin):
    supervisor = PageClient(app)
    supervisor.login("sup_T1")
    refused = supervisor.get("/admin/users")
    assert refused.status_code == 403 and "您无权执行此操作" in refused.text
    assert app.test_client().get("/admin/").headers["Location"].startswith("/login")
    for url in ("/admin/", "/admin/users", "/admin/users/new", "/admin/users/import", "/admin/grids",
                "/admin/departments", "/admin/deadlines", "/admin/settings", "/admin/api-keys", "/admin/audit"):
        assert admin.get(url).status_code == 200, url
    assert "系统管理" in admin.get("/admin/").text


def test_create_user_checks_role_and_grid_then_shows_the_password_once(app, city, admin):
    form = {"username": "new_insp", "full_name": "新网格员", "role": "inspector", "phone": "13900000000"}
    missing = admin.post("/admin/users/new", form)
    assert missing.status_code == 422 and "须选择所属村（社区）网格" in missing.text
    wrong_level = admin.post("/admin/users/new", {**form, "grid_id": city.grids["T1"].id})
    assert wrong_level.status_code == 422 and "应属于3级网格" in wrong_level.text
    created = admin.post("/admin/users/new", {**form, "grid_id": city.grids["V11"].id})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    password = created.text.split('data-secret="password">')[1].split("<")[0]
    user = db.session.scalar(select(User).where(User.username == "new_insp"))
    assert user.must_change_password and user.unit == "V11村" and password not in user.password_hash
    entry = audit("user.create")[0]
    assert entry.after["grid_id"] == city.grids["V11"].id and entry.before is None
    assert PageClient(app).login("new_insp", password).headers["Location"] == "/account/password"
    duplicate = admin.post("/admin/users/new", {**form, "grid_id": city.grids["V11"].id})
    assert duplicate.status_code == 422 and "已存在" in duplicate.text


def test_edit_role_and_grid_is_audited_with_before_and_after(city, admin):
    user = city.users["insp_V12"]
    response = admin.post(f"/admin/users/{user.id}", {"full_name": "调任镇长", "role": "supervisor",
                                                      "grid_id": city.grids["T2"].id, "phone": "", "unit": ""})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.role, user.grid_id, user.unit) == ("supervisor", city.grids["T2"].id, "东镇")
    entry = audit("user.update")[0]
    assert entry.before["role"] == "inspector" and entry.after["role"] == "supervisor"
    assert entry.before["grid_id"] == city.grids["V12"].id and entry.after["grid_id"] == city.grids["T2"].id
    assert "调任镇长" in admin.get("/admin/audit").text


def test_deactivate_ends_sessions_and_sign_in(app, city, admin):
    phone = Desk(app)
    phone.client("insp_V11")
    user = city.users["insp_V11"]
    assert admin.post(f"/admin/users/{user.id}/active", {"active": "0"}).status_code == 302
    assert phone.get("insp_V11", "/api/v1/me").status_code == 401
    assert PageClient(app).login("insp_V11").status_code == 401
    admin.post(f"/admin/users/{user.id}/active", {"active": "1"})
    assert PageClient(app).login("insp_V11").status_code == 302
    assert [e.action for e in db.session.scalars(select(AdminAuditEntry))] == ["user.deactivate", "user.activate"]


def test_people_with_history_are_never_deleted(city, admin):
    leader = city.users["leader"]  # leads the V11 case
    refused = admin.post(f"/admin/users/{leader.id}/delete", follow_redirects=True)
    assert "不能删除，只能停用" in refused.text
    assert db.session.get(User, leader.id) is not None
    mistake = admin.post("/admin/users/new", {"username": "typo", "full_name": "误建", "role": "leading_official"})
    assert mistake.status_code == 200
    typo = db.session.scalar(select(User).where(User.username == "typo"))
    assert admin.post(f"/admin/users/{typo.id}/delete").status_code == 302
    assert db.session.scalar(select(User).where(User.username == "typo")) is None
    assert audit("user.delete")[0].before["username"] == "typo"


def test_reset_password_and_force_logout(app, city, admin):
    phone = Desk(app)
    phone.client("insp_V21")
    user = city.users["insp_V21"]
    page = admin.post(f"/admin/users/{user.id}/reset-password")
    password = page.text.split('data-secret="password">')[1].split("<")[0]
    assert phone.get("insp_V21", "/api/v1/me").status_code == 401
    assert PageClient(app).login("insp_V21").status_code == 401
    assert PageClient(app).login("insp_V21", password).headers["Location"] == "/account/password"
    other = Desk(app)
    other.client("insp_V22")
    admin.post(f"/admin/users/{city.users['insp_V22'].id}/logout")
    assert other.get("insp_V22", "/api/v1/me").status_code == 401
    assert audit("user.reset_password") and audit("user.force_logout")


def test_the_last_admin_cannot_be_removed(city, admin):
    me = city.users["admin"]
    demoted = admin.post(f"/admin/users/{me.id}", {"full_name": "x", "role": "command_office"})
    assert demoted.status_code == 422 and "最后一个" in demoted.text
    assert "不能停用自己" in admin.post(f"/admin/users/{me.id}/active", {"active": "0"}, follow_redirects=True).text


def test_admin_api_changes_are_audited_too(app, city):
    desk = Desk(app)
    client, token = desk.client("admin")
    headers = {"X-CSRFToken": token}
    env_id = client.get("/api/v1/routes").get_json()[0]["department_id"]
    assert client.put("/api/v1/routes/tertiary", json={"department_id": env_id}, headers=headers).status_code == 200
    assert client.put("/api/v1/settings/repeat_radius_m", json={"value": 300}, headers=headers).status_code == 200
    rule = client.get("/api/v1/deadline-rules").get_json()[0]
    assert client.patch(f"/api/v1/deadline-rules/{rule['id']}", json={"amount": 9}, headers=headers).status_code == 200
    assert client.put("/api/v1/calendar/2026-07-01", json={"is_working_day": False, "name": "建党节调休"},
                      headers=headers).status_code == 200
    assert client.delete("/api/v1/calendar/2026-07-01", headers=headers).status_code == 204
    entries = {e.action: e for e in db.session.scalars(select(AdminAuditEntry))}
    assert set(entries) == {"route.update", "setting.update", "deadline_rule.update", "calendar_day.set",
                            "calendar_day.delete"}
    assert entries["setting.update"].before == {"value": 200} and entries["setting.update"].after == {"value": 300}
    assert entries["deadline_rule.update"].after["amount"] == 9
    assert all(e.actor_id == city.users["admin"].id for e in entries.values())


def test_departments_routes_deadlines_and_settings_pages(city, admin):
    created = admin.post("/admin/departments", {"code": "water", "name": "市水务局", "duty": "河道"},
                         follow_redirects=True)
    assert "已新增部门 市水务局" in created.text
    water = db.session.scalar(select(Department).where(Department.code == "water"))
    admin.post("/admin/routes", {"route-riverside_wharf": water.id})
    assert audit("route.update")[0].after == {"department_id": water.id}
    admin.post(f"/admin/departments/{water.id}", {"name": "市水利局", "duty": "河道"})
    assert audit("department.update")[0].after["name"] == "市水利局"
    rule_id = int(admin.get("/admin/deadlines").text.split("/admin/deadlines/rules/")[1].split('"')[0])
    admin.post(f"/admin/deadlines/rules/{rule_id}", {"amount": "20", "unit": "calendar_days", "basis": "本市规定",
                                                     "active": "1"})
    changed = audit("deadline_rule.update")[0]
    assert changed.entity_id == str(rule_id) and changed.after["amount"] == 20
    bad = admin.post("/admin/deadlines/rules", {"stage": "sign", "amount": "0", "unit": "hours"}, follow_redirects=True)
    assert "时限数值应为" in bad.text
    admin.post("/admin/calendar", {"day": "2026-12-28", "is_working_day": "0", "name": "防汛调休"})
    assert "防汛调休" in admin.get("/admin/deadlines?year=2026").text
    admin.post("/admin/calendar/2026-12-28/delete")
    assert [e.action for e in audit("calendar_day.set") + audit("calendar_day.delete")] == ["calendar_day.set",
                                                                                          "calendar_day.delete"]
    saved = admin.post("/admin/settings", {"repeat_radius_m": "250", "yellow_at": "0.75"}, follow_redirects=True)
    assert "修改 1 项" in saved.text
    refused = admin.post("/admin/settings", {"repeat_radius_m": "99999", "yellow_at": "0.8"})
    assert refused.status_code == 422 and "5000" in refused.text
    # Nothing saved, and the form comes back as typed, so nothing typed is lost.
    assert 'name="repeat_radius_m" value="99999"' in refused.text and 'name="yellow_at" value="0.8"' in refused.text
    unknown = admin.post("/admin/settings", {"reception_department_codes": '["env", "nosuchdept"]'})
    assert unknown.status_code == 422 and "没有这些部门代码：nosuchdept" in unknown.text
    assert [e.after for e in audit("setting.update")] == [{"value": 250}]


def test_api_keys_are_shown_once_stored_hashed_and_revocable(city, admin):
    page = admin.post("/admin/api-keys", {"name": "市12345平台"})
    assert page.headers["Cache-Control"] == "no-store"
    raw = page.text.split('data-secret="api-key">')[1].split("<")[0]
    key = db.session.scalar(select(ApiKey))
    assert raw.startswith(f"fl_{key.prefix}_") and raw not in key.key_hash
    assert raw not in admin.get("/admin/api-keys").text
    assert verify_api_key(raw).id == key.id and verify_api_key(raw + "x") is None
    admin.post(f"/admin/api-keys/{key.id}/revoke")
    assert verify_api_key(raw) is None
    assert [e.action for e in db.session.scalars(select(AdminAuditEntry))] == ["api_key.create", "api_key.revoke"]
    assert raw not in str(audit("api_key.create")[0].after)


def test_an_api_key_whose_random_part_has_underscores_still_verifies(city, monkeypatch):
    monkeypatch.setattr(api_keys_service.secrets, "token_urlsafe", lambda n: "a_b_c-d")
    key, raw = api_keys_service.create_api_key(city.users["admin"], "测试")
    assert api_keys_service.verify_api_key(raw) is key
