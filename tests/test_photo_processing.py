"""A photo upload is answered once the file is safely kept; the worker makes its thumbnail and
display copy afterwards, and until then the desk says 「处理中」 and the API says ``processing``."""

import uuid
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Photo
from app.services import background, clock
from app.services.field.photos import photo_path
from tests.helpers import INSPECTOR, Desk, make_jpeg, onsite_body, put, put_bytes


@pytest.fixture
def held(app, monkeypatch):
    """Photo tasks are kept back, as if the worker had not got to them yet; returns the list of them.
    Other tasks (the map summary's refresh after a check) run as usual."""
    sent, queue = [], background.queue()
    send = queue.send
    monkeypatch.setattr(queue, "send", lambda name, kwargs: sent.append((name, kwargs)) if name.startswith("photos.")
                        else send(name, kwargs))
    return sent


def test_the_upload_is_answered_before_the_derived_images_exist(app, city, held):
    desk = Desk(app)
    case = city.cases["V11"]
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    assert put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", onsite_body(case.id, [photo_id])).status_code == 201
    data = make_jpeg(orientation=6)
    url = f"/api/v1/inspections/{record_id}/photos/{photo_id}"

    stored = put_bytes(desk, INSPECTOR, url, data)
    assert stored.status_code == 201
    assert stored.get_json()["processing"] is True and stored.get_json()["missing_photos"] == []
    photo = db.session.get(Photo, photo_id)
    assert photo_path("original", photo.sha256).read_bytes() == data  # kept before the answer
    assert not photo_path("thumb", photo.sha256).exists()
    assert held == [("photos.derive", {"photo_id": str(photo_id)})]

    # Meanwhile the thumbnail answers "try again shortly", the original is there, the desk says so.
    thumb = desk.get("sup_T1", f"/api/v1/photos/{photo_id}/thumb")
    assert thumb.status_code == 503 and thumb.headers["Retry-After"]
    assert thumb.get_json()["errors"] == {"retry": ["processing"]} and "处理" in thumb.get_json()["message"]
    with desk.client("sup_T1")[0].get(f"/api/v1/photos/{photo_id}/original") as original:
        assert original.status_code == 200
    page = desk.client("sup_T1")[0].get(f"/desk/cases/{case.id}").text
    assert "处理中" in page and f"/api/v1/photos/{photo_id}/thumb" not in page

    # A resend while it is processing is still just a resend: no second task.
    resent = put_bytes(desk, INSPECTOR, url, data)
    assert resent.status_code == 200 and resent.get_json()["processing"] is True
    assert len(held) == 1

    # The worker runs the task: the images exist, upright, and the desk shows the thumbnail.
    name, kwargs = held.pop()
    assert background.run_now(name, **kwargs) is True
    db.session.expire_all()
    assert db.session.get(Photo, photo_id).processing is False
    with desk.client("sup_T1")[0].get(f"/api/v1/photos/{photo_id}/display") as display:
        assert display.status_code == 200 and display.mimetype == "image/jpeg"
    page = desk.client("sup_T1")[0].get(f"/desk/cases/{case.id}").text
    assert f"/api/v1/photos/{photo_id}/thumb" in page and "处理中" not in page
    assert background.run_now(name, **kwargs) is False  # a retried task finds nothing left to do


def test_a_broken_photo_is_still_refused_in_the_request(app, city, held):
    desk = Desk(app)
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", onsite_body(city.cases["V11"].id, [photo_id]))
    response = put_bytes(desk, INSPECTOR, f"/api/v1/inspections/{record_id}/photos/{photo_id}",
                         make_jpeg(800, 600)[:3000])
    assert response.status_code == 422 and "损坏" in response.get_json()["message"]
    assert held == [] and db.session.get(Photo, photo_id).status == "expected"


def test_a_photo_whose_task_was_lost_is_made_by_the_periodic_catch_up(app, city, held):
    desk = Desk(app)
    record_id, photo_id = uuid.uuid4(), uuid.uuid4()
    put(desk, INSPECTOR, f"/api/v1/inspections/{record_id}", onsite_body(city.cases["V11"].id, [photo_id]))
    url = f"/api/v1/inspections/{record_id}/photos/{photo_id}"
    assert put_bytes(desk, INSPECTOR, url, make_jpeg()).status_code == 201
    held.clear()  # the queue lost the task (a crash, say)
    assert background.run_now("photos.derive_missed") == 0  # just arrived: its own task may still come
    with clock.travel(timedelta(minutes=6)):
        assert background.run_now("photos.derive_missed") == 1
    db.session.expire_all()
    assert db.session.get(Photo, photo_id).processing is False
