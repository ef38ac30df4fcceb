"""The desk's evidence: the on-site form with photos, flagged checks and their acceptance, the
evidence on the case page and in the review and close forms, the 销号 checklist, and a case
taken from registration to 销号 entirely at the desk."""

import hashlib
import io
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Case, CaseEvent, Inspection, Photo
from app.models.vocab import CaseStatus, PhotoStatus, Stage
from app.services.cases import deadlines
from app.services.cases.timeline import append_event
from tests.helpers import Desk, make_jpeg, onsite_body, plan_date
from tests.page_client import PageClient

HANDLER = "officer_env"  # the V11 case is industrial: the environment bureau handles it


@pytest.fixture
def people(app, city):
    """One signed-in page client per user, made on first use."""
    clients = {}

    def person(username):
        if username not in clients:
            clients[username] = PageClient(app)
            assert clients[username].login(username).status_code == 302
        return clients[username]

    return person


def act(people, username, case_id, step, status=200, **form):
    """Take one step from the case page's actions panel; return the page it leads to (a refusal
    comes back at once, with its status)."""
    page = people(username).post(f"/desk/cases/{case_id}/actions/{step}", form, follow_redirects=True)
    assert page.status_code == status
    return page.text


def onsite(people, username, case_id, photos=(), **form):
    """Post the desk's on-site form with photo files (name, bytes)."""
    files = [(io.BytesIO(data), name) for name, data in photos]
    return people(username).post(f"/desk/cases/{case_id}/onsite", {**form, "photos": files},
                                 content_type="multipart/form-data")


def signed_v11(people, city) -> Case:
    case = city.cases["V11"]
    act(people, HANDLER, case.id, "sign")
    return case


GOOD = {"findings.source_found": "true", "findings.violation_found": "false", "findings.measures": "责令停用喷漆房",
        "notes": "现场有明显漆味", "lon": "120.505000", "lat": "32.310000", "coord_system": "wgs84"}


def test_desk_onsite_form_stores_photos_through_the_phone_pipeline(people, city):
    case = signed_v11(people, city)
    form = people(HANDLER).get(f"/desk/cases/{case.id}").text
    assert 'enctype="multipart/form-data"' in form and "属实：找到污染源" in form and "现场不允许拍照" in form
    assert 'name="lon" inputmode="decimal" value="120.505000"' in form  # the case's location by default
    sent = onsite(people, HANDLER, case.id, [("a.jpg", make_jpeg(800, 600)), ("b.jpg", make_jpeg(600, 800))], **GOOD)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("#evidence")
    check = db.session.scalar(select(Inspection))
    assert check.recorded_via == "desk" and check.manual_location and check.location_source == "manual"
    assert check.distance_to_case_m == 0 and not (check.far_from_case or check.poor_accuracy or check.incomplete)
    assert check.findings["source_found"] is True and check.findings["violation_found"] is False
    photos = check.photos
    assert len(photos) == 2 and {p.origin for p in photos} == {"desk"}
    assert all(p.status == PhotoStatus.RECEIVED and p.original_sha256 == p.sha256 for p in photos)
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert stored.first_onsite_at == check.captured_at
    assert deadlines.clock_for(stored, Stage.ONSITE).done_at == check.captured_at

    page = people(HANDLER).get(f"/desk/cases/{case.id}").text
    assert "已记录现场核查，计入现场核查" in page
    for photo in photos:
        assert f"/api/v1/photos/{photo.id}/thumb" in page and f"/api/v1/photos/{photo.id}/display" in page
    assert "下载原图" in page and "办公端上传" in page and "地图手选位置" in page and "距案件位置 <strong>0 米" in page
    with people(HANDLER).get(f"/api/v1/photos/{photos[0].id}/thumb") as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


