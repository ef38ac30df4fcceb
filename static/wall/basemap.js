// The city's own base map (底图): roads, water and place names imported by the administrator
// (or generated for the demo city), drawn quietly under what the map is for: the wall's
// village shading and cases (dark theme), or the desk's grids and the point being placed
// (light theme). The server sends what lies in the view at this zoom, already simplified;
// an unchanged view comes back as a 304 through the browser's ETag.

import { getJson } from "../js/fetch-json.js";

const L = window.L;
const PANE = "basemap";

// Each theme: main roads by class, small roads, water lines and areas, place-name dots.
const THEMES = {
  // Muted on the dark wall: main roads a warm grey, small roads barely there, water blue.
  wall: {
    roads: {
      国道: { color: "#c9a46a", weight: 3.2 }, 高速: { color: "#c9a46a", weight: 3.6 },
      省道: { color: "#b7a27e", weight: 2.6 }, 县道: { color: "#8f9aa6", weight: 1.8 },
    },
    smallRoad: { color: "#6c7a89", weight: 1.1 },
    waterLine: { color: "#2b7bff", weight: 3.4 },
    waterArea: { color: "#2b7bff", weight: 1, fillColor: "#1f5fbf", fillOpacity: 0.8 },
    place: "#d9e3ee",
    scale: Math.min(2, Math.max(1, window.innerWidth / 1920)),  // 2× on a 3840-pixel wall
  },
  // On the desk's light maps: roads in greys like a paper map, water pale blue.
  desk: {
    roads: {
      国道: { color: "#b08a4a", weight: 3 }, 高速: { color: "#b08a4a", weight: 3.4 },
      省道: { color: "#9c8d74", weight: 2.4 }, 县道: { color: "#9aa3ad", weight: 1.6 },
    },
    smallRoad: { color: "#b9c0c8", weight: 1 },
    waterLine: { color: "#6aa6e8", weight: 3 },
    waterArea: { color: "#6aa6e8", weight: 1, fillColor: "#a9cdf2", fillOpacity: 0.7 },
    place: "#3d4a57",
    scale: 1,
  },
};

function styler(theme) {
  return (feature) => {
    const { layer, kind } = feature.properties;
    const base = layer === "road" ? theme.roads[kind] || theme.smallRoad
      : feature.geometry.type.endsWith("Polygon") ? theme.waterArea : theme.waterLine;
    return { ...base, weight: base.weight * theme.scale, opacity: 0.9, interactive: false, pane: PANE };
  };
}

/** The base-map layer for ``map``; ``load()`` fetches what the current view needs.
 *  ``themeName`` is "wall" (dark) or "desk" (light). */
export function createBaseMap(map, url, latLngOf, fromMap, stats, themeName = "wall") {
  const theme = THEMES[themeName];
  const SCALE = theme.scale;
  map.createPane(PANE).style.zIndex = 410;
  map.getPane(PANE).style.pointerEvents = "none";
  const layer = L.geoJSON(null, {
    pane: PANE,
    coordsToLatLng: (coords) => latLngOf(coords[0], coords[1]),
    style: styler(theme),
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
      pane: PANE, radius: 3 * SCALE, color: theme.place, weight: 1, fillColor: theme.place, fillOpacity: 1,
    }).bindTooltip(feature.properties.name, {
      permanent: true, direction: "right", className: `basemap-label basemap-label-${themeName}`,
      offset: [4 * SCALE, 0],
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
    let data;
    try {
      data = await getJson(`${url}?${params}`, { cache: "no-cache" });
    } catch (error) {
      return; // still busy after the retries: the next move asks again
    }
    if (mine !== serial) return;
    layer.clearLayers();
    layer.addData(data);
    stats.basemapFeatures = data.features.length;
  }

  map.on("overlayadd", (event) => { if (event.layer === layer) load(); });
  return { layer, load };
}
