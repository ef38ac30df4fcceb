"""The on-site checks (现场核查) the demo's cases went through, each with a photo, so a demo case's
timeline, its evidence and its 销号 checklist agree: the timeline's 「现场核查」 names a check
the desk shows, and a case past it meets the checklist's on-site requirement.

Every case past its on-site step (``tables.ONSITE``) gets one counting check by the person the
timeline names, at that step's time: 10-60 m from the case with a GPS fix of 4-15 m, the
source found (a violation in about a third), a line of notes, and one photo. The photos are
a few scenes drawn here, one per kind of problem in a few lights, stored once each through
the real photo pipeline (``services.field.photos``: the file as received, then its display
copy and thumbnail); each check's photo row points at one of them. Only demos whose cases get
whole timelines (``tables.FULL_TIMELINE_MAX``) get checks, as they get plans and replies.
"""

import hashlib
import io
import json
import math
import uuid
from datetime import datetime, timedelta

from PIL import Image, ImageDraw

from app.demo import bulk_load
from app.demo.sources import METRES_PER_DEGREE
from app.demo.tables import ONSITE
from app.models import Inspection, Photo
from app.models.types import SRID
from app.models.vocab import InspectionKind, LocationSource, PhotoOrigin, PhotoStatus, RecordedVia
from app.services.field import photos

PHOTO_SIZE = (1024, 768)
# Lights a scene is drawn in (sky top, sky bottom, ground): morning, noon, overcast.
LIGHTS = (((120, 170, 220), (230, 220, 200), (110, 130, 90)),
          ((70, 140, 220), (190, 215, 240), (120, 140, 80)),
          ((150, 155, 165), (200, 200, 205), (100, 110, 95)))
NOTES = {
    "air": "现场可闻到明显异味，排气筒有可见烟气，已拍照取证并告知企业负责人。",
    "noise": "现场施工机械作业，噪声明显，已告知施工单位夜间停止高噪声作业。",
    "water": "排口附近水体浑浊、有泡沫，已拍照取证，通知企业停止排放并取样送检。",
    "solid_waste": "现场堆放固体废物，未见防渗防雨措施，已责令清运并规范贮存。",
}
NOTES_OTHER = "已到现场核查，情况属实，已拍照取证并向当事单位说明整改要求。"


