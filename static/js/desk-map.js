// Shared map set-up for desk pages: grid polygons from the database are the base map
// (command rooms and town offices are often on closed networks: no tile server needed).

const GRID_STYLE = { color: "#0b6e4f", weight: 1, fillOpacity: 0.04 };
const OWN_GRID_STYLE = { color: "#0b6e4f", weight: 3, fillOpacity: 0.12 };

// The map is returned at once, so callers can attach handlers before the grids arrive;
// `ready` resolves when the grid layer is drawn.
export function gridMap(element, { highlightId = null, fit = true } = {}) {
  const map = window.L.map(element, { zoomSnap: 0.5, attributionControl: false });
  map.setView([32.39, 120.57], 10);
  const ready = fetch(element.dataset.gridsUrl || element.dataset.gridUrl, { credentials: "same-origin" })
    .then((response) => response.json())
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
