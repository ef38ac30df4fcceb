// WGS-84 ⇄ GCJ-02 ⇄ BD-09 in the browser, so the wall map can draw stored WGS-84 points on a
// Gaode/Tencent (GCJ-02) or Baidu (BD-09) base map without asking the server.
// Same algorithm, constants and tolerances as app/services/coords.py (see its docstring for
// why every inverse iterates); tests/test_coords_js.py checks the two agree.

const KRASOVSKY_A = 6378245.0;
const KRASOVSKY_EE = 0.00669342162296594323;
const BD09_X_PI = (Math.PI * 3000.0) / 180.0;
// The rough box the published algorithm tests; outside it GCJ-02 and BD-09 are WGS-84 unchanged.
const CHINA_LON = [72.004, 137.8347];
const CHINA_LAT = [0.8293, 55.8271];
// 1e-10 degree is about 0.01 mm on the ground.
const INVERSE_TOLERANCE_DEG = 1e-10;
const INVERSE_MAX_STEPS = 20;

/** Whether GCJ-02 and BD-09 move this point: the published rough box around China, edges included. */
export function inChina(lon, lat) {
  return CHINA_LON[0] <= lon && lon <= CHINA_LON[1] && CHINA_LAT[0] <= lat && lat <= CHINA_LAT[1];
}

/** The ripple terms that the east and north GCJ-02 offsets share. */
function commonWaves(x) {
  return 20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI);
}

/** GCJ-02's eastward offset in metres, x°, y° from its origin at 105°E, 35°N. */
function offsetEastM(x, y) {
  let waves = commonWaves(x) + 20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI);
  waves += 150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI);
  const trend = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  return trend + (waves * 2.0) / 3.0;
}

/** GCJ-02's northward offset in metres, x°, y° from its origin at 105°E, 35°N. */
function offsetNorthM(x, y) {
  let waves = commonWaves(x) + 20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI);
  waves += 160.0 * Math.sin((y / 12.0) * Math.PI) + 320.0 * Math.sin((y / 30.0) * Math.PI);
  const trend = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  return trend + (waves * 2.0) / 3.0;
}

/** The GCJ-02 offset in degrees: metres over the Krasovsky radii of curvature at the point. */
function offsetDeg(lon, lat) {
  const x = lon - 105.0;
  const y = lat - 35.0;
  const phi = (lat / 180.0) * Math.PI;
  const w = 1.0 - KRASOVSKY_EE * Math.sin(phi) ** 2;
  const primeVertical = KRASOVSKY_A / Math.sqrt(w);
  const meridian = (KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (w * Math.sqrt(w));
  const dLon = (offsetEastM(x, y) * 180.0) / (primeVertical * Math.cos(phi) * Math.PI);
  const dLat = (offsetNorthM(x, y) * 180.0) / (meridian * Math.PI);
  return [dLon, dLat];
}

/** Add the GCJ-02 offset when `inside`; otherwise the point passes unchanged. */
function shift(lon, lat, inside) {
  if (!inside) return [lon, lat];
  const [dLon, dLat] = offsetDeg(lon, lat);
  return [lon + dLon, lat + dLat];
}

/** Solve forward(p) = target by p ← p − (forward(p) − target); 4-6 steps reach the tolerance. */
function invert(forward, targetLon, targetLat) {
  let lon = targetLon;
  let lat = targetLat;
  for (let step = 0; step < INVERSE_MAX_STEPS; step += 1) {
    const [gotLon, gotLat] = forward(lon, lat);
    const errLon = gotLon - targetLon;
    const errLat = gotLat - targetLat;
    lon -= errLon;
    lat -= errLat;
    if (Math.max(Math.abs(errLon), Math.abs(errLat)) < INVERSE_TOLERANCE_DEG) break;
  }
  return [lon, lat];
}

/** A GPS (WGS-84) point as Gaode/Tencent (GCJ-02) show it; unchanged outside China. */
export function wgs84ToGcj02(lon, lat) {
  return shift(lon, lat, inChina(lon, lat));
}

/** A GCJ-02 point back in WGS-84 by iteration; in-China is decided on the point given. */
export function gcj02ToWgs84(lon, lat) {
  const inside = inChina(lon, lat);
  return invert((lo, la) => shift(lo, la, inside), lon, lat);
}

/** Baidu's nudge of radius and angle, then a constant shift, when `inside`. */
function twist(lon, lat, inside) {
  if (!inside) return [lon, lat];
  const radius = Math.hypot(lon, lat) + 0.00002 * Math.sin(lat * BD09_X_PI);
  const angle = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * BD09_X_PI);
  return [radius * Math.cos(angle) + 0.0065, radius * Math.sin(angle) + 0.006];
}

/** A GCJ-02 point as Baidu (BD-09) shows it; unchanged outside China, where Baidu uses WGS-84. */
export function gcj02ToBd09(lon, lat) {
  return twist(lon, lat, inChina(lon, lat));
}

/** A Baidu (BD-09) point in GCJ-02, by iteration: the published one-step is off by 0.2 m. */
export function bd09ToGcj02(lon, lat) {
  const inside = inChina(lon, lat);
  return invert((lo, la) => twist(lo, la, inside), lon, lat);
}

/** A GPS (WGS-84) point as Baidu shows it. */
export function wgs84ToBd09(lon, lat) {
  return gcj02ToBd09(...wgs84ToGcj02(lon, lat));
}

/** A Baidu (BD-09) point back in WGS-84, both steps inverted exactly. */
export function bd09ToWgs84(lon, lat) {
  return gcj02ToWgs84(...bd09ToGcj02(lon, lat));
}

const TO_WGS84 = { wgs84: (lon, lat) => [lon, lat], gcj02: gcj02ToWgs84, bd09: bd09ToWgs84 };
const FROM_WGS84 = { wgs84: (lon, lat) => [lon, lat], gcj02: wgs84ToGcj02, bd09: wgs84ToBd09 };

/** The conversion for `system` from `table`, after checking the point; throws RangeError in Chinese. */
function checkedConversion(table, lon, lat, system) {
  if (!Object.hasOwn(table, system)) {
    throw new RangeError(`未知的坐标系“${system}”，应为 wgs84、gcj02 或 bd09。`);
  }
  if (!(Math.abs(lon) <= 180.0) || !(Math.abs(lat) <= 90.0)) {
    throw new RangeError("坐标超出范围：经度必须在 -180 到 180 之间，纬度必须在 -90 到 90 之间。");
  }
  return table[system];
}

/** A point entered in `system` ("wgs84", "gcj02", "bd09"), as WGS-84 [lon, lat]. */
export function toWgs84(lon, lat, system) {
  return checkedConversion(TO_WGS84, lon, lat, system)(lon, lat);
}

/** A WGS-84 point as map app `system` shows it, [lon, lat]. */
export function fromWgs84(lon, lat, system) {
  return checkedConversion(FROM_WGS84, lon, lat, system)(lon, lat);
}
