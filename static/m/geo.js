// Position: the phone's GPS fix with its accuracy, distances, whether a point is in the
// inspector's own grid, and links that open a map app's navigation to a case or a source.

import { wgs84ToGcj02 } from "/static/js/coords.js";

const NETWORK_ACCURACY_M = 100;
const FRESH_FIX_MS = 2 * 60 * 1000;

let latest = null;

/** A browser Position as the app's fix. */
function toFix(position) {
  const { longitude, latitude, accuracy, altitude } = position.coords;
  latest = {
    lon: longitude, lat: latitude, accuracy_m: accuracy ?? null, altitude_m: altitude ?? null,
    fix_at: new Date(position.timestamp).toISOString(),
    source: accuracy !== null && accuracy <= NETWORK_ACCURACY_M ? "gps" : "network",
  };
  return latest;
}

/** The last fix if it is at most two minutes old, else one asked for now (null after `timeoutMs`). */
export function quickFix(timeoutMs = 4000) {
  if (latest && Date.now() - Date.parse(latest.fix_at) <= FRESH_FIX_MS) return Promise.resolve(latest);
  if (!("geolocation" in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition((position) => resolve(toFix(position)), () => resolve(null),
      { enableHighAccuracy: true, maximumAge: FRESH_FIX_MS, timeout: timeoutMs });
  });
}

/** A fix taken now (no cached position), or null when none comes within `timeoutMs`. */
export function freshFix(timeoutMs = 20000) {
  if (!("geolocation" in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition((position) => resolve(toFix(position)), () => resolve(null),
      { enableHighAccuracy: true, maximumAge: 0, timeout: timeoutMs });
  });
}

/** The last fix this page saw, or null. */
export const lastFix = () => latest;

const EARTH_RADIUS_M = 6371008.8;
const radians = (degrees) => (degrees * Math.PI) / 180;

/** Metres between two WGS-84 points (haversine, as the server's services/spatial.py counts them). */
export function distanceM(lon1, lat1, lon2, lat2) {
  const dLat = radians(lat2 - lat1);
  const dLon = radians(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(radians(lat1)) * Math.cos(radians(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(a));
}

/**
 * Watch the position; `onFix` gets {lon, lat, accuracy_m, altitude_m, fix_at, source} on each
 * fix, `onError` a Chinese message. Returns a function that stops watching.
 *
 * Browsers do not say whether a fix came from satellites or from cell towers and Wi-Fi; a fix
 * worse than 100 m is called "network", which is what such a fix almost always is.
 */
export function watchFix(onFix, onError) {
  if (!("geolocation" in navigator)) {
    onError("此设备不支持定位，请在地图上选点。");
    return () => {};
  }
  const id = navigator.geolocation.watchPosition(
    (position) => onFix(toFix(position)),
    (error) => onError(error.code === error.PERMISSION_DENIED
      ? "未允许定位：请在浏览器设置中允许，或在地图上选点。"
      : "暂时无法定位，请到开阔处稍候，或在地图上选点。"),
    { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 },
  );
  return () => navigator.geolocation.clearWatch(id);
}

/** Ray casting over one ring of [lon, lat] pairs. */
function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether a point lies in a GeoJSON Polygon or MultiPolygon feature (holes respected). */
export function inFeature(lon, lat, feature) {
  const geometry = feature && feature.geometry;
  if (!geometry) return true;
  const polygons = geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
  return polygons.some(([outer, ...holes]) => inRing(lon, lat, outer) && !holes.some((hole) => inRing(lon, lat, hole)));
}

/**
 * Links that start navigation to a point stored in WGS-84.
 * `geo:` (RFC 5870) is WGS-84 by definition and lets Android offer every map app; Gaode
 * (AMap) draws in GCJ-02, so its link gets the converted point.
 */
export function navigationLinks(lon, lat, name) {
  const [gLon, gLat] = wgs84ToGcj02(lon, lat);
  const label = encodeURIComponent(name);
  return {
    geo: `geo:${lat.toFixed(6)},${lon.toFixed(6)}?q=${lat.toFixed(6)},${lon.toFixed(6)}(${label})`,
    amap: `https://uri.amap.com/navigation?to=${gLon.toFixed(6)},${gLat.toFixed(6)},${label}`
      + "&mode=car&coordinate=gaode&callnative=1&src=firstline",
  };
}
