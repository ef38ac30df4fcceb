"""WGS-84 ⇄ GCJ-02 ⇄ BD-09 conversion for points typed in or imported from Chinese map apps.

Firstline stores WGS-84 (what phones give). Gaode/AMap and Tencent show GCJ-02 (国测局坐标,
"火星坐标"); Baidu shows BD-09 (百度坐标), a further twist on top of GCJ-02. The GCJ-02 offset
is the widely published reimplementation on the Krasovsky ellipsoid (a = 6378245.0,
ee = 0.00669342162296594323); it agrees with AMap's own converter to a few centimetres.
BD-09 adds Baidu's small polar twist (x_pi = π·3000/180) and a fixed shift. Outside the
rough China box neither is applied: AMap, Tencent and Baidu all use WGS-84 abroad.

Both offsets are easy forwards and have no closed-form inverse. The one-step inverses in wide
use are off by up to 1-2 m (GCJ-02) and 0.2 m (BD-09), and a point saved back and forth
through them drifts a little every time, so every inverse here iterates until it is exact to
well under a millimetre.

The numeric core works on numpy arrays, so a whole polygon or import file converts at once
(`to_wgs84_many`, `from_wgs84_many`); the scalar functions run it on one point.
`static/js/coords.js` is the same algorithm for the browser map, tested against this module.
"""

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.errors import InvalidInput
from app.models.vocab import CoordSystem

KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
BD09_X_PI = math.pi * 3000.0 / 180.0
# The rough box the published algorithm tests; outside it GCJ-02 and BD-09 are WGS-84 unchanged.
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
# 1e-10 degree is about 0.01 mm on the ground: nothing a map or a GPS can tell apart.
INVERSE_TOLERANCE_DEG = 1e-10
INVERSE_MAX_STEPS = 20

Array = NDArray[np.float64]
Convert = Callable[[Array, Array], tuple[Array, Array]]


