"""Accounts: password rules, sign-in throttling across the API and the page, idle time-outs
for the desk and the inspector's phone, must-change-password, and signing out everywhere."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from app import create_app, session_policy
from app.extensions import db
from app.models import LoginAttempt
from app.services import clock
from app.services.admin.passwords import password_problem
from config import TestConfig
from tests.page_client import PageClient


@pytest.mark.parametrize("password", ["short-one", "123456789012", "woaini1314", "Password2026", "firstline2026",
                                      "aaaaaaaaaaaa", "qwertyuiop", "insp_V11-home"])
def test_weak_passwords_are_refused_with_a_reason(app, password):
    assert password_problem(password, "insp_V11")


@pytest.mark.parametrize("password", ["我家门前有条小河流过", "river side walk", "grid patrol 2026 east"])
def test_long_plain_passwords_are_accepted(app, password):
    assert password_problem(password, "insp_V11") is None


def api_login(client, username, password="test-password-1", address="10.0.0.1"):
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       headers={"X-CSRFToken": token}, environ_base={"REMOTE_ADDR": address})


def test_account_is_throttled_after_five_failures_even_with_the_right_password(client, city):
    for _ in range(5):
        assert api_login(client, "insp_V11", "wrong-password").status_code == 401
    throttled = api_login(client, "insp_V11")
    assert throttled.status_code == 429
    body = throttled.get_json()
    assert set(body) == {"code", "message", "description", "errors"}
    assert "锁定" in body["message"] and "分钟" in body["message"] and "请于" in body["message"]
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60 + 1
    assert api_login(client, "INSP_V11 ").status_code == 429  # the same account however it is typed
    assert api_login(client, "insp_V12").status_code == 200  # other accounts are not affected
    with clock.travel(timedelta(minutes=16)):
        assert api_login(client, "insp_V11").status_code == 200


def test_a_success_resets_the_account_count(client, city):
    for _ in range(4):
        api_login(client, "insp_V11", "wrong-password")
    assert api_login(client, "insp_V11").status_code == 200
    for _ in range(4):
        api_login(client, "insp_V11", "wrong-password")
    assert api_login(client, "insp_V11").status_code == 200


def test_address_is_throttled_after_twenty_failures_over_many_accounts(client, city):
    for n in range(20):
        assert api_login(client, f"guess{n}", "x", address="203.0.113.9").status_code == 401
    throttled = api_login(client, "insp_V11", address="203.0.113.9")
    assert throttled.status_code == 429 and "网络地址" in throttled.get_json()["message"]
    assert api_login(client, "insp_V11", address="203.0.113.10").status_code == 200


def test_throttled_login_page_shows_the_chinese_message(app, city):
    person = PageClient(app)
    for _ in range(5):
        assert person.login("sup_T1", "wrong-password").status_code == 401
    page = person.login("sup_T1")
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "该账号连续登录失败次数过多" in page.text and "<form" in page.text
    assert db.session.query(LoginAttempt).filter_by(succeeded=False).count() == 5  # refused tries are not counted


def test_admin_unlocks_a_locked_account(app, city):
    for _ in range(5):
        api_login(app.test_client(), "insp_V11", "wrong-password")
    admin = PageClient(app)
    admin.login("admin")
    user_id = city.users["insp_V11"].id
    assert "锁定至" in admin.get(f"/admin/users/{user_id}").text
    admin.post(f"/admin/users/{user_id}/unlock")
    assert api_login(app.test_client(), "insp_V11").status_code == 200


@pytest.fixture
def idle_limits(app, monkeypatch):
    """The production idle limits (the suite's own are a year, for tests that move the clock)."""
    monkeypatch.setitem(app.config, "DESK_IDLE_MINUTES", 30)
    monkeypatch.setitem(app.config, "INSPECTOR_IDLE_DAYS", 7)


def test_desk_session_times_out_after_thirty_idle_minutes(app, city, idle_limits):
    desk = PageClient(app)
    desk.login("sup_T1")
    with clock.travel(timedelta(minutes=29)):
        assert desk.get("/desk/").status_code == 200  # activity moves the idle clock
        with clock.travel(timedelta(minutes=29)):
            assert desk.get("/desk/").status_code == 200
            with clock.travel(timedelta(minutes=31)):
                expired = desk.get("/desk/")
                assert expired.status_code == 302 and expired.headers["Location"].startswith("/login")
                assert "登录已超时" in desk.get("/login").text
                assert desk.get("/api/v1/me").status_code == 401


def test_expired_session_answers_the_api_with_401_json(client, city, idle_limits):
    api_login(client, "sup_T1")
    with clock.travel(timedelta(minutes=31)):
        response = client.get("/api/v1/cases")
        assert response.status_code == 401
        assert response.get_json()["message"] == "长时间未操作，登录已超时，请重新登录。"
        assert api_login(client, "sup_T1").status_code == 200  # signing in again works at once


def test_inspector_phone_stays_signed_in_for_days_but_not_forever(client, city, idle_limits):
    api_login(client, "insp_V11")
    with clock.travel(timedelta(days=6)):
        assert client.get("/api/v1/me").status_code == 200
    with clock.travel(timedelta(days=6 + 8)):
        response = client.get("/api/v1/cases")
        assert response.status_code == 401 and "超时" in response.get_json()["message"]
    assert client.get_cookie("session").expires is not None  # survives the phone closing the browser


def test_logout_everywhere_ends_the_other_devices(app, city):
    phone, office = app.test_client(), app.test_client()
    api_login(phone, "insp_V11")
    api_login(office, "insp_V11")
    token = office.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    assert office.post("/api/v1/auth/logout-everywhere", headers={"X-CSRFToken": token}).status_code == 204
    assert phone.get("/api/v1/me").status_code == 401
    assert office.get("/api/v1/me").status_code == 401


def test_logout_everywhere_from_the_page(app, city):
    first, second = PageClient(app), PageClient(app)
    first.login("sup_T1")
    second.login("sup_T1")
    response = first.post("/logout-everywhere")
    assert response.headers["Location"] == "/login"
    assert second.get("/desk/").status_code == 302


def test_changing_password_keeps_this_device_and_ends_the_others(app, city):
    here, elsewhere = PageClient(app), PageClient(app)
    here.login("sup_T1")
    elsewhere.login("sup_T1")
    weak = here.post("/account/password", {"current_password": "test-password-1", "new_password": "0123456789",
                                           "confirm_password": "0123456789"})
    assert weak.status_code == 422 and "键盘顺序" in weak.text
    wrong = here.post("/account/password", {"current_password": "nope", "new_password": "a quiet river bank",
                                            "confirm_password": "a quiet river bank"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    done = here.post("/account/password", {"current_password": "test-password-1", "new_password": "a quiet river bank",
                                           "confirm_password": "a quiet river bank"})
    assert done.status_code == 302
    assert here.get("/desk/").status_code == 200
    assert elsewhere.get("/desk/").status_code == 302
    assert PageClient(app).login("sup_T1", "a quiet river bank").status_code == 302


def test_must_change_password_blocks_pages_and_api_until_changed(app, client, city):
    city.users["sup_T1"].must_change_password = True
    db.session.commit()
    person = PageClient(app)
    assert person.login("sup_T1").headers["Location"] == "/account/password"
    assert person.get("/desk/").headers["Location"] == "/account/password"
    assert "临时密码" in person.get("/account/password").text
    api_login(client, "sup_T1")
    assert client.get("/api/v1/me").status_code == 200
    refused = client.get("/api/v1/cases")
    assert refused.status_code == 403 and refused.get_json()["errors"] == {"password": ["须先修改密码"]}


def test_the_api_has_a_general_rate_limit_per_address(app):
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        RATELIMIT_ENABLED = True
        RATELIMIT_APPLICATION = "3 per minute"

    limited = create_app(Limited)
    client = limited.test_client()
    try:
        assert [client.get("/api/v1/auth/csrf").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/api/v1/auth/csrf")
        assert refused.status_code == 429 and refused.get_json()["message"] == "请求过于频繁，请稍后再试。"
        assert "Retry-After" in refused.headers
        assert client.get("/login").status_code == 200  # pages are not counted
    finally:
        with limited.app_context():
            db.engine.dispose()


def test_a_signed_in_person_has_an_allowance_of_their_own(app, city):
    # A town office behind one NAT address: one busy colleague does not lock the others out.
    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        RATELIMIT_ENABLED = True
        RATELIMIT_APPLICATION = "3 per minute"

    limited = create_app(Limited)
    busy, colleague = PageClient(limited), PageClient(limited)
    try:
        assert busy.login("sup_T1").status_code == 302 and colleague.login("command").status_code == 302
        assert [busy.get("/api/v1/me").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert [colleague.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    finally:
        with limited.app_context():
            db.engine.dispose()


def test_a_page_is_served_when_noting_the_visit_must_wait_for_the_database(app, city, monkeypatch):
    """On SQLite a read cannot wait for the write lock the worker holds: noting the session's
    last request (once a minute) then waits for a later request, and the page is served."""
    desk = PageClient(app)
    desk.login("sup_T1")

    def locked(token):
        raise OperationalError("UPDATE user_sessions", {}, Exception("database is locked"))

    monkeypatch.setattr(session_policy, "note_seen", locked)
    with clock.travel(timedelta(minutes=2)):
        assert desk.get("/desk/").status_code == 200
        assert desk.get("/api/v1/me").status_code == 200
