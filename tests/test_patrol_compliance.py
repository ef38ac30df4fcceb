"""Patrol compliance on a hand-computed tiny city: every expected figure below is worked out
by hand in the comments from the check-ins the worked example (tests/patrol_example.py) records."""

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from app.services import clock
from app.services.patrols.compliance import compliance, grid_detail, overdue_sources, required_patrols
from app.services.patrols.rules import PatrolRule
from tests.helpers import Desk
from tests.patrol_example import NOW, build_scenario

PERIOD = {"start": "2026-11-02", "end": "2026-11-15"}  # 14 days, today the last
API = "/api/v1/patrol-compliance"


@pytest.fixture
def scenario(app, city):
    """The worked example with the clock at NOW."""
    with clock.frozen_at(NOW):
        yield build_scenario(city)


@pytest.fixture
def desk(app, scenario):
    """Signed-in API clients over the worked example."""
    return Desk(app)


# ---------------------------------------------------------------- expected figures, by hand
# Level-3 patrol days in the period and states today (15 November):
#   S1 key 1/2: 2,4,6,8,10,12,14 = 7 days, done 7/7; last 14 → due 16 → ok.
#   S2 ordinary 2/5: 3,10,12,13 → done 4/6; 2nd latest 12 → due 17 → ok.
#   S3 complained 1/3: 5,9 → done 2/5; due 12 → overdue 3 days.
#   S4 ordinary 2/5, 6 days judged (10-15): 11,12,13,14 → done min(3, 4) = 3/3; due 18 → ok.
#   S5 ordinary 2/5: none → 0/6; registered 1 Oct → due 6 Oct → overdue 40 days.
#   S7 key 1/2: 14 → 1/7; due 16 → ok.
# Level 2 (town T1's sources, the supervisor's check-ins):
#   S1 key 2/7: 3, 11 → done 2/4; 2nd latest 3 → due 10 → overdue 5 days.
#   S2, S3 (1/14): 0/1 each; due 15 Oct → overdue 31 days.
#   S4 (1/14, judged 6 days: ceil(6/14) = 1): 0/1; registered 10 Nov → due 24 Nov → ok.
#   S5 (1/14): 7 → 1/1; due 21 → ok.
#   T2's S7 key 2/7: 0/4; due 8 Oct → overdue 38 days.
# Activity in the period by recording grid:
#   V11: A 8 check-ins (1 flagged) on 7 days, 2 patrols 5.7 km; B 10 (1 flagged, 1 problem)
#        on 6 days, 1 patrol 4.15 km → 18, 2 flagged, 1 problem, 3 patrols, 9.85 km, 12 days.
#   T1 itself (the supervisor): 3 check-ins, 1 flagged, 1 problem, 1 patrol 1.8 km, 3 days.
#   V21: 1 check-in on 1 day.
ACTIVITY_V11 = {"checkins": 18, "flagged": 2, "problems": 1, "patrols": 3, "km": 9.85, "active_days": 12}
ACTIVITY_T1 = {"checkins": 21, "flagged": 3, "problems": 2, "patrols": 4, "km": 11.65, "active_days": 13}
ACTIVITY_V21 = {"checkins": 1, "flagged": 0, "problems": 0, "patrols": 0, "km": 0.0, "active_days": 1}
IDLE = {"checkins": 0, "flagged": 0, "problems": 0, "patrols": 0, "km": 0.0, "active_days": 0}
DUTY_V11 = {"sources": 4, "required": 21, "done": 16, "rate": 0.7619, "overdue": 1}
DUTY_V12 = {"sources": 1, "required": 6, "done": 0, "rate": 0.0, "overdue": 1}
DUTY_V21 = {"sources": 1, "required": 7, "done": 1, "rate": 0.1429, "overdue": 0}
DUTY_NONE = {"sources": 0, "required": 0, "done": 0, "rate": None, "overdue": 0}
LEVEL2_T1 = {"sources": 5, "required": 8, "done": 3, "rate": 0.375, "overdue": 3}
LEVEL2_T2 = {"sources": 1, "required": 4, "done": 0, "rate": 0.0, "overdue": 1}


def figures(row, keys):
    """Some of a row's figures."""
    return {k: row[k] for k in keys}


