// Shared map set-up for desk pages: the city's own maps from the database, no tile server
// (command rooms and town offices are often on closed networks): the base map's roads, water
// and place names when the page names its URL, town boundaries, and the village grids.
import { toWgs84 } from "./coords.js";
import { createBaseMap } from "../wall/basemap.js";
import { getJson } from "./fetch-json.js";
import { speakChinese } from "./leaflet-zh.js";

const GRID_STYLE = { color: "#0b6e4f", weight: 1, fillOpacity: 0.04 };
const OWN_GRID_STYLE = { color: "#0b6e4f", weight: 3, fillOpacity: 0.12 };
const TOWN_STYLE = { color: "#5b3a8c", weight: 2.5, dashArray: "6 4", fill: false, interactive: false };

// Town boundaries over the village grids, so a point's town reads at a glance.
function addTowns(map, url) {
  if (!url) return;
  getJson(url).then((towns) => window.L.geoJSON(towns, { style: TOWN_STYLE }).addTo(map));
}

// The base map under the grids; fetched for each view after a move or zoom.
function addBaseMap(map, url) {
  if (!url) return;
  const wgs = (lon, lat) => [lat, lon];
  const baseMap = createBaseMap(map, url, wgs, (lng, lat) => [lng, lat], {}, "desk");
  map.getPane("basemap").style.zIndex = 350;  // under the grids' overlay pane
  map.on("moveend", () => baseMap.load());
  baseMap.load();
  return baseMap;
}

// The map is returned at once, so callers can attach handlers before the grids arrive;
// `ready` resolves when the grid layer is drawn.
export function gridMap(element, { highlightId = null, fit = true } = {}) {
  speakChinese(window.L);
  const map = window.L.map(element, { zoomSnap: 0.5, attributionControl: false });
  map.setView([32.39, 120.57], 10);
  addBaseMap(map, element.dataset.basemapUrl);
  addTowns(map, element.dataset.townsUrl);
  const ready = getJson(element.dataset.gridsUrl || element.dataset.gridUrl)
    .then((grids) => {
      const layer = window.L.geoJSON(grids, {
        style: (feature) => (feature.properties.id === highlightId ? OWN_GRID_STYLE : GRID_STYLE),
        onEachFeature: (feature, shape) => shape.bindTooltip(feature.properties.name, { sticky: true }),
      }).addTo(map);
      if (fit && layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { animate: false });
      element.dataset.ready = "true";
      return layer;
    });
  return { map, ready };
}

export const SOURCE_STYLE = { radius: 9, color: "#8a4b08", weight: 3, fillOpacity: 0.6 };

// A watched source (element's data-lon, data-lat, data-grid-id) on its village grid, zoomed in.
export function sourceMap(element) {
  const gridId = Number.parseInt(element.dataset.gridId, 10);
  const lon = Number.parseFloat(element.dataset.lon);
  const lat = Number.parseFloat(element.dataset.lat);
  const { map } = gridMap(element, { highlightId: Number.isNaN(gridId) ? null : gridId, fit: false });
  window.L.circleMarker([lat, lon], SOURCE_STYLE).addTo(map);
  map.setView([lat, lon], 14);
  return map;
}

// A form's location fields (lon, lat, coord_system) tied to a grid map: a click fills them in
// WGS-84, typing (in any coordinate system) moves the marker, and `onChange` hears both.
// `marker(latLng)` makes the marker; with `centre`, a typed point is zoomed to instead of the
// whole city. Returns the map and `typedPoint()`, the typed location in WGS-84 (or null).
export function locationPicker(form, element, { marker: makeMarker, centre = false, onChange = () => {} }) {
  const field = (name) => form.elements.namedItem(name);
  const typedPoint = () => {
    const lon = Number.parseFloat(field("lon").value);
    const lat = Number.parseFloat(field("lat").value);
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) return null;
    try {
      return toWgs84(lon, lat, field("coord_system").value);
    } catch {
      return null;
    }
  };
  let marker = null;
  const place = (map, lonLat) => {
    if (!lonLat) return;
    const latLng = [lonLat[1], lonLat[0]];
    if (marker) marker.setLatLng(latLng);
    else marker = makeMarker(latLng).addTo(map);
  };
  const start = typedPoint();
  const { map } = gridMap(element, { fit: !(centre && start) });
  if (centre && start) map.setView([start[1], start[0]], 14);
  place(map, start);
  map.on("click", (event) => {
    field("coord_system").value = "wgs84";
    field("lon").value = event.latlng.lng.toFixed(6);
    field("lat").value = event.latlng.lat.toFixed(6);
    place(map, [event.latlng.lng, event.latlng.lat]);
    onChange();
  });
  for (const name of ["lon", "lat", "coord_system"]) {
    field(name).addEventListener("change", () => { place(map, typedPoint()); onChange(); });
  }
  return { map, typedPoint };
}