@pytest.mark.parametrize("files, form, message", [
    ([("notes.txt", "不是照片".encode())], GOOD, "照片“notes.txt”无法使用"),
    ([("a.jpg", make_jpeg(400, 300))], GOOD | {"no_photo_reason": "safety"}, "已有照片时不能再选择无法拍照的原因"),
    ([], GOOD | {"lat": "", "no_photo_reason": "not_allowed"}, "核查位置须同时填写经度和纬度"),
    ([], GOOD | {"lon": "东经120度", "no_photo_reason": "not_allowed"}, "经度应为数字"),
    ([], GOOD | {"captured_at": "2099-01-01T08:00:00+08:00", "no_photo_reason": "not_allowed"},
     "核查时间不能晚于当前时间"),
    ([], {k: v for k, v in GOOD.items() if not k.endswith("_found")},
     "须至少拍一张照片，或选择无法拍照的原因；须选择核查结论"),
])
def test_bad_desk_onsite_input_is_refused_in_chinese_and_keeps_what_was_typed(people, city, files, form, message):
    case = signed_v11(people, city)
    refused = onsite(people, HANDLER, case.id, files, **form)
    assert refused.status_code == 422
    assert message in refused.text and "照片须重新选择" in refused.text
    assert "现场有明显漆味</textarea>" in refused.text and "责令停用喷漆房" in refused.text
    assert re.search(r'<details class="action" data-step="record_onsite"\s+open>', refused.text)
    assert db.session.scalar(select(Inspection.id)) is None and db.session.scalar(select(Photo.id)) is None


def test_a_supervisors_own_flagged_check_says_who_may_accept_it(app, people, city):
    # The supervisor is on site himself: his far check waits for someone else, and says so.
    case = signed_v11(people, city)
    client, token = Desk(app).client("sup_T1")
    far = uuid.uuid4()
    assert client.put(f"/api/v1/inspections/{far}", json=onsite_body(case.id, [uuid.uuid4()], lon=120.53, lat=32.31),
                      headers={"X-CSRFToken": token}).status_code == 201
    page = people("sup_T1").get(f"/desk/cases/{case.id}").text
    assert "待他人确认" in page and f"/inspections/{far}/accept" not in page


def test_a_far_check_waits_for_a_supervisor_and_an_empty_one_cannot_be_accepted(app, people, city):
    """The desk form refuses an empty check outright (above); one that arrives flagged through
    the API waits for a supervisor, who may vouch for a doubtful position but not for evidence
    nobody recorded."""
    case = signed_v11(people, city)
    phone = Desk(app)
    far, empty = uuid.uuid4(), uuid.uuid4()
    client, token = phone.client("insp_V11")
    headers = {"X-CSRFToken": token}
    photo = uuid.uuid4()
    assert client.put(f"/api/v1/inspections/{far}", json=onsite_body(case.id, [photo], lon=120.53, lat=32.31),
                      headers=headers).status_code == 201
    bare = onsite_body(case.id) | {"findings": {}}
    assert client.put(f"/api/v1/inspections/{empty}", json=bare, headers=headers).status_code == 201
    page = people(HANDLER).get(f"/desk/cases/{case.id}").text
    assert "待确认" in page and "确认该核查有效" not in page  # the handler cannot accept
    db.session.expire_all()
    assert db.session.get(Case, case.id).first_onsite_at is None

    supervisor_page = people("sup_T1").get(f"/desk/cases/{case.id}").text
    action = f"/desk/cases/{case.id}/inspections/{far}/accept"
    assert action in supervisor_page
    refused = people("sup_T1").post(action, {"note": ""}, follow_redirects=True)
    assert "须填写确认说明" in refused.text
    accepted = people("sup_T1").post(action, {"note": "已电话核实网格员当日在场"}, follow_redirects=True)
    assert "已确认该核查有效" in accepted.text and "已电话核实网格员当日在场" in accepted.text
    assert "确认现场核查有效" in accepted.text  # the timeline names the event in Chinese
    db.session.expire_all()
    far_check = db.session.get(Inspection, far)
    assert db.session.get(Case, case.id).first_onsite_at == far_check.captured_at
    assert far_check.accepted_by_id == city.users["sup_T1"].id
    assert people(HANDLER).post(action, {"note": "我确认"}).status_code == 302  # refused with a flash
    assert people("sup_T2").post(action, {"note": "别的镇"}).status_code == 404

    not_evidence = people("sup_T1").post(f"/desk/cases/{case.id}/inspections/{empty}/accept",
                                         {"note": "电话核实"}, follow_redirects=True)
    assert "不能确认为有效" in not_evidence.text and "未选择核查结论" in not_evidence.text
    db.session.expire_all()
    assert db.session.get(Inspection, empty).accepted_at is None


