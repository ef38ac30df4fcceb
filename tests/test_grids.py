"""Grid import from GeoJSON, the GeoJSON API, and point → grid assignment."""

import json

import numpy as np
import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Grid
from app.services.geo.grid_locator import get_locator, locate_point
from tests.factories import VILLAGE_BOXES, grid_feature, tiny_city_features


def _write(tmp_path, features) -> str:
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return str(path)


def _import(app, path):
    return app.test_cli_runner().invoke(args=["grids", "import", path])


def test_import_good_file_creates_then_updates_by_code(app, tmp_path):
    path = _write(tmp_path, tiny_city_features())
    result = _import(app, path)
    assert result.exit_code == 0, result.output
    assert "新增 7 个" in result.output
    assert db.session.scalar(select(func.count(Grid.id)).where(Grid.level == 3)) == 4

    renamed = tiny_city_features()
    renamed[3]["properties"]["name"] = "改名村"
    result = _import(app, _write(tmp_path, renamed))
    assert "更新 7 个" in result.output
    assert db.session.scalar(select(Grid.name).where(Grid.code == "V11")) == "改名村"
    assert db.session.scalar(select(func.count(Grid.id))) == 7


def test_import_with_invalid_feature_imports_nothing_and_names_it(app, tmp_path):
    features = tiny_city_features()
    features[4]["geometry"] = {"type": "Point", "coordinates": [120.5, 32.3]}
    features[5]["properties"]["parent_code"] = "NOPE"
    result = _import(app, _write(tmp_path, features))
    assert result.exit_code == 1
    assert "未导入任何网格" in result.output
    assert "第 5 个要素（编码 V12）" in result.output and "Polygon 或 MultiPolygon" in result.output
    assert "上级网格 NOPE 不存在" in result.output
    assert db.session.scalar(select(func.count(Grid.id))) == 0


def test_import_rejects_files_that_are_not_feature_collections(app, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text("{not json")
    result = _import(app, str(path))
    assert result.exit_code == 1 and "不是有效的 JSON" in result.output
    path.write_text(json.dumps({"type": "Feature"}))
    assert "FeatureCollection" in _import(app, str(path)).output


def test_import_repairs_self_intersecting_polygon(app, tmp_path):
    features = tiny_city_features()
    # A bow-tie ring: invalid, but make_valid turns it into two triangles.
    features[3]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[120.50, 32.30], [120.51, 32.32], [120.51, 32.30], [120.50, 32.32], [120.50, 32.30]]],
    }
    result = _import(app, _write(tmp_path, features))
    assert result.exit_code == 0, result.output
    assert "已自动修复几何：V11" in result.output
    valid = db.session.scalar(select(func.ST_IsValid(Grid.geom)).where(Grid.code == "V11"))
    assert valid in (1, True)


def test_import_rejects_coordinates_that_are_not_lon_lat(app, tmp_path):
    features = [grid_feature("C", "测试市", 1, None, (500000, 3500000, 510000, 3510000))]
    result = _import(app, _write(tmp_path, features))
    assert result.exit_code == 1 and "经纬度范围" in result.output


def test_grids_api_returns_geojson_by_level(client, auth, city):
    auth.login("insp_V11")
    response = client.get("/api/v1/grids?level=3")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in body["features"]) == sorted(VILLAGE_BOXES)
    ring = body["features"][0]["geometry"]["coordinates"][0][0]
    assert ring[0] == ring[-1]
    assert client.get("/api/v1/grids?level=9").status_code == 422


def test_grids_api_needs_login(client, city):
    assert client.get("/api/v1/grids").status_code == 401


def test_point_on_shared_edge_gets_smallest_code(city):
    # x = 120.51 is the edge between V11 and V12; x = 120.52 also the edge between towns.
    assert locate_point(120.51, 32.31).grid_id == city.grids["V11"].id
    hit = locate_point(120.52, 32.31)
    assert hit.grid_id == city.grids["V12"].id and hit.town_id == city.grids["T1"].id


def test_point_outside_every_grid_is_none(city):
    assert locate_point(121.0, 33.0) is None


def _database_covering_codes(lon: float, lat: float) -> list[str]:
    """Codes of level-3 grids whose polygon covers the point, asked of the database."""
    point = func.ST_GeomFromText(f"POINT({lon!r} {lat!r})", 4326)
    query = select(Grid.code).where(Grid.level == 3, func.ST_Covers(Grid.geom, point)).order_by(Grid.code)
    return list(db.session.scalars(query))


@pytest.mark.parametrize("seed", [1, 2])
def test_strtree_agrees_with_database_st_covers(city, seed):
    rng = np.random.default_rng(seed)
    lons = np.concatenate([rng.uniform(120.49, 120.55, 150), [120.50, 120.51, 120.52, 120.53, 120.54]])
    lats = np.concatenate([rng.uniform(32.29, 32.33, 150), [32.31, 32.30, 32.32, 32.305, 32.31]])
    by_id = {g.id: g.code for g in city.grids.values()}
    positions = get_locator().locate_many(lons, lats)
    for lon, lat, grid_id in zip(lons, lats, get_locator().grid_id_at(positions), strict=True):
        codes = _database_covering_codes(float(lon), float(lat))
        assert by_id.get(grid_id) == (codes[0] if codes else None), (lon, lat, codes)


def test_locator_rebuilds_when_grids_change(app, city, tmp_path):
    before = get_locator()
    features = tiny_city_features()
    features[3]["properties"]["name"] = "新名"
    _import(app, _write(tmp_path, features))
    assert get_locator() is not before


def test_spatialite_metadata_survives(app, city):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SpatiaLite only")
    assert db.session.execute(text("SELECT CheckSpatialMetaData()")).scalar() >= 1
