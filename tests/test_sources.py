"""The source register (监管对象台账): create, edit, scope, grid assignment, case links, history,
filters, the API, and the desk pages."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import AdminAuditEntry, Patrol, PatrolCheckin, Source
from app.models.vocab import CheckinOutcome
from app.services import clock
from app.services.geo.coords import wgs84_to_gcj02
from app.services.patrols.sources import create_source, link_case, list_sources, source_history, update_source
from tests.page_client import PageClient

V11 = (120.505, 32.31)
V12 = (120.515, 32.31)
V21 = (120.525, 32.31)


def new_source(city, username="sup_T1", at=V11, **fields):
    """A source created through the service by the named user."""
    data = {"name": "测试化工厂", "kind": "factory", "lon": at[0], "lat": at[1], **fields}
    source = create_source(city.users[username], data)
    db.session.commit()
    return source


def api_client(app, username):
    """A signed-in page client (cookies + CSRF), used for the JSON API as the browser would."""
    person = PageClient(app)
    assert person.login(username).status_code == 302
    return person


def api_write(person, method, url, **kwargs):
    """A JSON write with the CSRF header, as the desk's scripts send it."""
    return person.client.open(url, method=method, headers={"X-CSRFToken": person.token()}, **kwargs)


# ----------------------------------------------------------------------------- service


def test_create_assigns_grid_town_code_and_sector_from_the_location_and_kind(city):
    source = new_source(city, kind="restaurant", name="  老街饭店 ")
    assert source.grid_id == city.grids["V11"].id and source.town_id == city.grids["T1"].id
    assert source.name == "老街饭店" and source.sector == "tertiary"
    assert source.code == "JGT1-0001" and new_source(city, at=V12).code == "JGT1-0002"
    assert new_source(city, "command", at=V21).code == "JGT2-0001"
    entry = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.action == "source.create"))
    assert entry.entity_id == str(source.id) and entry.after["grid_id"] == city.grids["V11"].id


def test_gcj02_input_is_stored_as_wgs84(city):
    lon, lat = wgs84_to_gcj02(*V12)
    source = new_source(city, lon=lon, lat=lat, coord_system="gcj02")
    stored = list_sources(city.users["admin"], q=source.code)["items"][0]
    assert stored.grid.code == "V12"
    point = to_shape(db.session.scalar(select(Source.location).where(Source.id == source.id)))
    assert abs(point.x - V12[0]) < 1e-7 and abs(point.y - V12[1]) < 1e-7
    # What was typed is kept beside it, with its system, as on a case.
    assert (source.coord_system, source.input_lon, source.input_lat) == ("gcj02", lon, lat)
    moved = update_source(city.users["admin"], source.id, {"lon": V12[0], "lat": V12[1], "coord_system": "wgs84"})
    assert (moved.coord_system, moved.input_lon, moved.input_lat) == ("wgs84", V12[0], V12[1])


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "名称必填"),
    ({"kind": "castle"}, "类型应为"),
    ({"lon": 121.9}, "不在本市任何三级网格"),
    ({"lat": 95}, "经纬度超出范围"),
    ({"responsible_phone": "abc"}, "联系电话格式不正确"),
    ({"code": "有空 格"}, "编号只能由"),
])
def test_bad_input_is_refused_in_chinese(city, fields, message):
    with pytest.raises(InvalidInput) as refused:
        new_source(city, **fields)
    assert message in refused.value.message


def test_supervisor_works_in_their_own_town_only(city):
    with pytest.raises(InvalidInput, match="不在您管辖的镇"):
        new_source(city, "sup_T1", at=V21)
    source = new_source(city, "sup_T1")
    with pytest.raises(InvalidInput, match="不在您管辖的镇"):
        update_source(city.users["sup_T1"], source.id, {"lon": V21[0], "lat": V21[1]})
    moved = update_source(city.users["sup_T1"], source.id, {"lon": V12[0], "lat": V12[1]})
    assert moved.grid.code == "V12"
    other = new_source(city, "sup_T2", at=V21)
    with pytest.raises(NotFound):
        update_source(city.users["sup_T1"], other.id, {"name": "改名"})


