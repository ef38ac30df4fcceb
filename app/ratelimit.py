"""A general guard on the JSON API per client address (Flask-Limiter).

Sign-in throttling does not depend on it: failed sign-ins are counted in the database
(services.login_throttle), which every process shares. This guard only caps how fast one
address may call the API at all (``RATELIMIT_API``, 600 requests a minute by default).
Its counts live in ``RATELIMIT_STORAGE_URI``: memory:// counts per process (right for one
process); with several gunicorn workers or servers, point it at a shared store such as
redis://127.0.0.1:6379 (docs/deploy.md). Over the limit the API answers 429 in the usual
JSON error shape.
"""

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _not_api() -> bool:
    """Pages, static files and the PWA shell are not counted."""
    return not request.path.startswith("/api/")


def init_rate_limits(app: Flask) -> Limiter:
    """One limiter per app (its limits and storage come from the RATELIMIT_* settings)."""
    return Limiter(get_remote_address, app=app, application_limits_exempt_when=_not_api)
