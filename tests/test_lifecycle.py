"""The lifecycle end to end through the API, on each legal track, and its refusals."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseClock, CaseEvent, User
from app.models.vocab import Channel, Stage
from app.services import clock
from app.services.cases import deadlines
from app.services.cases.lifecycle import needs_leader
from app.services.cases.timeline import verify_chain
from tests.helpers import (
    HANDLER,
    REPLY,
    Desk,
    add_onsite_photo,
    plan_date,
    register,
    walk_to_handling,
    walk_to_signed,
)


@pytest.fixture
def desk(app, city):
    return Desk(app)


def test_petition_track_end_to_end(desk):
    created = register(desk)
    case = created["case"]
    assert case["status"] == "registered" and case["grid"]["code"] == "V11" and case["town"]["code"] == "T1"
    assert case["department"]["name"] == "市生态环境局"
    assert case["number"].startswith("HJ")
    assert case["due_at"] is not None  # the acceptance clock runs from registration

    walk_to_handling(desk, case["id"])
    desk.act(HANDLER, case["id"], "reply", **REPLY)
    desk.act("sup_T1", case["id"], "review_pass", note="答复规范")
    desk.act("sup_T1", case["id"], "follow_up", satisfaction="satisfied", note="电话回访")
    closed = desk.act("sup_T1", case["id"], "close", note="销号")

    assert closed["status"] == "closed" and closed["closed_at"] and closed["due_at"] is None
    assert closed["legal_track"] == "petition"
    open_clocks = db.session.scalars(select(CaseClock).where(CaseClock.case_id == case["id"],
                                                             CaseClock.done_at.is_(None))).all()
    assert open_clocks == []
    kinds = [e["kind"] for e in desk.get("command", f"/api/v1/cases/{case['id']}/timeline").get_json()]
    assert kinds == ["register", "accept", "assign", "sign", "record_onsite", "plan", "reply", "review_pass",
                     "follow_up", "close"]
    assert verify_chain(case["id"]) == []


def test_violation_report_track_with_extension(desk):
    case = register(desk, channel="phone_12369")["case"]
    walk_to_handling(desk, case["id"], legal_track="violation_report")
    before = db.session.scalar(select(CaseClock.due_at).where(CaseClock.case_id == case["id"],
                                                              CaseClock.stage == "handle"))
    desk.act(HANDLER, case["id"], "request_extension", days=20, reason="需第三方检测")
    desk.act(HANDLER, case["id"], "request_extension", expect=409, days=5, reason="再延")
    desk.act(HANDLER, case["id"], "approve_extension", expect=409, notice_text="x")  # wrong role
    desk.act("sup_T1", case["id"], "approve_extension", notice_text="因需检测，延期20日答复。")
    db.session.expire_all()
    after = db.session.scalar(select(CaseClock.due_at).where(CaseClock.case_id == case["id"],
                                                             CaseClock.stage == "handle"))
    assert after - before >= timedelta(days=20)
    timeline = desk.get("command", f"/desk/cases/{case['id']}").text.split('class="timeline"')[1]
    assert "<strong>申请延期</strong>" in timeline and "<small>20 天</small>" in timeline  # how long was asked
    refused = desk.act(HANDLER, case["id"], "request_extension", expect=409, days=5, reason="再延")
    assert "只能延期一次" in refused["message"]
    desk.act(HANDLER, case["id"], "enforce", kind="daily_fine", document_number="皋环罚〔2026〕12号",
             decided_on="2026-11-20", amount_yuan="100000")
    desk.act(HANDLER, case["id"], "reply", **REPLY)
    desk.act("sup_T1", case["id"], "review_pass")
    desk.act("sup_T1", case["id"], "follow_up", not_possible_reason="信访人电话停机")
    assert desk.act("command", case["id"], "close")["status"] == "closed"


def test_other_channel_and_decline(desk):
    transferred = register(desk)["case"]
    refused = desk.act("command", transferred["id"], "transfer", expect=409)
    assert "须写明转往何处" in refused["message"] and "须写明转办理由" in refused["message"]
    done = desk.act("command", transferred["id"], "transfer", transferred_to="市人社局", transfer_reason="劳动纠纷")
    assert done["status"] == "transferred" and done["legal_track"] == "other_channel"

    declined = register(desk, title="重复诉求已终结")["case"]
    desk.act("command", declined["id"], "decline", expect=409)
    assert desk.act("command", declined["id"], "decline", notice_text="已依法终结，不再受理。")["status"] == "declined"


def test_return_needs_the_assigners_approval_and_the_window(desk):
    case = register(desk)["case"]
    desk.act("command", case["id"], "accept", legal_track="petition")
    desk.act("sup_T1", case["id"], "assign")
    desk.act(HANDLER, case["id"], "request_return", expect=409)
    desk.act(HANDLER, case["id"], "request_return", reason="属养殖污染，应由农业农村局办理")
    # While the assigner decides, no sign deadline runs against the unit that objected in time.
    stages = {c.stage: c for c in db.session.scalars(select(CaseClock).where(CaseClock.case_id == case["id"]))}
    assert Stage.SIGN not in stages and stages[Stage.RETURN_WINDOW].done_at is not None
    assert db.session.get(Case, case["id"]).sign_due_at is None
    refused = desk.act("sup_T2", case["id"], "approve_return", expect=404)  # another town: not even visible
    assert refused["code"] == 404
    desk.act("sup_T1", case["id"], "reject_return", expect=409)
    with clock.travel(timedelta(days=2)):
        back = desk.act("sup_T1", case["id"], "reject_return", note="经核实属工业企业")
        # Kept: the unit signs within its full period from the decision, not from the first assignment.
        sign = db.session.scalars(select(CaseClock).where(CaseClock.case_id == case["id"],
                                                          CaseClock.stage == Stage.SIGN)).one()
        assert sign.done_at is None and abs(sign.started_at - clock.now()) < timedelta(minutes=1)
    assert back["status"] == "assigned"
    with clock.travel(timedelta(days=10)):
        late = desk.act(HANDLER, case["id"], "request_return", expect=409, reason="再退")
    assert "已超过退单期限" in late["message"]
    desk.act(HANDLER, case["id"], "request_return", reason="确属农业")
    approved = desk.act("sup_T1", case["id"], "approve_return")
    assert approved["status"] == "accepted"


@pytest.mark.parametrize("channel", list(Channel))
def test_a_channel_s_group_decides_list_referral_above_level_and_report_clock(desk, channel):
    """Every rule that treats channels alike reads the channel's group from the vocabulary,
    so a channel added there is treated like its group everywhere."""
    case = register(desk, channel=channel)["case"]
    assert case["list_kind"] == ("potential" if channel.is_patrol else "existing")
    assert case["above_level"] is channel.above_level
    assert case["inspection_referral"] == channel.inspection_referral
    desk.act("command", case["id"], "accept", legal_track="petition")
    accepted = db.session.get(Case, case["id"])
    assert needs_leader(accepted) is (channel.above_level or channel.is_inspection)
    stages = set(db.session.scalars(select(CaseClock.stage).where(CaseClock.case_id == case["id"])))
    timed = deadlines.rule_for(accepted, Stage.REPORT) is not None  # the rules time central and provincial ones
    assert (Stage.REPORT in stages) is (channel.is_inspection and timed)


def test_channel_groups_are_the_plan_s():
    """Above-level means a visit to Beijing or the province; three channels bring inspection referrals."""
    assert Channel.above_level_channels() == (Channel.ABOVE_LEVEL_BEIJING, Channel.ABOVE_LEVEL_PROVINCE)
    assert {c for c in Channel if c.is_inspection} == {
        Channel.CENTRAL_INSPECTION, Channel.PROVINCIAL_INSPECTION, Channel.SPECIAL_INSPECTION}
    assert [c for c in Channel if c.is_patrol] == [Channel.GRID_PATROL]


def test_leader_is_required_before_an_inspection_referral_is_handled(desk):
    case = register(desk, channel="central_inspection")["case"]
    assert case["inspection_referral"] == "central"
    desk.act("command", case["id"], "accept", legal_track="petition")
    desk.act("sup_T1", case["id"], "assign")
    desk.act(HANDLER, case["id"], "sign")
    desk.act("insp_V11", case["id"], "record_onsite", notes="核查")
    refused = desk.act(HANDLER, case["id"], "plan", expect=409, measures="整改", responsible_name="王五",
                       target_date=plan_date())
    assert "包案领导" in refused["message"]
    leader = db.session.scalar(select(User).where(User.username == "leader"))
    desk.act("command", case["id"], "set_leader", leading_official_id=leader.id)
    desk.act(HANDLER, case["id"], "plan", measures="整改", responsible_name="王五", target_date=plan_date())
    desk.act("leader", case["id"], "leader_visit", note="现场会商")
    desk.act("leader", case["id"], "leader_sign_off")
    again = desk.act("leader", case["id"], "leader_sign_off", expect=409)
    assert again["message"] == "该方案已审定；制定新的一案一策后可再次审定。"
    desk.act("command", case["id"], "report", note="已报送督察组办理情况")
    records = desk.get("command", f"/desk/cases/{case['id']}")
    assert records.status_code == 200 and "已审定" in records.text and "现场会商" in records.text


def test_dissatisfied_follow_up_reopens_and_close_needs_evidence(desk):
    case = register(desk)["case"]
    desk.act("command", case["id"], "accept", legal_track="petition")
    desk.act("sup_T1", case["id"], "assign")
    desk.act(HANDLER, case["id"], "sign")
    desk.act("insp_V11", case["id"], "record_onsite", notes="核查，无照片")
    desk.act(HANDLER, case["id"], "plan", measures="整改", responsible_name="王五", target_date=plan_date())
    desk.act(HANDLER, case["id"], "reply", **REPLY)
    desk.act("sup_T1", case["id"], "review_redo", expect=409)
    assert desk.act("sup_T1", case["id"], "review_redo", note="事实不清")["status"] == "handling"
    desk.act(HANDLER, case["id"], "reply", **REPLY)
    desk.act("sup_T1", case["id"], "review_pass")
    reopened = desk.act("sup_T1", case["id"], "follow_up", satisfaction="dissatisfied", note="仍有异味")
    assert reopened["status"] == "handling" and reopened["dissatisfied"] and reopened["reopened_count"] == 1
    desk.act(HANDLER, case["id"], "reply", **REPLY)
    desk.act("sup_T1", case["id"], "review_pass")
    refused = desk.act("sup_T1", case["id"], "close", expect=409)
    assert "须完成回访" in refused["message"] and "有效的现场核查" in refused["message"]
    desk.act("sup_T1", case["id"], "follow_up", satisfaction="basically_satisfied")
    add_onsite_photo(case["id"])
    assert desk.act("sup_T1", case["id"], "close")["status"] == "closed"


def test_new_petition_on_closed_case_reopens_it_as_repeat(desk):
    original = register(desk)["case"]
    walk_to_handling(desk, original["id"])
    desk.act(HANDLER, original["id"], "reply", **REPLY)
    desk.act("sup_T1", original["id"], "review_pass")
    desk.act("sup_T1", original["id"], "follow_up", satisfaction="satisfied")
    desk.act("sup_T1", original["id"], "close")

    created = register(desk, channel="above_level_province", lon=120.5051, lat=32.3121, repeat_of_id=original["id"])
    assert created["case"]["repeat_of_id"] == original["id"] and created["case"]["above_level"]
    reopened = desk.get("command", f"/api/v1/cases/{original['id']}").get_json()
    assert reopened["status"] == "handling" and reopened["repeat_count"] == 1
    assert reopened["above_level"] and reopened["above_level_count"] == 1
    assert verify_chain(original["id"]) == []


def test_repeat_candidates_by_phone_and_by_place(desk):
    first = register(desk)["case"]
    near = register(desk, petitioner_phone="13700000000", lon=120.5052, lat=32.3121)  # ~25 m away, same category
    assert [c["number"] for c in near["repeat_candidates"]] == [first["number"]]
    assert "相距约" in near["repeat_candidates"][0]["reason"]
    far_same_phone = register(desk, category="noise", lon=120.515, lat=32.305)
    reasons = {c["number"]: c["reason"] for c in far_same_phone["repeat_candidates"]}
    assert reasons[first["number"]] == "同一信访人电话"
    far_other = register(desk, category="water", petitioner_phone="13600000000", lon=120.515, lat=32.305)
    assert far_other["repeat_candidates"] == []


def test_intake_converts_gcj02_and_refuses_bad_input(desk):
    from app.services.geo.coords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(120.505, 32.312)
    case = register(desk, lon=lon, lat=lat, coord_system="gcj02")["case"]
    assert abs(case["location"]["lon"] - 120.505) < 1e-6 and abs(case["location"]["lat"] - 32.312) < 1e-6
    assert case["coord_system"] == "gcj02"

    outside = desk.post("sup_T1", "/api/v1/cases", {**_minimal(), "lon": 120.535})  # east town
    assert outside.status_code == 422 and "不在您管辖" in outside.get_json()["message"]
    override = desk.post("command", "/api/v1/cases", {**_minimal(), "department_id": _department_id("urban")})
    assert override.status_code == 422 and "override_reason" in override.get_json()["errors"]
    nobody = desk.post("command", "/api/v1/cases", {**_minimal(), "petitioner_name": "", "petitioner_phone": ""})
    assert nobody.status_code == 422 and "匿名" in str(nobody.get_json()["errors"])
    anonymous = register(desk, anonymous=True, petitioner_name="", petitioner_phone="")["case"]
    assert anonymous["petitioner"]["anonymous"] is True
    assert desk.post("insp_V11", "/api/v1/cases", _minimal()).status_code == 403


def _minimal() -> dict:
    return {"channel": "visit", "category": "noise", "sector": "industrial", "title": "噪声扰民",
            "lon": 120.505, "lat": 32.31, "petitioner_phone": "13800000000"}


def _department_id(code: str) -> int:
    from app.models import Department

    return db.session.scalar(select(Department.id).where(Department.code == code))


def test_actions_endpoint_lists_only_what_this_user_may_do_now(desk):
    case = register(desk)["case"]
    as_command = {a["name"] for a in desk.get("command", f"/api/v1/cases/{case['id']}/actions").get_json()}
    assert {"accept", "decline", "transfer"} <= as_command and "sign" not in as_command
    as_handler = desk.get(HANDLER, f"/api/v1/cases/{case['id']}/actions").get_json()
    assert as_handler == []


def test_a_step_that_waits_for_the_case_is_offered_with_its_reason_not_a_form(desk):
    # Signed, no on-site check yet: 一案一策 waits for one. The page shows why instead of a
    # form that taking would refuse; the API says the same; nothing to approve is not offered.
    case = register(desk)["case"]
    desk.act("command", case["id"], "accept", legal_track="petition", notice_text="您反映的问题已受理。")
    desk.act("sup_T1", case["id"], "assign")
    desk.act(HANDLER, case["id"], "sign")
    actions = offers(desk, HANDLER, case["id"])
    assert actions["plan"] == ["须先完成现场核查"] and actions["record_onsite"] == []
    page = desk.get(HANDLER, f"/desk/cases/{case['id']}").text
    assert 'data-step="plan"' in page and "暂不能办理：须先完成现场核查" in page
    assert re.search(r"首次现场核查期限 [^<]* · ", page)  # the header names the deadline it shows
    assert '<details class="action" data-step="plan"' not in page
    refused = desk.act(HANDLER, case["id"], "plan", expect=409, measures="整改", responsible_name="王五",
                       target_date=plan_date())
    assert "须先完成现场核查" in refused["message"]

    desk.act("insp_V11", case["id"], "record_onsite", notes="现场闻到明显异味", findings={"source_found": True})
    add_onsite_photo(case["id"])
    desk.act(HANDLER, case["id"], "plan", measures="限期整改", responsible_name="王五", target_date=plan_date())
    assert not {"approve_extension", "reject_extension"} & set(offers(desk, "sup_T1", case["id"]))  # nothing pending
    desk.act(HANDLER, case["id"], "request_extension", days=10, reason="需第三方检测")
    assert offers(desk, HANDLER, case["id"])["request_extension"] == ["已申请延期，待审批"]
    overseer = offers(desk, "sup_T1", case["id"])
    assert overseer["approve_extension"] == [] and overseer["reject_extension"] == []


def test_the_decisions_tab_holds_what_waits_for_this_users_decision(desk):
    # An officer asks for an extension, then replies: each waits for an overseer, never for
    # the one who asked or wrote; the tab's count and list agree, and it is empty for others.
    case = register(desk)["case"]
    walk_to_handling(desk, case["id"])

    def deciding(username):
        listed = desk.get(username, "/api/v1/cases?tab=to_decide&per_page=50").get_json()
        counted = desk.get(username, "/api/v1/cases/tab-counts").get_json()["to_decide"]
        assert counted == listed["meta"]["total"]
        return [c["id"] for c in listed["items"]]

    assert deciding("sup_T1") == [] and deciding("command") == []
    desk.act(HANDLER, case["id"], "request_extension", days=10, reason="需第三方检测")
    assert deciding("sup_T1") == [case["id"]] and deciding("command") == [case["id"]]
    assert deciding(HANDLER) == []
    desk.act("sup_T1", case["id"], "approve_extension", notice_text="因需检测，延期10日答复。")
    assert deciding("sup_T1") == []
    desk.act("sup_T1", case["id"], "reply", **REPLY)  # the supervisor handles it himself
    assert deciding("sup_T1") == [] and deciding("command") == [case["id"]]  # not his own reply


def offers(desk, username: str, case_id: int) -> dict[str, list[str]]:
    """The actions the API offers a user on a case, each with what it waits for."""
    return {a["name"]: a["waiting_for"] for a in desk.get(username, f"/api/v1/cases/{case_id}/actions").get_json()}


def test_audit_verify_reports_an_edited_event(app, desk):
    case = register(desk)["case"]
    desk.act("command", case["id"], "accept", legal_track="petition")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    _tamper(case["id"])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert case["number"] in result.output and "事件内容被修改" in result.output


def _tamper(case_id: int) -> None:
    """Change one event's note as someone with direct database access would, trigger aside."""
    from sqlalchemy import text

    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER case_events_append_only"))
            conn.execute(text("UPDATE case_events SET note = '篡改' WHERE case_id = :c AND seq = 1"), {"c": case_id})
            conn.execute(text("CREATE TRIGGER case_events_append_only BEFORE UPDATE ON case_events "
                              "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"))
        else:
            conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
            conn.execute(text("UPDATE case_events SET note = '篡改' WHERE case_id = :c AND seq = 1"), {"c": case_id})
            conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
    db.session.rollback()  # end the test's read snapshot so the next command sees the change
    assert db.session.scalar(select(CaseEvent.note).where(CaseEvent.case_id == case_id, CaseEvent.seq == 1)) == "篡改"


