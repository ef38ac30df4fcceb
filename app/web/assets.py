"""Static files: cached by browsers for a year under a revision, revalidated without one.

``url_for("static", filename=…)`` adds ``?v=`` with a hash of the file's content, so a page
always names the file it was made with and the browser keeps it for a year; a changed file
gets a new URL. A file asked for without a revision (an ES module imported by another with a
relative path, an old bookmark) is revalidated on every use, so it is never stale.

The inspector app's own files are left unrevised: its service worker keeps the offline copy
and versions it as a whole (``field_app.app_version``), and the URLs in its precache list must
be those its modules import.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, current_app, has_request_context, request

ONE_YEAR_S = 365 * 24 * 3600
# Pages of these blueprints name static files exactly as the modules they load import them.
UNREVISED_BLUEPRINTS = {"field_app"}
# Endpoints that send files from disk: read whole before compression (see _cache_headers).
FILE_ENDPOINTS = {"static", "vendor.vendor_file"}


@lru_cache(maxsize=1024)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """A short hash of one file's content (remembered until the file changes)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def revision(filename: str) -> str | None:
    """The revision of a static file, or None when there is no such file."""
    path = Path(current_app.static_folder) / filename
    try:
        stat = path.stat()
    except OSError:
        return None
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


def _add_revision(endpoint: str, values: dict) -> None:
    """url_for's default for static files: their revision as ``v``."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    if has_request_context() and request.blueprint in UNREVISED_BLUEPRINTS:
        return
    version = revision(values["filename"])
    if version:
        values["v"] = version


def _cache_headers(response: Response) -> Response:
    """A year for a revised static file, revalidation for an unrevised one.

    Static and vendored files are read into the response (scripts and styles are small) so
    that they are compressed whole, with a length; streamed answers are sent uncompressed.
    """
    if request.endpoint in FILE_ENDPOINTS and response.status_code == 200:
        response.direct_passthrough = False
        response.make_sequence()
    if request.endpoint == "static" and response.status_code in (200, 304):
        if request.args.get("v"):
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR_S
            response.cache_control.immutable = True
            response.expires = None
        else:
            response.cache_control.max_age = None
            response.cache_control.no_cache = True
    return response


def init_assets(app: Flask) -> None:
    """Revise static URLs and set their cache lifetimes."""
    app.url_defaults(_add_revision)
    app.after_request(_cache_headers)
