// Case page: the case's point on its village grid, every located check with its accuracy
// circle and its distance to the case, the photo lightbox, and the desk's on-site form.
import { gridMap, locationPicker } from "./desk-map.js";
import { initLightbox } from "./evidence-lightbox.js";

const element = document.getElementById("case-map");
const gridId = Number.parseInt(element.dataset.gridId, 10);
const lon = Number.parseFloat(element.dataset.lon);
const lat = Number.parseFloat(element.dataset.lat);
const located = Number.isFinite(lon) && Number.isFinite(lat);
const { map, ready } = gridMap(element, { highlightId: Number.isNaN(gridId) ? null : gridId, fit: !located });
// Not animated: Leaflet drops a fitBounds asked for while a zoom animation runs, and the
// checks are fitted as soon as the grids arrive, often within the animation's quarter second.
if (located) map.setView([lat, lon], 14, { animate: false });

const CHECK_COLOURS = { counts: "#0b6e4f", doubtful: "#b26a00" };
// A check drawn closer to the case than this on screen sits on the case's own dot: a line
// would not show and its distance label would cover both dots (the dot's tooltip says it).
const LINE_FROM_PX = 64;

// Each check: a dot, the circle its accuracy allows (none for a hand-picked point), and a
// dashed line to the case labelled with the distance the server measured, where it shows.
function drawChecks(points) {
  const shown = [];
  const lines = [];
  for (const point of points) {
    const colour = point.counts || point.kind !== "onsite_check" ? CHECK_COLOURS.counts : CHECK_COLOURS.doubtful;
    const at = [point.lat, point.lon];
    const distance = point.distance_m === null ? "" : `，距案件位置 ${Math.round(point.distance_m)} 米`;
    const accuracy = point.accuracy_m === null ? "，无定位精度（手选或未知）" : `，定位精度 ±${Math.round(point.accuracy_m)} 米`;
    if (point.accuracy_m !== null) {
      window.L.circle(at, {
        radius: point.accuracy_m, color: colour, weight: 1, fillOpacity: 0.08, className: "check-accuracy", interactive: false,
      }).addTo(map);
    }
    window.L.circleMarker(at, { radius: 6, color: colour, weight: 2, fillOpacity: 0.9, className: "check-point" })
      .bindTooltip(`${point.label}${distance}${accuracy}`).addTo(map);
    if (located && point.distance_m !== null) lines.push({ at, colour, distance: point.distance_m });
    shown.push(at);
  }
  if (shown.length && located) {
    map.fitBounds(window.L.latLngBounds([...shown, [lat, lon]]).pad(0.3), { maxZoom: 15, animate: false });
  }
  const onScreen = (at) => map.latLngToContainerPoint(at);
  for (const line of lines.filter(({ at }) => onScreen(at).distanceTo(onScreen([lat, lon])) >= LINE_FROM_PX)) {
    window.L.polyline([line.at, [lat, lon]], { color: line.colour, weight: 1.5, dashArray: "4 4", className: "check-line" })
      .bindTooltip(`${Math.round(line.distance)} 米`, { permanent: true, direction: "center", className: "distance-label" })
      .addTo(map);
  }
}

// Drawn once the grids are, so the village polygons lie under the points, not over them.
const drawPoints = () => {
  if (located) {
    window.L.circleMarker([lat, lon], { radius: 9, color: "#c62828", weight: 3, fillOpacity: 0.6, className: "case-point" })
      .bindTooltip("案件位置").addTo(map);
  }
  drawChecks(JSON.parse(element.dataset.checks || "[]"));
};
ready.then(drawPoints, drawPoints);
initLightbox(document.getElementById("lightbox"));

// The desk's on-site form: its map is drawn when the form is first opened (a map inside a
// closed <details> has no size), and the chosen time is sent as an absolute time.
const onsiteForm = document.getElementById("onsite-form");
if (onsiteForm) {
  const details = onsiteForm.closest("details");
  const start = () => {
    if (!details.open || onsiteForm.dataset.mapReady) return;
    onsiteForm.dataset.mapReady = "true";
    startOnsitePicker(onsiteForm);
  };
  details.addEventListener("toggle", start);
  start();
  onsiteForm.elements.namedItem("captured_at_local").addEventListener("change", (event) => {
    onsiteForm.elements.namedItem("captured_at").value = event.target.value ? new Date(event.target.value).toISOString() : "";
  });
}

function startOnsitePicker(form) {
  const mapElement = document.getElementById("onsite-map");
  const caseLon = Number.parseFloat(mapElement.dataset.caseLon);
  const caseLat = Number.parseFloat(mapElement.dataset.caseLat);
  const output = document.getElementById("onsite-distance");
  const { map: pickMap, typedPoint } = locationPicker(form, mapElement, {
    marker: (latLng) => window.L.marker(latLng),
    centre: true,
    onChange: () => showDistance(),
  });
  if (Number.isFinite(caseLon)) {
    window.L.circleMarker([caseLat, caseLon], { radius: 7, color: "#c62828", weight: 2 }).bindTooltip("案件位置").addTo(pickMap);
  }
  function showDistance() {
    const point = typedPoint();
    if (!point || !Number.isFinite(caseLon)) {
      output.textContent = "";
      return;
    }
    const metres = pickMap.distance([caseLat, caseLon], [point[1], point[0]]);
    output.textContent = `核查点距案件位置约 ${Math.round(metres)} 米`;
  }
  showDistance();
}
