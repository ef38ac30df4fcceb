"""Campaign, grid scoring, first-line measures, accountability lists and early warning on a
hand-computed tiny city: every figure below is worked out by hand in the comments."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from app.extensions import db
from app.models import Alert, CaseClock, ContactCard, FollowUp, Notification, TownSubmission
from app.models.vocab import CaseStatus, Category, Channel, ListKind, Sector
from app.services import clock
from app.services.campaign.early_warning import active_alerts, scan
from app.services.campaign.phases import create_campaign, current_phase
from app.services.campaign.scoring import town_ranking
from app.services.clock import beijing_date
from tests.factories import make_case
from tests.helpers import HOSTILE_NAME, Desk, header_is_clean, put, sign_in_pages

V11, V12, V21, V22 = (120.505, 32.31), (120.515, 32.31), (120.525, 32.31), (120.535, 32.31)
NOW = datetime(2026, 11, 20, 4, tzinfo=UTC)  # 2026-11-20 12:00 Beijing, in the tackling phase
PERIOD = "start=2026-10-16&end=2026-11-15"


def at(moment):
    """Move the (possibly already frozen) clock to ``moment``."""
    return clock.travel(moment - clock.now())


def bj(month, day, hour=12, year=2026):
    """A Beijing wall-clock time as UTC."""
    return datetime(year, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def desk(app, city):
    """Signed-in clients over the tiny city, its base cases moved out of every period."""
    for case in city.cases.values():
        case.received_at, case.due_at = bj(8, 1), None
    create_campaign(city.users["command"], 2026)
    db.session.commit()
    with clock.frozen_at(NOW):
        yield Desk(app)


@pytest.fixture
def scenario(desk, city):
    """The cases of the worked example (see each comment)."""
    c = {}
    # T1/V11: an above-level petition in the campaign (-2, zeroes the item), open, overdue,
    # petitioned above level 3 times; then its repeat (-4), closed.
    c["a1"] = make_case(*V11, channel=Channel.ABOVE_LEVEL_BEIJING, above_level=True, above_level_count=3,
                        received_at=bj(10, 20), due_at=bj(11, 1), status=CaseStatus.HANDLING)
    c["a2"] = make_case(*V11, channel=Channel.ABOVE_LEVEL_PROVINCE, above_level=True, above_level_count=1,
                        repeat_of_id=c["a1"].id, received_at=bj(10, 25), due_at=None, status=CaseStatus.CLOSED)
    # T1/V12: an inspection referral past its handling deadline, one not yet due, and a
    # 4-times above-level case already closed (neither in the period).
    c["g"] = make_case(*V12, inspection_referral="central", received_at=bj(8, 15), due_at=None,
                       handle_due_at=bj(11, 10), status=CaseStatus.HANDLING)
    c["g2"] = make_case(*V12, inspection_referral="central", received_at=bj(8, 15), due_at=None,
                        handle_due_at=bj(12, 1), status=CaseStatus.HANDLING)
    c["f"] = make_case(*V12, above_level=True, above_level_count=4, received_at=bj(8, 20), due_at=None,
                       status=CaseStatus.CLOSED)
    # T2/V22: a patrol discovery handled on time; a petition repeating it, late and reopened,
    # with a contact card and a dissatisfied rating; an open petition not yet due, rated satisfied.
    c["d1"] = make_case(*V22, channel=Channel.GRID_PATROL, list_kind=ListKind.POTENTIAL, received_at=bj(10, 17),
                        sign_due_at=bj(10, 18, 10), signed_at=bj(10, 18, 9), onsite_due_at=bj(10, 19),
                        first_onsite_at=bj(10, 18, 15), due_at=None, status=CaseStatus.CLOSED)
    c["d2"] = make_case(*V22, repeat_of_id=c["d1"].id, received_at=bj(10, 20), sign_due_at=bj(10, 21),
                        signed_at=bj(10, 22), onsite_due_at=bj(10, 22), due_at=None, reopened_count=1,
                        status=CaseStatus.CLOSED)
    c["d3"] = make_case(*V22, received_at=bj(11, 14), sign_due_at=bj(11, 25), due_at=None,
                        status=CaseStatus.SIGNED)
    # The same period a year earlier: T1 had 3 cases (industrial → environment bureau), T2 one
    # (tertiary → urban management).
    for point, sector in ((V11, Sector.INDUSTRIAL),) * 3 + ((V21, Sector.TERTIARY),):
        make_case(*point, sector=sector, received_at=bj(10, 20, year=2025), due_at=None, status=CaseStatus.CLOSED)
    db.session.add(ContactCard(code="K0001", case_id=c["d2"].id, issued_by_id=city.users["insp_V22"].id,
                               handler_name="王五", handler_phone="13700000000", handler_unit="东镇"))
    db.session.add(FollowUp(case_id=c["d2"].id, satisfaction="dissatisfied"))
    db.session.add(FollowUp(case_id=c["d3"].id, satisfaction="satisfied"))
    db.session.commit()
    return c


def test_current_phase_and_days_left(desk):
    info = current_phase(NOW)
    # 2026-11-20 lies in 攻坚化解 (10-16 to 12-15); 11-20 to 12-31 is 41 days, counting today 42.
    assert (info.phase_name, info.starts_on, info.ends_on, info.days_left) == (
        "攻坚化解", date(2026, 10, 16), date(2026, 12, 15), 42)
    assert current_phase(bj(9, 19)) is None
    assert current_phase(bj(12, 31, 23)).phase_name == "总结评估"
    body = desk.get("sup_T1", "/api/v1/campaigns/current").get_json()
    assert body["days_left"] == 42 and body["phase_name"] == "攻坚化解"


def test_submissions_late_received_and_missing(desk, city):
    campaign = desk.get("command", "/api/v1/campaigns").get_json()[0]
    work_plan = next(r["id"] for r in campaign["requirements"] if r["code"] == "work_plan")
    with at(bj(10, 15, 23)):  # the due date itself, 23:00 Beijing: on time
        on_time = _upload(desk, "sup_T1", work_plan)
    with at(bj(10, 16, 0) + timedelta(minutes=1)):  # 00:01 the day after: late
        late = _upload(desk, "sup_T2", work_plan)
    assert (on_time["late"], late["late"]) == (False, True)
    # A supervisor cannot file for another town; only the command office marks received.
    assert _upload(desk, "sup_T1", work_plan, town_id=city.grids["T2"].id, expect=403)
    assert desk.post("sup_T1", f"/api/v1/campaigns/submissions/{on_time['id']}/receive").status_code == 403
    assert desk.post("command", f"/api/v1/campaigns/submissions/{on_time['id']}/receive").status_code == 200
    assert _upload(desk, "sup_T1", work_plan, expect=409)  # received: no replacing it
    board = desk.get("command", f"/api/v1/campaigns/{campaign['id']}/submissions").get_json()
    cell = {(r["town_name"], r["requirement_name"]): r for r in board}
    assert cell[("西镇", "工作方案")]["received_at"] and not cell[("西镇", "工作方案")]["late"]
    assert cell[("东镇", "工作方案")]["late"] and not cell[("东镇", "工作方案")]["received_at"]
    # Missing on 11-20: the list (due 10-15) is late; the stage report (due 12-15) is not yet.
    assert cell[("西镇", "一案一策清单")]["missing"] and cell[("西镇", "一案一策清单")]["late"]
    assert cell[("西镇", "阶段性工作报告")]["missing"] and not cell[("西镇", "阶段性工作报告")]["late"]
    mine = desk.get("sup_T2", f"/api/v1/campaigns/{campaign['id']}/submissions").get_json()
    assert {r["town_name"] for r in mine} == {"东镇"}
    download = desk.get("command", f"/api/v1/campaigns/submissions/{late['id']}/file")
    assert download.data == DOCX + b"plan of sup_T2"
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert desk.get("sup_T1", f"/api/v1/campaigns/submissions/{late['id']}/file").status_code == 404


def _upload(desk, username, requirement_id, town_id=None, expect=201, name="plan.docx", content=None):
    client, token = desk.client(username)
    content = DOCX + f"plan of {username}".encode() if content is None else content
    form = {"requirement_id": str(requirement_id), "file": (io.BytesIO(content), name)}
    if town_id:
        form["town_id"] = str(town_id)
    response = client.post("/api/v1/campaigns/submissions", data=form, headers={"X-CSRFToken": token},
                           content_type="multipart/form-data")
    assert response.status_code == expect, response.get_json()
    return response.get_json()


DOCX = b"PK\x03\x04"  # a Word file is a ZIP: what the kind is told by, with the name


def test_a_town_files_documents_only(desk):
    """The command office opens what towns file: a program or a script is refused, whatever
    its name says; a scan, a PDF, a WPS or an OFD file goes in."""
    campaign = desk.get("command", "/api/v1/campaigns").get_json()[0]
    work_plan = next(r["id"] for r in campaign["requirements"] if r["code"] == "work_plan")
    for name, content in (("bad.exe", b"MZ\x90\x00rest"), ("plan.docx", b"MZ\x90\x00rest"),
                          ("plan.zip", DOCX + b"archive"), ("plan.html", b"<script>alert(1)</script>")):
        refused = _upload(desk, "sup_T1", work_plan, name=name, content=content, expect=422)
        assert "报送材料只接受 PDF、Word、Excel" in refused["message"], name
    for name, content in (("方案.pdf", b"%PDF-1.7 plan"), ("方案.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 wps"),
                          ("方案.ofd", DOCX + b"ofd"), ("扫描件.jpg", b"\xff\xd8\xff\xe0 jpeg")):
        assert _upload(desk, "sup_T1", work_plan, name=name, content=content)["filename"] == name


def test_a_submitted_name_with_control_characters_downloads_with_a_clean_header(desk):
    # DEL in the name made the download's Content-Disposition invalid: gunicorn answered 500.
    campaign = desk.get("command", "/api/v1/campaigns").get_json()[0]
    work_plan = next(r["id"] for r in campaign["requirements"] if r["code"] == "work_plan")
    stored = _upload(desk, "sup_T1", work_plan, name=HOSTILE_NAME, content=b"%PDF-1.4 plan")
    assert stored["filename"] == "abc.pdf"
    # A name stored before uploads were cleaned still downloads.
    db.session.execute(update(TownSubmission).where(TownSubmission.id == stored["id"]).values(filename=HOSTILE_NAME))
    db.session.commit()
    download = desk.get("command", f"/api/v1/campaigns/submissions/{stored['id']}/file")
    header = download.headers["Content-Disposition"]
    assert download.status_code == 200 and header_is_clean(header) and "filename*=UTF-8''abc.pdf" in header


def test_phase_dates_are_data(desk):
    campaign = desk.get("command", "/api/v1/campaigns").get_json()[0]
    tackling = next(p for p in campaign["phases"] if p["code"] == "tackling")
    assert desk.client("sup_T1")[0].put(f"/api/v1/campaigns/phases/{tackling['id']}", json={},
                                        headers={"X-CSRFToken": desk.client("sup_T1")[1]}).status_code == 403
    client, token = desk.client("admin")
    response = client.put(f"/api/v1/campaigns/phases/{tackling['id']}", json={"ends_on": "2026-11-19"},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 200
    # 11-20 now falls between tackling (ends 11-19) and evaluation (starts 12-16): no phase.
    assert current_phase(NOW) is None
    assert "修改行动阶段" in desk.get("admin", "/admin/audit").text  # the change is named in the log


def test_grid_scores_deductions_and_town_ranking(desk, scenario):
    grids = {g["grid_name"]: g for g in desk.get("command", f"/api/v1/scores/grids?{PERIOD}").get_json()}
    # V11: a1 -2, a2 (repeat) -4, and a1 arrived during the campaign: the item is zeroed.
    assert [(d["case_id"], d["points"]) for d in grids["V11村"]["deductions"]] == [
        (scenario["a1"].id, 2.0), (scenario["a2"].id, 4.0)]
    assert (grids["V11村"]["score"], grids["V11村"]["zeroed"]) == (0.0, True)
    assert [grids[n]["score"] for n in ("V12村", "V21村", "V22村")] == [20.0, 20.0, 20.0]
    ranking = desk.get("command", f"/api/v1/scores/towns?{PERIOD}").get_json()
    # T2 = mean(20, 20) = 20; T1 = mean(0, 20) = 10. T1: 2 above-level, a1 overdue (due 11-01),
    # open: its two base cases, a1, g, g2 = 5; T2 open: two base cases and d3 = 3.
    assert [(r["town_name"], r["score"], r["above_level"], r["overdue"], r["open_cases"]) for r in ranking] == [
        ("东镇", 20.0, 0, 0, 3), ("西镇", 10.0, 2, 1, 5)]
    assert desk.get("sup_T1", f"/api/v1/scores/towns?{PERIOD}").status_code == 403


def test_scoring_rules_are_settings(desk, scenario):
    client, token = desk.client("admin")
    assert client.put("/api/v1/settings/score_zero_during_campaign", json={"value": 0},
                      headers={"X-CSRFToken": token}).status_code == 200
    start, end = bj(10, 16, 0), bj(11, 16, 0)
    # Without zeroing V11 keeps 20 - 2 - 4 = 14, so T1 = mean(14, 20) = 17.
    assert [(r.town_name, r.score) for r in town_ranking(start, end)] == [("东镇", 20.0), ("西镇", 17.0)]


def test_above_level_before_the_campaign_deducts_without_zeroing(desk, city):
    make_case(*V21, channel=Channel.ABOVE_LEVEL_PROVINCE, above_level=True, received_at=bj(9, 5), due_at=None)
    db.session.commit()
    # 9-1 to 9-10 is before the campaign (starts 9-20): V21 = 20 - 2 = 18; T2 = 19; T1 = 20.
    ranks = desk.get("command", "/api/v1/scores/towns?start=2026-09-01&end=2026-09-10").get_json()
    assert [(r["town_name"], r["score"]) for r in ranks] == [("西镇", 20.0), ("东镇", 19.0)]


def _v21(ranks_body):
    """V21's score row from GET /api/v1/scores/grids."""
    return next(g for g in ranks_body if g["grid_name"] == "V21村")


