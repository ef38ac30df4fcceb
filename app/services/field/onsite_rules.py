"""The one rule for an on-site check (现场核查): how far from the case it was taken, how sure
its position is, what it lacks, and whether it counts.

The phone's upload (``services.field.sync``) and the desk's form (the lifecycle step
``record_onsite``, ``services.field.desk_checks``) both judge a check here, so a check is
flagged the same whichever side recorded it; the phone applies the same rule offline with
the settings its bootstrap carries.

A check counts as the case's on-site check (it stops the first on-site clock, sets
``first_onsite_at`` and can meet 销号's evidence requirement) when it is neither far from the
case, nor of poor accuracy, nor incomplete, or once a supervisor or the command office has
accepted it. A flagged check is kept and shown all the same.

A point picked by hand on a map is no measurement, so it has no accuracy to judge: such a
check is marked ``manual_location`` and judged by its photos instead. With a photo, the
photo (its camera time and its own position, both shown beside it) is the evidence that
someone stood there, so the accuracy flag stays off; without one nothing shows it, so the
check is flagged ``poor_accuracy`` and waits for acceptance like any other doubtful check.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from geoalchemy2.shape import to_shape

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import Case, Inspection, User
from app.models.vocab import CaseStatus, InspectionKind, NoPhotoReason, Role, Stage
from app.services import clock
from app.services.access import authorize
from app.services.cases import deadlines
from app.services.cases.timeline import append_event
from app.services.geo.spatial import distance_m
from app.services.settings import get_setting

# The states in which a case takes an on-site check, from the phone and the desk alike: from
# assignment (交办) until 销号. Before assignment nobody handles the case yet and its channel is
# undecided (it may be declined or sent to another channel); once assigned, the grid's inspector
# may be on site before the department has signed for it (first line, first time), and a case
# already replied to, reviewed or followed up still needs a valid check before it is closed.
ONSITE_STATES = frozenset({
    CaseStatus.ASSIGNED, CaseStatus.SIGNED, CaseStatus.RETURN_REQUESTED, CaseStatus.HANDLING,
    CaseStatus.REPLIED, CaseStatus.REVIEWED, CaseStatus.FOLLOWED_UP,
})

# Who may accept a flagged check: those who oversee the handling (二级网格, 指挥部办公室).
ACCEPTORS = frozenset({Role.SUPERVISOR, Role.COMMAND_OFFICE})

FINDINGS = ("source_found", "violation_found")
MISSING_PHOTO = "须至少拍一张照片，或选择无法拍照的原因"
MISSING_FINDINGS = "须选择核查结论"


def check_no_photo_reason(photo_count: int, reason: str | None) -> None:
    """A reason for having no photo stands only when no photo is given (else 422)."""
    if reason is not None and photo_count:
        message = "已有照片时不能再选择无法拍照的原因。"
        raise InvalidInput(message, {"no_photo_reason": [message]})


def check_state(case: Case) -> None:
    """Refuse a check on a case that does not take one (422, in Chinese).

    Not 409: to the phone's outbox a 409 means "another version of this record is stored",
    and this record has none; a 422 is kept on the phone with the message.
    """
    if case.status not in ONSITE_STATES:
        raise InvalidInput(f"案件当前为「{CaseStatus(case.status).label}」，不能再记录现场核查。")


def assess(inspection: Inspection, case: Case) -> list[str]:
    """Measure a check against its case and set its flags; return what it lacks, in Chinese.

    Call it once the check's photos are announced (they decide ``incomplete``).
    """
    distance = _distance(inspection, case)
    inspection.distance_to_case_m = distance
    inspection.far_from_case = distance is not None and distance > float(get_setting("onsite_max_distance_m"))
    inspection.poor_accuracy = _poor_accuracy(inspection)
    missing = missing_items(inspection)
    inspection.incomplete = bool(missing)
    return missing


def _distance(inspection: Inspection, case: Case) -> float | None:
    """Metres from the check's position to the case's location; None when either is unknown."""
    if inspection.location is None or case.location is None:
        return None
    here, there = to_shape(inspection.location), to_shape(case.location)
    return round(distance_m(here.x, here.y, there.x, there.y), 1)


def _poor_accuracy(inspection: Inspection) -> bool:
    """A fix worse than allowed or of unknown accuracy; a hand-picked point without a photo."""
    if inspection.manual_location:
        return not inspection.photos
    limit = float(get_setting("onsite_max_accuracy_m"))
    return inspection.accuracy_m is None or inspection.accuracy_m > limit


def missing_items(inspection: Inspection) -> list[str]:
    """What an on-site check still lacks, as the inspector must read it (none for a discovery)."""
    if inspection.kind != InspectionKind.ONSITE_CHECK:
        return []
    return missing_from(len(inspection.photos), inspection.no_photo_reason, inspection.findings)


def missing_from(photo_count: int, no_photo_reason: str | None, findings: dict | None) -> list[str]:
    """What a check with these photos, reason and findings lacks: the rule before anything is stored."""
    missing = []
    if not photo_count and not no_photo_reason:
        missing.append(MISSING_PHOTO)
    if any(not isinstance((findings or {}).get(key), bool) for key in FINDINGS):
        missing.append(MISSING_FINDINGS)
    return missing


def is_flagged(inspection: Inspection) -> bool:
    """Far from the case, poorly located or incomplete."""
    return bool(inspection.far_from_case or inspection.poor_accuracy or inspection.incomplete)


def counts_as_onsite(inspection: Inspection) -> bool:
    """Whether this check is the case's on-site check: unflagged, or accepted despite its flags."""
    if inspection.kind != InspectionKind.ONSITE_CHECK:
        return False
    return inspection.accepted_at is not None or not is_flagged(inspection)


