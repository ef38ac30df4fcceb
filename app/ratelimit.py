"""A general guard on the JSON API per signed-in user, else per client address (Flask-Limiter).

A whole town office may sit behind one NAT address, so a signed-in person has an allowance
of their own; only requests nobody is signed in for (the sign-in itself, the CSRF token,
anything anonymous) share their address's.

Sign-in throttling does not depend on it: failed sign-ins are counted in the database
(services.login_throttle), which every process shares. This guard only caps how fast one
person or address may call the API at all (``RATELIMIT_API``, 600 requests a minute by default).
Its counts live in ``RATELIMIT_STORAGE_URI``: memory:// counts per process (right for one
process); with several gunicorn workers or servers, point it at a shared store such as
redis://127.0.0.1:6379 (docs/deploy.md). Over the limit the API answers 429 in the usual
JSON error shape.
"""

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user


def _not_api() -> bool:
    """Pages, static files and the PWA shell are not counted."""
    return not request.path.startswith("/api/")


def rate_key() -> str:
    """Whom a request counts against: the signed-in user, else the client's address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{get_remote_address()}"


def init_rate_limits(app: Flask) -> Limiter:
    """One limiter per app (its limits and storage come from the RATELIMIT_* settings)."""
    return Limiter(rate_key, app=app, application_limits_exempt_when=_not_api)
