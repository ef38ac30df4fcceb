"""Security headers as served: CSP without inline script on every HTML page, nosniff, frames
refused, HSTS and Secure cookies over HTTPS; injected markup shown as text; uploads never
served as something a browser would run; no personal data in logs."""

import logging
import re

import pytest
from flask import Flask, Response
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.log_privacy import redact
from app.models import Case
from app.security_headers import INERT_UPLOAD_TYPES, content_security_policy, init_security_headers
from tests.factories import make_case
from tests.page_client import PageClient

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def html_pages(app, city) -> list[str]:
    """Every GET page without URL arguments, plus pages about one record."""
    urls = sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(("/api/", "/static"))})
    return urls + [f"/desk/cases/{city.cases['V11'].id}", f"/admin/users/{city.users['insp_V11'].id}", "/no-such-page"]


def test_every_html_page_carries_the_policy_and_no_inline_script(app, city):
    admin = PageClient(app)
    admin.login("admin")
    checked = 0
    for url in html_pages(app, city) + ["/api/v1/docs"]:
        response = admin.get(url)
        if response.mimetype != "text/html":
            continue
        checked += 1
        assert response.headers["Content-Security-Policy"] == EXPECTED_CSP, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        for tag in re.findall(r"<script\b[^>]*>", response.text):
            assert "src=" in tag, (url, tag)  # no inline script body anywhere
        assert not re.search(r"\son[a-z]+=", response.text), url  # no inline event handlers
    assert checked >= 12
    signed_out = app.test_client().get("/login")
    assert signed_out.headers["Content-Security-Policy"] == EXPECTED_CSP


def test_json_and_static_responses_are_not_sniffed_either(app, city):
    client = app.test_client()
    for url in ("/api/v1/auth/csrf", "/static/css/app.css", "/healthz"):
        with client.get(url) as response:
            assert response.headers["X-Content-Type-Options"] == "nosniff", url
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


def test_hsts_and_secure_cookies_only_over_https(app, city):
    plain = app.test_client()
    response = plain.get("/login")
    assert "Strict-Transport-Security" not in response.headers
    secure = app.test_client()
    token = secure.get("/api/v1/auth/csrf", base_url="https://firstline.example").get_json()["csrf_token"]
    signed_in = secure.post("/api/v1/auth/login", json={"username": "sup_T1", "password": "test-password-1"},
                            headers={"X-CSRFToken": token, "Referer": "https://firstline.example/login"},
                            base_url="https://firstline.example")
    assert signed_in.status_code == 200
    assert signed_in.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookies = signed_in.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)


def test_signed_in_pages_are_not_kept_in_the_browser_cache(app, city):
    person = PageClient(app)
    person.login("sup_T1")
    assert person.get("/desk/").headers["Cache-Control"] == "no-store"
    with person.get("/static/css/app.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_an_injected_script_in_a_case_is_shown_as_text(app, city):
    case = make_case(120.505, 32.31, title="<script>alert('t')</script>",
                     description='<img src=x onerror="alert(1)"><script>alert(2)</script>')
    db.session.commit()
    person = PageClient(app)
    person.login("sup_T1")
    page = person.get(f"/desk/cases/{case.id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page.text
    queue = person.get("/desk/")
    assert "<script>alert" not in queue.text and "&lt;script&gt;" in queue.text


def test_an_injected_script_in_admin_data_is_shown_as_text(app, city):
    admin = PageClient(app)
    admin.login("admin")
    admin.post("/admin/departments", {"code": "x1", "name": "<script>alert(3)</script>"})
    for url in ("/admin/departments", "/admin/audit"):
        text = admin.get(url).text
        assert "<script>alert(3)" not in text and "&lt;script&gt;alert(3)" in text, url


def upload_app() -> Flask:
    """A bare app with the security hook and one endpoint named like a photo download."""
    app = Flask(__name__)
    init_security_headers(app)

    @app.get("/files/<mimetype_name>")
    def photo_original(mimetype_name: str):
        return Response(b"<svg onload=alert(1)>", mimetype=mimetype_name.replace("~", "/"))

    return app


@pytest.mark.parametrize("mimetype", ["text/html", "image/svg+xml", "application/javascript", "text/xml"])
def test_an_upload_endpoint_never_serves_an_active_type(mimetype):
    response = upload_app().test_client().get(f"/files/{mimetype.replace('/', '~')}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_photos_keep_their_image_type():
    client = upload_app().test_client()
    for mimetype in INERT_UPLOAD_TYPES:
        response = client.get(f"/files/{mimetype.replace('/', '~')}")
        assert response.mimetype == mimetype and "Content-Disposition" not in response.headers


def test_the_tile_host_setting_extends_only_img_src():
    policy = content_security_policy("https://t0.tianditu.gov.cn")
    assert "img-src 'self' data: blob: https://t0.tianditu.gov.cn;" in policy
    assert "script-src 'self';" in policy


def test_personal_numbers_never_reach_the_logs(app, city, caplog):
    assert redact("查询 13812345678 与 320682199001011234X") == "查询 [手机号已隐去] 与 320682199001011234X"
    assert redact("身份证 32068219900101123X，电话13812345678。") == "身份证 [身份证号已隐去]，电话[手机号已隐去]。"
    with caplog.at_level(logging.INFO):
        app.logger.warning("lookup %s", "13812345678")
        logging.getLogger("werkzeug").info('"GET /x?phone=13812345678 HTTP/1.1" 200')
    assert "13812345678" not in caplog.text and caplog.text.count("[手机号已隐去]") == 2


def test_a_failed_statement_does_not_carry_the_petitioner_in_its_message(app, city):
    duplicate = Case(number=city.cases["V11"].number, channel="letter", category="air", sector="industrial",
                     title="t", petitioner_name="王秘密", petitioner_phone="13999999999")
    db.session.add(duplicate)
    with pytest.raises(IntegrityError) as failure:
        db.session.flush()
    db.session.rollback()
    assert "13999999999" not in str(failure.value) and "王秘密" not in str(failure.value)