def test_a_case_is_registered_handled_and_closed_entirely_at_the_desk(people, city):
    command = people("command")
    intake = command.post("/desk/cases/new", {
        "channel": "visit", "category": "air", "sector": "industrial", "priority": "normal",
        "title": "喷漆厂异味", "lon": "120.5052", "lat": "32.3101", "coord_system": "wgs84",
        "petitioner_phone": "13812340000"})
    assert intake.status_code == 302
    case = db.session.scalar(select(Case).where(Case.title == "喷漆厂异味"))
    act(people, "command", case.id, "accept", legal_track="petition")
    act(people, "sup_T1", case.id, "assign")
    act(people, HANDLER, case.id, "sign")
    assert onsite(people, HANDLER, case.id, [("site.jpg", make_jpeg(800, 600))], **GOOD).status_code == 302
    act(people, HANDLER, case.id, "plan", measures="限期安装废气收集装置", responsible_name="王五",
        target_date=plan_date())
    act(people, HANDLER, case.id, "reply", request_summary="要求整治异味", facts_and_reasons="经现场核查属实",
        decision="support", legal_basis="《大气污染防治法》")

    review = people("sup_T1").get(f"/desk/cases/{case.id}").text
    photo = db.session.scalar(select(Photo))
    form = review[review.index('data-step="review_pass"'):]
    assert "现场证据（请先查看再决定）" in form and f"/api/v1/photos/{photo.id}/thumb" in form
    assert "销号条件" in review and "✗" in review  # the follow-up is still missing
    act(people, "sup_T1", case.id, "review_pass", note="答复规范")
    act(people, "sup_T1", case.id, "follow_up", satisfaction="satisfied")
    before = people("sup_T1").get(f"/desk/cases/{case.id}").text
    close_form = before[before.index('data-step="close"'):]
    checklist = before[before.index('id="close-checklist"'):before.index('data-step="close"')]
    assert f"/api/v1/photos/{photo.id}/thumb" in close_form and checklist.count("✓") == 3
    done = act(people, "sup_T1", case.id, "close", note="整改到位")
    assert "已销号，案件现为「已销号」" in done
    timeline = done[done.index("办理记录"):]
    for code in ("record_onsite", "review_pass", "close", "register"):
        assert f"<strong>{code}</strong>" not in timeline
    assert "现场核查" in timeline and "照片 1 张" in timeline and "计入现场核查" in timeline


def test_close_checklist_says_what_is_missing_before_the_last_step(people, city):
    case = city.cases["V11"]
    case.status = CaseStatus.FOLLOWED_UP
    db.session.commit()
    page = people("sup_T1").get(f"/desk/cases/{case.id}").text
    checklist = page[page.index('id="close-checklist"'):]
    checklist = checklist[:checklist.index("</ul>")]
    assert checklist.count('class="unmet"') == 3 and "有一次有效的现场核查" in checklist
    refused = act(people, "sup_T1", case.id, "close", status=409)
    assert "不能销号" in refused and "须有一次有效的现场核查" in refused
    # The followed-up case still takes its on-site check from the desk.
    assert 'data-step="record_onsite"' in people(HANDLER).get(f"/desk/cases/{case.id}").text


