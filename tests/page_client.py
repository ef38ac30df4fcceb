"""A browser-like test client for the server-rendered pages: signs in through the login
form and sends the CSRF token with every form it posts."""

import re

from tests.factories import PASSWORD


class PageClient:
    """One person using the pages, with their own cookies."""

    def __init__(self, app):
        self.client = app.test_client()

    def token(self) -> str:
        """A CSRF token bound to this client's session."""
        return self.client.get("/api/v1/auth/csrf").get_json()["csrf_token"]

    def login(self, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
        """Post the login form; returns the response (302 on success)."""
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": self.token()},
                                environ_base={"REMOTE_ADDR": address})

    def get(self, url: str, **kwargs):
        """GET a page."""
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        """POST a form with the CSRF token."""
        return self.client.post(url, data={**(data or {}), "csrf_token": self.token()}, **kwargs)


def secrets_on(html: str) -> dict[str, str]:
    """Username → temporary password from an import or password page's table rows."""
    rows = re.findall(r"<tr><td>\d+</td><td>([^<]+)</td><td>[^<]*</td><td>[^<]*</td><td class=\"secret\">([^<]+)</td>",
                      html)
    return dict(rows)
