"""The inspector's installable app (三级网格员移动端) at /m/: shell page, service worker, manifest.

The shell is the same for everyone and needs no sign-in, so the service worker can cache it
and the app opens with no network; who is signed in and what they see comes later from the
JSON API (``/api/v1/field/bootstrap``) and lives on the phone in IndexedDB.
"""

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for

from app.models.vocab import Category, Sector, Subcategory
from app.web.vendor import PACKAGES

bp = Blueprint("field_app", __name__, url_prefix="/m", template_folder="templates")

THEME_COLOUR = "#0b6e4f"
BACKGROUND_COLOUR = "#ffffff"

# The app's own modules; the shell loads app.js, which imports the rest.
MODULES = (
    "app.js", "api.js", "store.js", "outbox-core.js", "sync.js", "geo.js", "photos.js",
    "views.js", "conflicts.js", "record-form.js", "onsite-rules.js", "card.js", "map-pick.js", "patrol.js",
    "util.js", "news.js",
)
# npm files the app needs with no network (vendor.PACKAGES names them). exifr's "lite" ES
# module reads JPEG and HEIC EXIF in the browser (the "full" build adds Node readers and
# formats a phone never shoots).
VENDOR_FILES = (("idb", "index.js"), ("qrcode-generator", "qrcode.mjs"), ("exifr", "lite.esm.mjs"))
# Fetched into a second cache once the app has started, not on first load: only the manual
# map pick needs them, and it must still work offline.
DEFERRED_VENDOR_FILES = (("leaflet", "leaflet.js"), ("leaflet", "leaflet.css"))
# Modules of static/js the phone shares with the desk and the wall.
SHARED_MODULES = ("coords.js", "leaflet-zh.js")
# The service worker pulls these in with importScripts for Background Sync.
WORKER_VENDOR_FILES = (("idb", "umd.js"),)


def precache_urls() -> list[str]:
    """Every URL the app shell needs to start offline, in the order the worker caches them."""
    urls = [url_for("field_app.shell"), url_for("field_app.offline"), url_for("field_app.manifest")]
    urls.append(url_for("static", filename="m/app.css"))
    urls += [url_for("static", filename=f"m/{name}") for name in MODULES]
    urls += [url_for("static", filename=f"js/{name}") for name in SHARED_MODULES]
    urls += [url_for("vendor.vendor_file", package=p, filename=f) for p, f in VENDOR_FILES]
    return urls


def deferred_urls() -> list[str]:
    """Files cached after start-up (Leaflet for the manual map pick)."""
    return [url_for("vendor.vendor_file", package=p, filename=f) for p, f in DEFERRED_VENDOR_FILES]


def _asset_files() -> list[Path]:
    """The files whose content makes up one version of the app."""
    root = Path(current_app.root_path)
    static = root.parent / "static"
    modules = root.parent / "node_modules"
    files = [static / "m" / "sw.js", static / "m" / "app.css", *(static / "js" / name for name in SHARED_MODULES)]
    files += [static / "m" / name for name in MODULES]
    files += [modules / PACKAGES[p] / f for p, f in VENDOR_FILES + DEFERRED_VENDOR_FILES + WORKER_VENDOR_FILES]
    files += sorted((root / "web" / "templates" / "field").glob("*.html"))
    return files


def app_version() -> str:
    """A short hash of every shell file: any change makes a new worker, hence an update prompt."""
    digest = hashlib.sha256()
    for path in _asset_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _no_cache(response: Response) -> Response:
    """Revalidate on every request: the worker, not the HTTP cache, keeps the offline copy."""
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def shell():
    """The app shell (no sign-in needed: it holds no personal data and must be cacheable)."""
    html = render_template(
        "field/shell.html",
        categories=Category.labels(),
        subcategories=Subcategory.labels(),
        sectors=Sector.labels(),
        theme_colour=THEME_COLOUR,
    )
    return _no_cache(Response(html, mimetype="text/html"))


@bp.get("/offline")
def offline():
    """What a page under /m/ shows when it is neither cached nor reachable."""
    return _no_cache(Response(render_template("field/offline.html", theme_colour=THEME_COLOUR), mimetype="text/html"))


@bp.get("/sw.js")
def service_worker():
    """The service worker, stamped with the app version and its precache list."""
    source = (Path(current_app.static_folder) / "m" / "sw.js").read_text(encoding="utf-8")
    worker_imports = [url_for("vendor.vendor_file", package=p, filename=f) for p, f in WORKER_VENDOR_FILES]
    worker_imports.append(url_for("static", filename="m/outbox-core.js"))
    source = (
        source.replace('"__FIRSTLINE_VERSION__"', json.dumps(app_version()))
        .replace('["__FIRSTLINE_PRECACHE__"]', json.dumps(precache_urls()))
        .replace('["__FIRSTLINE_DEFERRED__"]', json.dumps(deferred_urls()))
        .replace('["__FIRSTLINE_WORKER_IMPORTS__"]', json.dumps(worker_imports))
    )
    response = Response(source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("field_app.shell")
    return _no_cache(response)


def _icon(name: str) -> str:
    """The URL of one of the app's icons."""
    return url_for("static", filename=f"m/icons/{name}")


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: name, icons, colours, standalone display, scope /m/."""
    body = {
        "name": "第一线 · 网格员",
        "short_name": "第一线",
        "description": "环境信访现场核查、巡查发现与联系卡（可离线使用）",
        "lang": "zh-CN",
        "dir": "ltr",
        "id": url_for("field_app.shell"),
        "start_url": url_for("field_app.shell"),
        "scope": url_for("field_app.shell"),
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["productivity", "government"],
        "icons": [
            {"src": _icon("icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": _icon("icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": _icon("maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    return _no_cache(response)
