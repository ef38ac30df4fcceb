"""Hostile uploads answer a clear 4xx and store nothing, never a 500 (the phone retries a 5xx
forever, and every record queued behind that photo would wait); attachments are kept as what
they are, and PDFs that can run something are refused."""

import io
import struct
import uuid
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import CaseAttachment, Photo
from tests.helpers import INSPECTOR, Desk, make_jpeg, onsite_body, put, put_bytes
from tests.page_client import PageClient

HUGE = 50 * 1024 * 1024


@pytest.fixture
def desk(app, city):
    return Desk(app)


@pytest.fixture
def announced(desk, city):
    """A stored on-site check announcing one photo; its upload URL and id."""
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}",
               onsite_body(city.cases["V11"].id, [photo_id])).status_code == 201
    return f"/api/v1/inspections/{record_id}/photos/{photo_id}", photo_id


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(*extra: tuple[bytes, bytes], after_image: tuple[bytes, bytes] | None = None, bad_crc=False) -> bytes:
    """A 4x4 PNG with extra chunks before its pixels (and optionally one after)."""
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
    idat = _chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + b"\x80" * 12 for _ in range(4))))
    chunks = b"".join(_chunk(kind, body) for kind, body in extra)
    if bad_crc:
        chunks = chunks[:-4] + b"\x00\x00\x00\x00"
    tail = _chunk(*after_image) if after_image else b""
    return b"\x89PNG\r\n\x1a\n" + ihdr + chunks + idat + tail + _chunk(b"IEND", b"")


BIG_TEXT = zlib.compress(b"a" * HUGE, 9)

HOSTILE_PHOTOS = {
    "zTXt chunk expanding to 50 MB": _png((b"zTXt", b"Comment\x00\x00" + BIG_TEXT)),
    "iTXt chunk expanding to 50 MB": _png((b"iTXt", b"Comment\x00\x01\x00\x00\x00" + BIG_TEXT)),
    "ICC profile expanding to 50 MB": _png((b"iCCP", b"icc\x00\x00" + BIG_TEXT)),
    "many text chunks, 8 MB in all": _png(*[(b"zTXt", b"k%d\x00\x00" % n + zlib.compress(b"b" * 1_000_000))
                                            for n in range(8)]),
    "text chunk with a broken checksum": _png((b"tEXt", b"Comment\x00hello"), bad_crc=True),
    "unknown compression method": _png((b"zTXt", b"Comment\x00\x07" + zlib.compress(b"x"))),
    "HEIC header and nothing else": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
    "JPEG header and garbage": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8,
    "PNG with a huge width": _png()[:16] + struct.pack(">II", 2**31 - 1, 2**31 - 1) + _png()[24:],
}


@pytest.mark.parametrize("name", list(HOSTILE_PHOTOS))
def test_every_decode_error_is_a_4xx_and_nothing_is_stored(desk, announced, name):
    url, photo_id = announced
    response = put_bytes(desk, INSPECTOR, url, HOSTILE_PHOTOS[name], "image/png")
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert response.get_json()["message"]
    assert db.session.get(Photo, photo_id).status == "expected"


def test_the_desk_form_refuses_a_hostile_or_mislabelled_photo_too(app, city):
    handler = PageClient(app)
    handler.login("officer_env")  # the V11 case is industrial: the environment bureau handles it
    case = city.cases["V11"]
    assert handler.post(f"/desk/cases/{case.id}/actions/sign", {}).status_code == 302
    form = {"findings.source_found": "true", "findings.violation_found": "false", "findings.measures": "责令整改",
            "notes": "现场核查", "lon": "120.505", "lat": "32.31", "coord_system": "wgs84"}
    for name, data, declared in [("a.png", HOSTILE_PHOTOS["zTXt chunk expanding to 50 MB"], "image/png"),
                                 ("b.jpg", make_jpeg(400, 300), "text/html")]:
        sent = handler.post(f"/desk/cases/{case.id}/onsite", {**form, "photos": [(io.BytesIO(data), name, declared)]},
                            content_type="multipart/form-data")
        assert sent.status_code == 422 and f"照片“{name}”无法使用" in sent.text
    assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_a_photo_declared_as_another_type_is_refused(desk, announced):
    url, photo_id = announced
    refused = put_bytes(desk, INSPECTOR, url, make_jpeg(400, 300), "text/html")
    assert refused.status_code == 422 and "与声明的类型 text/html 不符" in refused.get_json()["message"]
    assert db.session.get(Photo, photo_id).status == "expected"
    # A phone that cannot tell a file's type says so; that is no claim, and the photo is taken.
    assert put_bytes(desk, INSPECTOR, url, make_jpeg(400, 300), "application/octet-stream").status_code == 201


