"""Sync from the inspector app: idempotent uploads of on-site checks, patrol discoveries,
their photos and contact cards, keyed by ids made on the phone at capture time.

The same id with the same content is success and changes nothing (a retry); the same id
with other content is a conflict (409) that shows both versions to the record's owner and
only its id to anyone else; a record is accepted before its photos, which it lists as
missing until they arrive.
"""

import json
import logging
import uuid
from datetime import datetime, timedelta

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select, update

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Case, Inspection, Photo, User
from app.models.types import SRID
from app.models.vocab import InspectionKind, LocationSource, PhotoStatus
from app.services import background, clock
from app.services.access import authorize, require_field_user
from app.services.cases import deadlines
from app.services.cases.intake import register_patrol_discovery
from app.services.cases.timeline import append_event
from app.services.field import onsite_rules, photos
from app.services.field.idempotent import canonical_json, conflict_versions, content_sha, insert_once
from app.services.geo.grid_locator import locate_point
from app.services.patrols import rounds

# X-Photo-Variant of a photo upload: the phone's shrunk copy (the default), or the camera's
# untouched file, sent on Wi-Fi after the copy.
COPY, ORIGINAL = "copy", "original"
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- inspections


def put_inspection(user: User, inspection_id: uuid.UUID, body: dict) -> tuple[Inspection, bool]:
    """Store an on-site check or patrol discovery once; return it and whether it was new."""
    require_field_user(user)
    sha = content_sha(body)
    existing = db.session.get(Inspection, inspection_id)
    if existing is None:
        _check_times(body)
        inspection = _new_inspection(user, inspection_id, body, sha, _case_for(user, body))
        existing = insert_once(inspection, lambda: db.session.get(Inspection, inspection_id))
        if existing is None:
            _add_expected_photos(inspection, body["photos"])
            _apply_to_case(user, inspection, body)
            return inspection, True
    return _same_or_conflict(existing, user, sha, body), False


def _check_times(body: dict) -> None:
    """Refuse a record whose times lie in the future: the phone's clock is wrong (one rule with check-ins)."""
    clock.refuse_future(body["captured_at"], "captured_at", "现场记录时间")
    clock.refuse_future(body["location"].get("fix_at"), "location", "定位时间")
    latest = max((item["captured_at"] for item in body["photos"] if item.get("captured_at")), default=None)
    clock.refuse_future(latest, "photos", "照片拍摄时间")


def _same_or_conflict(existing: Inspection, user: User, sha: str, body: dict) -> Inspection:
    """A resend of the same content is success; anything else under this id is a conflict."""
    if existing.inspector_id == user.id and existing.content_sha256 == sha:
        return existing
    raise Conflict("该记录编号已存在且内容不同，未覆盖服务器上的记录。",
                   conflict_versions(user, existing.inspector_id, existing.id, lambda: inspection_body(existing), body))


def _case_for(user: User, body: dict) -> Case | None:
    """The case an on-site check is about (404 outside scope); none for a discovery."""
    if body["kind"] == InspectionKind.PATROL_DISCOVERY:
        if not body.get("discovery"):
            raise InvalidInput("巡查发现须填写问题类型、行业和标题。", {"discovery": ["必填"]})
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


def _check_photo_ids(announced: list[dict]) -> None:
    """Refuse photo ids given twice in a record (422) or announced already by another record (409).

    Either would otherwise fail on the photos' primary key, which reads as a race and would
    be retried for ever; resending cannot help, the phone has to give the photo a new id.
    """
    ids = [item["id"] for item in announced]
    if len(set(ids)) < len(ids):
        raise InvalidInput("同一条记录中有重复的照片编号。", {"photos": ["照片编号重复"]})
    taken = db.session.scalars(select(Photo.id).where(Photo.id.in_(ids))).all() if ids else []
    if taken:
        raise Conflict("照片编号已属于另一条现场记录，未保存。", {"photos": sorted(str(i) for i in taken)})


