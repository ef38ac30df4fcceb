"""The one rule for an on-site check, through the phone's API and the lifecycle alike: what is
flagged, what counts, who may accept a doubtful check, and which states take a check."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, InvalidInput
from app.extensions import db
from app.models import Case, CaseEvent, Inspection
from app.models.vocab import CaseStatus, Stage
from app.services import clock
from app.services.cases import deadlines
from app.services.cases.lifecycle import STEPS, available_steps
from app.services.field import onsite_rules
from app.services.settings import set_setting
from tests.helpers import Desk

INSPECTOR = "insp_V11"
CASE_POINT = (120.505, 32.31)  # the V11 case's location


@pytest.fixture
def desk(app, city):
    return Desk(app)


def check_body(case_id, *, lon=CASE_POINT[0], lat=CASE_POINT[1], accuracy=8.0, photos=1, source="gps",
               findings=None, at=None, **extra):
    """An on-site check as the phone sends it; by default a good one (at the case, ±8 m, a photo)."""
    at = at or clock.now()
    return {
        "kind": "onsite_check", "case_id": case_id, "captured_at": at.isoformat(),
        "location": {"lon": lon, "lat": lat, "accuracy_m": accuracy, "source": source},
        "findings": {"source_found": True, "violation_found": False} if findings is None else findings,
        "notes": "现场核查",
        "photos": [{"id": str(uuid.uuid4()), "captured_at": at.isoformat()} for _ in range(photos)],
    } | extra


def upload(desk, body, user=INSPECTOR, expect=201):
    client, token = desk.client(user)
    response = client.put(f"/api/v1/inspections/{uuid.uuid4()}", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def signed_case(desk, city) -> Case:
    """The V11 case signed for by its department: its first on-site clock runs."""
    case = city.cases["V11"]
    desk.act("officer_env", case.id, "sign")
    return case


def onsite_clock(case_id):
    db.session.expire_all()
    return deadlines.clock_for(db.session.get(Case, case_id), Stage.ONSITE)


def test_a_good_check_counts_and_stops_the_clock_at_its_own_time(desk, city):
    case = signed_case(desk, city)
    at = clock.now() - timedelta(minutes=30)
    result = upload(desk, check_body(case.id, at=at))
    assert result["counts_as_onsite"] is True and result["missing"] == []
    assert result["distance_to_case_m"] == 0 and not result["far_from_case"] and not result["poor_accuracy"]
    assert onsite_clock(case.id).done_at == at
    assert db.session.get(Case, case.id).first_onsite_at == at


def test_an_earlier_check_uploaded_later_moves_the_met_time_back(desk, city):
    case = signed_case(desk, city)
    later, earlier = clock.now() - timedelta(minutes=10), clock.now() - timedelta(minutes=50)
    upload(desk, check_body(case.id, at=later))
    upload(desk, check_body(case.id, at=earlier))
    assert onsite_clock(case.id).done_at == earlier
    assert db.session.get(Case, case.id).first_onsite_at == earlier


def test_far_inaccurate_empty_check_is_kept_flagged_and_does_not_stop_the_clock(desk, city):
    case = signed_case(desk, city)
    empty = check_body(case.id, lon=CASE_POINT[0] + 0.032, accuracy=150, photos=0, findings={})
    result = upload(desk, empty)
    assert result["far_from_case"] and result["poor_accuracy"] and result["incomplete"]
    assert 2900 < result["distance_to_case_m"] < 3100
    assert result["missing"] == ["须至少拍一张照片，或选择无法拍照的原因", "须选择核查结论"]
    assert result["counts_as_onsite"] is False
    assert onsite_clock(case.id).done_at is None
    assert db.session.get(Case, case.id).first_onsite_at is None
    note = db.session.scalar(select(CaseEvent.note).where(CaseEvent.kind == "record_onsite"))
    assert "离案件位置过远" in note and "待确认后计入" in note


def test_each_flag_alone_keeps_a_check_from_counting(desk, city):
    case = signed_case(desk, city)
    set_setting("onsite_max_distance_m", 300)
    db.session.commit()
    far = upload(desk, check_body(case.id, lon=CASE_POINT[0] + 0.004))  # about 376 m east
    assert far["far_from_case"] and not far["poor_accuracy"] and not far["counts_as_onsite"]
    vague = upload(desk, check_body(case.id, accuracy=None))
    assert vague["poor_accuracy"] and not vague["counts_as_onsite"]
    undecided = upload(desk, check_body(case.id, findings={"source_found": True}))
    assert undecided["missing"] == ["须选择核查结论"] and not undecided["counts_as_onsite"]
    excused = upload(desk, check_body(case.id, photos=0, no_photo_reason="not_allowed"))
    assert excused["counts_as_onsite"] and excused["missing"] == []


def test_a_hand_picked_point_is_judged_by_its_photos(desk, city):
    case = signed_case(desk, city)
    with_photo = upload(desk, check_body(case.id, source="manual", accuracy=None))
    assert with_photo["manual_location"] and not with_photo["poor_accuracy"] and with_photo["counts_as_onsite"]
    without = upload(desk, check_body(case.id, source="manual", accuracy=None, photos=0,
                                      no_photo_reason="camera_failed"))
    assert without["poor_accuracy"] and not without["counts_as_onsite"]


def test_a_reason_for_no_photo_is_refused_beside_a_photo(desk, city):
    refused = upload(desk, check_body(city.cases["V11"].id, no_photo_reason="safety"), expect=422)
    assert refused["errors"]["no_photo_reason"]


def test_an_old_phone_body_without_the_new_keys_is_still_taken(desk, city):
    body = check_body(city.cases["V11"].id)
    del body["findings"]
    result = upload(desk, body)
    assert result["missing"] == ["须选择核查结论"]


def test_acceptance_by_a_supervisor_stops_the_clock_at_the_checks_time(desk, city):
    case = signed_case(desk, city)
    at = clock.now() - timedelta(hours=2)
    result = upload(desk, check_body(case.id, accuracy=150, at=at))
    check_id = uuid.UUID(result["id"])
    supervisor, inspector = city.users["sup_T1"], city.users[INSPECTOR]
    with pytest.raises(Forbidden):
        onsite_rules.accept_check(inspector, case.id, check_id, "我在现场")
    with pytest.raises(InvalidInput):
        onsite_rules.accept_check(supervisor, case.id, check_id, "  ")
    accepted = onsite_rules.accept_check(supervisor, case.id, check_id, "电话核实网格员当时在现场，照片可证")
    db.session.commit()
    assert accepted.accepted_by_id == supervisor.id and onsite_rules.counts_as_onsite(accepted)
    assert onsite_clock(case.id).done_at == at
    assert db.session.get(Case, case.id).first_onsite_at == at
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "accept_onsite"))
    assert "定位误差大" in event.note and "电话核实" in event.note
    with pytest.raises(Conflict, match="已确认过"):
        onsite_rules.accept_check(supervisor, case.id, check_id, "再次确认")


def test_nobody_accepts_their_own_check_or_one_with_nothing_to_accept(desk, city):
    case = signed_case(desk, city)
    supervisor = city.users["sup_T1"]
    own = upload(desk, check_body(case.id, accuracy=150), user="sup_T1")
    with pytest.raises(Conflict, match="本人"):
        onsite_rules.accept_check(supervisor, case.id, uuid.UUID(own["id"]), "我自己去的")
    good = upload(desk, check_body(case.id))
    with pytest.raises(Conflict, match="没有需要确认"):
        onsite_rules.accept_check(city.users["command"], case.id, uuid.UUID(good["id"]), "确认")


def test_a_check_before_signing_meets_the_clock_when_it_starts(desk, city):
    case = city.cases["V11"]  # assigned, not yet signed: no on-site clock yet
    at = clock.now() - timedelta(hours=1)
    upload(desk, check_body(case.id, at=at))
    desk.act("officer_env", case.id, "sign")
    assert onsite_clock(case.id).done_at == at


@pytest.mark.parametrize("status, taken", [
    (CaseStatus.REGISTERED, False), (CaseStatus.ACCEPTED, False), (CaseStatus.ASSIGNED, True),
    (CaseStatus.SIGNED, True), (CaseStatus.RETURN_REQUESTED, True), (CaseStatus.HANDLING, True),
    (CaseStatus.REPLIED, True), (CaseStatus.REVIEWED, True), (CaseStatus.FOLLOWED_UP, True),
    (CaseStatus.CLOSED, False), (CaseStatus.DECLINED, False), (CaseStatus.TRANSFERRED, False),
])
def test_desk_and_phone_take_a_check_in_the_same_states(desk, city, status, taken):
    case = city.cases["V11"]
    case.status = status
    db.session.commit()
    assert STEPS["record_onsite"].sources == onsite_rules.ONSITE_STATES
    on_desk = "record_onsite" in {s.name for s in available_steps(city.users["officer_env"], case)}
    from_phone = upload(desk, check_body(case.id), expect=201 if taken else 422)
    assert on_desk is taken
    if not taken:
        assert "不能再记录现场核查" in from_phone["message"]
    assert (db.session.scalar(select(Inspection.id)) is not None) is taken
