"""Placing cases with the grids a real city has: towns only, sliver gaps between towns, and
points outside the city. Distances are counted by hand: one degree of latitude is
π/180 × 6 371 008.8 m = 111 195.1 m."""

import pytest

from app.extensions import db
from app.models import Case, Grid, User
from app.models.vocab import Role
from app.services.admin.api_keys import create_api_key
from app.services.cases.deadlines import ensure_default_rules
from app.services.cases.departments import ensure_default_departments
from app.services.cases.workcalendar import ensure_default_calendar
from app.services.geo.grid_import import import_grids, placement_notes
from app.services.geo.placement import place_point
from app.services.settings import set_setting
from tests.factories import grid_feature, make_user
from tests.helpers import Desk
from tests.page_client import PageClient

# Towns split north-south with a 0.00027° strip between them: 0.00027 × 111 195.1 = 30.0 m.
SOUTH_EDGE, NORTH_EDGE = 32.31, 32.31027
GAP_POINT = (120.51, 32.3101)  # 0.0001° north of the south town: 11.1 m, and 18.9 m from the north one
BEIJING = (116.40, 39.90)


def towns_only_features() -> list[dict]:
    """A city with its two towns and no villages, as most cities' boundary files are."""
    return [
        grid_feature("C", "测试市", 1, None, (120.50, 32.30, 120.54, 32.32)),
        grid_feature("TS", "南镇", 2, "C", (120.50, 32.30, 120.54, SOUTH_EDGE)),
        grid_feature("TN", "北镇", 2, "C", (120.50, NORTH_EDGE, 120.54, 32.32)),
    ]


@pytest.fixture
def towns_city(app):
    """The towns-only city, a command office and the north town's supervisor."""
    ensure_default_departments()
    ensure_default_rules()
    ensure_default_calendar()
    report = import_grids(towns_only_features())
    grids = {g.code: g for g in db.session.query(Grid)}
    make_user("command", Role.COMMAND_OFFICE, grids["C"])
    make_user("sup_TN", Role.SUPERVISOR, grids["TN"])
    make_user("admin", Role.ADMIN)
    db.session.commit()
    return grids, report


def intake(**overrides) -> dict:
    """An intake payload at a point in the north town."""
    return {"channel": "letter", "category": "air", "sector": "industrial", "title": "夜间异味",
            "lon": 120.52, "lat": 32.315, "petitioner_name": "李四", "petitioner_phone": "13900001111"} | overrides


def test_towns_only_import_says_cases_go_to_towns_and_places_them_there(app, towns_city):
    grids, report = towns_city
    assert report.levels[0] == "现有网格：市级 1 个、镇（街道）2 个、村（社区）0 个。"
    assert "没有村（社区）级网格：案件落位到所在镇（街道）" in report.levels[1]
    desk = Desk(app)
    created = desk.post("command", "/api/v1/cases", intake())
    assert created.status_code == 201, created.get_json()
    case = created.get_json()["case"]
    assert case["town"]["code"] == "TN" and case["grid"] is None
    assert case["outside_grid"] is False and case["grid_gap_m"] is None
    # The town's supervisor now sees it (before, it had no town and no queue showed it).
    assert desk.get("sup_TN", f"/api/v1/cases/{case['id']}").status_code == 200
    admin = PageClient(app)
    admin.login("admin")
    assert "没有村（社区）级网格" in admin.get("/admin/grids").get_data(as_text=True)


def test_a_point_in_a_30_m_sliver_gap_goes_to_the_nearer_town_flagged(app, towns_city):
    grids, _ = towns_city
    placed = place_point(*GAP_POINT, 50)
    assert placed.town_id == grids["TS"].id and placed.grid_id is None
    assert placed.gap_m == pytest.approx(11.12, abs=0.05)  # 0.0001 × 111 195.1
    desk = Desk(app)
    case = desk.post("command", "/api/v1/cases", intake(lon=GAP_POINT[0], lat=GAP_POINT[1])).get_json()["case"]
    assert case["town"]["code"] == "TS" and case["grid_gap_m"] == pytest.approx(11.12, abs=0.05)
    page = desk.get("command", f"/desk/cases/{case['id']}").get_data(as_text=True)
    assert "网格缝隙：不在任何网格内，距所归入网格 11 米" in page


def test_the_tolerance_is_a_setting_and_zero_leaves_the_gap_outside_the_grid(app, towns_city):
    set_setting("grid_gap_tolerance_m", 0)
    db.session.commit()
    case = Desk(app).post("command", "/api/v1/cases", intake(lon=GAP_POINT[0], lat=GAP_POINT[1])).get_json()["case"]
    # Still inside the city boundary: kept, but outside every town as before.
    assert case["town"] is None and case["outside_grid"] is True and case["outside_city"] is False
    # 10 m: the gap point is 11.1 m from the south town, so it stays outside.
    assert place_point(*GAP_POINT, 10).town_id is None
    assert place_point(*GAP_POINT, 12).gap_m == pytest.approx(11.12, abs=0.05)


