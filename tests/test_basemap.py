"""The city's own base map: roads, water and place names imported from the files a
natural-resources bureau gives (GeoJSON, zipped Shapefile in a projected CGCS2000 system with
GBK text, GeoPackage), served for a map view, and drawn on the wall with no tile server."""

import io
import json
import zipfile

import numpy as np
import pytest
import shapely
from geoalchemy2.shape import to_shape
from pyogrio import raw as ogr
from pyproj import Transformer

from app.extensions import db
from app.models import AdminAuditEntry, BaseMapFeature
from app.services.geo import basemap
from tests.helpers import SHORT_PATROLS, Desk
from tests.page_client import PageClient

ROADS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "G328 国道", "fclass": "国道"},
     "geometry": {"type": "LineString", "coordinates": [[120.49, 32.305], [120.55, 32.315]]}},
    {"type": "Feature", "properties": {"名称": "东庄路", "等级": "乡道"},
     "geometry": {"type": "LineString", "coordinates": [[120.505, 32.301], [120.506, 32.319]]}},
]}
# CGCS2000 / 3-degree Gauss-Krüger, central meridian 120°E: what a county's survey files use.
GAUSS_KRUGER = "EPSG:4549"


def projected_shapefile(tmp_path, names: list[str], lonlats: list[list[tuple[float, float]]], cpg: bool) -> bytes:
    """A zipped Shapefile of rivers in metres (CGCS2000 3° GK), text in GBK, with or without .cpg."""
    to_metres = Transformer.from_crs("EPSG:4326", GAUSS_KRUGER, always_xy=True)
    lines = [shapely.LineString(np.column_stack(to_metres.transform(*zip(*points, strict=True)))) for points in lonlats]
    folder = tmp_path / "shp"
    folder.mkdir()
    ogr.write(str(folder / "rivers.shp"), shapely.to_wkb(np.array(lines)), [np.array(names, dtype=object)], ["HDMC"],
              geometry_type="LineString", crs=GAUSS_KRUGER, encoding="GBK", driver="ESRI Shapefile")
    if not cpg:
        (folder / "rivers.cpg").unlink(missing_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, path.name)
    return buffer.getvalue()


def stored(layer: str) -> list[tuple[str, str, int, shapely.Geometry]]:
    rows = db.session.scalars(db.select(BaseMapFeature).where(BaseMapFeature.layer == layer)
                              .order_by(BaseMapFeature.id))
    return [(r.name, r.kind, r.min_zoom, to_shape(r.geom)) for r in rows]


def test_geojson_roads_are_drawn_from_the_zoom_their_class_deserves(app):
    report = basemap.import_layer("road", json.dumps(ROADS).encode(), "roads.geojson")
    assert (report.imported, report.replaced) == (2, 0)
    (trunk, _, trunk_zoom, _), (lane, lane_kind, lane_zoom, _) = stored("road")
    assert (trunk, trunk_zoom) == ("G328 国道", 9)
    assert (lane, lane_kind, lane_zoom) == ("东庄路", "乡道", 13)
    again = basemap.import_layer("road", json.dumps(ROADS).encode(), "roads.geojson")
    assert again.replaced == 2 and len(stored("road")) == 2  # a new import replaces the layer


@pytest.mark.parametrize("cpg", [True, False])
def test_a_projected_shapefile_with_chinese_text_lands_where_it_should(app, tmp_path, cpg):
    points = [[(120.50, 32.30), (120.52, 32.31), (120.54, 32.305)]]
    data = projected_shapefile(tmp_path, ["清水河"], points, cpg)
    report = basemap.import_layer("water", data, "水系.zip")
    assert report.source_crs == GAUSS_KRUGER and report.encoding in ("GBK", "UTF-8")
    ((name, _, zoom, geom),) = stored("water")
    assert name == "清水河" and zoom == 10  # a river across a town shows at city scale
    assert np.abs(shapely.get_coordinates(geom) - np.array(points[0])).max() < 1e-6  # well under a metre


def test_place_names_from_a_geopackage_become_points(app, tmp_path):
    square = shapely.box(120.51, 32.305, 120.52, 32.315)
    path = tmp_path / "places.gpkg"
    ogr.write(str(path), shapely.to_wkb(np.array([square, shapely.Point(120.53, 32.31)])),
              [np.array(["人民公园", ""], dtype=object), np.array(["公园", "车站"], dtype=object)], ["名称", "类型"],
              geometry_type="Unknown", crs="EPSG:4490", driver="GPKG")
    report = basemap.import_layer("place", path.read_bytes(), "places.gpkg")
    assert report.imported == 1 and report.skipped == ["无名称的地名点"]
    ((name, kind, _, geom),) = stored("place")
    assert (name, kind, geom.geom_type) == ("人民公园", "公园", "Point") and square.contains(geom)


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"", "roads.geojson", "请选择底图文件"),
    (b"not a map at all", "roads.geojson", "无法读取底图文件"),
    (b"PK\x05\x06" + b"\x00" * 18, "roads.zip", "没有 .shp 文件"),
    (b"PK broken", "roads.zip", "压缩包已损坏"),
])
def test_files_that_are_no_map_are_refused_in_chinese(app, data, filename, message):
    with pytest.raises(Exception) as refused:
        basemap.import_layer("road", data, filename)
    assert refused.value.status == 422 and message in refused.value.message
    assert stored("road") == []


