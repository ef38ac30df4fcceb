// Patrol page: the grid polygons from the database, then the patrol's track, the sources of
// its area and its check-ins (green inside the radius, red outside) from the page's GeoJSON.
import { gridMap } from "./desk-map.js";

const TRACK_STYLE = { color: "#1565c0", weight: 4, opacity: 0.85 };
const SOURCE_STYLE = { radius: 7, color: "#8a4b08", weight: 2, fillOpacity: 0.15 };
const CHECKED_SOURCE_STYLE = { ...SOURCE_STYLE, fillOpacity: 0.7 };
const INSIDE_STYLE = { radius: 6, color: "#1b8a3a", weight: 2, fillOpacity: 0.9 };
const OUTSIDE_STYLE = { radius: 8, color: "#c62828", weight: 3, fillOpacity: 0.9 };

function pointStyle(properties) {
  if (properties.layer === "checkin") return properties.outside_radius ? OUTSIDE_STYLE : INSIDE_STYLE;
  return properties.checked ? CHECKED_SOURCE_STYLE : SOURCE_STYLE;
}

function label(properties) {
  if (properties.layer === "source") return `${properties.name}${properties.is_key ? "（重点）" : ""}`;
  const where = properties.outside_radius ? "超出范围" : "范围内";
  const metres = properties.distance_m == null ? "无定位" : `${Math.round(properties.distance_m)} 米`;
  return `打卡：${properties.source_name} · ${where} · ${metres}`;
}

const element = document.getElementById("patrol-map");
if (element) {
  const gridId = Number.parseInt(element.dataset.gridId, 10);
  const { map, ready } = gridMap(element, { highlightId: Number.isNaN(gridId) ? null : gridId, fit: false });
  const layer = window.L.geoJSON(JSON.parse(element.dataset.geojson), {
    style: (feature) => (feature.geometry.type === "Point" ? pointStyle(feature.properties) : TRACK_STYLE),
    pointToLayer: (feature, latLng) => window.L.circleMarker(latLng, pointStyle(feature.properties)),
    onEachFeature: (feature, shape) => {
      if (feature.properties.layer !== "track") shape.bindTooltip(label(feature.properties));
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  ready.then((grids) => {
    const target = bounds.isValid() ? bounds : grids.getBounds();
    if (target.isValid()) map.fitBounds(target, { padding: [24, 24], maxZoom: 17, animate: false });
    element.dataset.drawn = String(layer.getLayers().length);
  });
}
