// The city's own base map (底图) on the wall: roads, water and place names imported by the
// administrator (or generated for the demo city), drawn quietly between the village shading
// and the cases. The server sends what lies in the view at this zoom, already simplified;
// an unchanged view comes back as a 304 through the browser's ETag.

const L = window.L;
const PANE = "basemap";

// Muted on the dark wall: main roads a warm grey, small roads barely there, water blue.
const ROAD_STYLE = {
  国道: { color: "#c9a46a", weight: 3.2 }, 高速: { color: "#c9a46a", weight: 3.6 }, 省道: { color: "#b7a27e", weight: 2.6 },
  县道: { color: "#8f9aa6", weight: 1.8 },
};
const SMALL_ROAD = { color: "#6c7a89", weight: 1.1 };
const WATER_LINE = { color: "#2b7bff", weight: 3.4 };
const WATER_AREA = { color: "#2b7bff", weight: 1, fillColor: "#1f5fbf", fillOpacity: 0.8 };
// The layer grows with the screen, as the wall's type does (2× on a 3840-pixel wall).
const SCALE = Math.min(2, Math.max(1, window.innerWidth / 1920));

function styleOf(feature) {
  const { layer, kind } = feature.properties;
  const base = layer === "road" ? ROAD_STYLE[kind] || SMALL_ROAD
    : feature.geometry.type.endsWith("Polygon") ? WATER_AREA : WATER_LINE;
  return { ...base, weight: base.weight * SCALE, opacity: 0.9, interactive: false, pane: PANE };
}

/** The base-map layer for ``map``; ``load()`` fetches what the current view needs. */
export function createBaseMap(map, url, latLngOf, fromMap, stats) {
  map.createPane(PANE).style.zIndex = 410;
  map.getPane(PANE).style.pointerEvents = "none";
  const layer = L.geoJSON(null, {
    pane: PANE,
    coordsToLatLng: (coords) => latLngOf(coords[0], coords[1]),
    style: styleOf,
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
      pane: PANE, radius: 3 * SCALE, color: "#d9e3ee", weight: 1, fillColor: "#d9e3ee", fillOpacity: 1,
    }).bindTooltip(feature.properties.name, {
      permanent: true, direction: "right", className: "basemap-label", offset: [4 * SCALE, 0],
    }),
  }).addTo(map);
  let serial = 0;

  async function load() {
    if (!url || !map.hasLayer(layer)) return;
    const mine = ++serial;
    const bounds = map.getBounds();
    const [west, south] = fromMap(bounds.getWest(), bounds.getSouth());
    const [east, north] = fromMap(bounds.getEast(), bounds.getNorth());
    const params = new URLSearchParams({
      west: Math.max(-180, west).toFixed(3), south: Math.max(-90, south).toFixed(3),
      east: Math.min(180, east).toFixed(3), north: Math.min(90, north).toFixed(3),
      zoom: String(Math.round(map.getZoom())),
    });
    const response = await fetch(`${url}?${params}`, { credentials: "same-origin", cache: "no-cache" });
    if (!response.ok || mine !== serial) return;
    const data = await response.json();
    if (mine !== serial) return;
    layer.clearLayers();
    layer.addData(data);
    stats.basemapFeatures = data.features.length;
  }

  map.on("overlayadd", (event) => { if (event.layer === layer) load(); });
  return { layer, load };
}
