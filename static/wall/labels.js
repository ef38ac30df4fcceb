// Town and village names on the wall, placed so none overlaps another or runs into a case
// symbol. Each grid gets one anchor inside its polygon, as far from its edges as a coarse
// search finds (a name at the bounding-box centre of a crescent-shaped village would sit in
// its neighbour). On every view change, and whenever the cases are drawn again, the names
// are laid out greedily on screen boxes: towns first, then villages from the largest on
// screen. Each name tries its anchor and a few places around it and takes the first that
// clears the names already placed and touches the fewest case symbols (a name beside a
// cluster read as one string: 「7金沙镇」). A town always shows, in smaller type where a
// crowded centre on a small screen leaves its full size no clear place; a village name shows only
// where it fits inside its village and touches no name and no case symbol. The base map's
// place names give way to both. Names sit in a pane above the cases, without catching clicks.

const L = window.L;
const PANE = "labels";
const GRID_STEPS = 16;
// The smaller sizes a town name tries, in turn, before it may cover part of another name.
const TOWN_SHRINK = [0.8, 0.65];

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

/** A page element's box in the map container's pixels. */
export function boxInMap(map, node) {
  const frame = map.getContainer().getBoundingClientRect();
  const r = node.getBoundingClientRect();
  return { left: r.left - frame.left, right: r.right - frame.left, top: r.top - frame.top, bottom: r.bottom - frame.top };
}

/** True when two screen boxes ({left, right, top, bottom}) overlap. */
export const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const within = (a, b) => a.left >= b.left && a.right <= b.right && a.top >= b.top && a.bottom <= b.bottom;
const overlapArea = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
  * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
// Clear space kept between a name and a case symbol, in CSS pixels (times the wall's scale).
const SYMBOL_GAP = 2;

/** True when a screen box and a case symbol's circle ({x, y, r}) come closer than ``gap``. */
export function touches(box, circle, gap = SYMBOL_GAP) {
  const dx = circle.x - Math.max(box.left, Math.min(circle.x, box.right));
  const dy = circle.y - Math.max(box.top, Math.min(circle.y, box.bottom));
  return dx * dx + dy * dy < (circle.r + gap) ** 2;
}

/** The screen offsets a name tries, nearest its anchor first: a grid of half a name's height
 *  and half its width around it, one name out (a village) or two (a town, which must show). */
function offsetsFor(entry) {
  const reach = entry.kind === "town" ? 4 : 2;
  const [stepX, stepY] = [entry.width / 2, entry.height / 2];
  const offsets = [];
  for (let i = -reach; i <= reach; i += 1) {
    for (let j = -reach; j <= reach; j += 1) offsets.push([i * stepX, j * stepY]);
  }
  return offsets.sort((a, b) => Math.hypot(a[0] / stepX, a[1] / stepY) - Math.hypot(b[0] / stepX, b[1] / stepY));
}

/** The grid-name layer: ``update()`` lays the names out for the current view, around the
 *  case symbols ``caseCircles()`` returns ([{x, y, r, weight}] in container pixels; the
 *  weight says how much hiding one costs) and off the panels ``overlays()`` returns (boxes
 *  in container pixels). */
