"""Signing in and out, through the API and the login page, and CSRF protection."""

from app.extensions import db


def test_api_login_sets_session_and_me_shows_scope(client, auth, city):
    response = auth.login("insp_V11")
    assert response.status_code == 200
    assert response.get_json()["role"] == "inspector"
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "insp_V11"
    assert me["role_label"] == "三级网格员"
    assert me["grid"]["code"] == "V11"
    assert me["scope"] == "V11村"
    assert me["csrf_token"]


def test_session_cookie_is_httponly_and_lax(client, auth, city):
    auth.login("insp_V11")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_wrong_password_and_unknown_user_get_the_same_chinese_message(client, auth, city):
    wrong = auth.login("insp_V11", "not-the-password")
    unknown = auth.login("nobody", "whatever")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["message"] == unknown.get_json()["message"] == "用户名或密码错误。"
    assert client.get("/api/v1/me").status_code == 401


def test_deactivated_user_cannot_sign_in(client, auth, city):
    city.users["insp_V11"].active = False
    db.session.commit()
    response = auth.login("insp_V11")
    assert response.status_code == 401
    assert "停用" in response.get_json()["message"]


def test_login_with_missing_fields_is_422_with_field_errors(client, auth, city):
    response = client.post("/api/v1/auth/login", json={"username": "x"}, headers={"X-CSRFToken": auth.csrf()})
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) == {"code", "message", "description", "errors"}
    assert "password" in body["errors"]


def test_post_without_csrf_token_is_rejected(client, city):
    response = client.post("/api/v1/auth/login", json={"username": "insp_V11", "password": "test-password-1"})
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["message"]


def test_csrf_token_from_another_session_is_rejected(app, client, auth, city):
    other = app.test_client()
    foreign_token = other.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    auth.login("insp_V11")
    response = client.post("/api/v1/auth/logout", headers={"X-CSRFToken": foreign_token})
    assert response.status_code == 400
    assert client.get("/api/v1/me").status_code == 200  # still signed in


def test_logout_ends_the_session(client, auth, city):
    auth.login("insp_V11")
    assert auth.logout().status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_bumping_session_version_signs_out_every_device(client, auth, city):
    auth.login("insp_V11")
    city.users["insp_V11"].session_version += 1
    db.session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_login_page_signs_in_and_redirects_only_to_own_site(client, city):
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"username": "sup_T1", "password": "test-password-1", "csrf_token": token}
    response = client.post("/login?next=//evil.example/x", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/", follow_redirects=True)
    assert "测试sup_T1" in home.text and "HJ" in home.text


def test_login_page_shows_chinese_error(client, city):
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "sup_T1", "password": "x", "csrf_token": token})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text


def test_pages_redirect_to_login_when_signed_out(client, city):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_page_post_without_csrf_gets_a_chinese_page(client, city):
    response = client.post("/login", data={"username": "sup_T1", "password": "test-password-1"})
    assert response.status_code == 400
    assert "安全校验失败" in response.text
