// Case page: the case's point on its village grid.
import { gridMap } from "./desk-map.js";

const element = document.getElementById("case-map");
const gridId = Number.parseInt(element.dataset.gridId, 10);
const lon = Number.parseFloat(element.dataset.lon);
const lat = Number.parseFloat(element.dataset.lat);
const located = Number.isFinite(lon) && Number.isFinite(lat);
const { map } = gridMap(element, { highlightId: Number.isNaN(gridId) ? null : gridId, fit: !located });
if (located) {
  window.L.circleMarker([lat, lon], { radius: 9, color: "#c62828", weight: 3, fillOpacity: 0.6 }).addTo(map);
  map.setView([lat, lon], 14);
}
