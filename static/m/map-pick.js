// The last resort when GPS fails: tap the spot on a map of the inspector's own grid.
// Leaflet (about 40 KB gzip) is loaded only when this opens; the service worker caches it in
// the background after start-up, so the pick works offline too. No tiles: the grid polygon
// from the server is the map, as on the desk.

import { speakChinese } from "/static/js/leaflet-zh.js";

const OWN_GRID_STYLE = { color: "#0b6e4f", weight: 3, fillOpacity: 0.12 };
const PICK_STYLE = { radius: 10, color: "#c62828", weight: 3, fillOpacity: 0.5 };
const FIX_STYLE = { color: "#1565c0", weight: 2, fillOpacity: 0.1, interactive: false };
const CASE_STYLE = { radius: 7, color: "#8a5a00", weight: 3, fillOpacity: 0.6, interactive: false };

let leaflet = null;

function loadFile(tag, attrs) {
  return new Promise((resolve, reject) => {
    const element = Object.assign(document.createElement(tag), attrs);
    element.addEventListener("load", resolve);
    element.addEventListener("error", reject);
    document.head.append(element);
  });
}

/** Leaflet, loaded on first use. */
function loadLeaflet() {
  leaflet ||= Promise.all([
    loadFile("link", { rel: "stylesheet", href: "/vendor/leaflet/leaflet.css" }),
    loadFile("script", { src: "/vendor/leaflet/leaflet.js" }),
  ]).then(() => {
    speakChinese(window.L);
    return window.L;
  }, (error) => {
    leaflet = null;
    throw error;
  });
  return leaflet;
}

/**
 * Show the grid map in `panel` (which holds .pick-map, .pick-ok and .pick-cancel) and resolve
 * with the tapped {lon, lat}, or null when cancelled. The rough GPS fix (a circle as wide as
 * its accuracy) and the case's registered place (a dot) help to find the spot. Rejects when
 * Leaflet cannot be loaded.
 */
export async function pickOnMap(panel, { grid, fix, casePoint }) {
  const L = await loadLeaflet();
  panel.hidden = false;
  const element = panel.querySelector(".pick-map");
  const ok = panel.querySelector(".pick-ok");
  const map = L.map(element, { zoomSnap: 0.5, attributionControl: false });
  const gridLayer = L.geoJSON(grid, { style: OWN_GRID_STYLE });
  const bounds = gridLayer.getBounds();
  if (fix) bounds.extend(L.latLng(fix.lat, fix.lon));
  // The view comes first: Leaflet draws nothing on a map that has none.
  if (bounds.isValid()) map.fitBounds(bounds, { animate: false, padding: [12, 12] });
  else map.setView([32.39, 120.57], 12);
  gridLayer.addTo(map);
  if (fix) L.circle([fix.lat, fix.lon], { ...FIX_STYLE, radius: fix.accuracy_m || 0 }).addTo(map);
  if (casePoint) L.circleMarker([casePoint.lat, casePoint.lon], CASE_STYLE).addTo(map);
  element.dataset.ready = "true";
  let picked = null;
  let marker = null;
  ok.disabled = true;
  map.on("click", (event) => {
    picked = { lon: event.latlng.lng, lat: event.latlng.lat };
    if (marker) marker.setLatLng(event.latlng);
    else marker = L.circleMarker(event.latlng, PICK_STYLE).addTo(map);
    ok.disabled = false;
  });
  return new Promise((resolve) => {
    const listening = new AbortController();
    const finish = (value) => {
      listening.abort();
      map.remove();
      delete element.dataset.ready;
      panel.hidden = true;
      resolve(value);
    };
    ok.addEventListener("click", () => finish(picked), { signal: listening.signal });
    panel.querySelector(".pick-cancel").addEventListener("click", () => finish(null), { signal: listening.signal });
  });
}
