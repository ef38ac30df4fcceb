// Intake form: pick the location on the grid map or type it (in any coordinate system),
// convert local time to an absolute time, and offer earlier cases as possible repeats.
import { toWgs84 } from "./coords.js";
import { gridMap } from "./desk-map.js";

const form = document.getElementById("intake-form");
const field = (name) => form.elements.namedItem(name);
const mapElement = document.getElementById("pick-map");
let marker = null;

function typedPoint() {
  const lon = Number.parseFloat(field("lon").value);
  const lat = Number.parseFloat(field("lat").value);
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  try {
    return toWgs84(lon, lat, field("coord_system").value);
  } catch {
    return null;
  }
}

function placeMarker(map, lonLat) {
  if (!lonLat) return;
  const latLng = [lonLat[1], lonLat[0]];
  if (marker) marker.setLatLng(latLng);
  else marker = window.L.marker(latLng).addTo(map);
}

const { map } = gridMap(mapElement);
placeMarker(map, typedPoint());
map.on("click", (event) => {
  field("coord_system").value = "wgs84";
  field("lon").value = event.latlng.lng.toFixed(6);
  field("lat").value = event.latlng.lat.toFixed(6);
  placeMarker(map, [event.latlng.lng, event.latlng.lat]);
  findRepeats();
});
for (const name of ["lon", "lat", "coord_system"]) {
  field(name).addEventListener("change", () => { placeMarker(map, typedPoint()); findRepeats(); });
}
for (const name of ["category", "petitioner_phone"]) field(name).addEventListener("change", findRepeats);

field("received_at_local").addEventListener("change", (event) => {
  field("received_at").value = event.target.value ? new Date(event.target.value).toISOString() : "";
});

async function findRepeats() {
  const box = document.getElementById("repeat-candidates");
  const point = typedPoint();
  if (!point || !field("category").value) return;
  const query = new URLSearchParams({ lon: point[0], lat: point[1], category: field("category").value });
  if (field("petitioner_phone").value) query.set("phone", field("petitioner_phone").value);
  const response = await fetch(`${box.dataset.url}?${query}`, { credentials: "same-origin" });
  if (!response.ok) return;
  const candidates = await response.json();
  box.replaceChildren(...renderCandidates(candidates));
}

function renderCandidates(candidates) {
  if (candidates.length === 0) {
    const none = document.createElement("p");
    none.className = "muted";
    none.textContent = "未发现疑似重复件。";
    return [none];
  }
  const title = document.createElement("p");
  title.textContent = `发现 ${candidates.length} 件疑似重复件，如属重复请选择原件：`;
  const items = candidates.map((c) => {
    const label = document.createElement("label");
    label.className = "check";
    const radio = Object.assign(document.createElement("input"), { type: "radio", name: "repeat_pick", value: c.id });
    radio.addEventListener("change", () => { field("repeat_of_id").value = c.id; });
    label.append(radio, ` ${c.number} ${c.title}（${c.reason}）`);
    return label;
  });
  const none = document.createElement("label");
  none.className = "check";
  const radio = Object.assign(document.createElement("input"), { type: "radio", name: "repeat_pick", value: "", checked: true });
  radio.addEventListener("change", () => { field("repeat_of_id").value = ""; });
  none.append(radio, " 不是重复件");
  return [title, ...items, none];
}