def awaits_acceptance(inspection: Inspection) -> bool:
    """A flagged on-site check nobody has accepted yet."""
    return inspection.kind == InspectionKind.ONSITE_CHECK and is_flagged(inspection) and inspection.accepted_at is None


def flag_labels(inspection: Inspection) -> list[str]:
    """The check's own flags in Chinese, as the desk shows them and the timeline notes them."""
    labels = []
    if inspection.far_from_case:
        labels.append(f"离案件位置过远 {metres(inspection.distance_to_case_m)} 米")
    if inspection.poor_accuracy:
        if inspection.manual_location:
            labels.append("地图手选位置且无照片佐证")
        elif inspection.accuracy_m is None:
            labels.append("定位误差大（精度未知）")
        else:
            labels.append(f"定位误差大（±{metres(inspection.accuracy_m)} 米）")
    labels.extend(missing_items(inspection))
    return labels


def metres(value: float) -> int:
    """Whole metres, halves rounded up, as the page and the map round them."""
    return math.floor(value + 0.5)


def summary(inspection: Inspection) -> str:
    """One Chinese line for the timeline: photos, distance, and whether the check counts."""
    count = len(inspection.photos)
    if count:
        parts = [f"照片 {count} 张"]
    elif inspection.no_photo_reason:
        parts = [f"无照片（{NoPhotoReason(inspection.no_photo_reason).label}）"]
    else:
        parts = ["无照片"]
    if inspection.distance_to_case_m is not None:
        parts.append(f"距案件位置 {metres(inspection.distance_to_case_m)} 米")
    if counts_as_onsite(inspection):
        parts.append("计入现场核查")
    else:
        parts.append("待确认后计入：" + "、".join(flag_labels(inspection)))
    line = "；".join(parts)
    return f"{line}。{inspection.notes[:200]}" if inspection.notes else f"{line}。"


def record_check(case: Case, inspection: Inspection) -> None:
    """Let a counting check meet the case's first on-site clock at the check's own time.

    Phones upload late: a check made earlier than the one that met the clock moves the met
    time back to its own, so the clock and ``first_onsite_at`` always name the first check.
    """
    if not counts_as_onsite(inspection):
        return
    if case.first_onsite_at is None or inspection.captured_at < case.first_onsite_at:
        case.first_onsite_at = inspection.captured_at
    onsite = deadlines.clock_for(case, Stage.ONSITE)
    if onsite is not None and onsite.done_at is not None and inspection.captured_at < onsite.done_at:
        onsite.done_at = inspection.captured_at
    deadlines.stop_clock(case, Stage.ONSITE, inspection.captured_at)


