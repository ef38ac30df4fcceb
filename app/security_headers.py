"""Security headers on every response, from one after_request hook.

* A Content-Security-Policy with no inline script anywhere: page scripts are files under
  ``static/js`` (or npm packages served from ``/vendor``), so an injected ``<script>`` in
  a case description could not run even if a template forgot to escape it.
* ``X-Content-Type-Options: nosniff``, so a browser never guesses a type from content.
* Frames refused (``frame-ancestors 'none'``, and ``X-Frame-Options`` for old browsers).
* HSTS and ``Secure`` cookies whenever the request came over HTTPS (directly, or through
  nginx with ``TRUSTED_PROXIES`` set), so a production deployment cannot forget them.
* Files served by an upload endpoint (any endpoint whose name mentions a photo or an
  upload) leave only as inert image types; anything else is sent as a download.
"""

from flask import Flask, Response, g, has_request_context, request, session, template_rendered
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Types a browser shows but never runs. SVG is absent on purpose: it can carry script.
INERT_UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/gif"})
UPLOAD_ENDPOINT_WORDS = ("photo", "upload")


def content_security_policy(img_hosts: str = "") -> str:
    """The policy for every response; ``img_hosts`` adds e.g. a base-map tile server."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(["'self'", "data:", "blob:", *img_hosts.split()]),
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def init_security_headers(app: Flask) -> None:
    """Trust the configured proxies and add the headers hook."""
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    policy = content_security_policy(app.config.get("CSP_IMG_HOSTS", ""))
    hsts = f"max-age={app.config.get('HSTS_MAX_AGE', 31536000)}"
    template_rendered.connect(_note_rendered, app)
    app.session_interface = HttpsAwareSessionInterface()

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        _harden_upload(response)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()"
        if g.get("rendered_page") and "_user_id" in session and "Cache-Control" not in headers:
            # A signed-in page may show a petitioner's phone: keep it out of the back/forward
            # cache of a shared office computer once its user has signed out.
            headers["Cache-Control"] = "no-store"
        if request.is_secure:
            headers["Strict-Transport-Security"] = hsts
            _secure_cookies(response)
        return response


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure when configured so, and always on a request over HTTPS.

    (The session is saved after the after_request hooks, so the hook cannot mark it.)
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure by configuration, or because this request came over HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


def _note_rendered(sender, template, context, **extra) -> None:
    """Remember that this response is one of our own templates."""
    g.rendered_page = True


def _harden_upload(response: Response) -> None:
    """An upload endpoint's file goes out as an inert image, or as a download in a sandbox."""
    endpoint = (request.endpoint or "").lower()
    if not any(word in endpoint for word in UPLOAD_ENDPOINT_WORDS) or response.is_json:
        return
    if response.status_code >= 300 or response.mimetype in INERT_UPLOAD_TYPES:
        return
    response.headers["Content-Type"] = "application/octet-stream"
    response.headers["Content-Disposition"] = "attachment"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"


def _secure_cookies(response: Response) -> None:
    """Mark every cookie a view or extension set Secure on an HTTPS response."""
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        if "; secure" not in cookie.lower():
            cookie += "; Secure"
        response.headers.add("Set-Cookie", cookie)