def test_received_at_from_the_form_is_kept(desk):
    case = register(desk, received_at="2026-11-01T08:00:00+08:00")["case"]
    assert case["received_at"] == "2026-11-01T00:00:00+00:00"


def test_steps_that_need_a_record_say_so_when_it_is_missing(desk, city):
    """Imported or demo cases may stand in a state without the record it implies: 409, never 500."""
    case = city.cases["V11"]
    case.status = "replied"
    db.session.commit()
    refused = desk.act("sup_T1", case.id, "review_pass", expect=409)
    assert "没有待审核的书面答复" in refused["message"]
    case.status, case.assigned_by_id = "return_requested", city.users["sup_T1"].id
    db.session.commit()
    assert "没有待审批的退单申请" in desk.act("sup_T1", case.id, "approve_return", expect=409)["message"]


def test_repeat_links_form_a_tree_and_relinking_moves_the_case(desk):
    """A→B then B→A is a cycle and refused in Chinese; a self link too; re-linking C from A to
    B gives A back the above-level visit C had counted on it (A 1 → 0, B 0 → 1)."""
    a = register(desk)["case"]
    b = register(desk, petitioner_phone="13700000001")["case"]
    c = register(desk, channel="above_level_province", petitioner_phone="13700000002")["case"]
    desk.act("command", b["id"], "link_repeat", repeat_of_id=a["id"])
    cycle = desk.act("command", a["id"], "link_repeat", expect=409, repeat_of_id=b["id"])
    assert "不能互为重复件" in cycle["message"]
    grandchild = register(desk, petitioner_phone="13700000003", repeat_of_id=b["id"])["case"]
    deep_cycle = desk.act("command", a["id"], "link_repeat", expect=409, repeat_of_id=grandchild["id"])
    assert "不能互为重复件" in deep_cycle["message"]
    assert "自身" in desk.act("command", a["id"], "link_repeat", expect=409, repeat_of_id=a["id"])["message"]

    desk.act("command", c["id"], "link_repeat", repeat_of_id=a["id"])
    first = desk.get("command", f"/api/v1/cases/{a['id']}").get_json()
    assert (first["above_level"], first["above_level_count"]) == (True, 1)
    assert "已是该案件" in desk.act("command", c["id"], "link_repeat", expect=409, repeat_of_id=a["id"])["message"]
    moved = desk.act("command", c["id"], "link_repeat", repeat_of_id=b["id"])
    assert moved["repeat_of_id"] == b["id"]
    a_after = desk.get("command", f"/api/v1/cases/{a['id']}").get_json()
    b_after = desk.get("command", f"/api/v1/cases/{b['id']}").get_json()
    assert (a_after["above_level"], a_after["above_level_count"]) == (False, 0)
    assert (b_after["above_level"], b_after["above_level_count"]) == (True, 1)


