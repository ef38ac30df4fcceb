"""On-site checks recorded at the desk (办公端现场核查): the same rule and the same photo
pipeline as the phone's, for the handler who went on site without the app, or who records
a check with photos taken on another camera.

The position is the case's location unless another point is given; either way it was placed
by hand, so the check is marked ``manual_location`` and judged by its photos
(``services.field.onsite_rules``). Every upload is checked before anything is stored, so a bad
file refuses the whole check with a Chinese message and leaves nothing half-saved.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point

from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, Inspection, Photo, User
from app.models.types import SRID
from app.models.vocab import InspectionKind, LocationSource, PhotoOrigin, PhotoStatus, RecordedVia
from app.services import background
from app.services.field import onsite_rules, photos
from app.services.field.sync import content_sha
from app.services.geo.coords import to_wgs84
from app.services.geo.grid_locator import locate_point

MAX_PHOTOS = 20  # as many as the phone may announce for one check


@dataclass(frozen=True)
class PhotoUpload:
    """A photo file as the desk form sent it."""

    filename: str
    data: bytes
    content_type: str = ""


def chosen_photos(uploads: list[PhotoUpload] | None) -> list[PhotoUpload]:
    """The files a person actually chose (a form's empty file input sends a nameless, empty one)."""
    return [u for u in uploads or [] if u.data or u.filename]


def record_desk_check(case: Case, user: User, data: dict, now: datetime) -> Inspection:
    """Store an on-site check typed at the desk, with its photos; judge it and let it meet the clock.

    ``data`` is the record_onsite payload (findings, notes, no_photo_reason, lon/lat with their
    coord_system, captured_at) plus ``photos``: the uploaded files, if any.
    """
    uploads = chosen_photos(data.get("photos"))
    onsite_rules.check_no_photo_reason(len(uploads), data.get("no_photo_reason"))
    processed = _process_all(uploads)
    captured_at = data.get("captured_at") or now
    if captured_at > now:
        raise InvalidInput("核查时间不能晚于当前时间。", {"captured_at": ["晚于当前时间"]})
    content = {"findings": data.get("findings") or {}, "notes": data.get("notes", ""),
               "no_photo_reason": data.get("no_photo_reason")}
    location = _position(case, data)
    inspection = Inspection(
        id=uuid.uuid4(), case_id=case.id, inspector_id=user.id, grid_id=case.grid_id,
        kind=InspectionKind.ONSITE_CHECK, location=location, location_source=LocationSource.MANUAL,
        manual_location=True, outside_own_grid=_outside_case_grid(case, location), recorded_via=RecordedVia.DESK,
        content_sha256=content_sha(content), captured_at=captured_at, received_at=now, **content,
    )
    db.session.add(inspection)
    for upload, result in zip(uploads, processed, strict=True):
        photos.store_received(result, upload.data)
        photo = _desk_photo(inspection, result, now)
        db.session.add(photo)
        background.enqueue("photos.derive", photo_id=str(photo.id))
    db.session.flush()
    db.session.refresh(inspection, ["photos"])
    onsite_rules.assess(inspection, case)
    onsite_rules.record_check(case, inspection)
    return inspection


def _process_all(uploads: list[PhotoUpload]) -> list[photos.ProcessedPhoto]:
    """Check and read every file first; the first bad one refuses the check, naming the file."""
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput(f"一次核查最多上传 {MAX_PHOTOS} 张照片。", {"photos": ["过多"]})
    zone = current_app.config["TIME_ZONE"]
    results = []
    for number, upload in enumerate(uploads, start=1):
        try:
            processed = photos.process_upload(upload.data, zone=zone)
            photos.check_declared_type(upload.content_type, processed.content_type)
            results.append(processed)
        except InvalidInput as exc:
            name = upload.filename or f"第 {number} 张"
            raise InvalidInput(f"照片“{name}”无法使用：{exc.message}", {"photos": [exc.message]}) from exc
    return results


def _position(case: Case, data: dict):
    """The point given on the form (in its coordinate system), else the case's own location."""
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None and lat is None:
        return case.location
    if lon is None or lat is None:
        raise InvalidInput("核查位置须同时填写经度和纬度。", {"lon": ["须与纬度同时填写"]})
    lon, lat = to_wgs84(lon, lat, data.get("coord_system") or "wgs84")
    return from_shape(Point(lon, lat), srid=SRID)


def _outside_case_grid(case: Case, location) -> bool:
    """A desk check has no inspector's own grid to compare with: it is flagged outside the case's grid."""
    if location is None or case.grid_id is None:
        return False
    point = to_shape(location)
    hit = locate_point(point.x, point.y)
    return hit is None or hit.grid_id != case.grid_id


def _desk_photo(inspection: Inspection, result: photos.ProcessedPhoto, now: datetime) -> Photo:
    """A received photo row for a desk upload: the file sent is itself the original."""
    photo = Photo(
        id=uuid.uuid4(), inspection_id=inspection.id, status=PhotoStatus.RECEIVED, sha256=result.sha256,
        byte_size=result.byte_size, width=result.width, height=result.height, content_type=result.content_type,
        captured_at=now, exif_taken_at=result.taken_at, exif_lon=result.lon, exif_lat=result.lat,
        origin=PhotoOrigin.DESK, original_sha256=result.sha256, original_byte_size=result.byte_size,
        original_received_at=now, received_at=now,
    )
    photo.exif_far_from_checkin = onsite_rules.photo_far_from_check(inspection, result.lon, result.lat)
    photo.taken_before_visit = onsite_rules.photo_taken_before_visit(inspection, result.taken_at)
    return photo
