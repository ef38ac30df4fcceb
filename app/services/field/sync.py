"""Sync from the inspector app: idempotent uploads of on-site checks, patrol discoveries,
their photos and contact cards, keyed by ids made on the phone at capture time.

The same id with the same content is success and changes nothing (a retry); the same id
with other content is a conflict (409) that shows both versions; a record is accepted
before its photos, which it lists as missing until they arrive.
"""

import hashlib
import json
import uuid
from datetime import datetime

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import Case, Inspection, Photo, User
from app.models.types import SRID
from app.models.vocab import InspectionKind, LocationSource, PhotoStatus, Role
from app.services import clock
from app.services.access import authorize
from app.services.cases import deadlines
from app.services.cases.intake import register_patrol_discovery
from app.services.cases.timeline import append_event
from app.services.field import onsite_rules, photos
from app.services.field.idempotent import insert_once
from app.services.geo.grid_locator import locate_point

FIELD_ROLES = {Role.INSPECTOR, Role.SUPERVISOR, Role.DEPARTMENT_OFFICER}


def canonical_json(body: dict) -> str:
    """One text for one content: sorted keys, no spaces, times and ids as strings."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value) -> str:
    """JSON for datetimes (UTC ISO) and UUIDs."""
    if isinstance(value, datetime):
        return value.astimezone(clock.now().tzinfo).isoformat()
    return str(value)


def content_sha(body: dict) -> str:
    """The sha256 of a record's canonical content."""
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def require_field_user(user: User) -> None:
    """Only people who go on site upload field records."""
    if user.role not in FIELD_ROLES:
        raise Forbidden("只有网格员和办案人员可以上传现场记录。")


# ---------------------------------------------------------------- inspections


def put_inspection(user: User, inspection_id: uuid.UUID, body: dict) -> tuple[Inspection, bool]:
    """Store an on-site check or patrol discovery once; return it and whether it was new."""
    require_field_user(user)
    sha = content_sha(body)
    existing = db.session.get(Inspection, inspection_id)
    if existing is None:
        inspection = _new_inspection(user, inspection_id, body, sha, _case_for(user, body))
        existing = insert_once(inspection, lambda: db.session.get(Inspection, inspection_id))
        if existing is None:
            _add_expected_photos(inspection, body["photos"])
            _apply_to_case(user, inspection, body)
            return inspection, True
    return _same_or_conflict(existing, user, sha, body), False


def _same_or_conflict(existing: Inspection, user: User, sha: str, body: dict) -> Inspection:
    """A resend of the same content is success; anything else under this id is a conflict."""
    if existing.inspector_id == user.id and existing.content_sha256 == sha:
        return existing
    raise Conflict("该记录编号已存在且内容不同，未覆盖服务器上的记录。",
                   {"server": inspection_body(existing), "client": json.loads(canonical_json(body))})


def _case_for(user: User, body: dict) -> Case | None:
    """The case an on-site check is about (404 outside scope); none for a discovery."""
    if body["kind"] == InspectionKind.PATROL_DISCOVERY:
        if not body.get("discovery"):
            raise InvalidInput("巡查发现须填写问题类型、行业和标题。", {"discovery": ["必填"]})
        from app.services.patrols import rounds

        rounds.check_discovery_source(user, body["discovery"])
        return None
    if body.get("case_id") is None:
        raise InvalidInput("现场核查须关联案件。", {"case_id": ["必填"]})
    case = authorize(user, body["case_id"])
    onsite_rules.check_state(case)
    onsite_rules.check_no_photo_reason(len(body["photos"]), body.get("no_photo_reason"))
    return case


def _new_inspection(user: User, inspection_id: uuid.UUID, body: dict, sha: str, case: Case | None) -> Inspection:
    """The inspection row from the uploaded body."""
    where = body["location"]
    hit = locate_point(where["lon"], where["lat"])
    manual = where["source"] == LocationSource.MANUAL
    return Inspection(
        id=inspection_id, case_id=case.id if case else None, inspector_id=user.id, grid_id=user.grid_id,
        kind=body["kind"], location=from_shape(Point(where["lon"], where["lat"]), srid=SRID),
        accuracy_m=where.get("accuracy_m"), altitude_m=where.get("altitude_m"), fix_at=where.get("fix_at"),
        location_source=where["source"], manual_location=manual, mock_location=where.get("mock", False),
        outside_own_grid=user.grid_id is not None and (hit is None or hit.grid_id != user.grid_id),
        findings=body.get("findings") or {}, notes=body.get("notes", ""), content_sha256=sha,
        no_photo_reason=body.get("no_photo_reason"),
        captured_at=body["captured_at"], received_at=clock.now(),
    )


def _add_expected_photos(inspection: Inspection, announced: list[dict]) -> None:
    """Announce the record's photos; each stays 'expected' until its bytes arrive."""
    for item in announced:
        point = None
        if item.get("lon") is not None and item.get("lat") is not None:
            point = from_shape(Point(item["lon"], item["lat"]), srid=SRID)
        photo = Photo(id=item["id"], inspection_id=inspection.id, status=PhotoStatus.EXPECTED,
                      captured_at=item.get("captured_at"), capture_location=point,
                      exif_taken_at=item.get("exif_taken_at"), exif_lon=item.get("exif_lon"),
                      exif_lat=item.get("exif_lat"))
        photo.exif_far_from_checkin = _far_from(inspection, photo.exif_lon, photo.exif_lat)
        db.session.add(photo)
    db.session.flush()