def _add_expected_photos(inspection: Inspection, announced: list[dict]) -> None:
    """Announce the record's photos; each stays 'expected' until its bytes arrive."""
    _check_photo_ids(announced)
    for item in announced:
        point = None
        if item.get("lon") is not None and item.get("lat") is not None:
            point = from_shape(Point(item["lon"], item["lat"]), srid=SRID)
        photo = Photo(id=item["id"], inspection_id=inspection.id, status=PhotoStatus.EXPECTED,
                      captured_at=item.get("captured_at"), capture_location=point,
                      exif_taken_at=item.get("exif_taken_at"), exif_lon=item.get("exif_lon"),
                      exif_lat=item.get("exif_lat"), origin=item.get("origin"),
                      exif_orientation=item.get("exif_orientation"))
        photo.exif_far_from_checkin = onsite_rules.photo_far_from_check(inspection, photo.exif_lon, photo.exif_lat)
        photo.taken_before_visit = onsite_rules.photo_taken_before_visit(inspection, photo.exif_taken_at)
        db.session.add(photo)
    db.session.flush()


def _apply_to_case(user: User, inspection: Inspection, body: dict) -> None:
    """A discovery opens a case; an on-site check meets the case's first on-site clock."""
    if inspection.kind == InspectionKind.PATROL_DISCOVERY:
        where = body["location"]
        case = register_patrol_discovery(user, body["discovery"], where["lon"], where["lat"], inspection.captured_at)
        inspection.case_id = case.id
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
              declared_sha: str | None, declared_type: str | None = None, variant: str = COPY) -> tuple[Photo, bool]:
    """Store an announced photo's bytes once; check the checksum, the image and its EXIF.

    The answer comes once the file is durably on disk and the row records it; the display
    copy and thumbnail are made by the worker afterwards (``derive_photo``), and until then
    the photo says ``processing``. ``variant`` ORIGINAL stores the camera's untouched file beside the phone's copy.

    The photo's row is locked before it is read (PostgreSQL; SQLite writers queue at BEGIN
    IMMEDIATE), so of several uploads under one id at once exactly one stores its bytes:
    the others find it received and answer as a resend (same bytes) or 409 (other bytes).
    Files are written only after that check, so a refused upload leaves none behind. Were
    the commit to fail after them, the phone resends the same bytes, which find the files
    already there (they are named by their content) and keep them.
    """
    require_field_user(user)
    if variant not in (COPY, ORIGINAL):
        raise InvalidInput("X-Photo-Variant 只能是 copy 或 original。", {"X-Photo-Variant": ["无效"]})
    photo = db.session.scalar(
        select(Photo).join(Inspection).where(Photo.id == photo_id, Photo.inspection_id == inspection_id,
                                             Inspection.inspector_id == user.id)
        .with_for_update(of=Photo).execution_options(populate_existing=True)
    )
    if photo is None:
        raise NotFound("记录中没有这张照片，请先上传现场记录。")
    sha = photos.sha256_hex(data)
    if declared_sha and declared_sha.lower() != sha:
        raise InvalidInput("照片校验和不符，可能在传输中损坏，请重新上传。", {"X-Content-SHA256": ["不符"]})
    if variant == ORIGINAL:
        return _put_original(photo, data, sha, declared_type)
    if photo.status == PhotoStatus.RECEIVED:
        _same_bytes_or_conflict(photo.sha256, sha, "该照片编号已上传过不同的内容，未覆盖。")
        return photo, False
    processed = photos.process_upload(data, zone=_zone())
    photos.check_declared_type(declared_type, processed.content_type, "照片")
    photos.store_received(processed, data)
    _fill_photo(photo, processed)
    background.enqueue("photos.derive", photo_id=str(photo.id))
    return photo, True