def test_irregular_petition_zeroes_the_item_during_the_campaign(desk, city):
    # An irregular petition (非访) registered at intake on 10-20 (tackling phase) in V21: no
    # points of its own, but the item is zeroed; the same on 9-5 (before the campaign) costs nothing.
    body = {"channel": "visit", "category": "air", "sector": "industrial", "title": "赴京非正常上访",
            "lon": V21[0], "lat": V21[1], "petitioner_name": "李四", "irregular": True,
            "received_at": bj(10, 20).isoformat()}
    created = desk.post("command", "/api/v1/cases", body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["case"]["irregular_count"] == 1
    v21 = _v21(desk.get("command", f"/api/v1/scores/grids?{PERIOD}").get_json())
    assert (v21["score"], v21["zeroed"]) == (0.0, True)
    assert [(d["case_number"], d["points"]) for d in v21["deductions"]] == [(created.get_json()["case"]["number"], 0.0)]
    assert "非访" in v21["deductions"][0]["reason"]
    before = _v21(desk.get("command", "/api/v1/scores/grids?start=2026-09-01&end=2026-09-30").get_json())
    assert (before["score"], before["zeroed"]) == (20.0, False)
    # A later irregular petition linked to the case counts on it too, and the filter finds it.
    original_id = created.get_json()["case"]["id"]
    again = desk.post("command", "/api/v1/cases", body | {"repeat_of_id": original_id,
                                                          "received_at": bj(10, 22).isoformat()})
    assert again.status_code == 201
    assert desk.get("command", f"/api/v1/cases/{original_id}").get_json()["irregular_count"] == 2
    listed = desk.get("command", "/api/v1/cases?irregular=true&per_page=50").get_json()["items"]
    assert sorted(c["id"] for c in listed) == sorted([original_id, again.get_json()["case"]["id"]])


def test_above_level_on_a_matter_the_grid_found_first_and_handled_in_time(desk, city):
    # Before the campaign (zeroing does not apply), in V21:
    # p1: found by V21's patrol on 9-1, every clock met → the above-level petition a1 (9-8)
    #     that repeats it costs nothing;
    # p2: found by V21 on 9-1 but signed late (due 9-2, signed 9-3) → a2 (9-8) costs 2;
    # o3: an ordinary petition of 9-1 → a3 (9-9) repeating it is a first above-level petition (2);
    #     a4 (9-10) repeats o3 again after a3: a repeat above-level petition (4).
    # V21 = 20 - 0 - 2 - 2 - 4 = 12.
    p1 = make_case(*V21, channel=Channel.GRID_PATROL, list_kind=ListKind.POTENTIAL, received_at=bj(9, 1),
                   due_at=None, status=CaseStatus.CLOSED)
    p2 = make_case(*V21, channel=Channel.GRID_PATROL, list_kind=ListKind.POTENTIAL, received_at=bj(9, 1),
                   due_at=None, status=CaseStatus.HANDLING)
    for case in (p1, p2):
        case.discovered_by_grid_id = case.grid_id
    db.session.add(CaseClock(case_id=p1.id, stage="sign", started_at=bj(9, 1), due_at=bj(9, 2), done_at=bj(9, 1, 15)))
    db.session.add(CaseClock(case_id=p2.id, stage="sign", started_at=bj(9, 1), due_at=bj(9, 2), done_at=bj(9, 3)))
    o3 = make_case(*V21, received_at=bj(9, 1), due_at=None)
    above = {"channel": Channel.ABOVE_LEVEL_BEIJING, "above_level": True, "due_at": None}
    a1 = make_case(*V21, repeat_of_id=p1.id, received_at=bj(9, 8), **above)
    a2 = make_case(*V21, repeat_of_id=p2.id, received_at=bj(9, 8), **above)
    a3 = make_case(*V21, repeat_of_id=o3.id, received_at=bj(9, 9), **above)
    a4 = make_case(*V21, repeat_of_id=o3.id, received_at=bj(9, 10), **above)
    db.session.commit()
    v21 = _v21(desk.get("command", "/api/v1/scores/grids?start=2026-09-01&end=2026-09-15").get_json())
    assert {d["case_number"]: d["points"] for d in v21["deductions"]} == {
        a1.number: 0.0, a2.number: 2.0, a3.number: 2.0, a4.number: 4.0}
    assert "先行发现" in next(d["reason"] for d in v21["deductions"] if d["case_number"] == a1.number)
    assert (v21["score"], v21["zeroed"]) == (12.0, False)


def test_first_line_measures(desk, scenario):
    body = desk.get("command", f"/api/v1/first-line?{PERIOD}").get_json()
    v22 = next(g for g in body["grids"] if g["name"] == "V22村")["measures"]
    figures = {k: (v["count"], v["base"]) for k, v in v22.items()}
    assert figures == {
        "discovered_first": (2, 3),     # d1 on the potential list, d2 repeats it; d3 does not
        "signed_on_time": (1, 2),       # d1 on time, d2 late, d3 not due yet
        "onsite_on_time": (1, 2),       # d1 on time, d2 never on site and past due
        "contact_card": (1, 2),         # d2 has a card, d3 none; d1 (patrol) has no petitioner
        "resolved_first_time": (1, 2),  # d1 closed once; d2 reopened; d3 open
        "satisfied": (1, 2),            # d3 satisfied, d2 dissatisfied
    }
    assert v22["signed_on_time"]["rate"] == 0.5
    t2 = next(t for t in body["towns"] if t["name"] == "东镇")["measures"]
    assert {k: (v["count"], v["base"]) for k, v in t2.items()} == figures
    # The wall's on-time bars count the same way over the same period: a step still not done
    # after its deadline (d2 never on site) is late, not left out.
    wall = desk.get("command", "/api/v1/wall/panels?received_from=2026-10-16T00:00:00%2B08:00"
                               "&received_to=2026-11-16T00:00:00%2B08:00").get_json()["counts"]["rates"]
    for measure, rate in (("signed_on_time", "sign_on_time"), ("onsite_on_time", "onsite_on_time")):
        count, base = (sum(t["measures"][measure][k] for t in body["towns"]) for k in ("count", "base"))
        assert wall[rate] == round(100.0 * count / base, 1)


def records_since_last_year():
    """The system's records reach back before last year's period (2025-10-16): its first case
    came in on 2025-09-01, so a town with no case then really had none."""
    make_case(*V12, received_at=bj(9, 1, year=2025), due_at=None, status=CaseStatus.CLOSED)
    db.session.commit()


def test_accountability_lists(desk, scenario, city):
    records_since_last_year()
    response = desk.post("command", "/api/v1/failure-records", {
        "case_id": scenario["d2"].id, "kind": "buck_passing", "person_name": "赵六", "person_unit": "东镇"})
    assert response.status_code == 201
    assert desk.post("sup_T1", "/api/v1/failure-records", {
        "case_id": scenario["d2"].id, "kind": "inaction", "person_name": "某"}).status_code == 403
    body = desk.get("command", f"/api/v1/accountability?{PERIOD}").get_json()
    # T1 has the most above-level petitions (2); T2's volume 3 did not fall from last year's 1.
    # At the period's end T1 has 5 long-unresolved cases (a1 petitioned above level 3 times, g
    # and g2 and the city's two cases open over 90 days), T2 two: below the 3 that count.
    assert [(t["town_name"], t["above_level"], t["reasons"]) for t in body["interview_towns"]] == [
        ("西镇", 2, ["越级访 2 件，居第 1 位", "久拖不解案件 5 件（达到 3 件）"]),
        ("东镇", 0, ["信访量 3 件，未较去年同期（1 件）下降"]),
    ]
    assert [c["id"] for c in body["unresolved_above_level"]] == [scenario["a1"].id]  # f is closed
    assert [c["id"] for c in body["unrectified_referrals"]] == [scenario["g"].id]    # g2 not due yet
    assert body["unrectified_referrals"][0]["handle_due_at"] == "2026-11-10T04:00:00+00:00"  # the deadline it is past
    # T1 fell (2 < 3); T2 3 >= 1. Environment bureau (市生态环境局) 5 >= 3; urban management has none now.
    assert [(r["name"], r["volume"], r["last_year"]) for r in body["not_falling"]["towns"]] == [("东镇", 3, 1)]
    assert [(r["name"], r["volume"], r["last_year"]) for r in body["not_falling"]["departments"]] == [
        ("市生态环境局", 5, 3)]
    assert [(r["person_name"], r["kind_label"], r["case_number"]) for r in body["failure_records"]] == [
        ("赵六", "推诿扯皮", scenario["d2"].number)]


def test_a_first_year_names_no_town_for_a_missing_baseline(desk, scenario):
    """The system's first case of last year came in on 2025-10-20, after last year's period
    began (2025-10-16): its records do not cover that period, nothing was entered, so no town
    is listed for "not falling" (东镇 would be, 3 against a partial 1) and the lists say why."""
    body = desk.get("command", f"/api/v1/accountability?{PERIOD}").get_json()
    # 西镇's backlog (5 long-unresolved cases at the period's end) is a reason of its own.
    assert [(t["town_name"], t["reasons"]) for t in body["interview_towns"]] == [
        ("西镇", ["越级访 2 件，居第 1 位", "久拖不解案件 5 件（达到 3 件）"])]
    assert body["not_falling"]["towns"] == [] and body["not_falling"]["departments"] == []
    assert body["not_falling"]["skipped_towns"] == ["东镇", "西镇"] and body["not_falling"]["departments_skipped"]
    note = "「信访量未较去年同期下降」一项未评：各镇（街道）及各部门缺少去年同期数据"
    assert body["not_falling"]["note"].startswith(note)
    assert body["period"] == {"first_day": "2026-10-16", "last_day": "2026-11-15", "name": "自选期间",
                              "label": "2026-10-16 至 2026-11-15"}
    client = desk.client("command")[0]
    for page in ("accountability", "stage-report"):
        html = client.get(f"/desk/campaign/{page}?{PERIOD}").get_data(as_text=True)
        assert note in html and "东镇</strong>" not in html


def test_imported_monthly_counts_are_the_baseline_prorated_by_days(desk, scenario, city):
    """Last year's period 2025-10-16 … 2025-11-15 takes 16 of October's 31 days and 15 of
    November's 30. 西镇 entered Oct 0, Nov 4 → 0 + 4 × 15/30 = 2; its volume now is 2, not
    fewer: listed. 东镇 first entered October only → skipped; then Oct 31, Nov 2 →
    31 × 16/31 + 2 × 15/30 = 17 against 3 now: fell, not listed."""
    def months(oct_count, nov_count):
        return [None] * 9 + [oct_count, nov_count, None]

    towns = {"西镇": city.grids["T1"].id, "东镇": city.grids["T2"].id}
    body = {"towns": [{"town_id": towns["西镇"], "months": months(0, 4)},
                      {"town_id": towns["东镇"], "months": months(31, None)}]}
    assert put(desk, "command", "/api/v1/volume-baselines/2025", body).status_code == 403
    assert put(desk, "admin", "/api/v1/volume-baselines/2025",
               {"towns": [{"town_id": towns["西镇"], "months": [1, 2]}]}).status_code == 422
    saved = put(desk, "admin", "/api/v1/volume-baselines/2025", body)
    assert saved.status_code == 200, saved.get_json()
    lists = desk.get("command", f"/api/v1/accountability?{PERIOD}").get_json()
    assert [(r["name"], r["volume"], r["last_year"], r["source"]) for r in lists["not_falling"]["towns"]] == [
        ("西镇", 2, 2.0, "imported")]
    assert lists["not_falling"]["skipped_towns"] == ["东镇"]
    assert "：东镇及各部门缺少去年同期数据" in lists["not_falling"]["note"]
    assert [(t["town_name"], t["reasons"]) for t in lists["interview_towns"]] == [
        ("西镇", ["越级访 2 件，居第 1 位", "信访量 2 件，未较去年同期（2 件，据录入的历史信访量）下降",
                 "久拖不解案件 5 件（达到 3 件）"])]

    admin, token = desk.client("admin")
    page = admin.get("/admin/baselines?year=2025").get_data(as_text=True)
    assert f'name="m-{towns["东镇"]}-10" value="31"' in page
    form = {f"m-{towns['东镇']}-10": "31", f"m-{towns['东镇']}-11": "2", f"m-{towns['西镇']}-10": "0",
            f"m-{towns['西镇']}-11": "4", "csrf_token": token}
    assert admin.post("/admin/baselines?year=2025", data=form).status_code == 302
    lists = desk.get("command", f"/api/v1/accountability?{PERIOD}").get_json()
    assert [r["name"] for r in lists["not_falling"]["towns"]] == ["西镇"]
    assert lists["not_falling"]["skipped_towns"] == [] and lists["not_falling"]["departments_skipped"]
    assert desk.get("command", "/api/v1/volume-baselines/2025").get_json()[1]["months"][9:11] == [31, 2]


def test_every_score_page_and_export_names_its_period(desk, scenario):
    """The default is the running campaign's whole span (2026-09-20 … 2026-12-31); a picked
    period is named as such. Workbooks carry it above the headings and in the file name;
    times are date cells, scores numbers."""
    client = desk.client("command")[0]
    campaign = "统计期间：2026-09-20 至 2026-12-31（2026年环境信访百日攻坚行动）"
    picked = "统计期间：2026-10-16 至 2026-11-15（自选期间）"
    for page in ("scores", "first-line", "accountability", "stage-report", "receptions"):
        assert campaign in client.get(f"/desk/campaign/{page}").get_data(as_text=True), page
        assert picked in client.get(f"/desk/campaign/{page}?{PERIOD}").get_data(as_text=True), page
    towns = desk.get("command", "/api/v1/scores/towns")
    assert towns.headers["X-Period"] == "2026-09-20/2026-12-31" and towns.get_json()[0]["town_name"] == "东镇"
    assert desk.get("command", f"/api/v1/scores/grids?{PERIOD}").headers["X-Period"] == "2026-10-16/2026-11-15"
    ranking = desk.get("command", "/api/v1/exports/ranking.xlsx")
    assert ranking.headers["Content-Disposition"] == (
        'attachment; filename="town-ranking_20260920-20261231.xlsx"; '
        "filename*=UTF-8''%E9%95%87%E8%A1%97%E6%8E%92%E5%90%8D_2026-09-20%E8%87%B32026-12-31.xlsx")
    sheet = load_workbook(io.BytesIO(ranking.data)).active
    assert sheet["A1"].value == f"镇（街道）考核排名 {campaign}"
    assert (sheet["C3"].value, sheet["C3"].number_format) == (20, "0.00")
    job = desk.post("command", "/api/v1/exports/ledger", {"start": "2026-10-16", "end": "2026-11-15"})
    ledger = desk.get("command", f"/api/v1/exports/{job.get_json()['id']}/file")  # made by the worker
    assert 'filename="ledger_20261016-20261115.xlsx"' in ledger.headers["Content-Disposition"]
    assert "%E6%A1%88%E4%BB%B6%E5%8F%B0%E8%B4%A6_2026-10-16" in ledger.headers["Content-Disposition"]  # 案件台账_
    sheet = load_workbook(io.BytesIO(ledger.data)).active
    assert sheet["A1"].value == f"案件台账 {picked}"
    received = sheet["N3"]  # 受理时间 of d1, the oldest: 2026-10-17 12:00 Beijing
    assert received.value == datetime(2026, 10, 17, 12) and received.number_format == "yyyy-mm-dd hh:mm"
    assert received.is_date


def test_early_warning_raises_once_per_cluster(desk, city):
    near = [(120.525, 32.310), (120.527, 32.310), (120.525, 32.313)]  # ~190 m and ~330 m apart
    noise = [make_case(*p, category=Category.NOISE, received_at=NOW - timedelta(hours=h), petitioner_phone=phone)
             for p, h, phone in zip(near, (40, 5, 1), ("13800000001", "13800000002", "13800000003"), strict=True)]
    make_case(120.505, 32.310, category=Category.NOISE, received_at=NOW - timedelta(hours=2))  # ~1.9 km away
    make_case(120.526, 32.311, category=Category.AIR, received_at=NOW - timedelta(hours=2))    # other category
    make_case(120.526, 32.310, category=Category.NOISE, received_at=NOW - timedelta(hours=49))  # out of window
    db.session.commit()
    raised = desk.post("command", "/api/v1/alerts/scan").get_json()
    assert [(a["category"], a["case_ids"]) for a in raised] == [("noise", sorted(c.id for c in noise))]
    assert db.session.query(Notification).filter_by(kind="early_warning", user_id=city.users["command"].id).count() == 1
    assert desk.post("command", "/api/v1/alerts/scan").get_json() == []  # the same cluster: no second alert
    fourth = make_case(120.526, 32.311, category=Category.NOISE, received_at=NOW)
    db.session.commit()
    assert scan() == []
    db.session.commit()
    (alert,) = active_alerts(NOW)
    assert alert.case_ids == sorted([*(c.id for c in noise), fourth.id])
    assert db.session.query(Notification).filter_by(kind="early_warning").count() == 1
    assert len(desk.get("command", "/api/v1/alerts").get_json()) == 1
    page = desk.client("command")[0].get("/desk/campaign/alerts").get_data(as_text=True)
    assert "· 东镇V21村（中心 120.525" in page  # where it is by name, before its coordinates
    assert active_alerts(NOW + timedelta(hours=49)) == []
    assert db.session.query(Alert).count() == 1


def test_early_warning_counts_people_and_places_not_calls(desk, city):
    """Hand count, minimum 3 sources within 500 m and 48 h, anonymous within 30 m = one place:
    one petitioner (138…01) calls three times, once closed as a repeat → 1 source (the closed
    repeat is left out); two anonymous calls 10 m apart → 1 place. Sources 2: no alert.
    A second person (138…02) → 3 sources: one alert, badged 预警 on the 消息 page."""
    base = (120.525, 32.310)
    first = make_case(*base, received_at=NOW - timedelta(hours=30), petitioner_phone="138-0000-0001")
    make_case(base[0] + 0.002, base[1], received_at=NOW - timedelta(hours=20), petitioner_phone="13800000001")
    make_case(base[0], base[1] + 0.002, received_at=NOW - timedelta(hours=10), petitioner_phone="13800000001",
              repeat_of_id=first.id, status=CaseStatus.CLOSED)
    for hours, dx in ((5, 0.0), (4, 0.0001)):  # about 10 m apart
        make_case(base[0] + 0.001 + dx, base[1] + 0.001, received_at=NOW - timedelta(hours=hours),
                  petitioner_name=None, petitioner_phone=None, petitioner_id_number=None, anonymous=True)
    db.session.commit()
    assert desk.post("command", "/api/v1/alerts/scan").get_json() == []
    make_case(base[0] - 0.001, base[1], received_at=NOW - timedelta(hours=1), petitioner_phone="13800000002")
    db.session.commit()
    (raised,) = desk.post("command", "/api/v1/alerts/scan").get_json()
    assert len(raised["case_ids"]) == 5  # the closed repeat stays out
    page = desk.client("command")[0].get("/desk/notifications").get_data(as_text=True)
    assert "<strong>预警</strong>" in page and "来自 3 个不同信访人或地点" in page
    assert "<strong>催办</strong>" not in page


def test_intake_raises_the_alert_when_the_third_complaint_arrives(desk, city):
    # Two odour complaints registered through the API: no alert; the third within 500 m and
    # 48 h raises one alert and one notification at intake, with no manual scan.
    points = [(120.525, 32.310), (120.527, 32.310), (120.525, 32.313)]
    ids = []
    for n, (lon, lat) in enumerate(points):
        body = {"channel": "phone_12369", "category": "air", "sector": "industrial", "title": f"夜间异味{n}",
                "lon": lon, "lat": lat, "anonymous": True}
        response = desk.post("command", "/api/v1/cases", body)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["case"]["id"])
        assert len(active_alerts(NOW)) == (1 if n == 2 else 0)
    (alert,) = active_alerts(NOW)
    assert (alert.category, alert.case_ids) == ("air", sorted(ids))
    assert db.session.query(Notification).filter_by(kind="early_warning").count() == 1