DUTY_KEYS = ("sources", "required", "done", "rate", "overdue")
ACTIVITY_KEYS = tuple(IDLE)


def test_required_is_the_rule_over_the_days_rounded_up():
    assert required_patrols(PatrolRule(1, 2), 14) == 7
    assert required_patrols(PatrolRule(2, 5), 14) == 6  # 5.6
    assert required_patrols(PatrolRule(1, 14), 6) == 1
    assert required_patrols(PatrolRule(1, 2), 0) == 0
    assert required_patrols(None, 14) == 0


def test_supervisor_sees_own_town_grids_and_people_with_hand_computed_figures(scenario, city):
    report = compliance(scenario.users["sup_T1"], *_dates())
    assert [r["code"] for r in report["grids"]] == ["V11", "V12"]
    v11, v12 = report["grids"]
    assert figures(v11, DUTY_KEYS) == DUTY_V11 and figures(v11, ACTIVITY_KEYS) == ACTIVITY_V11
    assert figures(v12, DUTY_KEYS) == DUTY_V12 and figures(v12, ACTIVITY_KEYS) == IDLE
    [town] = report["towns"]
    assert town["code"] == "T1"
    # Villages added up: 4 + 1 sources, 21 + 6 required, 16 + 0 done, 16/27, 1 + 1 overdue.
    assert figures(town, DUTY_KEYS) == {"sources": 5, "required": 27, "done": 16, "rate": 0.5926, "overdue": 2}
    assert town["level2"] == LEVEL2_T1
    assert figures(town, ACTIVITY_KEYS) == ACTIVITY_T1
    people = {r["name"]: figures(r, ACTIVITY_KEYS) for r in report["inspectors"]}
    assert [r["name"] for r in report["inspectors"]] == ["测试sup_T1", "测试insp_V11", "测试insp_V11b", "测试insp_V12"]
    assert people == {
        "测试sup_T1": {"checkins": 3, "flagged": 1, "problems": 1, "patrols": 1, "km": 1.8, "active_days": 3},
        "测试insp_V11": {"checkins": 8, "flagged": 1, "problems": 0, "patrols": 2, "km": 5.7, "active_days": 7},
        "测试insp_V11b": {"checkins": 10, "flagged": 1, "problems": 1, "patrols": 1, "km": 4.15,
                          "active_days": 6},
        "测试insp_V12": IDLE,  # an idle inspector is listed, not hidden
    }
    assert report["totals"] == {"sources": 5, "required": 27, "done": 16, "rate": 0.5926, "overdue": 2,
                                **ACTIVITY_T1, "level2": LEVEL2_T1}


def test_command_office_sees_every_town_and_the_city_totals(scenario):
    report = compliance(scenario.users["command"], *_dates())
    assert [r["code"] for r in report["towns"]] == ["T1", "T2"]
    assert [r["code"] for r in report["grids"]] == ["V11", "V12", "V21", "V22"]
    rows = {r["code"]: figures(r, DUTY_KEYS) | figures(r, ACTIVITY_KEYS) for r in report["grids"]}
    assert rows == {"V11": DUTY_V11 | ACTIVITY_V11, "V12": DUTY_V12 | IDLE, "V21": DUTY_V21 | ACTIVITY_V21,
                    "V22": DUTY_NONE | IDLE}
    t2 = report["towns"][1]
    assert figures(t2, DUTY_KEYS) == DUTY_V21 and t2["level2"] == LEVEL2_T2
    # 6 sources, 27 + 7 = 34 required, 16 + 1 = 17 done (0.5); level 2: 8 + 4 = 12, 3 done.
    assert report["totals"] == {"sources": 6, "required": 34, "done": 17, "rate": 0.5, "overdue": 2,
                                **(ACTIVITY_T1 | {"checkins": 22}),
                                "level2": {"sources": 6, "required": 12, "done": 3, "rate": 0.25, "overdue": 4}}


def test_an_inspector_sees_only_their_grid(scenario):
    report = compliance(scenario.users["insp_V11b"], *_dates())
    assert report["towns"] == [] and [r["code"] for r in report["grids"]] == ["V11"]
    assert figures(report["grids"][0], DUTY_KEYS) == DUTY_V11
    assert [r["name"] for r in report["inspectors"]] == ["测试insp_V11", "测试insp_V11b"]


