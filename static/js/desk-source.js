// Source register pages: on the form, pick the location on the grid map or type it (in any
// coordinate system); on the detail page, show the source on its village grid.
import { gridMap, locationPicker } from "./desk-map.js";

const SOURCE_STYLE = { radius: 9, color: "#8a4b08", weight: 3, fillOpacity: 0.6 };

function showSource(element) {
  const gridId = Number.parseInt(element.dataset.gridId, 10);
  const lon = Number.parseFloat(element.dataset.lon);
  const lat = Number.parseFloat(element.dataset.lat);
  const { map } = gridMap(element, { highlightId: Number.isNaN(gridId) ? null : gridId, fit: false });
  window.L.circleMarker([lat, lon], SOURCE_STYLE).addTo(map);
  map.setView([lat, lon], 14);
}

const detail = document.getElementById("source-map");
if (detail) showSource(detail);
const form = document.getElementById("source-form");
if (form) {
  locationPicker(form, document.getElementById("pick-map"), {
    marker: (latLng) => window.L.circleMarker(latLng, SOURCE_STYLE),
    centre: true,
  });
}