def in_china(lon: float, lat: float) -> bool:
    """Whether GCJ-02 and BD-09 move this point: the published rough box around China, edges included.

    The box also covers parts of neighbouring countries and the sea; the published algorithm
    shifts those too, and matching it is what makes our points land where AMap draws them.
    """
    return bool(_in_china(np.float64(lon), np.float64(lat)))


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """A GPS (WGS-84) point as Gaode/Tencent (GCJ-02) show it; unchanged outside China."""
    return _one_point(_wgs84_to_gcj02, lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """A Gaode/Tencent (GCJ-02) point back in WGS-84, by iteration, exact to under 1 mm.

    The one-step inverse (subtract the offset computed at the GCJ-02 point) is off by up to
    1-2 m because the offset at the true point differs from the offset at the shifted one.
    """
    return _one_point(_gcj02_to_wgs84, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """A GCJ-02 point as Baidu (BD-09) shows it; unchanged outside China, where Baidu uses WGS-84."""
    return _one_point(_gcj02_to_bd09, lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """A Baidu (BD-09) point in GCJ-02, by iteration: the published one-step is off by 0.2 m."""
    return _one_point(_bd09_to_gcj02, lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """A GPS (WGS-84) point as Baidu shows it: GCJ-02 first, then Baidu's twist."""
    return _one_point(_wgs84_to_bd09, lon, lat)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """A Baidu (BD-09) point back in WGS-84, both steps inverted exactly."""
    return _one_point(_bd09_to_wgs84, lon, lat)


def to_wgs84(lon: float, lat: float, system: CoordSystem | str) -> tuple[float, float]:
    """A point entered in ``system`` ("wgs84", "gcj02", "bd09"), as WGS-84 for storage.

    Raises InvalidInput (Chinese message) for an unknown system or a point off the globe, so
    a bad form field or import row becomes a 422, not a wrong point on the map.
    """
    lons, lats = to_wgs84_many([lon], [lat], system)
    return float(lons[0]), float(lats[0])


def from_wgs84(lon: float, lat: float, system: CoordSystem | str) -> tuple[float, float]:
    """A stored WGS-84 point as map app ``system`` shows it; raises InvalidInput like to_wgs84."""
    lons, lats = from_wgs84_many([lon], [lat], system)
    return float(lons[0]), float(lats[0])


def to_wgs84_many(lons: ArrayLike, lats: ArrayLike, system: CoordSystem | str) -> tuple[Array, Array]:
    """Many points entered in ``system``, as WGS-84 arrays; vectorised for imports and polygons."""
    convert = _TO_WGS84[_coord_system(system)]
    return convert(*_checked_points(lons, lats))


def from_wgs84_many(lons: ArrayLike, lats: ArrayLike, system: CoordSystem | str) -> tuple[Array, Array]:
    """Many stored WGS-84 points as ``system`` shows them; vectorised for drawing whole grids."""
    convert = _FROM_WGS84[_coord_system(system)]
    return convert(*_checked_points(lons, lats))


def _one_point(convert: Convert, lon: float, lat: float) -> tuple[float, float]:
    """Run a vectorised conversion on one point and give back plain floats."""
    lons, lats = convert(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64))
    return float(lons[0]), float(lats[0])


def _coord_system(system: CoordSystem | str) -> CoordSystem:
    """The CoordSystem member for a member or its string value, else InvalidInput."""
    try:
        return CoordSystem(system)
    except ValueError:
        message = f"未知的坐标系“{system}”，应为 wgs84、gcj02 或 bd09。"
        raise InvalidInput(message, {"system": message}) from None


def _checked_points(lons: ArrayLike, lats: ArrayLike) -> tuple[Array, Array]:
    """Float arrays of the points, or InvalidInput if any is not a number on the globe."""
    try:
        lons, lats = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("经纬度必须是数字。") from None
    if lons.shape != lats.shape:
        raise InvalidInput("经度和纬度的个数不一致。")
    errors = {}
    if not np.all(np.isfinite(lons) & (np.abs(lons) <= 180.0)):
        errors["lon"] = "经度必须在 -180 到 180 之间。"
    if not np.all(np.isfinite(lats) & (np.abs(lats) <= 90.0)):
        errors["lat"] = "纬度必须在 -90 到 90 之间。"
    if errors:
        raise InvalidInput("坐标超出范围：" + "".join(errors.values()), errors)
    return lons, lats


def _in_china(lons: Array, lats: Array) -> NDArray[np.bool_]:
    """Vectorised in_china."""
    in_lon = (CHINA_LON[0] <= lons) & (lons <= CHINA_LON[1])
    return in_lon & (CHINA_LAT[0] <= lats) & (lats <= CHINA_LAT[1])


def _common_waves(x: Array) -> Array:
    """The ripple terms that the east and north GCJ-02 offsets share."""
    return 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)


def _offset_east_m(x: Array, y: Array) -> Array:
    """GCJ-02's eastward offset in metres, x°, y° from its origin at 105°E, 35°N."""
    waves = _common_waves(x) + 20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)
    waves += 150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)
    trend = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    return trend + waves * 2.0 / 3.0


def _offset_north_m(x: Array, y: Array) -> Array:
    """GCJ-02's northward offset in metres, x°, y° from its origin at 105°E, 35°N."""
    waves = _common_waves(x) + 20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)
    waves += 160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y / 30.0 * np.pi)
    trend = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    return trend + waves * 2.0 / 3.0


def _offset_deg(lons: Array, lats: Array) -> tuple[Array, Array]:
    """The GCJ-02 offset in degrees: metres over the Krasovsky radii of curvature at the point."""
    x, y = lons - 105.0, lats - 35.0
    phi = lats / 180.0 * np.pi
    w = 1.0 - KRASOVSKY_EE * np.sin(phi) ** 2
    prime_vertical = KRASOVSKY_A / np.sqrt(w)
    meridian = KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (w * np.sqrt(w))
    d_lon = _offset_east_m(x, y) * 180.0 / (prime_vertical * np.cos(phi) * np.pi)
    d_lat = _offset_north_m(x, y) * 180.0 / (meridian * np.pi)
    return d_lon, d_lat


