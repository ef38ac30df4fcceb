"""A case's evidence as the desk shows it: every on-site check and patrol discovery with its
photos, its position against the case's, its flags in Chinese, its findings, and who recorded
or accepted it, so nobody reviews or closes a case without seeing what was found on site."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Case, Inspection, Photo, User
from app.models.vocab import InspectionKind, NoPhotoReason, PhotoOrigin, PhotoStatus, RecordedVia
from app.services.field import onsite_rules

# How serious a flag is, for its colour: a reason not to count the check, something to look
# at, a plain fact, or good news.
BAD, WARN, INFO, GOOD = "bad", "warn", "info", "good"


@dataclass(frozen=True)
class Flag:
    """One thing a reviewer should know about a check or photo, in Chinese."""

    text: str
    level: str


@dataclass
class PhotoEvidence:
    """One photo of a check: its times, where it came from, its flags, which copy is kept."""

    id: uuid.UUID
    received: bool
    processing: bool
    camera_time: datetime | None
    captured_at: datetime | None
    received_at: datetime | None
    origin: str
    copy_label: str
    flags: list[Flag]


@dataclass
class CheckEvidence:
    """One on-site check or patrol discovery with everything the desk shows about it."""

    id: uuid.UUID
    kind: str
    kind_label: str
    recorded_by: str
    recorded_via: str
    captured_at: datetime
    received_at: datetime
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    distance_m: float | None
    findings: list[str]
    measures: str
    outcome: str
    notes: str
    counts: bool
    awaits_acceptance: bool
    inspector_id: int
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    acceptance_note: str = ""
    flags: list[Flag] = field(default_factory=list)
    photos: list[PhotoEvidence] = field(default_factory=list)


def evidence_of(case: Case) -> list[CheckEvidence]:
    """The case's checks and discoveries, oldest first, ready for the page."""
    inspections = list(db.session.scalars(
        select(Inspection).where(Inspection.case_id == case.id).order_by(Inspection.captured_at)
        .options(selectinload(Inspection.photos))
    ))
    ids = {i.inspector_id for i in inspections} | {i.accepted_by_id for i in inspections if i.accepted_by_id}
    names = dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return [_check(i, names) for i in inspections]


def _check(inspection: Inspection, names: dict[int, str]) -> CheckEvidence:
    """One check's evidence card."""
    point = to_shape(inspection.location) if inspection.location is not None else None
    findings = inspection.findings or {}
    return CheckEvidence(
        id=inspection.id, kind=inspection.kind, kind_label=InspectionKind(inspection.kind).label,
        recorded_by=names.get(inspection.inspector_id, ""), recorded_via=RecordedVia(inspection.recorded_via).label,
        captured_at=inspection.captured_at, received_at=inspection.received_at,
        lon=point.x if point else None, lat=point.y if point else None, accuracy_m=inspection.accuracy_m,
        distance_m=inspection.distance_to_case_m, findings=_findings(inspection),
        measures=findings.get("measures") or "", outcome=findings.get("outcome") or "", notes=inspection.notes,
        counts=onsite_rules.counts_as_onsite(inspection), awaits_acceptance=onsite_rules.awaits_acceptance(inspection),
        inspector_id=inspection.inspector_id, accepted_by=names.get(inspection.accepted_by_id),
        accepted_at=inspection.accepted_at, acceptance_note=inspection.acceptance_note,
        flags=_check_flags(inspection, names), photos=[_photo(p) for p in inspection.photos],
    )


# The two conclusions of a check: what each choice reads as.
_CONCLUSIONS = {
    "source_found": {True: "属实：找到污染源", False: "不属实：未找到污染源"},
    "violation_found": {True: "存在违法行为", False: "未发现违法行为"},
}


