// Town and village names on the wall, placed so none overlaps another. Each grid gets one
// anchor inside its polygon, as far from its edges as a coarse search finds (a name at the
// bounding-box centre of a crescent-shaped village would sit in its neighbour). On every
// view change the names are laid out greedily on screen boxes: towns first, then villages
// from the largest on screen; a village name shows only where it fits inside its village
// and clears every name already placed; the base map's place names give way to both.
// Names sit in a pane above the cases, without catching clicks.

const L = window.L;
const PANE = "labels";
const GRID_STEPS = 16;

function ringContains(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function segmentDistance(x, y, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / length)) : 0;
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

function polygonsOf(geometry) {
  return geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
}

/** The point of a (multi)polygon farthest from its edges on a coarse grid, [lon, lat]: where its name goes. */
export function labelAnchor(geometry) {
  const polygons = polygonsOf(geometry);
  const outer = polygons.flatMap((rings) => rings[0]);
  const xs = outer.map((p) => p[0]);
  const ys = outer.map((p) => p[1]);
  const [west, east, south, north] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  let best = null;
  let bestDistance = -1;
  for (let i = 0; i < GRID_STEPS; i += 1) {
    for (let j = 0; j < GRID_STEPS; j += 1) {
      const x = west + ((i + 0.5) / GRID_STEPS) * (east - west);
      const y = south + ((j + 0.5) / GRID_STEPS) * (north - south);
      const polygon = polygons.find((rings) => ringContains(rings[0], x, y)
        && !rings.slice(1).some((hole) => ringContains(hole, x, y)));
      if (!polygon) continue;
      let distance = Infinity;
      for (const ring of polygon) {
        for (let k = 1; k < ring.length; k += 1) {
          distance = Math.min(distance, segmentDistance(x, y, ring[k - 1], ring[k]));
        }
      }
      if (distance > bestDistance) { bestDistance = distance; best = [x, y]; }
    }
  }
  return best || [(west + east) / 2, (south + north) / 2];
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/** The grid-name layer: ``update()`` lays the names out for the current view. */
export function createLabels(map, towns, villages, latLngOf, scale) {
  map.createPane(PANE).style.zIndex = 430;
  map.getPane(PANE).style.pointerEvents = "none";
  const layer = L.layerGroup().addTo(map);
  const measure = document.createElement("canvas").getContext("2d");
  const fontOf = (kind) => `${kind === "town" ? 700 : 600} ${Math.round((kind === "town" ? 22 : 15) * scale)}px `
    + "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";
  const entries = [
    ...towns.map((feature) => ({ feature, kind: "town" })),
    ...villages.map((feature) => ({ feature, kind: "village" })),
  ].map(({ feature, kind }) => {
    const [lon, lat] = labelAnchor(feature.geometry);
    measure.font = fontOf(kind);
    const name = feature.properties.name;
    return {
      kind, name, id: feature.properties.id, anchor: latLngOf(lon, lat),
      bounds: L.geoJSON(feature, { coordsToLatLng: (c) => latLngOf(c[0], c[1]) }).getBounds(),
      width: measure.measureText(name).width + 6 * scale, height: (kind === "town" ? 28 : 20) * scale,
    };
  });
  const placed = { town: 0, village: 0 };

  function update() {
    layer.clearLayers();
    placed.town = 0;
    placed.village = 0;
    const size = map.getSize();
    const taken = [];
    const onScreen = (box) => box.right > 0 && box.left < size.x && box.bottom > 0 && box.top < size.y;
    const boxOf = (entry) => {
      const p = map.latLngToContainerPoint(entry.anchor);
      return { left: p.x - entry.width / 2, right: p.x + entry.width / 2,
               top: p.y - entry.height / 2, bottom: p.y + entry.height / 2 };
    };
    const spanOf = (entry) => {
      const nw = map.latLngToContainerPoint(entry.bounds.getNorthWest());
      const se = map.latLngToContainerPoint(entry.bounds.getSouthEast());
      return { width: se.x - nw.x, height: se.y - nw.y };
    };
    const villagesBySize = entries.filter((e) => e.kind === "village")
      .map((entry) => ({ entry, span: spanOf(entry) }))
      .filter(({ entry, span }) => span.width >= entry.width && span.height >= entry.height * 1.5)
      .sort((a, b) => b.span.width * b.span.height - a.span.width * a.span.height)
      .map(({ entry }) => entry);
    for (const entry of [...entries.filter((e) => e.kind === "town"), ...villagesBySize]) {
      const box = boxOf(entry);
      if (!onScreen(box)) continue;
      // Towns always show (they never share a box at any zoom the wall uses); villages yield.
      if (entry.kind === "village" && taken.some((other) => overlaps(box, other))) continue;
      taken.push(box);
      placed[entry.kind] += 1;
      const text = document.createElement("span");
      text.textContent = entry.name;
      const icon = L.divIcon({
        className: `grid-label grid-label-${entry.kind}`, html: text,
        iconSize: [entry.width, entry.height], iconAnchor: [entry.width / 2, entry.height / 2],
      });
      layer.addLayer(L.marker(entry.anchor, { icon, pane: PANE, interactive: false, keyboard: false }));
    }
    hidePlaceNamesUnder(taken);
    map.getContainer().dataset.labels = JSON.stringify(placed);
  }

  // The base map's place names (factories, stations) yield to the grid names and to each other.
  function hidePlaceNamesUnder(taken) {
    const frame = map.getContainer().getBoundingClientRect();
    const kept = [...taken];
    for (const node of map.getContainer().querySelectorAll(".basemap-label")) {
      const r = node.getBoundingClientRect();
      const box = {
        left: r.left - frame.left, right: r.right - frame.left, top: r.top - frame.top, bottom: r.bottom - frame.top,
      };
      const clear = !kept.some((other) => overlaps(box, other));
      node.style.visibility = clear ? "" : "hidden";
      if (clear) kept.push(box);
    }
  }

  map.on("zoomend moveend resize", update);
  update();
  return { layer, update, placed };
}
