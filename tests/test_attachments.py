"""Attachments filed with a case: real files only, all or nothing, handlers only."""

import io
import re

from PIL import Image
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import CaseAttachment
from tests.helpers import HOSTILE_NAME, Desk, header_is_clean

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _post(desk, username, case_id, files):
    client, token = desk.client(username)
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/api/v1/cases/{case_id}/attachments", data=data, headers={"X-CSRFToken": token},
                       content_type="multipart/form-data")


def test_handlers_attach_and_download_files(app, city):
    desk = Desk(app)
    case = city.cases["V11"]
    stored = _post(desk, "sup_T1", case.id, [("来信扫描.pdf", PDF), ("现场.jpg", _jpeg())])
    assert stored.status_code == 201
    assert [a["filename"] for a in stored.get_json()] == ["来信扫描.pdf", "现场.jpg"]
    with desk.client("officer_env")[0].get(stored.get_json()[0]["url"]) as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.mimetype == "application/pdf" and "attachment" in download.headers["Content-Disposition"]
    assert desk.get("insp_V11", f"/api/v1/cases/{case.id}/attachments").status_code == 403
    assert desk.get("insp_V11", stored.get_json()[0]["url"]).status_code == 403
    assert desk.get("sup_T2", stored.get_json()[0]["url"]).status_code == 404


def test_a_bad_file_keeps_nothing(app, city):
    desk = Desk(app)
    refused = _post(desk, "sup_T1", city.cases["V11"].id,
                    [("ok.pdf", PDF), ("病毒.exe", b"MZ\x90\x00 not a document"), ("empty.pdf", b"")])
    assert refused.status_code == 422 and "附件只接受" in refused.get_json()["message"]
    assert db.session.scalar(select(func.count(CaseAttachment.id))) == 0


def test_intake_form_files_the_attachments(app, city):
    desk = Desk(app)
    client, _ = desk.client("sup_T1")
    form = client.get("/desk/cases/new").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/desk/cases/new", content_type="multipart/form-data", data={
        "csrf_token": token, "channel": "letter", "category": "water", "sector": "industrial",
        "priority": "normal", "title": "来信反映排污", "lon": "120.505", "lat": "32.315", "coord_system": "wgs84",
        "petitioner_name": "赵六", "attachments": [(io.BytesIO(PDF), "来信.pdf")],
    })
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "来信.pdf" in page
    bad = client.post("/desk/cases/new", content_type="multipart/form-data", data={
        "csrf_token": token, "channel": "letter", "category": "water", "sector": "industrial",
        "priority": "normal", "title": "第二封来信", "lon": "120.505", "lat": "32.315", "coord_system": "wgs84",
        "petitioner_name": "赵六", "attachments": [(io.BytesIO(b"plain text"), "x.txt")],
    })
    assert bad.status_code == 422 and "附件只接受" in bad.text
    assert db.session.scalar(select(func.count()).where(CaseAttachment.filename == "x.txt")) == 0
    from app.models import Case

    assert db.session.scalar(select(func.count(Case.id)).where(Case.title == "第二封来信")) == 0


def test_control_characters_never_reach_a_name_or_the_download_header(app, city):
    # DEL in a name made the download's Content-Disposition invalid: gunicorn answered 500.
    desk = Desk(app)
    stored = _post(desk, "sup_T1", city.cases["V11"].id, [(HOSTILE_NAME, PDF), ("a\x7fb.jpg", _jpeg())])
    assert stored.status_code == 201
    assert [a["filename"] for a in stored.get_json()] == ["abc.pdf", "ab.jpg"]
    # A name stored before uploads were cleaned still downloads with a clean header.
    first = stored.get_json()[0]
    db.session.execute(update(CaseAttachment).where(CaseAttachment.id == first["id"]).values(filename=HOSTILE_NAME))
    db.session.commit()
    for attachment in stored.get_json():
        with desk.client("sup_T1")[0].get(attachment["url"]) as download:
            header = download.headers["Content-Disposition"]
            assert download.status_code == 200 and header_is_clean(header), header
            assert header.startswith("attachment; ") and "filename*=UTF-8''a" in header


def test_an_upload_with_no_file_is_refused_not_answered_with_nothing(app, city):
    desk = Desk(app)
    client, token = desk.client("sup_T1")
    url = f"/api/v1/cases/{city.cases['V11'].id}/attachments"
    empty = client.post(url, data=b"", content_type="multipart/form-data; boundary=XX", headers={"X-CSRFToken": token})
    no_file = client.post(url, data={"note": "x"}, content_type="multipart/form-data", headers={"X-CSRFToken": token})
    for response in (empty, no_file):
        assert response.status_code == 422 and response.get_json()["message"] == "须选择要上传的文件。"
    assert db.session.scalar(select(func.count(CaseAttachment.id))) == 0


def test_a_file_name_not_in_utf8_is_refused_with_a_reason(app, city):
    # Werkzeug dropped the whole form silently, and the upload answered 201 with nothing stored.
    desk = Desk(app)
    client, token = desk.client("sup_T1")
    body = (b'--XX\r\nContent-Disposition: form-data; name="files"; filename="\xc0\xb4\xd0\xc5.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n" + PDF + b"\r\n--XX--\r\n")
    response = client.post(f"/api/v1/cases/{city.cases['V11'].id}/attachments", data=body,
                           content_type="multipart/form-data; boundary=XX", headers={"X-CSRFToken": token})
    assert response.status_code == 400 and "UTF-8" in response.get_json()["message"]
    assert db.session.scalar(select(func.count(CaseAttachment.id))) == 0