def test_metres_without_a_prj_are_refused_not_drawn_in_the_sea(app):
    metres = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"},
              "geometry": {"type": "LineString", "coordinates": [[547092.3, 3575229.1], [548970.7, 3576347.0]]}}]}
    with pytest.raises(Exception) as refused:
        basemap.import_layer("road", json.dumps(metres).encode(), "roads.json")
    assert "缺少 .prj" in refused.value.message


def test_the_view_gets_what_it_draws_at_its_zoom_and_a_304_when_unchanged(app, city):
    basemap.import_layer("road", json.dumps(ROADS).encode(), "roads.geojson")
    db.session.commit()
    client = Desk(app).client("insp_V11")[0]
    city_view = client.get("/api/v1/basemap?west=120.4&south=32.2&east=120.6&north=32.4&zoom=10")
    assert city_view.status_code == 200 and city_view.mimetype == "application/geo+json"
    assert [f["properties"]["name"] for f in city_view.get_json()["features"]] == ["G328 国道"]
    close = client.get("/api/v1/basemap?west=120.50&south=32.30&east=120.51&north=32.32&zoom=15").get_json()
    assert sorted(f["properties"]["name"] for f in close["features"]) == ["G328 国道", "东庄路"]
    elsewhere = client.get("/api/v1/basemap?west=121&south=33&east=121.1&north=33.1&zoom=15").get_json()
    assert elsewhere["features"] == []
    again = client.get("/api/v1/basemap?west=120.4&south=32.2&east=120.6&north=32.4&zoom=10",
                       headers={"If-None-Match": city_view.headers["ETag"]})
    assert again.status_code == 304
    bad = client.get("/api/v1/basemap?west=120.6&south=32.2&east=120.4&north=32.4&zoom=10")
    assert bad.status_code == 422 and "范围无效" in bad.get_json()["message"]


def test_the_admin_imports_and_removes_a_layer_from_the_page(app, city):
    admin = PageClient(app)
    admin.login("admin")
    page = admin.client.post("/admin/basemap", data={
        "csrf_token": admin.token(), "layer": "road",
        "file": (io.BytesIO(json.dumps(ROADS).encode()), "roads.geojson")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "道路导入完成：2 个要素" in page.get_data(as_text=True)
    assert "roads.geojson" in page.get_data(as_text=True)
    refused = admin.client.post("/admin/basemap", data={
        "csrf_token": admin.token(), "layer": "road", "file": (io.BytesIO(b"junk"), "roads.geojson")},
        content_type="multipart/form-data")
    assert refused.status_code == 422 and "无法读取底图文件" in refused.get_data(as_text=True)
    assert len(stored("road")) == 2  # the refused file changed nothing
    admin.post("/admin/basemap/road/delete", follow_redirects=True)
    assert stored("road") == []
    actions = [e.action for e in db.session.scalars(db.select(AdminAuditEntry).order_by(AdminAuditEntry.id))]
    assert actions[-2:] == ["basemap.import", "basemap.delete"]


@pytest.mark.browser
def test_the_demo_wall_draws_its_own_base_map_with_nothing_from_outside(app, browser, live_server, artifacts_dir):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", "200", *SHORT_PATROLS])
    assert result.exit_code == 0, result.output
    assert {layer for layer, *_ in db.session.execute(db.select(BaseMapFeature.layer).distinct())} == {
        "road", "water", "place"}
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1920, "height": 1080})
    outside = []
    context.route("**/*", lambda route: (outside.append(route.request.url)
                                         if not route.request.url.startswith(live_server) else None,
                                         route.continue_()))
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("command")
    page.get_by_label("密码").fill("firstline2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/desk/")
    page.goto(f"{live_server}/wall/")
    page.locator('#wall-map[data-ready="true"]').wait_for(timeout=30_000)
    page.wait_for_function("() => (window.wallStats.basemapFeatures || 0) > 3", timeout=10_000)
    page.screenshot(path=artifacts_dir / "wall-basemap-1920.png")
    page.evaluate("() => { window.wallMap.setZoom(13); }")
    page.wait_for_function("() => window.wallStats.basemapFeatures > 10", timeout=10_000)
    assert page.locator(".basemap-label").filter(has_text="人民公园").count() == 1
    page.screenshot(path=artifacts_dir / "wall-basemap-zoom13.png")
    # The desk's maps draw the same base map, light, with the town boundaries over the villages:
    # a clerk placing a complaint finds the road and the town it names.
    page.goto(f"{live_server}/desk/cases/new")
    page.locator('#pick-map[data-ready="true"]').wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('#pick-map path[stroke-dasharray]').length == 14")
    page.wait_for_function("() => document.querySelectorAll('#pick-map .leaflet-basemap-pane path').length > 5")
    for _ in range(3):
        page.locator("#pick-map .leaflet-control-zoom-in").click()
        page.wait_for_timeout(400)
    page.locator(".basemap-label-desk").first.wait_for(timeout=10_000)
    page.screenshot(path=artifacts_dir / "desk-intake-basemap.png")
    assert outside == []
    context.close()
