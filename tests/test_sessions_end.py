"""A session ends on the server: a copy of its cookie taken before signing out, signing out
everywhere, a password change or deactivation is refused afterwards. The CSRF token changes
at sign-in, and a cookie-borne write from another site's page is refused."""

import pytest

from app.extensions import db
from app.models import UserSession
from tests.page_client import PageClient

ORIGIN = "http://localhost"


def signed_in(app, username="sup_T1"):
    """A client signed in through the API, and the CSRF token the sign-in answered with."""
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post("/api/v1/auth/login", json={"username": username, "password": "test-password-1"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    return client, response.get_json()["csrf_token"]


def copy_of(app, client):
    """Another client holding a copy of this client's session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/api/v1/me").status_code == 200
    return thief


def test_a_cookie_copied_before_logout_is_refused_after(app, city):
    client, token = signed_in(app)
    thief = copy_of(app, client)
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token}).status_code == 204
    assert thief.get("/api/v1/me").status_code == 401
    assert thief.get("/desk/").status_code == 302


def test_logout_on_one_device_leaves_the_others_signed_in(app, city):
    desk, token = signed_in(app)
    phone, _ = signed_in(app)
    desk.post("/api/v1/auth/logout", headers={"X-CSRFToken": token})
    assert phone.get("/api/v1/me").status_code == 200


def test_a_cookie_copied_before_the_pages_logout_is_refused_after(app, city):
    person = PageClient(app)
    assert person.login("sup_T1").status_code == 302
    thief = copy_of(app, person.client)
    assert person.post("/logout").status_code == 302
    assert thief.get("/desk/").status_code == 302


def test_a_cookie_copied_before_logout_everywhere_is_refused_after(app, city):
    client, token = signed_in(app)
    thief = copy_of(app, client)
    other, _ = signed_in(app)
    assert client.post("/api/v1/auth/logout-everywhere", headers={"X-CSRFToken": token}).status_code == 204
    assert thief.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 401


def test_a_cookie_copied_before_a_password_change_is_refused_after(app, city):
    client, token = signed_in(app)
    thief = copy_of(app, client)
    changed = client.post("/api/v1/auth/password", json={"current_password": "test-password-1",
                                                         "new_password": "a quiet river bank"},
                          headers={"X-CSRFToken": token})
    assert changed.status_code == 200
    assert client.get("/api/v1/me").status_code == 200  # this device carries on, with a new session
    assert thief.get("/api/v1/me").status_code == 401


def test_a_cookie_copied_before_deactivation_is_refused_after(app, city):
    client, _ = signed_in(app, "insp_V11")
    thief = copy_of(app, client)
    admin = PageClient(app)
    admin.login("admin")
    assert admin.post(f"/admin/users/{city.users['insp_V11'].id}/active", {"active": "0"}).status_code == 302
    assert thief.get("/api/v1/me").status_code == 401
    admin.post(f"/admin/users/{city.users['insp_V11'].id}/active", {"active": "1"})
    assert thief.get("/api/v1/me").status_code == 401  # reactivating does not revive old sessions


def test_signing_in_again_clears_the_users_dead_sessions(app, city):
    for _ in range(3):
        client, token = signed_in(app)
        client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token})
    signed_in(app)
    assert db.session.query(UserSession).count() == 1


def test_the_csrf_token_changes_at_sign_in(app, city):
    client = app.test_client()
    before = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post("/api/v1/auth/login", json={"username": "sup_T1", "password": "test-password-1"},
                           headers={"X-CSRFToken": before})
    after = response.get_json()["csrf_token"]
    refused = client.post("/api/v1/auth/logout", headers={"X-CSRFToken": before})
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["message"]
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": after}).status_code == 204


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Origin": "http://localhost.evil.example"},
])
def test_a_cookie_borne_write_from_another_site_is_refused(app, city, headers):
    client, token = signed_in(app)
    response = client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token, **headers})
    assert response.status_code == 403
    assert response.get_json()["message"] == "请求来源不是本站页面，已拒绝。请在本系统的页面中重新操作。"
    assert client.get("/api/v1/me").status_code == 200  # nothing happened


def test_a_foreign_form_post_gets_a_chinese_page(app, city):
    person = PageClient(app)
    person.login("sup_T1")
    refused = person.post("/logout", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "请求来源不是本站页面" in refused.text


@pytest.mark.parametrize("headers", [
    {"Origin": ORIGIN},
    {"Referer": f"{ORIGIN}/desk/"},
    {},  # neither: not from another site's page (browsers send Origin on every cross-site POST)
])
def test_writes_from_this_site_or_without_origin_go_through(app, city, headers):
    client, token = signed_in(app)
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token, **headers}).status_code == 204


@pytest.mark.parametrize("path", ["/m/", "/m/offline", "/login", "/static/m/app.js", "/m/sw.js", "/healthz"])
def test_a_request_begun_before_signing_in_cannot_overwrite_the_new_cookie(app, city, path):
    """The phone's service worker caches the app's pages while its user signs in. A page that
    left with the anonymous cookie and answers after the sign-in must not send that cookie
    back, or the first sync after signing in is refused."""
    before = app.test_client()
    before.get("/api/v1/auth/csrf")  # the anonymous session now holds a CSRF secret
    with before.get(path) as answer:
        assert answer.status_code == 200
        assert answer.headers.getlist("Set-Cookie") == []


@pytest.mark.parametrize("path", ["/api/v1/me", "/desk/", "/static/m/app.js"])
def test_a_signed_in_session_is_not_resent_on_every_answer(app, city, path):
    client, _ = signed_in(app)
    with client.get(path) as answer:
        assert answer.status_code == 200
        assert answer.headers.getlist("Set-Cookie") == []
