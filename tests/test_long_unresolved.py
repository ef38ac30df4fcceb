"""Long-unresolved cases (久拖不解): the list and its reasons, the regular follow-up clock, media
exposure through the API, and what they feed into the accountability lists."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseClock, FollowUp, Notification, User
from app.models.vocab import CaseStatus, DeadlineState, Stage
from app.services import clock
from app.services.campaign import accountability
from app.services.cases import long_unresolved
from app.services.cases.deadlines import case_deadline_state
from app.services.cases.long_unresolved import long_unresolved_page
from app.services.settings import set_setting
from tests.helpers import HANDLER, REPLY, SHORT_PATROLS, Desk, register, sign_in_pages, walk_to_handling

DAYS = timedelta(days=1)


@pytest.fixture
def desk(app, city):
    return Desk(app)


def _listed(desk, username="command", query=""):
    """The list as the API answers it: number → reasons codes, and the whole body."""
    body = desk.get(username, f"/api/v1/long-unresolved{query}").get_json()
    return {item["number"]: [r["code"] for r in item["reasons"]] for item in body["items"]}, body


def _sweep(app):
    """The deadline sweep as cron runs it (it also starts and drops the follow-up clocks)."""
    result = app.test_cli_runner().invoke(args=["deadlines", "sweep"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result.output


def test_a_case_just_over_a_threshold_never_reads_as_within_it(city):
    """The reasons count calendar days, as the list's columns do; on the day a case passes its
    threshold that count can equal the threshold, so the reason gives the time itself."""
    case, c = city.cases["V22"], long_unresolved.criteria()
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)  # 20:00 in Beijing
    case.replied_at = None
    case.handle_due_at = now - c.overdue_days * DAYS - timedelta(hours=6)  # 14:00, 15 calendar days before
    case.received_at = now - c.open_days * DAYS - timedelta(hours=3)
    texts = {r["code"]: r["text"] for r in long_unresolved.reasons(case, now, c)}
    assert long_unresolved.days_overdue(case, now) == 15 and long_unresolved.days_open(case, now) == 90
    assert texts["overdue"] == "超过办理期限 15 天 6 小时未答复（标准：超过 15 天）"
    assert texts["open_long"] == "收到信访已 90 天 3 小时仍未办结（标准：超过 90 天）"
    case.handle_due_at -= DAYS
    assert long_unresolved.reasons(case, now, c)[1]["text"] == "超过办理期限 16 天未答复（标准：超过 15 天）"


def holiday_shift(case_id: int) -> timedelta:
    """How far the working calendar moved a case's 60-day handling deadline past the plain end of
    its 60th day (a period ending on a holiday ends on the next working day; near the Spring
    Festival it moves), so the day counts below hold whatever day the tests run on."""
    case = db.session.get(Case, case_id)
    return case.handle_due_at - clock.day_start(clock.beijing_date(case.accepted_at) + 61 * DAYS)


def test_cases_aged_past_each_criterion_are_listed_with_the_reason_and_drop_off_when_closed(desk, city):
    petition = register(desk)["case"]
    walk_to_handling(desk, petition["id"])  # accepted now: handling due in 60 days
    shift = holiday_shift(petition["id"])
    reopened, above_level, plain = city.cases["V12"], city.cases["V21"], city.cases["V22"]
    reopened.reopened_count = 2
    above_level.above_level, above_level.above_level_count = True, 3
    db.session.commit()

    listed, _ = _listed(desk)
    assert listed == {reopened.number: ["reopened"], above_level.number: ["above_level"]}

    with clock.travel(76 * DAYS + shift):  # 16 days past the 60-day handling deadline
        listed, body = _listed(desk)
        assert listed[petition["number"]] == ["overdue"]
        [row] = [i for i in body["items"] if i["number"] == petition["number"]]
        assert (row["days_open"], row["days_overdue"]) == (76 + shift.days, 16)
        assert row["reasons"][0]["text"] == "超过办理期限 16 天未答复（标准：超过 15 天）"
        assert row["town_name"] == "西镇" and row["department_name"] == "市生态环境局"
        assert city.cases["V11"].number not in listed  # received 77 days ago, no deadline: not yet

    with clock.travel(92 * DAYS + shift):
        listed, body = _listed(desk)
        assert listed[petition["number"]] == ["open_long", "overdue"]
        assert listed[city.cases["V11"].number] == ["open_long"]
        assert plain.number in listed  # every case left open this long qualifies
        assert {t["name"]: t["count"] for t in body["by_town"]} == {"西镇": 3, "东镇": 2}
        assert body["criteria"] == {"open_days": 90, "overdue_days": 15, "reopened_min": 2, "above_level_min": 3}
        # Per town and department, and within the caller's scope like every list.
        assert set(_listed(desk, "sup_T2")[0]) == {above_level.number, plain.number}
        assert set(_listed(desk, query=f"?town_id={city.grids['T2'].id}")[0]) == {above_level.number, plain.number}
        assert set(_listed(desk, query="?reason=overdue")[0]) == {petition["number"]}

        desk.act(HANDLER, petition["id"], "reply", **REPLY)
        desk.act("sup_T1", petition["id"], "review_pass")
        desk.act("sup_T1", petition["id"], "follow_up", satisfaction="satisfied")
        desk.act("sup_T1", petition["id"], "close")
        assert petition["number"] not in _listed(desk)[0]


def test_the_criteria_are_settings(desk, city):
    case = city.cases["V21"]
    case.above_level, case.above_level_count = True, 2
    db.session.commit()
    assert case.number not in _listed(desk)[0]
    set_setting("unresolved_above_level_min", 2)
    set_setting("long_unresolved_open_days", 2)
    db.session.commit()
    listed, body = _listed(desk)
    assert listed[case.number] == ["above_level"]  # received one day ago
    with clock.travel(DAYS + timedelta(minutes=1)):
        assert _listed(desk)[0][case.number] == ["open_long", "above_level"]
    assert desk.get("command", "/api/v1/long-unresolved?reason=nonsense").status_code == 422


def test_the_follow_up_clock_of_a_listed_case_turns_yellow_and_red_and_is_warned(app, desk, city):
    case = city.cases["V21"]
    case.above_level, case.above_level_count = True, 3
    db.session.commit()
    assert "定期回访计时新增 1 件" in _sweep(app)
    revisit = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id,
                                                        CaseClock.stage == Stage.REVISIT))
    assert timedelta(days=15) <= revisit.due_at - revisit.started_at < timedelta(days=16)
    yellow_at = revisit.started_at + (revisit.due_at - revisit.started_at) * 0.75
    db.session.refresh(case)
    assert case.revisit_due_at == revisit.due_at == case.due_at  # the queue's nearest deadline
    assert case_deadline_state(case, clock.now()) == DeadlineState.GREEN

    with clock.frozen_at(yellow_at + timedelta(minutes=1)):
        assert case_deadline_state(case, clock.now()) == DeadlineState.YELLOW
        assert "催办 1 件" in _sweep(app)
        [row] = _listed(desk)[1]["items"]
        assert (row["revisit_state"], row["revisit_state_label"]) == ("yellow", "临期")
    [reminder] = db.session.scalars(select(Notification).filter_by(kind="reminder")).all()
    assert reminder.message.startswith("【催办】") and "定期回访" in reminder.message

    with clock.frozen_at(revisit.due_at + timedelta(minutes=1)):
        assert case_deadline_state(case, clock.now()) == DeadlineState.RED
        assert "督办 1 件" in _sweep(app)
        assert _listed(desk)[1]["items"][0]["revisit_state"] == "red"
        # The follow-up is recorded like the closing one, closes nothing and starts the next interval.
        after = desk.act("sup_T2", case.id, "revisit", note="电话告知信访人整改进展，信访人表示继续关注")
        assert after["status"] == CaseStatus.ASSIGNED
        assert _listed(desk)[1]["items"][0]["revisit_state"] == "green"
    escalations = db.session.scalars(select(Notification).filter_by(kind="escalation")).all()
    assert escalations and all("定期回访" in n.message for n in escalations)
    follow_up = db.session.scalar(select(FollowUp).where(FollowUp.case_id == case.id))
    assert follow_up.periodic and follow_up.satisfaction is None
    timeline = desk.get("command", f"/api/v1/cases/{case.id}/timeline").get_json()
    assert timeline[-1]["kind"] == "revisit"


def test_the_regular_follow_up_is_only_for_listed_cases_and_needs_what_was_said(app, desk, city):
    case = city.cases["V21"]
    refused = desk.act("sup_T2", case.id, "revisit", expect=409, note="回访")
    assert "不在久拖不解名单上" in refused["message"]
    case.reopened_count = 2
    db.session.commit()
    missing = desk.act("sup_T2", case.id, "revisit", expect=409)
    assert "须记录回访情况" in missing["message"]
    desk.act("sup_T2", case.id, "revisit", not_possible_reason="信访人电话停机")


def test_a_case_that_leaves_the_list_while_open_loses_its_follow_up_clock(app, desk, city):
    case = city.cases["V21"]
    case.reopened_count = 2
    db.session.commit()
    _sweep(app)
    set_setting("long_unresolved_reopened_min", 5)
    db.session.commit()
    assert "停止 1 件" in _sweep(app)
    db.session.refresh(case)
    assert case.revisit_due_at is None
    assert db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id)) is None


# ---------------------------------------------------------------- media exposure (API)


def _propose(desk, case_id, expect=201, **overrides):
    payload = {"case_id": case_id, "responsible_unit": "东镇人民政府",
               "failings": "群众反复越级信访，镇政府未按期制定整改方案，污染源至今未停产。"} | overrides
    response = desk.post("command", "/api/v1/exposures", payload)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def test_an_exposure_is_proposed_approved_published_and_withdrawn(app, desk, city):
    case = city.cases["V21"]
    case.above_level, case.above_level_count = True, 3
    db.session.commit()
    anonymous = app.test_client()

    named = _propose(desk, case.id, expect=422, failings="张三丰多次反映，电话13812345678")
    assert "信访人姓名" in named["message"] and "电话或证件号码" in named["message"]
    proposed = _propose(desk, case.id)
    assert proposed["status"] == "proposed" and proposed["status_label"] == "待审批"
    assert _propose(desk, case.id, expect=409)["message"].startswith("该案件已有")
    assert anonymous.get("/api/v1/exposures").get_json() == []
    assert desk.post("sup_T2", f"/api/v1/exposures/{proposed['id']}/approve").status_code == 403

    approved = desk.post("leader", f"/api/v1/exposures/{proposed['id']}/approve", {"note": "同意曝光"}).get_json()
    assert approved["status"] == "approved" and approved["decided_by"] == "测试leader"
    [public] = anonymous.get("/api/v1/exposures").get_json()
    assert public["case_number"] == case.number and public["responsible_unit"] == "东镇人民政府"
    assert public["town"] == "东镇" and public["progress"] == "整改中" and public["rectification"] is None
    text = str(public)
    assert "张三丰" not in text and "13812345678" not in text and "测试路1号" not in text
    assert "status" not in public and "proposed_by" not in public
    release = anonymous.get("/api/v1/exposures/release.xlsx")
    rows = list(load_workbook(BytesIO(release.data)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("久拖不解环境信访案件媒体曝光（截至") and rows[1][3] == "案件编号"
    assert rows[2][3] == case.number and rows[2][7] == "东镇人民政府" and rows[2][12] == "整改中"
    assert "张三丰" not in str(rows) and "13812345678" not in str(rows)
    page = anonymous.get("/exposures")
    assert "测试市打好污染防治攻坚战指挥部办公室发布" in page.text  # the city names itself

    assert desk.post("command", f"/api/v1/exposures/{proposed['id']}/withdraw").status_code == 422
    withdrawn = desk.post("command", f"/api/v1/exposures/{proposed['id']}/withdraw",
                          {"reason": "责任单位已整改到位，经核实撤回"}).get_json()
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdraw_reason"] == "责任单位已整改到位，经核实撤回"
    assert anonymous.get("/api/v1/exposures").get_json() == []
    [record] = desk.get("sup_T2", f"/api/v1/exposures/records?case_id={case.id}").get_json()
    assert record["status_label"] == "已撤回"
    assert desk.get("sup_T1", "/api/v1/exposures/records").get_json() == []  # another town's case
    kinds = [e["kind"] for e in desk.get("command", f"/api/v1/cases/{case.id}/timeline").get_json()]
    assert kinds[-3:] == ["exposure_propose", "exposure_approve", "exposure_withdraw"]


def test_exposure_rules(app, desk, city):
    led, unlisted = city.cases["V11"], city.cases["V22"]  # V11 is led by the only leader
    led.reopened_count = 2
    db.session.commit()
    assert _propose(desk, unlisted.id, expect=409)["message"] == "只有列入久拖不解名单的案件才能提议媒体曝光。"
    assert desk.post("sup_T1", "/api/v1/exposures", {"case_id": led.id, "responsible_unit": "西镇",
                                                     "failings": "未整改"}).status_code == 403
    proposal = _propose(desk, led.id, responsible_unit="市生态环境局")
    own = desk.post("leader", f"/api/v1/exposures/{proposal['id']}/approve")
    assert own.status_code == 409 and "本人包案" in own.get_json()["message"]
    led.leading_official_id = None
    db.session.commit()
    assert desk.post("leader", f"/api/v1/exposures/{proposal['id']}/reject").status_code == 422
    rejected = desk.post("leader", f"/api/v1/exposures/{proposal['id']}/reject", {"note": "事实尚需核实"})
    assert rejected.get_json()["status"] == "rejected"
    assert desk.post("command", f"/api/v1/exposures/{proposal['id']}/withdraw",
                     {"reason": "x"}).status_code == 409
    assert _propose(desk, led.id)["status"] == "proposed"  # a rejected one may be proposed again, improved


def test_a_closed_exposed_case_shows_its_rectification_without_personal_data(app, desk, city):
    created = register(desk)["case"]
    walk_to_handling(desk, created["id"])
    desk.act(HANDLER, created["id"], "enforce", kind="fine", amount_yuan="50000", document_number="罚字〔2026〕1号")
    shift = holiday_shift(created["id"])
    with clock.travel(92 * DAYS + shift):
        exposure = _propose(desk, created["id"], responsible_unit="市生态环境局")
        desk.post("leader", f"/api/v1/exposures/{exposure['id']}/approve")
        reply = REPLY | {"facts_and_reasons": "经核查，李四反映属实（电话13900001111），已对企业罚款五万元并限期整改。"}
        desk.act(HANDLER, created["id"], "reply", **reply)
        desk.act("sup_T1", created["id"], "review_pass")
        desk.act("sup_T1", created["id"], "follow_up", satisfaction="satisfied")
        desk.act("sup_T1", created["id"], "close")
        [public] = app.test_client().get("/api/v1/exposures").get_json()
    fix = public["rectification"]
    assert public["progress"] == "已办结" and fix["decision_label"] == "支持" and fix["measures"] == ["罚款"]
    assert fix["summary"] == "经核查，信访人反映属实（电话***），已对企业罚款五万元并限期整改。"
    assert public["days_open"] == 92 + shift.days and public["days_overdue"] == 32  # by calendar date


# ---------------------------------------------------------------- accountability


def test_the_list_and_exposures_put_a_town_on_the_interview_list(desk, city):
    for code in ("V21", "V22"):
        city.cases[code].reopened_count = 2
    set_setting("interview_top_n", 0)
    set_setting("interview_when_not_falling", 0)
    set_setting("interview_long_unresolved_min", 2)
    db.session.commit()
    now = clock.now()
    start, end = now - 30 * DAYS, now + DAYS
    [town] = accountability.interview_towns(start, end)
    assert town["town_name"] == "东镇" and town["reasons"] == ["久拖不解案件 2 件（达到 2 件）"]
    assert accountability.accountability_lists(start, end)["long_unresolved_towns"][0]["count"] == 2

    set_setting("interview_long_unresolved_min", 0)
    city.cases["V11"].reopened_count = 2
    db.session.commit()
    exposure = _propose(desk, city.cases["V21"].id)
    desk.post("leader", f"/api/v1/exposures/{exposure['id']}/approve")
    [town] = accountability.interview_towns(start, end)
    assert town["town_name"] == "东镇" and town["reasons"] == ["期间内有 1 件案件被媒体曝光"]
    assert [e.case_id for e in accountability.accountability_lists(start, end)["exposures"]] == [city.cases["V21"].id]
    set_setting("interview_when_exposed", 0)
    assert accountability.interview_towns(start, end) == []
    assert db.session.get(Case, city.cases["V21"].id).status == CaseStatus.ASSIGNED


# ---------------------------------------------------------------- the wall and the desk pages


def test_the_wall_layer_and_panel_count_listed_cases_without_personal_data(desk, city):
    city.cases["V21"].reopened_count = 2
    db.session.commit()
    box = "west=120.49&south=32.29&east=120.55&north=32.33"
    body = desk.get("command", f"/api/v1/wall/long-unresolved?{box}").get_json()
    [item] = body["cases"]
    assert item["number"] == city.cases["V21"].number and item["town"] == "东镇"
    assert item["reasons"] == ["已重新办理 2 次（标准：2 次及以上）"]
    assert "张三丰" not in str(body) and "138" not in str(body)
    assert desk.get("command", "/api/v1/wall/long-unresolved?west=120.49&south=32.29&east=120.5&north=32.3"
                    ).get_json()["cases"] == []
    assert desk.get("command", "/api/v1/wall/panels").get_json()["counts"]["long_unresolved"] == 1
    assert desk.get("sup_T1", f"/api/v1/wall/long-unresolved?{box}").status_code == 403


def test_the_desk_list_and_queue_show_listed_cases_and_their_follow_up(app, client, city):
    case = city.cases["V21"]
    case.reopened_count = 2
    db.session.commit()
    _sweep(app)
    sign_in_pages(client, "sup_T2")
    page = client.get("/desk/long-unresolved").text
    assert case.number in page and "已重新办理 2 次" in page and "期限内" in page
    assert "东镇 1 件" in page
    queue = client.get("/desk/").text
    assert "定期回访" in queue
    record = client.get(f"/desk/cases/{case.id}").text
    assert "已列入久拖不解名单" in record and "定期回访" in record
    assert "提议媒体曝光" not in record  # only the command office proposes
    assert client.get("/desk/long-unresolved?reason=nonsense").status_code == 422


def test_the_demo_city_lists_its_old_cases_and_their_follow_up_clocks_turn_red(app):
    assert app.test_cli_runner().invoke(args=["demo", "seed", "--cases", "400", *SHORT_PATROLS]).exit_code == 0
    command = db.session.scalar(select(User).where(User.username == "command"))
    now = clock.now()
    page = long_unresolved_page(command, now, per_page=200)
    assert 0 < page["meta"]["total"] <= 200
    reasons = Counter(r["code"] for item in page["items"] for r in item["reasons"])
    assert reasons["open_long"] and reasons["overdue"], reasons
    assert all(item["days_open"] > 90 for item in page["items"]
               if "open_long" in [r["code"] for r in item["reasons"]])
    assert all(item["days_overdue"] > 15 for item in page["items"]
               if "overdue" in [r["code"] for r in item["reasons"]])
    listed = page["meta"]["total"]
    assert f"定期回访计时新增 {listed} 件" in _sweep(app)
    with clock.travel(16 * DAYS):
        _sweep(app)
        clocks = db.session.scalars(select(CaseClock).where(CaseClock.stage == Stage.REVISIT)).all()
        first = [c for c in clocks if c.started_at < now + DAYS]  # not those of cases listed since
        assert len(first) == listed and all(c.warned == "red" for c in first)
