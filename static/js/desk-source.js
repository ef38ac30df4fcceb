// Source register pages: on the form, pick the location on the grid map or type it (in any
// coordinate system); on the detail page, show the source on its village grid.
import { locationPicker, SOURCE_STYLE, sourceMap } from "./desk-map.js";

const detail = document.getElementById("source-map");
if (detail) sourceMap(detail);
const form = document.getElementById("source-form");
if (form) {
  locationPicker(form, document.getElementById("pick-map"), {
    marker: (latLng) => window.L.circleMarker(latLng, SOURCE_STYLE),
    centre: true,
  });
}
