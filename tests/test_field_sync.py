"""The inspector app's sync API: idempotent records, photos and cards, and every bad upload."""

import hashlib
import io
import threading
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, CaseEvent, ContactCard, Inspection, Photo
from app.services.field.photos import photo_path
from tests.helpers import INSPECTOR, Desk, make_jpeg, onsite_body, put, put_bytes


@pytest.fixture
def desk(app, city):
    return Desk(app)


def test_bootstrap_gives_my_grid_and_masked_cases(desk, city):
    body = desk.get(INSPECTOR, "/api/v1/field/bootstrap").get_json()
    assert body["grid"]["properties"]["code"] == "V11"
    assert body["grid"]["geometry"]["type"] == "MultiPolygon"
    assert [c["number"] for c in body["cases"]] == [city.cases["V11"].number]
    assert body["cases"][0]["petitioner"]["phone"] == "*******5678"
    assert body["settings"]["gps_accept_m"] == 20 and body["settings"]["gps_warn_m"] == 100
    # The phone words its states as the desk does: a finished case is 已销号 everywhere.
    assert body["labels"]["deadline_states"] == {"green": "期限内", "yellow": "临期", "red": "已超期",
                                                 "closed": "已销号", "none": "无期限"}
    assert body["labels"]["patrol_states"]["overdue"] == "已超期"
    # What the phone needs to judge an on-site check offline, as the server will.
    assert {key: body["settings"][key] for key in ("onsite_max_distance_m", "onsite_max_accuracy_m",
                                                    "photo_max_age_minutes", "upload_originals_on_wifi")} == {
        "onsite_max_distance_m": 500, "onsite_max_accuracy_m": 100, "photo_max_age_minutes": 120,
        "upload_originals_on_wifi": 1}
    assert body["no_photo_reasons"]["not_allowed"] == "现场不允许拍照"
    assert desk.get("sup_T1", "/api/v1/field/bootstrap").status_code == 403


def test_onsite_check_is_stored_once_with_device_time(desk, city):
    case = city.cases["V11"]
    record_id, photo_ids = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    body = onsite_body(case.id, photo_ids)
    first = put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body)
    assert first.status_code == 201
    result = first.get_json()
    assert result["captured_at"] == "2026-11-29T01:30:00+00:00"  # the phone's time, not the upload's
    assert sorted(result["missing_photos"]) == sorted(str(p) for p in photo_ids)
    again = put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body)
    assert again.status_code == 200 and again.get_json() == result
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1
    db.session.expire_all()
    assert db.session.get(Case, case.id).first_onsite_at == datetime(2026, 11, 29, 1, 30, tzinfo=UTC)
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert kinds.count("record_onsite") == 1


@pytest.mark.parametrize(("where", "field"), [("captured_at", "captured_at"), ("fix_at", "location"),
                                             ("photo", "photos")])
def test_a_record_from_the_future_is_refused_as_a_checkin_is(desk, city, where, field):
    # A year-9999 time once broke the case's desk page for everyone (the schemas now refuse any
    # year past 2099); within the years, the check-ins' rule applies: no time ahead of the clock.
    body = onsite_body(city.cases["V11"].id, [uuid.uuid4()])
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    if where == "captured_at":
        body["captured_at"] = future
    elif where == "fix_at":
        body["location"]["fix_at"] = future
    else:
        body["photos"][0]["captured_at"] = future
    refused = put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}", body)
    assert refused.status_code == 422 and refused.get_json()["errors"] == {field: ["晚于当前时间"]}
    assert "手机时间" in refused.get_json()["message"]
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0


def test_changed_record_under_same_id_is_409_with_both_versions(desk, city):
    record_id = uuid.uuid4()
    put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", onsite_body(city.cases["V11"].id))
    changed = put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", onsite_body(city.cases["V11"].id,
                                                                                  notes="改过的内容"))
    assert changed.status_code == 409
    errors = changed.get_json()["errors"]
    assert errors["server"]["notes"] == "现场有刺鼻气味" and errors["client"]["notes"] == "改过的内容"


def test_racing_uploads_of_one_record_make_one_row(app, desk, city):
    record_id = uuid.uuid4()
    body = onsite_body(city.cases["V11"].id)
    desk.client(INSPECTOR)
    results = []

    def send():
        results.append(put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) in ([200, 200, 200, 201],), results
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1


def test_onsite_check_outside_scope_is_404_and_outside_grid_is_flagged(desk, city):
    hidden = put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}", onsite_body(city.cases["V12"].id))
    assert hidden.status_code == 404
    away = put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}",
               onsite_body(city.cases["V11"].id, lon=120.515))
    assert away.status_code == 201 and away.get_json()["outside_own_grid"] is True