def test_desk_pages_show_the_figures(desk, scenario):
    records_since_last_year()
    client = desk.client("command")[0]
    scores = client.get(f"/desk/campaign/scores?{PERIOD}").get_data(as_text=True)
    assert f'/desk/cases/{scenario["a1"].id}"' in scores and "该项清零" in scores
    assert '<tr data-town="东镇"><td>1</td><td>东镇</td><td>20.0</td>' in scores
    first = client.get(f"/desk/campaign/first-line?{PERIOD}").get_data(as_text=True)
    assert "2/3（67%）" in first
    lists = client.get(f"/desk/campaign/accountability?{PERIOD}").get_data(as_text=True)
    assert "越级访 2 件，居第 1 位" in lists and scenario["g"].number in lists
    assert "攻坚化解" in client.get("/desk/campaign/").get_data(as_text=True)
    report = client.get(f"/desk/campaign/stage-report?{PERIOD}").get_data(as_text=True)
    assert "拟约谈镇（街道）2 个" in report and "<td>1</td><td>东镇</td><td>20.0</td>" in report
    assert client.get("/desk/campaign/alerts").status_code == 200
    assert desk.client("sup_T1")[0].get("/desk/campaign/scores").status_code == 403
    assert desk.client("sup_T1")[0].get("/desk/campaign/").status_code == 200
    response = desk.post("command", "/desk/campaign/failure-records",
                         {"case_id": scenario["d2"].id, "kind": "inaction", "person_name": "孙七"})
    assert response.status_code == 302