def _apply_to_case(user: User, inspection: Inspection, body: dict) -> None:
    """A discovery opens a case; an on-site check meets the case's first on-site clock."""
    if inspection.kind == InspectionKind.PATROL_DISCOVERY:
        where = body["location"]
        case = register_patrol_discovery(user, body["discovery"], where["lon"], where["lat"], inspection.captured_at)
        inspection.case_id = case.id
        from app.services.patrols import rounds

        rounds.link_discovery(user, inspection, body["discovery"])
        return
    case = db.session.get(Case, inspection.case_id)
    db.session.refresh(inspection, ["photos"])  # the photos just announced decide `incomplete`
    onsite_rules.assess(inspection, case)
    onsite_rules.record_check(case, inspection)
    deadlines.refresh_case_due(case)
    append_event(case, "record_onsite", user, note=onsite_rules.summary(inspection),
                 data={"inspection_id": str(inspection.id), "captured_at": inspection.captured_at.isoformat()},
                 at=clock.now())


def inspection_body(inspection: Inspection) -> dict:
    """The stored record in the upload's own shape, to show beside a conflicting resend."""
    point = to_shape(inspection.location) if inspection.location is not None else None
    return json.loads(canonical_json({
        "kind": inspection.kind, "case_id": inspection.case_id, "captured_at": inspection.captured_at,
        "location": {"lon": point.x if point else None, "lat": point.y if point else None,
                     "accuracy_m": inspection.accuracy_m, "source": inspection.location_source},
        "findings": inspection.findings, "notes": inspection.notes,
        "photos": [{"id": p.id} for p in inspection.photos],
    }))


def missing_photos(inspection: Inspection) -> list[uuid.UUID]:
    """Photos the record announced that have not arrived yet."""
    return [p.id for p in inspection.photos if p.status != PhotoStatus.RECEIVED]


# ---------------------------------------------------------------- photos


def put_photo(user: User, inspection_id: uuid.UUID, photo_id: uuid.UUID, data: bytes,
              declared_sha: str | None, declared_type: str | None = None) -> tuple[Photo, bool]:
    """Store an announced photo's bytes once; check the checksum, the image and its EXIF."""
    require_field_user(user)
    photo = db.session.scalar(
        select(Photo).join(Inspection).where(Photo.id == photo_id, Photo.inspection_id == inspection_id,
                                             Inspection.inspector_id == user.id)
    )
    if photo is None:
        raise NotFound("记录中没有这张照片，请先上传现场记录。")
    sha = photos.sha256_hex(data)
    if declared_sha and declared_sha.lower() != sha:
        raise InvalidInput("照片校验和不符，可能在传输中损坏，请重新上传。", {"X-Content-SHA256": ["不符"]})
    if photo.status == PhotoStatus.RECEIVED:
        if photo.sha256 == sha:
            return photo, False
        raise Conflict("该照片编号已上传过不同的内容，未覆盖。", {"server": {"sha256": photo.sha256},
                                                               "client": {"sha256": sha}})
    processed = photos.process_upload(data, zone=_zone())
    if declared_type and declared_type.startswith("image/") and not _same_type(declared_type, processed.content_type):
        raise InvalidInput(f"文件内容是 {processed.content_type}，与声明的类型 {declared_type} 不符，已拒收。",
                           {"Content-Type": ["与内容不符"]})
    photos.store(processed, data)
    _fill_photo(photo, processed)
    return photo, True


def _same_type(declared: str, detected: str) -> bool:
    """image/heif and image/heic are one format; otherwise the types must match."""
    heif = {"image/heic", "image/heif"}
    declared = declared.split(";")[0].strip().lower()
    return declared == detected or (declared in heif and detected in heif)


def _zone() -> str:
    """The city's time zone, for EXIF times that carry no offset."""
    from flask import current_app

    return current_app.config["TIME_ZONE"]


def _fill_photo(photo: Photo, processed: photos.ProcessedPhoto) -> None:
    """Record what the pipeline found, and flag a photo taken far from the check-in."""
    photo.status, photo.sha256, photo.byte_size = PhotoStatus.RECEIVED, processed.sha256, processed.byte_size
    photo.width, photo.height, photo.content_type = processed.width, processed.height, processed.content_type
    if processed.taken_at is not None or processed.lon is not None:  # the file's own EXIF wins
        photo.exif_taken_at, photo.exif_lon, photo.exif_lat = processed.taken_at, processed.lon, processed.lat
        photo.exif_far_from_checkin = _far_from(photo.inspection, processed.lon, processed.lat)
    photo.received_at = clock.now()
    db.session.flush()


def _far_from(inspection: Inspection, lon: float | None, lat: float | None) -> bool:
    """True when a photo's own position lies farther from the check-in than allowed (the on-site rule)."""
    return onsite_rules.photo_far_from_check(inspection, lon, lat)