export function createLabels(map, towns, villages, latLngOf, scale, caseCircles = () => [], overlays = () => []) {
  map.createPane(PANE).style.zIndex = 430;
  map.getPane(PANE).style.pointerEvents = "none";
  const layer = L.layerGroup().addTo(map);
  const measure = document.createElement("canvas").getContext("2d");
  const fontPx = { town: 22 * scale, village: 15 * scale };
  const fontOf = (kind) => `${kind === "town" ? 700 : 600} ${Math.round(fontPx[kind])}px `
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
      polygons: polygonsOf(feature.geometry).map((rings) => rings.map((ring) => ring.map((c) => latLngOf(c[0], c[1])))),
      bounds: L.geoJSON(feature, { coordsToLatLng: (c) => latLngOf(c[0], c[1]) }).getBounds(),
      // The type's own width, the town names' letter spacing (wall.css: 0.08em) and a little padding.
      width: measure.measureText(name).width + (kind === "town" ? 0.08 * fontPx.town * [...name].length : 0)
        + 6 * scale,
      height: (kind === "town" ? 28 : 20) * scale,
      fontPx: fontPx[kind],
    };
  });
  const placed = { town: 0, village: 0 };

  function update() {
    layer.clearLayers();
    Object.keys(placed).forEach((key) => { placed[key] = 0; });
    const size = map.getSize();
    // The panels over the map (legend, layer switch, counts) hide what is under them: no name goes there.
    const covered = overlays();
    const taken = [...covered];
    const circles = caseCircles();
    const gap = SYMBOL_GAP * scale;
    // What a box hides: each symbol it touches, a count (a cluster's figure) weighing most.
    // (The text itself, not the name's box: its padding and line height may cross a ring.)
    const weightOf = (box, entry) => {
      const inset = { x: 3 * scale, y: (entry.height - entry.fontPx) / 2 };
      const text = { left: box.left + inset.x, right: box.right - inset.x, top: box.top + inset.y,
                     bottom: box.bottom - inset.y };
      return circles.reduce((sum, c) => sum + (touches(text, c, gap) ? c.weight : 0), 0);
    };
    const onScreen = (box) => box.right > 0 && box.left < size.x && box.bottom > 0 && box.top < size.y;
    const boxAt = (entry, [dx, dy]) => {
      const p = map.latLngToContainerPoint(entry.anchor);
      return { left: p.x + dx - entry.width / 2, right: p.x + dx + entry.width / 2,
               top: p.y + dy - entry.height / 2, bottom: p.y + dy + entry.height / 2 };
    };
    // Whether a box's centre and corners (or, ``loosely``, its centre) lie in the entry's polygons, on screen now.
    const insideOf = (entry, loosely = false) => {
      const polygons = entry.polygons.map((rings) => rings.map((ring) => ring.map((latLng) => {
        const p = map.latLngToContainerPoint(latLng);
        return [p.x, p.y];
      })));
      const contains = (x, y) => polygons.some((rings) => ringContains(rings[0], x, y)
        && !rings.slice(1).some((hole) => ringContains(hole, x, y)));
      const centre = (box) => [(box.left + box.right) / 2, (box.top + box.bottom) / 2];
      if (loosely) return (box) => contains(...centre(box));
      return (box) => [[box.left, box.top], [box.right, box.top], [box.left, box.bottom], [box.right, box.bottom],
        centre(box)].every(([x, y]) => contains(x, y));
    };
    const spanOf = (entry) => {
      const nw = map.latLngToContainerPoint(entry.bounds.getNorthWest());
      const se = map.latLngToContainerPoint(entry.bounds.getSouthEast());
      return { left: nw.x, top: nw.y, right: se.x, bottom: se.y, width: se.x - nw.x, height: se.y - nw.y };
    };
    const villagesBySize = entries.filter((e) => e.kind === "village")
      .map((entry) => ({ entry, span: spanOf(entry) }))
      .filter(({ entry, span }) => span.width >= entry.width && span.height >= entry.height * 1.5)
      .sort((a, b) => b.span.width * b.span.height - a.span.width * a.span.height);
    const candidates = [
      ...entries.filter((e) => e.kind === "town").map((entry) => ({ entry, span: null })), ...villagesBySize,
    ];
    // Each place a name may take (inside its own grid, clear of the names placed), with how
    // much of the case symbols it would hide. ``crowded`` (a town with no clear place even at
    // its smallest size: a district a few names wide on screen): the places centred in the
    // town and off the panels, weighed also by how much of the names placed they cover.
    const placesOf = (entry, span, crowded = false) => {
      const inside = insideOf(entry, crowded);
      const blocking = crowded ? covered : taken;
      return offsetsFor(entry).map((offset) => ({ offset, box: boxAt(entry, offset) }))
        .filter(({ box, offset }) => onScreen(box) && !blocking.some((other) => overlaps(box, other))
          && (span === null || within(box, span)) && (offset[0] === 0 && offset[1] === 0 || inside(box)))
        .map((place) => ({ ...place, touching: weightOf(place.box, entry)
          + (crowded ? taken.reduce((sum, other) => sum + overlapArea(place.box, other), 0) : 0) }));
    };
    for (const { entry: full, span } of candidates) {
      // A town must show: where its name finds no clear place, it tries smaller type, then
      // (at the smallest) the crowded places.
      let entry = full;
      let places = placesOf(entry, span);
      for (const factor of full.kind === "town" ? TOWN_SHRINK : []) {
        if (places.length) break;
        entry = { ...full, width: full.width * factor, height: full.height * factor, fontPx: full.fontPx * factor };
        places = placesOf(entry, span);
      }
      if (!places.length && entry.kind === "town") places = placesOf(entry, span, true);
      if (!places.length) continue;
      const best = places.reduce((a, b) => (b.touching < a.touching ? b : a));
      if (entry.kind === "village" && best.touching) continue;
      taken.push(best.box);
      placed[entry.kind] += 1;
      const text = document.createElement("span");
      text.textContent = entry.name;
      if (entry !== full) text.style.fontSize = `${Math.round(entry.fontPx)}px`;
      const icon = L.divIcon({
        className: `grid-label grid-label-${entry.kind}`, html: text,
        iconSize: [entry.width, entry.height],
        iconAnchor: [entry.width / 2 - best.offset[0], entry.height / 2 - best.offset[1]],
      });
      layer.addLayer(L.marker(entry.anchor, { icon, pane: PANE, interactive: false, keyboard: false }));
    }
    hidePlaceNamesUnder(taken, circles, gap);
    map.getContainer().dataset.labels = JSON.stringify(placed);
  }

  // The base map's place names (factories, stations) yield to the grid names, the case
  // symbols and each other.
  function hidePlaceNamesUnder(taken, circles, gap) {
    const kept = [...taken];
    for (const node of map.getContainer().querySelectorAll(".basemap-label")) {
      const box = boxInMap(map, node);
      const clear = !kept.some((other) => overlaps(box, other)) && !circles.some((c) => touches(box, c, gap));
      node.style.visibility = clear ? "" : "hidden";
      if (clear) kept.push(box);
    }
  }

  map.on("zoomend moveend resize", update);
  update();
  return { layer, update, placed };
}