def _draw(category: str, light: int) -> bytes:
    """One scene as a JPEG: sky and ground in a light, and what the kind of problem looks like."""
    top, bottom, ground = LIGHTS[light]
    width, height = PHOTO_SIZE
    horizon = int(height * 0.6)
    image = Image.new("RGB", PHOTO_SIZE, ground)
    draw = ImageDraw.Draw(image)
    for y in range(horizon):  # the sky's gradient
        share = y / horizon
        colour = tuple(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    draw.rectangle([0, horizon - 120, 420, horizon], fill=(150, 150, 145))  # a works building
    draw.rectangle([40, horizon - 100, 380, horizon - 60], fill=(90, 110, 130))
    if category == "air":
        draw.rectangle([520, horizon - 330, 560, horizon], fill=(120, 115, 110))  # a stack, and its smoke
        for k in range(7):
            r = 30 + 14 * k
            draw.ellipse([560 + 45 * k - r, horizon - 360 - 30 * k - r, 560 + 45 * k + r, horizon - 360 - 30 * k + r],
                         fill=(175 - 8 * k, 170 - 8 * k, 165 - 8 * k))
    elif category == "water":
        draw.rectangle([0, horizon + 60, width, height], fill=(70, 95, 90))  # a river with foam at the outfall
        draw.rectangle([600, horizon + 20, 640, horizon + 80], fill=(80, 80, 80))
        for k in range(12):
            x = 560 + 37 * (k % 6)
            draw.ellipse([x, horizon + 85 + 18 * (k // 6), x + 40, horizon + 100 + 18 * (k // 6)], fill=(225, 225, 215))
    elif category == "noise":
        draw.line([(700, horizon), (700, horizon - 380)], fill=(230, 170, 40), width=14)  # a crane
        draw.line([(560, horizon - 370), (960, horizon - 370)], fill=(230, 170, 40), width=12)
        draw.rectangle([560, horizon - 60, 760, horizon], fill=(210, 160, 40))  # an excavator
    else:
        for k in range(6):  # a heap of waste
            x = 520 + 60 * k
            draw.polygon([(x, horizon + 140), (x + 90, horizon + 20 + 12 * (k % 3)), (x + 180, horizon + 140)],
                         fill=(95 + 15 * (k % 3), 85, 70))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=80)
    return output.getvalue()


def store_photos() -> dict[tuple[str, int], photos.ProcessedPhoto]:
    """Draw every scene and store it through the photo pipeline (once per content); return each
    scene's processed file by (kind of scene, light)."""
    stored = {}
    for category in (*NOTES, "other"):
        for light in range(len(LIGHTS)):
            data = _draw(category, light)
            processed = photos.process_upload(data)
            photos.store_received(processed, data)
            photos.make_derivatives(processed.sha256, processed.extension)
            stored[category, light] = processed
    return stored


def _uuid(*parts) -> uuid.UUID:
    """A stable id for a seeded record (the same seed gives the same ids)."""
    return uuid.UUID(bytes=hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:16], version=4)


INSPECTION_COLUMNS = ("id", "case_id", "inspector_id", "grid_id", "kind", "location", "accuracy_m", "fix_at",
                      "location_source", "manual_location", "mock_location", "outside_own_grid", "findings", "notes",
                      "recorded_via", "distance_to_case_m", "far_from_case", "poor_accuracy", "incomplete",
                      "acceptance_note", "content_sha256", "captured_at", "received_at")
PHOTO_COLUMNS = ("id", "inspection_id", "status", "sha256", "byte_size", "width", "height", "content_type",
                 "captured_at", "exif_far_from_checkin", "origin", "taken_before_visit", "received_at", "derived_at")


def insert_onsite_checks(cases: list[dict], scenes: dict, sqlite: bool) -> None:
    """One counting check and its photo for each case past its on-site step (``cases`` as the
    timelines' batches hold them: id, category, milestones, field person, grid, position)."""
    when = bulk_load.stored_time
    stored = bulk_load.stored_uuid
    checks, shots = [], []
    for case in cases:
        captured: datetime | None = case["milestones"][ONSITE]
        if captured is None or case["lon"] is None:
            continue
        key = case["id"]
        metres, angle = 10 + key * 7919 % 50, math.radians(key * 37 % 360)
        lon = case["lon"] + metres * math.cos(angle) / (METRES_PER_DEGREE * math.cos(math.radians(case["lat"])))
        lat = case["lat"] + metres * math.sin(angle) / METRES_PER_DEGREE
        check_id, photo_id = _uuid("onsite", key), _uuid("photo", key)
        received = captured + timedelta(minutes=3 + key % 40)
        findings = {"source_found": True, "violation_found": key % 3 == 0}
        notes = NOTES.get(case["category"], NOTES_OTHER)
        checks.append((
            stored(check_id, sqlite), key, case["field"], case["grid_id"], InspectionKind.ONSITE_CHECK.value,
            f"SRID={SRID};POINT({lon!r} {lat!r})", float(4 + key % 12), when(captured, sqlite),
            LocationSource.GPS.value, False, False, False, json.dumps(findings), notes, RecordedVia.PHONE.value,
            float(metres), False, False, False, "", hashlib.sha256(f"{check_id}|{captured}".encode()).hexdigest(),
            when(captured, sqlite), when(received, sqlite),
        ))
        scene = scenes.get((case["category"], key % len(LIGHTS))) or scenes["other", key % len(LIGHTS)]
        shots.append((
            stored(photo_id, sqlite), stored(check_id, sqlite), PhotoStatus.RECEIVED.value, scene.sha256,
            scene.byte_size, scene.width, scene.height, scene.content_type, when(captured, sqlite), False,
            PhotoOrigin.CAMERA.value, False, when(received, sqlite), when(received, sqlite),
        ))
    if checks:
        bulk_load.bulk_insert(Inspection.__table__, INSPECTION_COLUMNS, checks)
        bulk_load.bulk_insert(Photo.__table__, PHOTO_COLUMNS, shots)