def test_patrol_discovery_opens_one_potential_case_for_my_grid(desk, city):
    record_id = uuid.uuid4()
    body = onsite_body(None) | {"kind": "patrol_discovery", "discovery": {
        "category": "water", "sector": "livestock", "title": "养殖场污水直排河道", "address": "V11村河边"}}
    body["location"]["source"] = "manual"
    created = put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body)
    assert created.status_code == 201 and created.get_json()["manual_location"] is True
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body).status_code == 200
    cases = db.session.scalars(select(Case).where(Case.channel == "grid_patrol")).all()
    assert len(cases) == 1
    case = cases[0]
    assert case.list_kind == "potential" and case.discovered_by_grid_id == city.grids["V11"].id
    assert case.received_at == datetime(2026, 11, 29, 1, 30, tzinfo=UTC) and case.department.code == "agri"
    # The desk's evidence card says where it was found (the case's own place), never 「无位置」.
    client, _ = desk.client("sup_T1")
    page = client.get(f"/desk/cases/{case.id}").get_data(as_text=True)
    assert "发现位置即案件登记位置（120.50500, 32.31000）" in page and "无位置" not in page
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}",
               onsite_body(None) | {"kind": "patrol_discovery"}).status_code == 422


@pytest.fixture
def announced(desk, city):
    """A stored on-site check announcing two photos; returns (record id, photo ids)."""
    record_id, photo_ids = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}",
               onsite_body(city.cases["V11"].id, photo_ids)).status_code == 201
    return record_id, photo_ids


def test_photo_upload_is_idempotent_and_stripped(desk, announced):
    record_id, (first, second) = announced
    data = make_jpeg(orientation=6)
    url = f"/api/v1/inspections/{record_id}/photos/{first}"
    stored = put_bytes(desk, INSPECTOR, url, data)
    assert stored.status_code == 201
    assert stored.get_json()["missing_photos"] == [str(second)]
    assert put_bytes(desk, INSPECTOR, url, data).status_code == 200
    other = put_bytes(desk, INSPECTOR, url, make_jpeg(color=(10, 10, 10)))
    assert other.status_code == 409
    photo = db.session.get(Photo, first)
    assert photo.exif_taken_at == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    assert abs(photo.exif_lon - 120.505) < 1e-4 and not photo.exif_far_from_checkin
    with Image.open(photo_path("display", photo.sha256)) as display:
        assert max(display.size) == 1600 and display.size[1] > display.size[0]  # turned upright
        assert not display.getexif()
    with Image.open(photo_path("thumb", photo.sha256)) as thumb:
        assert max(thumb.size) == 320
    assert photo_path("original", photo.sha256).read_bytes() == data


def test_photo_far_from_checkin_is_flagged(desk, announced):
    record_id, (first, _) = announced
    put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{first}", make_jpeg(gps=(120.6, 32.4)))
    assert db.session.get(Photo, first).exif_far_from_checkin is True


def _png(width=50, height=50) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 0, 0)).save(out, "PNG")
    return out.getvalue()


def _bomb() -> bytes:
    """A tiny PNG whose header claims 30000 x 30000 pixels."""
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("name, data, content_type, code", [
    ("empty", b"", "image/jpeg", 422),
    ("truncated JPEG", make_jpeg(800, 600)[:3000], "image/jpeg", 422),
    ("PNG named JPEG", _png(), "image/jpeg", 422),
    ("text file", "这不是照片".encode(), "image/jpeg", 422),
    ("decompression bomb", _bomb(), "image/png", 422),
    ("oversize", b"\xff\xd8" + b"0" * (26 * 1024 * 1024), "image/jpeg", 413),
])
def test_every_bad_upload_is_a_clear_4xx(desk, announced, name, data, content_type, code):
    record_id, (first, _) = announced
    response = put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{first}", data, content_type)
    assert response.status_code == code, (name, response.get_json())
    assert response.get_json()["message"]
    assert db.session.get(Photo, first).status == "expected"


def test_bad_checksum_and_unknown_photo(desk, announced):
    record_id, (first, _) = announced
    url = f"/api/v1/inspections/{record_id}/photos/{first}"
    assert put_bytes(desk, INSPECTOR, url, make_jpeg(), sha="0" * 64).status_code == 422
    assert put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{uuid.uuid4()}",
                     make_jpeg()).status_code == 404
    assert put_bytes(desk, "insp_V22", url, make_jpeg()).status_code == 404