def test_a_beijing_point_is_refused_at_intake_unless_confirmed_as_outside_the_city(app, towns_city):
    desk = Desk(app)
    refused = desk.post("command", "/api/v1/cases", intake(lon=BEIJING[0], lat=BEIJING[1]))
    assert refused.status_code == 422
    assert "不在本市范围内" in refused.get_json()["message"] and "outside_city" in refused.get_json()["errors"]
    assert db.session.query(Case).count() == 0
    confirmed = desk.post("command", "/api/v1/cases", intake(lon=BEIJING[0], lat=BEIJING[1], outside_city=True))
    assert confirmed.status_code == 201
    case = confirmed.get_json()["case"]
    assert case["outside_city"] is True and case["town"] is None
    # The command office's queue of 市外 cases shows it; nobody in a town does.
    listed = desk.get("command", "/api/v1/cases?outside_city=true").get_json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]
    queue = desk.get("command", "/desk/?outside_city=true").get_data(as_text=True)
    assert case["number"] in queue and "市外" in queue
    assert desk.get("sup_TN", f"/api/v1/cases/{case['id']}").status_code == 404


def test_the_desk_form_refuses_a_beijing_point_in_chinese_then_takes_it_when_ticked(app, towns_city):
    desk = PageClient(app)
    desk.login("command")
    form = {key: str(value) for key, value in intake(lon=BEIJING[0], lat=BEIJING[1]).items()}
    form["coord_system"] = "wgs84"
    refused = desk.post("/desk/cases/new", form)
    assert refused.status_code == 422
    assert "确属市外的，请勾选「市外」后再登记" in refused.get_data(as_text=True)
    taken = desk.post("/desk/cases/new", form | {"outside_city": "true"})
    assert taken.status_code == 302
    assert db.session.query(Case).filter_by(outside_city=True).count() == 1


def test_open311_keeps_a_point_outside_the_city_as_outside(app, towns_city, client):
    """An outside system cannot confirm 「市外」 as the desk does; the complaint is kept, flagged
    市外, with no grid or town, for the command office's queue (tests/test_open311.py)."""
    _, raw = create_api_key(db.session.query(User).filter_by(username="admin").one(), "测试客户端")
    db.session.commit()
    answer = client.post("/open311/v2/requests.json", data={
        "api_key": raw, "service_code": "noise", "long": str(BEIJING[0]), "lat": str(BEIJING[1]),
        "description": "施工噪声"})
    assert answer.status_code == 201, answer.get_json()
    case = db.session.query(Case).filter_by(number=answer.get_json()[0]["service_request_id"]).one()
    assert (case.outside_city, case.grid_id, case.town_id) == (True, None, None)


def test_before_any_grid_is_imported_no_point_is_refused(app):
    placed = place_point(*BEIJING, 50)
    assert placed.in_city is True and placed.outside_grid is True


def test_villages_where_a_town_has_them_the_town_where_it_has_none(app):
    # Town TV has two villages with a 0.0003° strip between them; town TB has none.
    import_grids([
        grid_feature("C", "测试市", 1, None, (120.50, 32.30, 120.54, 32.32)),
        grid_feature("TV", "村镇", 2, "C", (120.50, 32.30, 120.52, 32.32)),
        grid_feature("TB", "镇", 2, "C", (120.52, 32.30, 120.54, 32.32)),
        grid_feature("V1", "西村", 3, "TV", (120.50, 32.30, 120.5100, 32.32)),
        grid_feature("V2", "东村", 3, "TV", (120.5103, 32.30, 120.52, 32.32)),
    ])
    grids = {g.code: g.id for g in db.session.query(Grid)}
    in_village = place_point(120.505, 32.31, 50)
    assert (in_village.grid_id, in_village.town_id, in_village.gap_m) == (grids["V1"], grids["TV"], None)
    # 0.0001° of longitude at 32.31° N: 111 195.1 × cos 32.31° × 0.0001 = 9.40 m from the west village.
    in_strip = place_point(120.5101, 32.31, 50)
    assert (in_strip.grid_id, in_strip.town_id) == (grids["V1"], grids["TV"])
    assert in_strip.gap_m == pytest.approx(9.40, abs=0.05)
    bare_town = place_point(120.53, 32.31, 50)
    assert (bare_town.grid_id, bare_town.town_id, bare_town.gap_m) == (None, grids["TB"], None)
    assert "1 个镇（街道）没有村（社区）级网格（镇）：这些镇街的案件落位到镇街。" in placement_notes()