def test_a_case_received_in_the_future_or_with_a_two_digit_phone_is_refused(desk):
    """A received time ahead of now starts clocks that never run out; "12" reaches nobody."""
    ahead = desk.post("command", "/api/v1/cases", {
        "channel": "letter", "category": "air", "sector": "industrial", "title": "化工厂夜间异味",
        "lon": 120.505, "lat": 32.312, "petitioner_name": "李四", "received_at": "2099-01-01T10:00:00+08:00"})
    assert ahead.status_code == 422 and "收到时间不能晚于现在" in ahead.get_json()["message"]
    short = desk.post("command", "/api/v1/cases", {
        "channel": "letter", "category": "air", "sector": "industrial", "title": "化工厂夜间异味",
        "lon": 120.505, "lat": 32.312, "petitioner_name": "李四", "petitioner_phone": "12"})
    assert short.status_code == 422 and "petitioner_phone" in short.get_json()["errors"]
    assert register(desk, petitioner_phone="12369")["case"]["id"]


def test_a_plan_cannot_be_due_before_today(desk):
    case = register(desk)["case"]
    walk_to_signed(desk, case["id"])
    refused = desk.act(HANDLER, case["id"], "plan", expect=409, measures="整改", responsible_name="王五",
                       target_date="2020-01-01")
    assert "整改期限不能早于今天" in refused["message"]
    desk.act(HANDLER, case["id"], "plan", measures="整改", responsible_name="王五", target_date=plan_date(0))


def test_nobody_passes_their_own_reply(desk):
    """The town supervisor may handle and reply himself; a second person passes the reply."""
    case = register(desk)["case"]
    walk_to_handling(desk, case["id"])
    desk.act("sup_T1", case["id"], "reply", **REPLY)
    refused = desk.act("sup_T1", case["id"], "review_pass", expect=409, note="自审")
    assert refused["message"] == "不能审核通过本人作出的答复，请由其他管理人员审核。"
    assert desk.act("command", case["id"], "review_pass", note="答复规范")["status"] == "reviewed"


def test_an_extension_is_asked_for_before_the_time_runs_out(desk):
    """信访工作条例 第三十四条: once the handling time has passed, the case is late and an
    extension cannot make it on time again."""
    case = register(desk)["case"]
    walk_to_handling(desk, case["id"])
    handling = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case["id"], CaseClock.stage == "handle"))
    with clock.travel(handling.due_at - clock.now() + timedelta(hours=1)):
        late = desk.act(HANDLER, case["id"], "request_extension", expect=409, days=10, reason="需第三方检测")
    assert "办理期限已过，不能再申请延期" in late["message"]
    desk.act(HANDLER, case["id"], "request_extension", days=10, reason="需第三方检测")  # in time: taken