def test_readers_cannot_write_and_codes_stay_unique(city):
    source = new_source(city, code="A-1")
    with pytest.raises(Forbidden):
        update_source(city.users["officer_env"], source.id, {"name": "改名"})
    with pytest.raises(Forbidden):
        new_source(city, "insp_V11")
    with pytest.raises(Conflict, match="编号 A-1 已被"):
        new_source(city, code="A-1")
    with pytest.raises(Conflict):
        update_source(city.users["admin"], new_source(city).id, {"code": "A-1"})


def test_scope_inspector_grid_supervisor_town_department_sector(city):
    mine = new_source(city, at=V11)
    neighbour = new_source(city, at=V12, kind="restaurant")
    east = new_source(city, "command", at=V21)

    def seen(username):
        return {s.id for s in list_sources(city.users[username], per_page=200)["items"]}

    assert seen("insp_V11") == {mine.id}
    assert seen("sup_T1") == {mine.id, neighbour.id}
    assert seen("officer_env") == {mine.id, east.id}  # industrial sector routed to env
    assert seen("officer_urban") == {neighbour.id}
    assert seen("leader") == set()
    assert seen("command") == {mine.id, neighbour.id, east.id}


def test_filters_text_kind_key_and_patrol_age(city):
    now = clock.now()
    fresh = new_source(city, name="新桥砖瓦厂", is_key=True, permit_number="91320000MA1234567X001P")
    stale = new_source(city, name="老河码头", kind="wharf", at=V12)
    never = new_source(city, name="村口作坊", kind="workshop", at=V12)
    fresh.last_patrol_at, stale.last_patrol_at = now - timedelta(days=1), now - timedelta(days=10)
    db.session.commit()
    admin = city.users["admin"]

    def ids(**filters):
        return {s.id for s in list_sources(admin, **filters)["items"]}

    assert ids(q="码头") == {stale.id}
    assert ids(q="MA1234567") == {fresh.id}
    assert ids(kind="workshop") == {never.id}
    assert ids(sector="riverside_wharf") == {stale.id}
    assert ids(key_only=True) == {fresh.id}
    assert ids(grid_id=city.grids["V12"].id) == {stale.id, never.id}
    assert ids(stale_days=7) == {stale.id, never.id}
    assert ids(never_patrolled=True) == {never.id}
    update_source(admin, never.id, {"active": False})
    assert ids(active=True) == {fresh.id, stale.id}
    page = list_sources(admin, page=2, per_page=2)
    assert page["meta"] == {"page": 2, "per_page": 2, "total": 3, "pages": 2} and len(page["items"]) == 1


def _checkin(source, inspector, minutes_ago, outcome=CheckinOutcome.NOTHING_FOUND, case=None):
    """A check-in row at the source, as the patrol service would store it."""
    at = clock.now() - timedelta(minutes=minutes_ago)
    patrol = Patrol(id=uuid.uuid4(), inspector_id=inspector.id, grid_id=source.grid_id, started_at=at,
                    content_sha256="0" * 64)
    checkin = PatrolCheckin(id=uuid.uuid4(), patrol=patrol, source_id=source.id, inspector_id=inspector.id,
                            grid_id=source.grid_id, outcome=outcome, distance_m=12.5, radius_m=100,
                            location=from_shape(Point(*V11), srid=4326), content_sha256="0" * 64,
                            captured_at=at, case_id=case.id if case else None)
    db.session.add_all([patrol, checkin])
    db.session.commit()
    return checkin


def test_history_lists_checkins_newest_first_and_only_cases_in_scope(city):
    source = new_source(city, "command")
    inspector = city.users["insp_V11"]
    older = _checkin(source, inspector, 120)
    newer = _checkin(source, inspector, 5, CheckinOutcome.PROBLEM_FOUND, case=city.cases["V11"])
    link_case(city.users["command"], source.id, city.cases["V11"].id)
    link_case(city.users["command"], source.id, city.cases["V21"].id)
    db.session.commit()
    history = source_history(city.users["command"], source)
    assert [c.id for c in history.checkins] == [newer.id, older.id]
    assert {c.number for c in history.cases} == {city.cases["V11"].number, city.cases["V21"].number}
    assert [c.number for c in source_history(city.users["insp_V11"], source).cases] == [city.cases["V11"].number]