def test_photo_files_follow_case_scope(desk, announced):
    record_id, (first, _) = announced
    put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{first}", make_jpeg())
    with desk.client(INSPECTOR)[0].get(f"/api/v1/photos/{first}/thumb") as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
        assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    assert desk.get(INSPECTOR, f"/api/v1/photos/{first}/original").status_code == 403
    with desk.client("sup_T1")[0].get(f"/api/v1/photos/{first}/original") as original:
        assert original.status_code == 200 and "attachment" in original.headers["Content-Disposition"]
    assert desk.get("insp_V22", f"/api/v1/photos/{first}/thumb").status_code == 404


def test_contact_cards_reserved_issued_offline_and_rated_once(app, desk, city):
    client, token = desk.client(INSPECTOR)
    codes = client.post("/api/v1/field/card-codes", json={"device_id": "phone-1", "count": 5},
                        headers={"X-CSRFToken": token}).get_json()["codes"]
    assert len(set(codes)) == 5 and all(len(c) == 9 for c in codes)
    other_codes = desk.post("insp_V22", "/api/v1/field/card-codes", {"device_id": "phone-2", "count": 2})
    assert not set(codes) & set(other_codes.get_json()["codes"])
    card = {"case_id": city.cases["V11"].id, "handler_name": "王网格", "handler_phone": "13700001111",
            "handler_unit": "西镇V11村", "issued_at": "2026-11-29T10:00:00+08:00",
            "expected_reply_at": "2026-12-10T17:00:00+08:00", "location": {"lon": 120.505, "lat": 32.31},
            "device_id": "phone-1"}
    first = put(desk, INSPECTOR, f"/api/v1/contact-cards/{codes[0]}", card)
    assert first.status_code == 201 and first.get_json()["status_url"] == f"/c/{codes[0]}"
    assert put(desk, INSPECTOR, f"/api/v1/contact-cards/{codes[0]}", card).status_code == 200
    changed = put(desk, INSPECTOR, f"/api/v1/contact-cards/{codes[0]}", card | {"handler_name": "改"})
    assert changed.status_code == 409
    assert changed.get_json()["errors"]["server"]["handler_name"] == "王网格"
    assert changed.get_json()["errors"]["client"]["handler_name"] == "改"
    assert put(desk, INSPECTOR, "/api/v1/contact-cards/ZZZZ-ZZZZ", card).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ContactCard)) == 1

    public = app.test_client()
    page = public.get(f"/c/{codes[0]}")
    assert page.status_code == 200 and city.cases["V11"].number in page.text
    assert "张三丰" not in page.text and "13812345678" not in page.text and "夜间异味明显" not in page.text
    assert "案件答复后" in page.text
    assert public.get("/c/0000-0000").status_code == 404
    svg = public.get(f"/c/{codes[0]}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert public.get(f"/c/{codes[0]}/print").status_code == 200


def test_a_card_the_citizen_could_not_use_is_refused(desk, city):
    """A card's phone number is called by the citizen and its reply time read by them: a
    phone without digits, or a reply promised before the card was handed over, is a 422."""
    client, token = desk.client(INSPECTOR)
    codes = client.post("/api/v1/field/card-codes", json={"device_id": "phone-1", "count": 3},
                        headers={"X-CSRFToken": token}).get_json()["codes"]
    card = {"case_id": city.cases["V11"].id, "handler_name": "王网格", "handler_phone": "0513-86123456",
            "handler_unit": "西镇V11村", "issued_at": "2026-11-29T10:00:00+08:00"}
    no_digits = put(desk, INSPECTOR, f"/api/v1/contact-cards/{codes[0]}", card | {"handler_phone": "abc"})
    assert no_digits.status_code == 422 and "handler_phone" in no_digits.get_json()["errors"]
    past = put(desk, INSPECTOR, f"/api/v1/contact-cards/{codes[1]}",
               card | {"expected_reply_at": "2026-01-01T09:00:00+08:00"})
    assert past.status_code == 422
    assert past.get_json()["errors"]["expected_reply_at"] == ["预计答复时间不能早于发卡时间。"]
    assert put(desk, INSPECTOR, f"/api/v1/contact-cards/{codes[2]}", card).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(ContactCard)) == 1