# ---------------------------------------------------------------- photos


def photo_distance_m(inspection: Inspection, lon: float | None, lat: float | None) -> float | None:
    """Metres from the check's point to a photo's own position; None when either is unknown."""
    if lon is None or lat is None or inspection.location is None:
        return None
    point = to_shape(inspection.location)
    return distance_m(point.x, point.y, lon, lat)


def photo_far_from_check(inspection: Inspection, lon: float | None, lat: float | None) -> bool:
    """True when a photo's own position lies farther from the check's point than allowed."""
    distance = photo_distance_m(inspection, lon, lat)
    return distance is not None and distance > float(get_setting("photo_far_m"))


def photo_taken_before_visit(inspection: Inspection, taken_at: datetime | None) -> bool:
    """True when the camera's time lies longer before the check than ``photo_max_age_minutes``."""
    if taken_at is None:
        return False
    return taken_at < inspection.captured_at - timedelta(minutes=int(get_setting("photo_max_age_minutes")))


# ---------------------------------------------------------------- acceptance


def accept_check(user: User, case_id: int, inspection_id: uuid.UUID, note: str) -> Inspection:
    """A supervisor or the command office accepts a flagged check, which then counts.

    The acceptance is kept on the check (who, when, why) and in the case's timeline, and
    the on-site clock is met at the check's own time, not the acceptance's.
    """
    case = authorize(user, case_id)
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or inspection.case_id != case.id:
        raise NotFound("现场核查记录不存在。")
    if user.role not in ACCEPTORS:
        raise Forbidden("只有二级网格管理员和指挥部办公室可以确认现场核查。")
    refusal = _acceptance_refusal(user, case, inspection)
    if refusal:
        raise Conflict(refusal)
    if not note.strip():
        message = "须填写确认说明（为何认可该核查）。"
        raise InvalidInput(message, {"note": [message]})
    now = clock.now()
    inspection.accepted_by_id, inspection.accepted_at, inspection.acceptance_note = user.id, now, note.strip()
    record_check(case, inspection)
    deadlines.refresh_case_due(case)
    append_event(case, "accept_onsite", user, note=f"{'、'.join(flag_labels(inspection))}。确认说明：{note.strip()}",
                 data={"inspection_id": str(inspection.id), "captured_at": inspection.captured_at.isoformat()},
                 at=now)
    return inspection


def _acceptance_refusal(user: User, case: Case, inspection: Inspection) -> str | None:
    """Why this check cannot be accepted now, or None."""
    if inspection.kind != InspectionKind.ONSITE_CHECK:
        return "巡查发现不需要确认。"
    if inspection.accepted_at is not None:
        return "该核查已确认过。"
    if not is_flagged(inspection):
        return "该核查没有需要确认的问题，已计入现场核查。"
    if inspection.incomplete:
        # Acceptance vouches for a doubtful position, not for evidence nobody recorded.
        return f"该核查{'、'.join(missing_items(inspection)).replace('须', '未')}，不能确认为有效；请重新现场核查。"
    if case.status not in ONSITE_STATES:
        return f"案件当前为「{CaseStatus(case.status).label}」，不能确认现场核查。"
    if inspection.inspector_id == user.id:
        return "不能确认本人记录的现场核查。"
    return None


@dataclass
class CheckResult:
    """An uploaded record with what the on-site rule says of it, as the API answers it."""

    inspection: Inspection
    missing: list[str]
    counts_as_onsite: bool

    def __getattr__(self, name: str):
        """Everything else is the stored record's own."""
        return getattr(self.inspection, name)


def check_result(inspection: Inspection) -> CheckResult:
    """The record and the rule's verdict on it, for the uploader."""
    return CheckResult(inspection, missing_items(inspection), counts_as_onsite(inspection))