def _findings(inspection: Inspection) -> list[str]:
    """The conclusions chosen, in Chinese (a discovery has none)."""
    if inspection.kind != InspectionKind.ONSITE_CHECK:
        return []
    findings = inspection.findings or {}
    return [labels[findings[key]] for key, labels in _CONCLUSIONS.items() if isinstance(findings.get(key), bool)]


def _check_flags(inspection: Inspection, names: dict[int, str]) -> list[Flag]:
    """The check's flags: the rule's own, then position, photos and acceptance."""
    flags = [Flag(text, BAD) for text in onsite_rules.flag_labels(inspection)]
    if inspection.mock_location:
        flags.append(Flag("疑似模拟定位", BAD))
    if inspection.outside_own_grid:
        flags.append(Flag("不在本网格", WARN))
    if inspection.manual_location and not inspection.poor_accuracy:
        flags.append(Flag("地图手选位置", INFO))
    if inspection.no_photo_reason:
        flags.append(Flag(f"无照片（{NoPhotoReason(inspection.no_photo_reason).label}）", INFO))
    photos = inspection.photos
    if any(p.taken_before_visit for p in photos):
        flags.append(Flag("照片早于核查", WARN))
    if any(p.exif_far_from_checkin for p in photos):
        flags.append(Flag("照片拍摄位置偏离核查点", WARN))
    if any(p.origin == PhotoOrigin.GALLERY for p in photos):
        flags.append(Flag("相册选取", WARN))
    if onsite_rules.awaits_acceptance(inspection):
        flags.append(Flag("待确认", BAD))
    elif inspection.accepted_at is not None:
        flags.append(Flag(f"已确认（{names.get(inspection.accepted_by_id, '')}）", GOOD))
    elif onsite_rules.counts_as_onsite(inspection):
        flags.append(Flag("计入现场核查", GOOD))
    return flags


def _photo(photo: Photo) -> PhotoEvidence:
    """One photo's card."""
    flags = []
    if photo.taken_before_visit:
        flags.append(Flag(f"拍摄早于核查 {_how_long(photo.inspection.captured_at - photo.exif_taken_at)}", WARN))
    if photo.exif_far_from_checkin:
        flags.append(Flag(f"拍摄位置离核查点 {_how_far(photo)}", WARN))
    if photo.origin == PhotoOrigin.GALLERY:
        flags.append(Flag("相册选取", WARN))
    return PhotoEvidence(
        id=photo.id, received=photo.status == PhotoStatus.RECEIVED, processing=photo.processing,
        camera_time=photo.exif_taken_at,
        captured_at=photo.captured_at, received_at=photo.received_at,
        origin=PhotoOrigin(photo.origin).label if photo.origin else "未注明来源",
        copy_label=copy_label(photo), flags=flags,
    )


def copy_label(photo: Photo) -> str:
    """Which file the original download gives: the untouched original, or the phone's copy."""
    return "原图" if photo.original_sha256 else "手机压缩件"


def map_points(evidence: list[CheckEvidence]) -> list[dict]:
    """The located checks for the case map: position, accuracy circle, distance, a label."""
    return [
        {"id": str(c.id), "lon": c.lon, "lat": c.lat, "accuracy_m": c.accuracy_m, "distance_m": c.distance_m,
         "counts": c.counts, "kind": c.kind, "label": f"{c.kind_label} · {c.recorded_by}"}
        for c in evidence if c.lon is not None
    ]


def _how_long(span: timedelta) -> str:
    """A span as a person says it: 3 天, 5 小时, 40 分钟."""
    minutes = int(span.total_seconds() // 60)
    if minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} 天"
    if minutes >= 120:
        return f"{minutes // 60} 小时"
    return f"{minutes} 分钟"


def _how_far(photo: Photo) -> str:
    """How far the photo's own position lies from the check's point, in m or km."""
    metres = onsite_rules.photo_distance_m(photo.inspection, photo.exif_lon, photo.exif_lat)
    return f"{metres / 1000:.1f} 公里" if metres >= 1000 else f"{onsite_rules.metres(metres)} 米"