def test_public_rating_once_and_dissatisfied_reopens(app, desk, city):
    case = city.cases["V11"]
    client, token = desk.client(INSPECTOR)
    code = client.post("/api/v1/field/card-codes", json={"device_id": "phone-1", "count": 1},
                       headers={"X-CSRFToken": token}).get_json()["codes"][0]
    put(desk, INSPECTOR, f"/api/v1/contact-cards/{code}", {
        "case_id": case.id, "handler_name": "王网格", "handler_phone": "13700001111", "handler_unit": "V11村",
        "issued_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})
    case.status = "replied"
    db.session.commit()
    public = app.test_client()
    page = public.get(f"/c/{code}")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    rated = public.post(f"/c/{code}/rating", data={"csrf_token": token, "satisfaction": "dissatisfied"},
                        follow_redirects=True)
    assert "感谢您的评价" in rated.text and "您已评价：不满意" in rated.text
    again = public.post(f"/c/{code}/rating", data={"csrf_token": token, "satisfaction": "satisfied"},
                        follow_redirects=True)
    assert "您已评价过" in again.text
    db.session.expire_all()
    reopened = db.session.get(Case, case.id)
    assert reopened.status == "handling" and reopened.dissatisfied and reopened.reopened_count == 1


def test_exif_read_on_the_phone_is_kept_and_checked(desk, city):
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    body = onsite_body(city.cases["V11"].id)
    body["photos"] = [{"id": str(photo_id), "captured_at": body["captured_at"], "lon": 120.505, "lat": 32.31,
                       "exif_taken_at": "2026-11-29T09:29:00+08:00", "exif_lon": 120.6, "exif_lat": 32.4}]
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body).status_code == 201
    resized_without_exif = make_jpeg(1600, 1200, gps=None, taken="")
    put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{photo_id}", resized_without_exif)
    photo = db.session.get(Photo, photo_id)
    assert photo.status == "received" and photo.exif_far_from_checkin is True
    assert photo.exif_taken_at == datetime(2026, 11, 29, 1, 29, tzinfo=UTC)


def _announce_one(desk, city, **photo_fields):
    """An on-site check at 09:30 announcing one photo with the given fields; returns (record, photo) ids."""
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    body = onsite_body(city.cases["V11"].id)
    body["photos"] = [{"id": str(photo_id), "captured_at": body["captured_at"], "lon": 120.505, "lat": 32.31}
                      | photo_fields]
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body).status_code == 201
    return record_id, photo_id


def test_the_camera_facts_the_phone_read_are_kept_and_judged(desk, city):
    _, fresh = _announce_one(desk, city, origin="camera", exif_taken_at="2026-11-29T09:20:00+08:00",
                             exif_lon=120.505, exif_lat=32.31, exif_orientation=6)
    _, old = _announce_one(desk, city, origin="gallery", exif_taken_at="2026-11-28T16:00:00+08:00")
    fresh_row, old_row = db.session.get(Photo, fresh), db.session.get(Photo, old)
    assert (fresh_row.origin, fresh_row.exif_orientation, fresh_row.taken_before_visit) == ("camera", 6, False)
    assert fresh_row.exif_taken_at == datetime(2026, 11, 29, 1, 20, tzinfo=UTC)
    assert (old_row.origin, old_row.taken_before_visit) == ("gallery", True)  # the day before the 09:30 check


def test_bad_photo_facts_are_refused_and_old_bodies_stay_valid(desk, city):
    record_id = uuid.uuid4()
    body = onsite_body(city.cases["V11"].id, [uuid.uuid4()])
    for bad in ({"origin": "desk"}, {"origin": "scanner"}, {"exif_orientation": 9}):
        wrong = body | {"photos": [body["photos"][0] | bad]}
        assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", wrong).status_code == 422
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body).status_code == 201
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", body).status_code == 200  # same hash as before
    photo = db.session.get(Photo, uuid.UUID(body["photos"][0]["id"]))
    assert (photo.origin, photo.exif_orientation, photo.taken_before_visit) == (None, None, False)


def test_a_copy_whose_own_exif_is_old_is_flagged(desk, city):
    record_id, photo_id = _announce_one(desk, city)
    put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{photo_id}",
              make_jpeg(1600, 1200, taken="2026:11:20 09:00:00", orientation=3))
    photo = db.session.get(Photo, photo_id)
    assert photo.taken_before_visit is True and photo.exif_orientation == 3