def test_grid_detail_explains_the_grid_row_source_by_source(scenario):
    detail = grid_detail(scenario.users["sup_T1"], scenario.sources["S1"].grid_id, *_dates())
    assert figures(detail["grid"], DUTY_KEYS) == DUTY_V11
    rows = {r["code"]: (r["class_label"], r["rule_label"], r["days"], r["required"], r["done"], r["state"],
                        r["days_overdue"]) for r in detail["sources"]}
    assert rows == {
        "S1": ("重点监管对象", "每2天1次", 14, 7, 7, "ok", 0),
        "S2": ("一般监管对象", "每5天2次", 14, 6, 4, "ok", 0),
        "S3": ("近期被投诉对象", "每3天1次", 14, 5, 2, "overdue", 3),
        "S4": ("一般监管对象", "每5天2次", 6, 3, 3, "ok", 0),
    }
    s2 = next(r for r in detail["sources"] if r["code"] == "S2")
    assert [d.isoformat() for d in s2["patrol_days"]] == ["2026-11-13", "2026-11-12", "2026-11-10", "2026-11-03"]
    assert sum(r["required"] for r in detail["sources"]) == detail["grid"]["required"]


def test_overdue_sources_per_level_most_overdue_first(scenario):
    sup = scenario.users["sup_T1"]
    level3 = overdue_sources(sup)
    level2 = overdue_sources(sup, level=2)
    city_level2 = overdue_sources(scenario.users["command"], level=2)
    assert [(r["code"], r["days_overdue"], r["due_on"].isoformat()) for r in level3] == [
        ("S5", 40, "2026-10-06"), ("S3", 3, "2026-11-12")]
    assert level3[1]["last_on"].isoformat() == "2026-11-09" and level3[1]["grid_name"] == "V11村"
    assert [(r["code"], r["days_overdue"]) for r in level2] == [("S2", 31), ("S3", 31), ("S1", 5)]
    assert [(r["code"], r["days_overdue"]) for r in city_level2] == [("S7", 38), ("S2", 31), ("S3", 31), ("S1", 5)]


def test_other_towns_grids_are_not_found_and_other_roles_refused(desk, scenario, city):
    t1, v11 = city.grids["T1"].id, city.grids["V11"].id
    assert desk.get("sup_T2", f"{API}?town_id={t1}").status_code == 404
    assert desk.get("sup_T2", f"{API}/grids/{v11}").status_code == 404
    assert desk.get("insp_V21", f"{API}/grids/{v11}").status_code == 404
    own = desk.get("sup_T2", f"{API}?start=2026-11-02&end=2026-11-15").get_json()
    assert [r["code"] for r in own["grids"]] == ["V21", "V22"] and [r["code"] for r in own["towns"]] == ["T2"]
    assert [r["code"] for r in desk.get("sup_T2", f"{API}/overdue?town_id={t1}").get_json()] == []
    assert desk.get("leader", API).status_code == 403
    assert desk.get("officer_env", f"{API}/overdue").status_code == 403