def derive_missed(now: datetime, older_than: timedelta = timedelta(minutes=5), limit: int = 500) -> int:
    """Make the images of photos still processing long after they arrived (a task lost with
    the queue, or one that failed); returns how many were made."""
    waiting = db.session.scalars(
        select(Photo.id).where(Photo.status == PhotoStatus.RECEIVED, Photo.derived_at.is_(None),
                               Photo.received_at < now - older_than).order_by(Photo.received_at).limit(limit)
    ).all()
    made = 0
    for photo_id in waiting:
        try:
            made += derive_photo(photo_id)
        except (InvalidInput, OSError):
            log.warning("photo %s: display copy and thumbnail could not be made", photo_id, exc_info=True)
    return made


def derive_photo(photo_id: uuid.UUID) -> bool:
    """Make a received photo's display copy and thumbnail (the worker); False when nothing was left to do.

    The worker's own transactions: the read ends before the image work and the write is
    committed here. On SQLite a transaction that read and then writes fails at once ("database
    is locked", no waiting) when another writer committed in between, and during a sync burst
    one always has within the tenth of a second the images take; a transaction whose first
    statement writes waits for the lock instead.
    """
    photo = db.session.get(Photo, photo_id)
    if photo is None or not photo.processing:
        return False
    sha, extension = photo.sha256, photos.extension_for(photo.content_type)
    db.session.rollback()
    photos.make_derivatives(sha, extension)
    done = db.session.execute(update(Photo).where(Photo.id == photo_id, Photo.derived_at.is_(None))
                              .values(derived_at=clock.now()))
    db.session.commit()
    return done.rowcount > 0


def _put_original(photo: Photo, data: bytes, sha: str, declared_type: str | None) -> tuple[Photo, bool]:
    """Keep the camera's untouched file beside the phone's copy, once; its own EXIF fills exif_*."""
    if photo.original_sha256 is not None:
        _same_bytes_or_conflict(photo.original_sha256, sha, "该照片已上传过不同的原图，未覆盖。")
        return photo, False
    original = photos.read_original(data, zone=_zone())
    photos.check_declared_type(declared_type, original.content_type, "原图")
    photos.store_original(original, data)
    photo.original_sha256, photo.original_byte_size = original.sha256, original.byte_size
    photo.original_received_at = clock.now()
    _note_file_exif(photo, original.taken_at, original.lon, original.lat, original.orientation)
    db.session.flush()
    return photo, True


def _same_bytes_or_conflict(stored_sha: str, sha: str, message: str) -> None:
    """A resend of the stored bytes is fine; other bytes under the same id are a 409."""
    if stored_sha != sha:
        raise Conflict(message, {"server": {"sha256": stored_sha}, "client": {"sha256": sha}})


def _zone() -> str:
    """The city's time zone, for EXIF times that carry no offset."""
    from flask import current_app

    return current_app.config["TIME_ZONE"]


def _fill_photo(photo: Photo, processed: photos.ProcessedPhoto) -> None:
    """Record what the pipeline found, and flag a photo taken far from the check-in or long before it."""
    photo.status, photo.sha256, photo.byte_size = PhotoStatus.RECEIVED, processed.sha256, processed.byte_size
    photo.width, photo.height, photo.content_type = processed.width, processed.height, processed.content_type
    _note_file_exif(photo, processed.taken_at, processed.lon, processed.lat, processed.orientation)
    photo.received_at = clock.now()
    db.session.flush()


def _note_file_exif(photo: Photo, taken_at: datetime | None, lon: float | None, lat: float | None,
                    orientation: int | None) -> None:
    """The file's own EXIF wins over what the phone announced (a shrunk copy carries none)."""
    if taken_at is not None or lon is not None:
        photo.exif_taken_at, photo.exif_lon, photo.exif_lat = taken_at, lon, lat
        photo.exif_far_from_checkin = onsite_rules.photo_far_from_check(photo.inspection, lon, lat)
        photo.taken_before_visit = onsite_rules.photo_taken_before_visit(photo.inspection, taken_at)
    if orientation is not None:
        photo.exif_orientation = orientation
