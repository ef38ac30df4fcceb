"""In Chromium, the pages run under the Content-Security-Policy with no violation: the login
page, the desk queue, a case page with its Leaflet map, intake with its map, Swagger UI, and the
admin pages with their map."""

import pytest

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error collected."""
    problems = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def sign_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def visit(page, url, ready_selector):
    page.goto(url)
    page.locator(ready_selector).first.wait_for()
    return page.evaluate("window.__csp")


def test_pages_raise_no_csp_violation(watched, live_server, city, artifacts_dir):
    page, problems = watched
    response = page.goto(f"{live_server}/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.evaluate("window.__csp") == []
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                             document.body.append(s); }""")
    page.wait_for_function("window.__csp.length > 0")  # the watch works: an injected inline script is refused
    assert page.evaluate("window.ran") is None
    problems.clear()
    sign_in(page, live_server, "command")
    checks = {
        "/desk/": "table.cases",
        f"/desk/cases/{city.cases['V11'].id}": '#case-map[data-ready="true"] path.leaflet-interactive',
        "/desk/cases/new": '#pick-map[data-ready="true"]',
        "/api/v1/docs": ".swagger-ui .opblock",
    }
    for path, ready in checks.items():
        assert visit(page, f"{live_server}{path}", ready) == [], path
    page.locator(".opblock-summary").nth(1).click()  # an operation opened: schemas, examples, highlighting
    page.locator(".opblock-body .highlight-code, .opblock-body .model-box").first.wait_for()
    assert page.evaluate("window.__csp") == []
    page.screenshot(path=str(artifacts_dir / "csp-swagger.png"))
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_admin_pages_raise_no_csp_violation(watched, live_server, city, artifacts_dir):
    page, problems = watched
    sign_in(page, live_server, "admin")
    assert visit(page, f"{live_server}/admin/", ".setup-steps") == []
    assert visit(page, f"{live_server}/admin/grids", '#grid-map[data-ready="true"] path.leaflet-interactive') == []
    page.screenshot(path=str(artifacts_dir / "admin-grids.png"), full_page=True)
    assert visit(page, f"{live_server}/admin/users/{city.users['insp_V11'].id}", "form.account-action") == []
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="重置密码").click()  # the confirm() comes from a module, not inline script
    assert page.url.endswith(f"/admin/users/{city.users['insp_V11'].id}")
    page.screenshot(path=str(artifacts_dir / "admin-user.png"), full_page=True)
    assert not [p for p in problems if "Content Security Policy" in p], problems