def test_api_shape_and_bad_input_in_chinese(desk, scenario, city):
    body = desk.get("sup_T1", f"{API}?start=2026-11-02&end=2026-11-15&town_id={city.grids['T1'].id}")
    detail = desk.get("sup_T1", f"{API}/grids/{city.grids['V11'].id}?start=2026-11-02&end=2026-11-15")
    overdue = desk.get("sup_T1", f"{API}/overdue?level=3&grid_id={city.grids['V11'].id}")
    assert body.status_code == 200
    report = body.get_json()
    assert (report["start_on"], report["end_on"], report["today"]) == ("2026-11-02", "2026-11-15", "2026-11-15")
    assert set(report) == {"start_on", "end_on", "today", "town_id", "towns", "grids", "inspectors", "totals"}
    assert {k: report["grids"][0][k] for k in DUTY_KEYS} == DUTY_V11
    assert report["towns"][0]["level2"] == LEVEL2_T1
    rows = detail.get_json()["sources"]
    assert rows[2] | {"source_id": 0} == {
        "source_id": 0, "code": "S3", "name": "对象S3", "kind": "factory", "kind_label": "工业企业", "is_key": False,
        "source_class": "complained", "class_label": "近期被投诉对象", "rule_label": "每3天1次", "days": 14,
        "required": 5, "done": 2, "patrol_days": ["2026-11-09", "2026-11-05"], "last_on": "2026-11-09",
        "due_on": "2026-11-12", "state": "overdue", "state_label": "已超期", "days_overdue": 3}
    assert [(r["code"], r["days_overdue"], r["town_name"]) for r in overdue.get_json()] == [("S3", 3, "西镇")]
    bad_date = desk.get("sup_T1", f"{API}?start=2026-13-01")
    assert bad_date.status_code == 422 and "日期格式" in str(bad_date.get_json()["errors"])
    backwards = desk.get("sup_T1", f"{API}?start=2026-11-15&end=2026-11-01")
    assert backwards.status_code == 422 and "结束日期" in backwards.get_json()["message"]
    assert desk.get("sup_T1", f"{API}/overdue?level=4").status_code == 422
    assert desk.get("sup_T1", f"{API}/grids/999999").status_code == 404
    # Ids and dates beyond what the database or the calendar holds are refused, never a 500.
    assert desk.get("command", f"{API}/grids/99999999999999999999").status_code == 404
    assert desk.get("command", f"{API}/sources/99999999999999999999/tracks").status_code == 404
    assert desk.get("command", f"{API}?town_id=99999999999999999999").status_code == 422
    assert desk.get("command", f"{API}/overdue?grid_id=99999999999999999999").status_code == 422
    assert desk.get("command", f"{API}?start=0001-01-01").status_code == 422
    assert desk.get("command", f"{API}?end=9999-12-31").status_code == 422


def test_default_period_is_the_last_30_days_without_a_campaign(scenario):
    report = compliance(scenario.users["sup_T1"], None, None)
    assert (report["start_on"].isoformat(), report["end_on"].isoformat()) == ("2026-10-17", "2026-11-15")


def test_a_source_registered_after_the_period_is_not_judged(scenario):
    # S4 was registered on 10 November: over 2-9 November V11 judges S1-S3 only.
    report = compliance(scenario.users["sup_T1"], datetime(2026, 11, 2).date(), datetime(2026, 11, 9).date())
    v11 = report["grids"][0]
    # 8 days: S1 ceil(8/2) = 4, done 2,4,6,8 = 4; S2 ceil(16/5) = 4, done 3 = 1; S3 ceil(8/3) = 3, done 5,9 = 2.
    assert figures(v11, DUTY_KEYS) == {"sources": 3, "required": 11, "done": 7, "rate": 0.6364, "overdue": 1}


def test_future_days_are_not_required_yet(scenario):
    # Judged up to today: a period running to the end of the month asks no more than up to the 15th.
    report = compliance(scenario.users["sup_T1"], datetime(2026, 11, 2).date(), datetime(2026, 11, 30).date())
    assert figures(report["grids"][0], DUTY_KEYS) == DUTY_V11


def test_compliance_workbook(desk, scenario):
    response = desk.get("sup_T1", f"{API}/export.xlsx?start=2026-11-02&end=2026-11-15")
    assert response.status_code == 200
    assert "filename*=UTF-8''%E5%B7%A1%E6%9F%A5%E8%80%83%E6%A0%B8_2026-11-02%E8%87%B32026-11-15.xlsx" in \
        response.headers["Content-Disposition"]  # 巡查考核_2026-11-02至2026-11-15.xlsx
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["镇（街道）", "三级网格", "巡查人员"]
    assert book["三级网格"]["A1"].value == "巡查考核 统计期间：2026-11-02 至 2026-11-15"
    grids = list(book["三级网格"].iter_rows(min_row=3, values_only=True))
    assert grids[0][:7] == ("西镇", "V11村", 4, 21, 16, 0.7619, 1)  # 16 / 21, a number shown as 76.2%
    assert book["三级网格"]["F3"].number_format == "0.0%"
    assert grids[0][7:] == (18, 2, 1, 3, 9.85, 12)


def _dates():
    """The worked example's period as dates."""
    return datetime(2026, 11, 2).date(), datetime(2026, 11, 15).date()