def test_linking_needs_a_case_in_scope(city):
    source = new_source(city)
    with pytest.raises(NotFound):
        link_case(city.users["sup_T1"], source.id, city.cases["V21"].id)
    linked = link_case(city.users["sup_T1"], source.id, city.cases["V12"].id)
    assert [c.id for c in linked.cases] == [city.cases["V12"].id]


# ----------------------------------------------------------------------------- API


def test_api_create_read_patch_and_scope(app, city):
    sup = api_client(app, "sup_T1")
    created = api_write(sup, "POST", "/api/v1/sources", json={
        "name": "东风养猪场", "kind": "livestock_farm", "lon": V11[0], "lat": V11[1], "is_key": True,
        "responsible_name": "李四", "responsible_phone": "13900001111"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["grid"]["code"] == "V11" and body["sector"] == "livestock" and body["code"] == "JGT1-0001"
    assert body["kind_label"] == "畜禽养殖场"
    source_id = body["id"]
    patched = api_write(sup, "PATCH", f"/api/v1/sources/{source_id}", json={"lon": V12[0], "lat": V12[1]})
    assert patched.status_code == 200 and patched.get_json()["grid"]["code"] == "V12"
    bad = api_write(sup, "POST", "/api/v1/sources", json={"name": "x", "kind": "factory", "lon": V21[0],
                                                          "lat": V21[1]})
    assert bad.status_code == 422 and "不在您管辖的镇" in bad.get_json()["message"]
    missing = api_write(sup, "POST", "/api/v1/sources", json={"name": "x"})
    assert missing.status_code == 422
    assert api_client(app, "sup_T2").get(f"/api/v1/sources/{source_id}").status_code == 404
    assert api_client(app, "insp_V11").get(f"/api/v1/sources/{source_id}").status_code == 404
    assert api_client(app, "insp_V12").get(f"/api/v1/sources/{source_id}").status_code == 200
    officer = api_client(app, "officer_env")
    assert api_write(officer, "PATCH", f"/api/v1/sources/{source_id}", json={"name": "x"}).status_code == 404
    new = new_source(city, "command", at=V21)
    refused = api_write(officer, "PATCH", f"/api/v1/sources/{new.id}", json={"name": "改名"})
    assert refused.status_code == 403 and "只有二级网格管理员" in refused.get_json()["message"]
    no_token = sup.client.post("/api/v1/sources", json={"name": "x", "kind": "factory", "lon": 1, "lat": 1})
    assert no_token.status_code == 400 and no_token.get_json()["errors"]["csrf"] == ["invalid"]


def test_api_list_filters_geojson_history_and_case_links(app, city):
    source = new_source(city, "command", name="河口码头", kind="wharf")
    new_source(city, "command", at=V21)
    command = api_client(app, "command")
    listed = command.get("/api/v1/sources?kind=wharf").get_json()
    assert [s["name"] for s in listed["items"]] == ["河口码头"] and listed["meta"]["total"] == 1
    assert command.get("/api/v1/sources?kind=castle").status_code == 422
    geojson = command.get("/api/v1/sources?format=geojson").get_json()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 2
    assert geojson["features"][0]["geometry"]["coordinates"] == [V11[0], V11[1]]
    case = city.cases["V11"]
    linked = api_write(command, "POST", f"/api/v1/sources/{source.id}/cases/{case.id}")
    assert linked.status_code == 200 and linked.get_json()["case_ids"] == [case.id]
    assert command.get(f"/api/v1/sources?case_id={case.id}").get_json()["meta"]["total"] == 1
    _checkin(source, city.users["insp_V11"], 30)
    history = command.get(f"/api/v1/sources/{source.id}/history").get_json()
    assert history["cases"][0]["number"] == case.number
    assert history["checkins"][0]["inspector"] == "测试insp_V11" and history["checkins"][0]["distance_m"] == 12.5
    unlinked = api_write(command, "DELETE", f"/api/v1/sources/{source.id}/cases/{case.id}")
    assert unlinked.status_code == 200 and unlinked.get_json()["case_ids"] == []
    assert api_write(command, "DELETE", f"/api/v1/sources/{source.id}/cases/{case.id}").status_code == 404


# ----------------------------------------------------------------------------- pages


def codes_on(html: str) -> list[str]:
    """Source codes in the register table, in order."""
    return re.findall(r'<tr data-code="([^"]+)"', html)


def test_register_page_lists_scope_and_filters(app, city):
    west = new_source(city, name="西河砖厂", is_key=True)
    shop = new_source(city, at=V12, name="街角餐馆", kind="restaurant")
    new_source(city, "command", at=V21)
    sup = api_client(app, "sup_T1")
    page = sup.get("/desk/sources/")
    assert page.status_code == 200 and "监管对象台账" in page.text and "新增监管对象" in page.text
    assert codes_on(page.text) == [west.code, shop.code]
    assert codes_on(sup.get("/desk/sources/?key_only=true").text) == [west.code]
    assert codes_on(sup.get("/desk/sources/?q=餐馆").text) == [shop.code]
    assert codes_on(sup.get(f"/desk/sources/?grid_id={city.grids['V12'].id}").text) == [shop.code]
    assert codes_on(sup.get("/desk/sources/?never_patrolled=true&kind=restaurant").text) == [shop.code]
    assert sup.get("/desk/sources/?kind=castle").status_code == 422
    update_source(city.users["admin"], shop.id, {"active": False})
    db.session.commit()
    assert codes_on(sup.get("/desk/sources/").text) == [west.code]
    assert codes_on(sup.get("/desk/sources/?active=false").text) == [shop.code]
    inspector = api_client(app, "insp_V11")
    listed = inspector.get("/desk/sources/")
    assert codes_on(listed.text) == [west.code] and "新增监管对象" not in listed.text
    assert inspector.get("/desk/sources/new").status_code == 403
    assert "监管对象台账" in api_client(app, "leader").get("/desk/").text  # the nav link


def test_new_and_edit_forms_create_move_and_show_errors(app, city):
    sup = api_client(app, "sup_T1")
    form = sup.get("/desk/sources/new")
    assert form.status_code == 200 and 'id="pick-map"' in form.text
    bad = sup.post("/desk/sources/new", {"name": "越界厂", "kind": "factory", "lon": str(V21[0]), "lat": str(V21[1])})
    assert bad.status_code == 422 and "不在您管辖的镇" in bad.text and 'value="越界厂"' in bad.text
    done = sup.post("/desk/sources/new", {"name": "新建厂", "kind": "factory", "lon": str(V11[0]),
                                          "lat": str(V11[1]), "is_key": "true", "responsible_phone": "13900000000"})
    assert done.status_code == 302
    source = db.session.scalar(select(Source).where(Source.name == "新建厂"))
    assert source.is_key and source.grid.code == "V11"
    edit = sup.get(f"/desk/sources/{source.id}/edit")
    assert edit.status_code == 200 and 'value="120.505000"' in edit.text
    saved = sup.post(f"/desk/sources/{source.id}/edit", {
        "name": "新建厂（改）", "kind": "factory", "lon": "120.505000", "lat": "32.310000", "coord_system": "wgs84",
        "responsible_phone": "", "active": "true", "code": source.code})
    assert saved.status_code == 302
    db.session.refresh(source)
    assert (source.name, source.is_key, source.responsible_phone, source.active) == ("新建厂（改）", False, "", True)
    moved = sup.post(f"/desk/sources/{source.id}/edit", {"name": "新建厂（改）", "kind": "factory",
                                                         "lon": str(V12[0]), "lat": str(V12[1]), "active": "true"})
    assert moved.status_code == 302
    db.session.refresh(source)
    assert source.grid.code == "V12"
    assert api_client(app, "sup_T2").get(f"/desk/sources/{source.id}/edit").status_code == 404
    assert api_client(app, "officer_env").get(f"/desk/sources/{source.id}/edit").status_code == 403


def test_detail_page_shows_history_links_cases_by_number_and_keeps_the_tracks_area(app, city):
    source = new_source(city, "command")
    _checkin(source, city.users["insp_V11"], 60, CheckinOutcome.PROBLEM_FOUND, case=city.cases["V11"])
    sup = api_client(app, "sup_T1")
    page = sup.get(f"/desk/sources/{source.id}")
    assert page.status_code == 200 and 'id="patrol-tracks"' in page.text and 'id="source-map"' in page.text
    checkins = page.text.split('id="checkins"')[1]
    assert "测试insp_V11" in checkins and "发现问题" in checkins and "12 米" in checkins, checkins
    linked = sup.post(f"/desk/sources/{source.id}/cases", {"number": city.cases["V12"].number},
                      follow_redirects=True)
    assert f'data-case="{city.cases["V12"].number}"' in linked.text and "已关联案件" in linked.text
    refused = sup.post(f"/desk/sources/{source.id}/cases", {"number": city.cases["V21"].number},
                       follow_redirects=True)
    assert "不存在，或不在您的管辖范围内" in refused.text
    assert [c.number for c in db.session.get(Source, source.id).cases] == [city.cases["V12"].number]
    unlinked = sup.post(f"/desk/sources/{source.id}/cases/{city.cases['V12'].id}/unlink", follow_redirects=True)
    assert "已取消关联" in unlinked.text and not db.session.get(Source, source.id).cases
    assert api_client(app, "insp_V12").get(f"/desk/sources/{source.id}").status_code == 404
    reader = api_client(app, "officer_env").get(f"/desk/sources/{source.id}")
    assert reader.status_code == 200 and "按案件编号关联" not in reader.text
    assert api_client(app, "officer_env").post(f"/desk/sources/{source.id}/deactivate").status_code == 403
    stopped = sup.post(f"/desk/sources/{source.id}/deactivate", follow_redirects=True)
    assert "已停用" in stopped.text and not db.session.get(Source, source.id).active


def test_import_page_reports_bad_lines_then_imports_the_good_rows(app, city):
    header = "名称,类型,经度,纬度,是否重点"
    content = "\r\n".join([header, "甲厂,工业企业,120.505,32.31,是", "乙厂,飞船,120.505,32.31,",
                           "丙厂,餐饮店,120.525,32.31,否"]).encode("gbk")
    sup = api_client(app, "sup_T1")
    assert sup.get("/desk/sources/import").status_code == 200

    def upload(**form):
        return sup.post("/desk/sources/import", {"file": (io.BytesIO(content), "台账.csv"), **form},
                        content_type="multipart/form-data")

    refused = upload(mode="import")
    assert refused.status_code == 422 and "共 3 行，无误 1 行，有误 2 行" in refused.text
    assert "类型“飞船”无效" in refused.text.split('data-line="3"')[1].split("</tr>")[0]
    assert "不在您管辖的镇" in refused.text.split('data-line="4"')[1].split("</tr>")[0]
    assert db.session.scalar(select(Source.id)) is None
    done = upload(mode="import", good_rows_only="1")
    assert done.status_code == 200 and "已导入 1 个（新增 1，更新 0），跳过有误的 2 行" in done.text
    assert db.session.scalar(select(Source.name)) == "甲厂"
    template = sup.get("/desk/sources/import/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    assert api_client(app, "officer_env").get("/desk/sources/import").status_code == 403


def test_the_detail_page_and_the_api_show_the_coordinates_as_typed(app, city):
    lon, lat = (round(value, 6) for value in wgs84_to_gcj02(*V11))
    sup = api_client(app, "sup_T1")
    done = sup.post("/desk/sources/new", {"name": "高德取点厂", "kind": "factory", "lon": f"{lon:.6f}",
                                          "lat": f"{lat:.6f}", "coord_system": "gcj02"})
    assert done.status_code == 302
    source = db.session.scalar(select(Source).where(Source.name == "高德取点厂"))
    page = sup.get(f"/desk/sources/{source.id}").get_data(as_text=True)
    assert "录入坐标" in page and "GCJ-02" in page and f"{lon:.6f}" in page
    body = sup.get(f"/api/v1/sources/{source.id}").get_json()
    assert body["coord_system"] == "gcj02"
    assert body["input_location"] == {"lon": lon, "lat": lat}
    assert abs(body["location"]["lon"] - V11[0]) < 1e-5  # the typed point, rounded to 6 decimals, converted
