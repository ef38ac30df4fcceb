"""WGS-84 ⇄ GCJ-02 ⇄ BD-09 conversion, checked against pairs published by others.

Forward pairs from implementations with the same constants must agree to SAME_ALGORITHM_DEG;
pairs from vendors' documentation (rounded to 6 decimals, their servers not our formula) to
VENDOR_DEG, about 0.1 m. Inverses are judged on the ground: under MAX_INVERSE_ERROR_M, which
the one-step inverse in wide use misses by 1-2 m in eastern China.
"""

import math

import numpy as np
import pytest

from app.errors import InvalidInput
from app.models.vocab import CoordSystem
from app.services.geo import coords

SAME_ALGORITHM_DEG = 1e-9
VENDOR_DEG = 1e-6
MAX_INVERSE_ERROR_M = 0.5
EARTH_MEAN_RADIUS_M = 6371008.8

# (WGS-84 lon, lat), (GCJ-02 lon, lat)
WGS84_GCJ02_SAME_ALGORITHM = [
    # googollee/eviltransform python/test.py, TESTS "shanghai" (also go/transform_test.go)
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    # googollee/eviltransform python/test.py, TESTS "shenzhen"
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    # googollee/eviltransform python/test.py, TESTS "beijing"
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    # wandergis/coordtransform test/app.js, "wgs84togcj02" result
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
]
WGS84_GCJ02_VENDOR = [
    # AMap Web service API docs, 坐标转换 (lbs.amap.com/api/webservice/guide/api/convert), example
    # locations=116.481499,39.990475|116.481499,39.990375&coordsys=gps, response "locations"
    ((116.481499, 39.990475), (116.487585177952, 39.991754014757)),
    ((116.481499, 39.990375), (116.487585177952, 39.991653917101)),
]
# (GCJ-02 lon, lat), (BD-09 lon, lat)
GCJ02_BD09_SAME_ALGORITHM = [
    # wandergis/coordtransform test/app.js, "gcj02tobd09" result
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
]
GCJ02_BD09_VENDOR = [
    # Aliyun address purification docs, 坐标系转换 TransferCoord example
    # (help.aliyun.com/zh/address-purification/addrpapi/developer-reference/coordinate-system-conversion)
    ((120.026268, 30.279164), (120.032768, 30.285238)),
]
# wandergis/coordtransform test/app.js, "bd09togcj02" of (116.404, 39.915). It is the
# published one-step inverse, 0.05 m from the exact one here, so it is held to VENDOR_DEG.
BD09_GCJ02_ONE_STEP = [((116.404, 39.915), (116.39762729119315, 39.90865673957631))]
# Not used: eviltransform's TESTS_bd pairs, which its own formula misses by 10-40 m.
# Abroad AMap, Tencent and Baidu all use WGS-84 (Baidu SDK FAQ, lbsyun.baidu.com
# index.php?title=FAQ/iOS/map, summarised in tofrankie/blog issue #145).

OUTSIDE_CHINA = [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688), (0.0, 0.0)]
CITY_LONS, CITY_LATS = np.meshgrid(np.linspace(120.07, 121.07, 21), np.linspace(31.89, 32.89, 21))


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * math.asin(math.sqrt(h))


def haversine_many_m(lons1, lats1, lons2, lats2) -> np.ndarray:
    """Vectorised haversine_m."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lons1, lats1, lons2, lats2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * np.arcsin(np.sqrt(h))


@pytest.mark.parametrize(("wgs", "gcj"), WGS84_GCJ02_SAME_ALGORITHM)
def test_wgs84_to_gcj02_matches_published_implementations(wgs, gcj):
    """Same constants, same numbers: a GPS point lands where other converters put it."""
    assert coords.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=SAME_ALGORITHM_DEG)


@pytest.mark.parametrize(("wgs", "gcj"), WGS84_GCJ02_VENDOR)
def test_wgs84_to_gcj02_matches_amap_converter(wgs, gcj):
    """A GPS point lands where AMap's own conversion service puts it."""
    assert coords.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=VENDOR_DEG)