def _sheet(response):
    """The rows under the period line (which is checked where the period is the point)."""
    assert response.status_code == 200
    return [list(r) for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=2, values_only=True)]


def _ledger(desk, username, personal=False):
    """Ask for the ledger through the API and fetch it (the queue runs the job at the commit)."""
    job = desk.post(username, "/api/v1/exports/ledger", {"start": "2026-10-16", "end": "2026-11-15",
                                                          "personal": personal})
    assert job.status_code == 202 and job.get_json()["status"] == "done", job.get_json()
    with desk.get(username, job.get_json()["file_url"]) as response:
        return _sheet(response)


def test_ledger_personal_data_only_when_asked_and_allowed(desk, scenario):
    plain = _ledger(desk, "command")
    assert plain[0][:3] == ["序号", "案件编号", "清单类别"] and "信访人姓名" not in plain[0]
    assert len(plain) == 1 + 5  # a1, a2, d1, d2, d3 received in the period
    assert not any("张三丰" in str(cell) for row in plain for cell in row)
    asked = _ledger(desk, "command", personal=True)
    assert asked[0][-3:] == ["信访人姓名", "联系电话", "身份证号"] and asked[1][-3] == "张三丰"
    # The admin may not see personal data: asking changes nothing.
    assert "信访人姓名" not in _ledger(desk, "admin", personal=True)[0]
    # A supervisor's ledger holds only their town's cases (T2: d1, d2, d3).
    assert len(_ledger(desk, "sup_T2")) == 1 + 3
    ranking = _sheet(desk.get("command", f"/api/v1/exports/ranking.xlsx?{PERIOD}"))
    assert ranking == [["排名", "镇（街道）", "考核得分", "越级访（件）", "超期未办结（件）", "未办结（件）"],
                       [1, "东镇", 20, 0, 0, 3], [2, "西镇", 10, 2, 1, 5]]