def _shift(lons: Array, lats: Array, inside: NDArray[np.bool_]) -> tuple[Array, Array]:
    """Add the GCJ-02 offset to the points marked ``inside``; the rest pass unchanged."""
    d_lon, d_lat = _offset_deg(lons, lats)
    return lons + np.where(inside, d_lon, 0.0), lats + np.where(inside, d_lat, 0.0)


def _wgs84_to_gcj02(lons: Array, lats: Array) -> tuple[Array, Array]:
    """Vectorised wgs84_to_gcj02."""
    return _shift(lons, lats, _in_china(lons, lats))


def _gcj02_to_wgs84(lons: Array, lats: Array) -> tuple[Array, Array]:
    """Vectorised gcj02_to_wgs84.

    Whether a point is shifted is decided once, on the GCJ-02 point given (as the published
    algorithm does), so a point near the box's edge cannot flip in and out between steps.
    """
    inside = _in_china(lons, lats)
    return _invert(lambda lo, la: _shift(lo, la, inside), lons, lats)


def _twist(lons: Array, lats: Array, inside: NDArray[np.bool_]) -> tuple[Array, Array]:
    """Baidu's nudge of radius and angle, then a constant shift, on the points marked ``inside``."""
    radius = np.hypot(lons, lats) + 0.00002 * np.sin(lats * BD09_X_PI)
    angle = np.arctan2(lats, lons) + 0.000003 * np.cos(lons * BD09_X_PI)
    bd_lons, bd_lats = radius * np.cos(angle) + 0.0065, radius * np.sin(angle) + 0.006
    return np.where(inside, bd_lons, lons), np.where(inside, bd_lats, lats)


def _gcj02_to_bd09(lons: Array, lats: Array) -> tuple[Array, Array]:
    """Vectorised gcj02_to_bd09."""
    return _twist(lons, lats, _in_china(lons, lats))


def _bd09_to_gcj02(lons: Array, lats: Array) -> tuple[Array, Array]:
    """Vectorised bd09_to_gcj02; in or out of China is decided on the BD-09 point given."""
    inside = _in_china(lons, lats)
    return _invert(lambda lo, la: _twist(lo, la, inside), lons, lats)


def _wgs84_to_bd09(lons: Array, lats: Array) -> tuple[Array, Array]:
    """Vectorised wgs84_to_bd09."""
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lons, lats))


def _bd09_to_wgs84(lons: Array, lats: Array) -> tuple[Array, Array]:
    """Vectorised bd09_to_wgs84."""
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lons, lats))


def _invert(forward: Convert, target_lons: Array, target_lats: Array) -> tuple[Array, Array]:
    """Solve forward(p) = target by the fixed-point step p ← p − (forward(p) − target).

    It converges because both offsets change slowly with position: each step shrinks the error
    a hundredfold or more, so 4-6 steps reach the tolerance. The cap only guards against input
    the offsets were never meant for (near the poles, say).
    """
    lons, lats = target_lons.copy(), target_lats.copy()
    for _ in range(INVERSE_MAX_STEPS):
        got_lons, got_lats = forward(lons, lats)
        err_lons, err_lats = got_lons - target_lons, got_lats - target_lats
        lons, lats = lons - err_lons, lats - err_lats
        if np.all(np.maximum(np.abs(err_lons), np.abs(err_lats)) < INVERSE_TOLERANCE_DEG):
            break
    return lons, lats


def _same(lons: Array, lats: Array) -> tuple[Array, Array]:
    """WGS-84 to WGS-84: nothing to do."""
    return lons, lats


_TO_WGS84: dict[CoordSystem, Convert] = {
    CoordSystem.WGS84: _same,
    CoordSystem.GCJ02: _gcj02_to_wgs84,
    CoordSystem.BD09: _bd09_to_wgs84,
}
_FROM_WGS84: dict[CoordSystem, Convert] = {
    CoordSystem.WGS84: _same,
    CoordSystem.GCJ02: _wgs84_to_gcj02,
    CoordSystem.BD09: _wgs84_to_bd09,
}
