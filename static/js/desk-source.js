// Source register pages: on the form, pick the location on the grid map or type it (in any
// coordinate system); on the detail page, show the source on its village grid.
import { toWgs84 } from "./coords.js";
import { gridMap } from "./desk-map.js";

const SOURCE_STYLE = { radius: 9, color: "#8a4b08", weight: 3, fillOpacity: 0.6 };

function showSource(element) {
  const gridId = Number.parseInt(element.dataset.gridId, 10);
  const lon = Number.parseFloat(element.dataset.lon);
  const lat = Number.parseFloat(element.dataset.lat);
  const { map } = gridMap(element, { highlightId: Number.isNaN(gridId) ? null : gridId, fit: false });
  window.L.circleMarker([lat, lon], SOURCE_STYLE).addTo(map);
  map.setView([lat, lon], 14);
}

function pickLocation(form, element) {
  const field = (name) => form.elements.namedItem(name);
  let marker = null;
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
  const place = (map, lonLat) => {
    if (!lonLat) return;
    const latLng = [lonLat[1], lonLat[0]];
    if (marker) marker.setLatLng(latLng);
    else marker = window.L.circleMarker(latLng, SOURCE_STYLE).addTo(map);
  };
  const start = typedPoint();
  const { map } = gridMap(element, { fit: !start });
  if (start) map.setView([start[1], start[0]], 14);
  place(map, start);
  map.on("click", (event) => {
    field("coord_system").value = "wgs84";
    field("lon").value = event.latlng.lng.toFixed(6);
    field("lat").value = event.latlng.lat.toFixed(6);
    place(map, [event.latlng.lng, event.latlng.lat]);
  });
  for (const name of ["lon", "lat", "coord_system"]) {
    field(name).addEventListener("change", () => place(map, typedPoint()));
  }
}

const detail = document.getElementById("source-map");
if (detail) showSource(detail);
const form = document.getElementById("source-form");
if (form) pickLocation(form, document.getElementById("pick-map"));