def test_geojson_export_of_the_period(desk, scenario):
    response = desk.get("sup_T2", f"/api/v1/exports/cases.geojson?{PERIOD}")
    assert 'filename="cases_20261016-20261115.geojson"' in response.headers["Content-Disposition"]
    body = json.loads(response.data)
    assert body["period"]["label"] == "2026-10-16 至 2026-11-15"
    assert [f["properties"]["number"] for f in body["features"]] == [
        scenario[k].number for k in ("d1", "d2", "d3")]
    assert body["features"][0]["geometry"] == {"type": "Point", "coordinates": [120.535, 32.31]}
    assert "张三丰" not in desk.get("command", f"/api/v1/exports/cases.geojson?{PERIOD}").get_data(as_text=True)


def test_cli_creates_campaign_and_scans(app, city):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["campaign", "create", "--year", "2027"])
    assert result.exit_code == 0, result.output
    assert "2027-09-20 至 2027-12-31" in result.output
    again = runner.invoke(args=["campaign", "create", "--year", "2027"])
    assert again.exit_code == 1 and "已经存在" in again.output
    assert "新预警 0 条" in runner.invoke(args=["campaign", "scan-alerts"]).output


def test_receptions_and_the_weekly_check(desk, scenario, city):
    def record(username, held_at, **extra):
        payload = {"kind": "public", "held_at": held_at.isoformat(), "place": "镇信访接待室", "receivers": "镇长"}
        response = desk.post(username, "/api/v1/receptions", payload | extra)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    record("sup_T1", bj(11, 3))
    large = record("officer_env", bj(11, 5), kind="large", case_ids=[scenario["a1"].id])
    assert large["case_ids"] == [scenario["a1"].id]
    assert large["department_id"] == city.users["officer_env"].department_id
    record("sup_T1", bj(11, 10))
    record("command", bj(11, 15, 23), town_id=city.grids["T2"].id)  # Sunday 23:00: still the week of 11-09
    assert desk.post("command", "/api/v1/receptions", {"kind": "public", "held_at": bj(11, 3).isoformat(),
                                                       "place": "x", "receivers": "y"}).status_code == 422
    weeks = desk.get("command", "/api/v1/receptions/weekly-check?start=2026-11-02&end=2026-11-15").get_json()
    assert [(w["week_of"], w["host_name"], w["held"], w["ok"]) for w in weeks] == [
        ("2026-11-02", "西镇", 1, True), ("2026-11-02", "东镇", 0, False), ("2026-11-02", "市生态环境局", 1, True),
        ("2026-11-09", "西镇", 1, True), ("2026-11-09", "东镇", 1, True), ("2026-11-09", "市生态环境局", 0, False),
    ]
    assert {w["state"] for w in weeks if not w["ok"]} == {"missed"}  # both weeks are over
    page = desk.client("sup_T2")[0].get("/desk/campaign/receptions?start=2026-11-02&end=2026-11-15")
    assert page.status_code == 200 and "未开展" in page.get_data(as_text=True)

    # A period that runs past today: this week is not missed yet, the weeks after it are still to come.
    monday = beijing_date(clock.now()) - timedelta(days=beijing_date(clock.now()).weekday())
    later = (monday + timedelta(days=21)).isoformat()
    weeks = desk.get("command", f"/api/v1/receptions/weekly-check?start={monday - timedelta(days=7)}&end={later}")
    states = {(w["week_of"], w["host_name"]): w["state"] for w in weeks.get_json()}
    assert states[(str(monday - timedelta(days=7)), "市生态环境局")] == "missed"
    assert states[(str(monday), "东镇")] == "in_progress"
    assert states[(str(monday + timedelta(days=7)), "东镇")] == "upcoming"
    page = desk.client("command")[0].get(f"/desk/campaign/receptions?start={monday}&end={later}").get_data(as_text=True)
    assert "未开展" not in page and "本周进行中" in page and "未到" in page


