"""Serving: responses compressed for browsers that accept it, static files cached for a year
under a revision of their content, the inspector app's files left to its service worker."""

import gzip
import re
from pathlib import Path

from tests.page_client import PageClient

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_pages_name_static_files_by_revision_and_browsers_keep_them(app, city):
    person = PageClient(app)
    person.login("command")
    page = person.get("/desk/").text
    url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{10})"', page).group(1)
    with person.get(url, headers={"Accept-Encoding": "gzip"}) as revised:
        assert revised.status_code == 200 and revised.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(revised.data) == (STATIC / "css" / "app.css").read_bytes()
        assert "max-age=31536000" in revised.headers["Cache-Control"]
        assert "immutable" in revised.headers["Cache-Control"]
    with person.get("/static/css/app.css") as unrevised:  # e.g. a module imported by a relative path
        assert unrevised.headers["Cache-Control"] == "no-cache"


def test_json_and_pages_are_compressed_only_when_accepted(app, city):
    person = PageClient(app)
    person.login("command")
    plain = person.get("/api/v1/cases")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = person.get("/api/v1/cases", headers={"Accept-Encoding": "br, gzip"})
    assert packed.headers["Content-Encoding"] == "br" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data)
    assert person.get("/desk/", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"


def test_the_inspector_app_names_its_files_as_its_modules_import_them(app):
    shell = app.test_client().get("/m/").text
    assert 'src="/static/m/app.js"' in shell  # the service worker's precache holds exactly these URLs
    worker = app.test_client().get("/m/sw.js").text
    assert '"/static/m/api.js"' in worker and "?v=" not in worker