def test_every_timeline_entry_is_named_in_chinese(people, city):
    case = city.cases["V11"]
    for kind in ("contact_card", "public_rating", "attach"):
        append_event(case, kind, note="测试")
    db.session.commit()
    page = people("sup_T1").get(f"/desk/cases/{case.id}").text
    timeline = page[page.index("办理记录"):]
    assert "发放联系卡" in timeline and "群众评价" in timeline and "上传附件" in timeline
    assert not re.search(r"<strong>[a-z_]+</strong>", timeline)
    assert db.session.scalar(select(CaseEvent.kind).where(CaseEvent.kind == "contact_card")) == "contact_card"


def test_a_phone_copy_is_labelled_as_such_on_the_download(people, city, app):
    phone = Desk(app)
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    client, token = phone.client("insp_V11")
    client.put(f"/api/v1/inspections/{record_id}", json=onsite_body(city.cases["V11"].id, [photo_id]),
               headers={"X-CSRFToken": token})
    data = make_jpeg(800, 600)
    client.put(f"/api/v1/inspections/{record_id}/photos/{photo_id}", data=data,
               headers={"X-CSRFToken": token, "Content-Type": "image/jpeg",
                        "X-Content-SHA256": hashlib.sha256(data).hexdigest()})
    page = people("sup_T1").get(f"/desk/cases/{city.cases['V11'].id}").text
    assert "下载手机压缩件" in page and "下载原图" not in page
    inspector_page = people("insp_V11").get(f"/desk/cases/{city.cases['V11'].id}").text
    assert f"/api/v1/photos/{photo_id}/thumb" in inspector_page and "/original" not in inspector_page


def test_a_time_at_the_end_of_the_calendar_never_breaks_the_case_page(app, people, city):
    # Stored before phones' times were checked: 9999-12-31 23:59 UTC has no city time (year 10000).
    case, record, photo = city.cases["V11"], uuid.uuid4(), uuid.uuid4()
    client, token = Desk(app).client("insp_V11")
    assert client.put(f"/api/v1/inspections/{record}", json=onsite_body(case.id, [photo]),
                      headers={"X-CSRFToken": token}).status_code == 201
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    db.session.execute(update(Inspection).where(Inspection.id == record).values(captured_at=last, fix_at=last))
    db.session.execute(update(Photo).where(Photo.id == photo).values(captured_at=last, exif_taken_at=last))
    db.session.commit()
    for username in ("sup_T1", "insp_V11"):
        page = people(username).get(f"/desk/cases/{case.id}")
        assert page.status_code == 200 and "9999-12-31T23:59:59+00:00" in page.text


def test_photo_flags_on_the_desk_say_how_old_and_how_far(app, people, city):
    """A reviewer deciding on a flagged photo reads by how much it is off, not only that it is."""
    case = signed_v11(people, city)
    phone = Desk(app)
    record, photo = uuid.uuid4(), uuid.uuid4()
    body = onsite_body(case.id, [photo], captured_at="2026-11-29T09:30:00+08:00")
    body["photos"][0] |= {"origin": "gallery", "exif_taken_at": "2026-11-26T09:00:00+08:00",
                          "exif_lon": 120.6, "exif_lat": 32.31}
    client, token = phone.client("insp_V11")
    assert client.put(f"/api/v1/inspections/{record}", json=body, headers={"X-CSRFToken": token}).status_code == 201
    data = make_jpeg(800, 600, gps=(120.6, 32.31), taken="2026:11:26 09:00:00", offset="+08:00")
    assert client.put(f"/api/v1/inspections/{record}/photos/{photo}", data=data, headers={
        "X-CSRFToken": token, "Content-Type": "image/jpeg",
        "X-Content-SHA256": hashlib.sha256(data).hexdigest()}).status_code == 201
    page = people("sup_T1").get(f"/desk/cases/{case.id}").text
    assert "拍摄早于核查 3 天" in page and re.search(r"拍摄位置离核查点 8\.\d 公里", page)
    assert "相册选取" in page