def test_special_checks_plan_result_and_report(desk, scenario):
    scenario["d3"].dissatisfied = True
    db.session.commit()
    planned = desk.post("command", "/api/v1/special-checks", {"planned_on": "2026-11-21"}).get_json()
    # Open difficult cases: a1 (above-level), d3 (dissatisfied); a2, d2 and f are closed. Key
    # towns in the campaign: T1 alone has above-level petitions (a1, a2).
    assert [(c["case_id"], c["reason"]) for c in planned] == [
        (scenario["a1"].id, "above_level"), (scenario["d3"].id, "dissatisfied"), (None, "key_town")]
    assert desk.post("command", "/api/v1/special-checks", {"planned_on": "2026-11-22"}).get_json() == []
    assert desk.post("command", f"/api/v1/special-checks/{planned[0]['id']}/result",
                     {"outcome": "rectified", "result": "企业已停产整改"}).status_code == 200
    report = desk.get("command", "/api/v1/special-checks/report").get_json()
    assert report["total"] == 3
    assert report["by_reason"] == {"重复访": 0, "越级访": 1, "不满意件": 1, "上级交办未完成件": 0, "重点镇（街道）": 1}
    assert report["by_outcome"] == {"已整改到位": 1, "正在整改": 0, "未整改": 0, "待督查": 2}
    page = desk.client("command")[0].get("/desk/campaign/special-checks").get_data(as_text=True)
    assert "企业已停产整改" in page and "西镇" in page


@pytest.mark.parametrize("username, overview", [("leader", False), ("officer_env", False), ("sup_T1", True)])
def test_the_campaign_menu_offers_only_pages_the_user_may_open(client, city, username, overview):
    sign_in_pages(client, username)
    page = client.get("/desk/campaign/receptions")
    assert page.status_code == 200
    assert ("阶段与报送" in page.text) is overview
    if overview:
        assert client.get("/desk/campaign/").status_code == 200
    else:
        assert client.get("/desk/campaign/").status_code == 403