def test_the_untouched_original_is_kept_beside_the_copy(desk, city):
    record_id, photo_id = _announce_one(desk, city, origin="camera")
    url = f"/api/v1/inspections/{record_id}/photos/{photo_id}"
    copy = make_jpeg(1200, 1600, gps=None, taken="")  # the phone's shrunk copy: no EXIF
    assert put_bytes(desk, INSPECTOR, url, copy).status_code == 201
    with desk.client("sup_T1")[0].get(f"/api/v1/photos/{photo_id}/original") as served:
        assert served.status_code == 200 and served.data == copy
        assert served.headers["X-Photo-Copy"] == "phone-copy"
        assert quote("手机压缩件") in served.headers["Content-Disposition"]

    original = make_jpeg(4000, 3000, gps=(120.5052, 32.3101), taken="2026:11:29 09:25:00", offset="+08:00",
                         orientation=6)
    stored = put_bytes(desk, INSPECTOR, url, original, variant="original")
    assert stored.status_code == 201 and stored.get_json()["original_received"] is True
    assert put_bytes(desk, INSPECTOR, url, original, variant="original").status_code == 200
    other = put_bytes(desk, INSPECTOR, url, make_jpeg(color=(1, 2, 3)), variant="original")
    assert other.status_code == 409 and other.get_json()["errors"]["server"]["sha256"] == hashlib.sha256(
        original).hexdigest()
    photo = db.session.get(Photo, photo_id)
    assert photo.original_sha256 == hashlib.sha256(original).hexdigest() and photo.original_byte_size == len(original)
    assert photo.original_received_at is not None
    assert photo.sha256 == hashlib.sha256(copy).hexdigest() and photo.width == 1200  # the copy is still the copy
    assert photo.exif_taken_at == datetime(2026, 11, 29, 1, 25, tzinfo=UTC) and photo.exif_orientation == 6
    assert abs(photo.exif_lat - 32.3101) < 1e-4 and not photo.taken_before_visit
    with desk.client("sup_T1")[0].get(f"/api/v1/photos/{photo_id}/original") as served:
        assert served.status_code == 200 and served.data == original and served.mimetype == "image/jpeg"
        assert served.headers["X-Photo-Copy"] == "original"
        assert quote("原图") in served.headers["Content-Disposition"]
    with desk.client("sup_T1")[0].get(f"/api/v1/photos/{photo_id}/display") as display:
        assert "X-Photo-Copy" not in display.headers
    assert desk.get(INSPECTOR, f"/api/v1/photos/{photo_id}/original").status_code == 403


@pytest.mark.parametrize("variant", [None, "original"])
@pytest.mark.parametrize(("taken", "offset", "expected"), [
    ("2026:11:29 09:25:00", "+99:00", datetime(2026, 11, 29, 1, 25, tzinfo=UTC)),  # no such zone: the city's
    ("2026:11:29 09:25:00", "+30:00", datetime(2026, 11, 29, 1, 25, tzinfo=UTC)),
    ("2026:11:29 09:25:00", "+08:75", datetime(2026, 11, 29, 1, 25, tzinfo=UTC)),
    ("0001:01:01 00:00:00", "+08:00", None),  # a clock never set
    ("0001:01:01 00:00:00", None, None),
    ("9999:12:31 23:59:59", "-12:00", None),  # past the last time there is, in UTC
])
def test_an_impossible_exif_time_is_ignored_and_the_photo_taken(desk, city, variant, taken, offset, expected):
    # The phone resends a 5xx for ever: a camera's odd metadata must never hold a photo back.
    record_id, photo_id = _announce_one(desk, city)
    url = f"/api/v1/inspections/{record_id}/photos/{photo_id}"
    if variant:
        assert put_bytes(desk, INSPECTOR, url, make_jpeg(1200, 900, gps=None, taken="")).status_code == 201
    stored = put_bytes(desk, INSPECTOR, url, make_jpeg(1600, 1200, taken=taken, offset=offset), variant=variant)
    assert stored.status_code == 201, stored.get_json()
    assert db.session.get(Photo, photo_id).exif_taken_at == expected


def test_a_bad_original_is_refused_and_the_copy_stands(desk, city):
    record_id, photo_id = _announce_one(desk, city)
    url = f"/api/v1/inspections/{record_id}/photos/{photo_id}"
    assert put_bytes(desk, INSPECTOR, url, make_jpeg(1600, 1200)).status_code == 201
    whole = make_jpeg(4000, 3000)
    assert put_bytes(desk, INSPECTOR, url, whole[:len(whole) // 2], variant="original").status_code == 422
    assert put_bytes(desk, INSPECTOR, url, _png(), content_type="image/jpeg", variant="original").status_code == 422
    assert put_bytes(desk, INSPECTOR, url, whole, variant="thumbnail").status_code == 422
    assert put_bytes(desk, "insp_V22", url, whole, variant="original").status_code == 404
    photo = db.session.get(Photo, photo_id)
    assert photo.original_sha256 is None and photo.status == "received"