@pytest.mark.parametrize(("wgs", "gcj"), WGS84_GCJ02_SAME_ALGORITHM + WGS84_GCJ02_VENDOR)
def test_gcj02_to_wgs84_recovers_published_gps_point(wgs, gcj):
    """A GCJ-02 point typed in from AMap comes back to the GPS point, within half a metre."""
    assert haversine_m(coords.gcj02_to_wgs84(*gcj), wgs) < MAX_INVERSE_ERROR_M


@pytest.mark.parametrize(("gcj", "bd"), GCJ02_BD09_SAME_ALGORITHM)
def test_gcj02_to_bd09_matches_published_implementation(gcj, bd):
    """Baidu's twist gives the same numbers as coordtransform."""
    assert coords.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=SAME_ALGORITHM_DEG)


@pytest.mark.parametrize(("gcj", "bd"), GCJ02_BD09_VENDOR)
def test_gcj02_to_bd09_matches_vendor_example(gcj, bd):
    """Baidu's twist agrees with Aliyun's documented conversion."""
    assert coords.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=VENDOR_DEG)


@pytest.mark.parametrize(("gcj", "bd"), GCJ02_BD09_SAME_ALGORITHM + GCJ02_BD09_VENDOR)
def test_bd09_to_gcj02_recovers_published_point(gcj, bd):
    """A Baidu point converts back to the GCJ-02 point it was made from."""
    assert haversine_m(coords.bd09_to_gcj02(*bd), gcj) < MAX_INVERSE_ERROR_M


@pytest.mark.parametrize(("bd", "gcj"), BD09_GCJ02_ONE_STEP)
def test_bd09_to_gcj02_close_to_published_one_step(bd, gcj):
    """The exact inverse stays within a few centimetres of the widely used one-step result."""
    assert coords.bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=VENDOR_DEG)


def test_wgs84_to_bd09_is_gcj02_then_baidu():
    """The composed conversion reaches the published BD-09 point from its GPS origin."""
    gps = coords.gcj02_to_wgs84(*GCJ02_BD09_VENDOR[0][0])
    assert coords.wgs84_to_bd09(*gps) == pytest.approx(GCJ02_BD09_VENDOR[0][1], abs=VENDOR_DEG)
    assert haversine_m(coords.bd09_to_wgs84(*GCJ02_BD09_VENDOR[0][1]), gps) < MAX_INVERSE_ERROR_M


@pytest.mark.parametrize("point", OUTSIDE_CHINA)
def test_points_outside_china_pass_through_unchanged(point):
    """Abroad GCJ-02 and BD-09 are WGS-84: no offset either way."""
    assert not coords.in_china(*point)
    for convert in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84, coords.wgs84_to_bd09, coords.bd09_to_wgs84):
        assert convert(*point) == point
    assert coords.to_wgs84(*point, "gcj02") == point
    assert coords.from_wgs84(*point, "bd09") == point


def test_in_china_box():
    """The rough box holds the city and Beijing, not Paris or Tokyo; its edges count as inside."""
    assert coords.in_china(120.57, 32.39)
    assert coords.in_china(116.404, 39.915)
    assert coords.in_china(72.004, 0.8293)
    assert coords.in_china(137.8347, 55.8271)
    assert not coords.in_china(2.3522, 48.8566)
    assert not coords.in_china(139.6917, 35.6895)


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [(coords.wgs84_to_gcj02, coords.gcj02_to_wgs84), (coords.wgs84_to_bd09, coords.bd09_to_wgs84)],
)
def test_scalar_round_trips_over_the_city_stay_under_half_a_metre(forward, inverse):
    """Out to a map app and back, a point anywhere in the city moves less than half a metre."""
    for lon, lat in zip(CITY_LONS.ravel()[::7], CITY_LATS.ravel()[::7], strict=True):
        point = (float(lon), float(lat))
        assert haversine_m(inverse(*forward(*point)), point) < MAX_INVERSE_ERROR_M


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_bulk_round_trips_over_the_city_stay_under_half_a_metre(system):
    """The same over a 21 × 21 grid of the city through the vectorised API."""
    shown = coords.from_wgs84_many(CITY_LONS, CITY_LATS, system)
    lons, lats = coords.to_wgs84_many(*shown, system)
    assert haversine_many_m(lons, lats, CITY_LONS, CITY_LATS).max() < MAX_INVERSE_ERROR_M


