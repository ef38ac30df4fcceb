"""Cookie-borne writes must come from this site's own pages (Origin / Referer check).

The CSRF token is the main guard; this is the second, for the day a token leaks (a page
left open on a shared computer, a token in a screenshot): a state-changing request that
rides on the session cookie is refused when its ``Origin`` (or, without one, its
``Referer``) names another site, ``null`` included. Browsers send ``Origin`` on every
cross-site POST, the phone app's fetches and the desk's forms included, so a request
without both headers did not come from another site's page (the test client, scripts,
old proxies that strip them): it is let through to the CSRF check. Requests that carry no
session cookie, or authenticate with an API key (Open311), are not cookie-borne.
"""

from urllib.parse import urlsplit

from flask import Flask, current_app, request

from app.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FOREIGN_MESSAGE = "请求来源不是本站页面，已拒绝。请在本系统的页面中重新操作。"


def _host_of(url: str) -> str:
    """host[:port] of a URL, lower-cased; "" for "null" or anything without a host.

    The scheme is not compared: behind a proxy that terminates HTTPS without TRUSTED_PROXIES
    set, the app sees http while the browser says https, and every write would be refused.
    """
    return urlsplit(url.strip()).netloc.lower()


def init_same_origin(app: Flask) -> None:
    """Check the origin of every cookie-borne write."""

    @app.before_request
    def refuse_foreign_writes():
        if request.method in SAFE_METHODS or current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return None
        if request.headers.get("Authorization") or request.args.get("api_key") or request.form.get("api_key"):
            return None
        claimed = request.headers.get("Origin") or request.headers.get("Referer")
        if claimed is None:
            return None
        if _host_of(claimed) != request.host.lower():
            raise Forbidden(FOREIGN_MESSAGE, {"origin": ["请求来源不符"]})
        return None