# ---------------------------------------------------------------- attachments


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _attach(desk, files, username="sup_T1", case_id=None):
    client, token = desk.client(username)
    data = {"files": [(io.BytesIO(content), name, declared) for name, content, declared in files]}
    return client.post(f"/api/v1/cases/{case_id}/attachments", data=data, headers={"X-CSRFToken": token},
                       content_type="multipart/form-data")


def _pdf(*objects: bytes) -> bytes:
    body = b"".join(b"%d 0 obj\n" % n + o + b"\nendobj\n" for n, o in enumerate(objects, start=1))
    return b"%PDF-1.7\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _object_stream(content: bytes) -> bytes:
    packed = zlib.compress(content)
    return b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed) \
        + packed + b"\nendstream"


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
ACTIVE_PDFS = {
    "document JavaScript": _pdf(b"<< /Type /Catalog /Names << /JavaScript 2 0 R >> >>"),
    "JavaScript on opening": _pdf(b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"),
    "escaped name": _pdf(b"<< /Type /Catalog /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >>"),
    "embedded file": _pdf(CATALOG, b"<< /Type /EmbeddedFile /Length 3 >>\nstream\nabc\nendstream"),
    "launch action": _pdf(b"<< /Type /Catalog /OpenAction << /S /Launch /F (calc.exe) >> >>"),
    "JavaScript inside a compressed object stream": _pdf(CATALOG, _object_stream(b"3 0 << /S /JavaScript /JS (x) >>")),
}


@pytest.mark.parametrize("name", list(ACTIVE_PDFS))
def test_a_pdf_that_can_run_something_is_refused(desk, city, name):
    response = _attach(desk, [("来信.pdf", ACTIVE_PDFS[name], "application/pdf")], case_id=city.cases["V11"].id)
    assert response.status_code == 422, name
    assert "含有脚本或嵌入文件" in response.get_json()["message"]
    assert db.session.scalar(select(func.count(CaseAttachment.id))) == 0


def test_a_plain_pdf_with_compressed_pages_is_taken(desk, city):
    plain = _pdf(CATALOG, _object_stream(b"3 0 << /Type /Page /Contents 4 0 R >>"))
    assert _attach(desk, [("来信.pdf", plain, "application/pdf")], case_id=city.cases["V11"].id).status_code == 201


def test_a_pdf_bomb_is_refused_not_inflated(desk, city):
    bomb = _pdf(CATALOG, b"<< /Filter /FlateDecode >>\nstream\n" + zlib.compress(b"\x00" * 100_000_000, 9)
                + b"\nendstream")
    response = _attach(desk, [("大.pdf", bomb, "application/pdf")], case_id=city.cases["V11"].id)
    assert response.status_code == 422 and "无法检查" in response.get_json()["message"]


def test_an_attachment_is_kept_and_served_as_what_it_is(desk, city):
    polyglot = _jpeg() + b"<html><script>alert(document.cookie)</script></html>"
    stored = _attach(desk, [("x.html", polyglot, "")], case_id=city.cases["V11"].id)
    assert stored.status_code == 201
    body = stored.get_json()[0]
    assert body["filename"] == "x.jpg" and body["content_type"] == "image/jpeg"
    with desk.client("sup_T1")[0].get(body["url"]) as download:
        assert download.mimetype == "image/jpeg"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "x.jpg" in download.headers["Content-Disposition"] and "html" not in download.headers[
            "Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("declared", ["text/html", "application/pdf", "image/png"])
def test_an_attachment_declared_as_another_type_is_refused(desk, city, declared):
    response = _attach(desk, [("现场.jpg", _jpeg(), declared)], case_id=city.cases["V11"].id)
    assert response.status_code == 422
    assert f"与声明的类型 {declared} 不符" in response.get_json()["message"]
    assert db.session.scalar(select(func.count(CaseAttachment.id))) == 0