def test_offset_is_hundreds_of_metres_in_the_city():
    """The conversion is not a no-op where it matters: GCJ-02 moves city points 300-700 m."""
    shown = coords.from_wgs84_many(CITY_LONS, CITY_LATS, "gcj02")
    moved = haversine_many_m(*shown, CITY_LONS, CITY_LATS)
    assert moved.min() > 300
    assert moved.max() < 700


@pytest.mark.parametrize("system", list(CoordSystem))
def test_bulk_and_scalar_agree(system):
    """A point converted alone and inside a batch gives the same result."""
    lons, lats = coords.from_wgs84_many(CITY_LONS.ravel()[:5], CITY_LATS.ravel()[:5], system)
    for i in range(5):
        alone = coords.from_wgs84(float(CITY_LONS.ravel()[i]), float(CITY_LATS.ravel()[i]), system)
        assert alone == pytest.approx((lons[i], lats[i]), abs=1e-12)


def test_system_accepts_enum_members_and_their_values():
    """CoordSystem.GCJ02 and "gcj02" mean the same; wgs84 stores the point as given."""
    point = (120.57, 32.39)
    assert coords.to_wgs84(*point, CoordSystem.GCJ02) == coords.to_wgs84(*point, "gcj02")
    assert coords.from_wgs84(*point, CoordSystem.BD09) == coords.wgs84_to_bd09(*point)
    assert coords.to_wgs84(*point, "wgs84") == point


@pytest.mark.parametrize("system", ["cgcs2000", "GCJ-02", "", None])
def test_unknown_system_is_refused_in_chinese(system):
    """A system we cannot convert is a 422 with a Chinese message naming the choices."""
    for convert in (coords.to_wgs84, coords.from_wgs84):
        with pytest.raises(InvalidInput, match="未知的坐标系") as caught:
            convert(120.57, 32.39, system)
        assert caught.value.status == 422
        assert "system" in caught.value.errors


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [
        (180.5, 32.39, "lon"),
        (-181.0, 32.39, "lon"),
        (120.57, 90.01, "lat"),
        (120.57, -91.0, "lat"),
        (math.nan, 32.39, "lon"),
        (120.57, math.inf, "lat"),
    ],
)
def test_out_of_range_coordinates_are_refused_in_chinese(lon, lat, field):
    """A point off the globe (or not a number) is refused rather than converted into nonsense."""
    for convert in (coords.to_wgs84, coords.from_wgs84):
        with pytest.raises(InvalidInput, match="坐标超出范围") as caught:
            convert(lon, lat, "gcj02")
        assert set(caught.value.errors) == {field}


def test_range_edges_are_accepted():
    """The poles and the antimeridian are valid input, and stay valid (no China offset there)."""
    assert coords.to_wgs84(180.0, 90.0, "bd09") == (180.0, 90.0)
    assert coords.from_wgs84(-180.0, -90.0, "bd09") == (-180.0, -90.0)


def test_non_numbers_are_refused():
    """Text where a number belongs is a clear 422, not a crash."""
    with pytest.raises(InvalidInput, match="必须是数字"):
        coords.to_wgs84("东经120度", 32.39, "wgs84")
    with pytest.raises(InvalidInput, match="个数不一致"):
        coords.to_wgs84_many([120.5, 120.6], [32.3], "wgs84")
