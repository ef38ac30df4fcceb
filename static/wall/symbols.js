// Case symbols drawn straight on Leaflet's canvas (preferCanvas): one canvas for every
// cluster and case, so tens of thousands of cases in view cost a few hundred canvas shapes
// and no DOM nodes. Shapes: circle = ordinary case, diamond = above-level petition (越级访),
// triangle = inspection referral (督察交办), square = leader-led case (领导包案).

// A deadline state's colour is wall.css's (--state-red, ...), read once per state.
const stateColours = new Map();
export function stateColour(state) {
  if (!stateColours.has(state)) {
    stateColours.set(state, getComputedStyle(document.documentElement).getPropertyValue(`--state-${state}`).trim());
  }
  return stateColours.get(state);
}
// Symbols and their type grow with the screen (2× on a 3840-pixel wall), like the wall's text.
export const SCALE = Math.min(2, Math.max(1, window.innerWidth / 1920));
const LABEL_FONT = `700 ${Math.round(15 * SCALE)}px 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif`;
// The order a cluster's ring chart goes round, clockwise from twelve o'clock: the most urgent
// first. "open" is the summary's open cases, not split by state (see clusters.cluster_states).
export const RING_ORDER = ["red", "yellow", "green", "open", "closed"];
// Cases and sources have a pane of their own above the base map's roads and water (wall.js makes it).
export const CASE_PANE = "cases";

function tracePath(ctx, shape, x, y, r) {
  ctx.beginPath();
  if (shape === "diamond") {
    ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y);
    ctx.closePath();
  } else if (shape === "triangle") {
    ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.2, y + r * 0.9); ctx.lineTo(x - r * 1.2, y + r * 0.9);
    ctx.closePath();
  } else if (shape === "square") {
    ctx.rect(x - r, y - r, r * 2, r * 2);
  } else {
    ctx.arc(x, y, r, 0, Math.PI * 2, false);
  }
}

/** A circle marker that draws its shape and an optional count label on the canvas renderer. */
export const CaseSymbol = window.L.CircleMarker.extend({
  options: { shape: "circle", label: "", pane: CASE_PANE },

  _updatePath() {
    const renderer = this._renderer;
    if (!renderer._drawing || this._empty()) return;
    const ctx = renderer._ctx;
    const { x, y } = this._point;
    if (this.options.segments) {
      drawRingChart(ctx, x, y, this._radius, this.options.segments, this.options.aboveLevel);
    } else {
      tracePath(ctx, this.options.shape, x, y, this._radius);
      renderer._fillStroke(ctx, this);
    }
    if (this.options.label) {
      ctx.font = LABEL_FONT;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillStyle = this.options.segments ? "#fff" : this.options.state === "yellow" ? "#111" : "#fff";
      ctx.fillText(this.options.label, x, y);
    }
  },
});

/** The shape for one case: the most serious flag wins. */
export function shapeOf(point) {
  if (point.above_level) return "diamond";
  if (point.inspection) return "triangle";
  if (point.leader) return "square";
  return "circle";
}

/** A short count label: 1234 → "1234", 12345 → "1.2万". */
export function countLabel(count) {
  return count >= 10000 ? `${(count / 10000).toFixed(1)}万` : String(count);
}

// A cluster's ring chart: a dark disc for the count, ringed by arcs as long as each deadline
// state's share; a cluster holding above-level petitions (越级访) carries a white diamond at its
// upper right, the same diamond as a single above-level case, so it cannot be taken for an
// early-warning ring (pink, dashed, pulsing).
function drawRingChart(ctx, x, y, radius, segments, aboveLevel) {
  const width = Math.max(4 * SCALE, radius * 0.34);
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, Math.PI * 2);
  ctx.fillStyle = "rgba(8, 14, 24, 0.92)";
  ctx.fill();
  const total = segments.reduce((sum, [, count]) => sum + count, 0) || 1;
  let angle = -Math.PI / 2;
  ctx.lineWidth = width;
  ctx.lineCap = "butt";
  for (const [colour, count] of segments) {
    if (!count) continue;
    const sweep = (count / total) * Math.PI * 2;
    ctx.beginPath();
    ctx.arc(x, y, radius - width / 2, angle, angle + sweep);
    ctx.strokeStyle = colour;
    ctx.stroke();
    angle += sweep;
  }
  if (aboveLevel) {
    const r = 5.5 * SCALE;
    const cx = x + radius * 0.78;
    const cy = y - radius * 0.78;
    ctx.beginPath();
    ctx.moveTo(cx, cy - r); ctx.lineTo(cx + r, cy); ctx.lineTo(cx, cy + r); ctx.lineTo(cx - r, cy);
    ctx.closePath();
    ctx.fillStyle = "#fff";
    ctx.fill();
    ctx.lineWidth = 1.5 * SCALE;
    ctx.strokeStyle = "#0b1320";
    ctx.stroke();
  }
}

/** The arcs of a cluster's ring chart, [colour, count] in RING_ORDER; unsplit open cases take the worst state's colour. */
export function clusterSegments(cluster) {
  const states = cluster.states || { [cluster.state]: cluster.count };
  return RING_ORDER.map((state) => [stateColour(state === "open" ? cluster.state : state), states[state] || 0]);
}

/** A cluster: a ring chart of its deadline states, its radius growing with the log of its count. */
export function clusterSymbol(latlng, cluster) {
  const radius = SCALE * Math.min(38, 13 + 8 * Math.log10(cluster.count + 1));
  return new CaseSymbol(latlng, {
    radius, shape: "circle", label: countLabel(cluster.count), state: cluster.state,
    segments: clusterSegments(cluster), aboveLevel: cluster.above_level > 0,
    fillColor: stateColour(cluster.state), fillOpacity: 0.88, color: "#0b1320", weight: 1.5,
  });
}

/** One case at high zoom, shaped by its flags and coloured by its deadline state. */
export function pointSymbol(latlng, point) {
  return new CaseSymbol(latlng, {
    radius: 7 * SCALE, shape: shapeOf(point), state: point.state,
    fillColor: stateColour(point.state), fillOpacity: 0.95, color: "#0b1320", weight: 1.5 * SCALE,
  });
}

// Watched sources (监管对象) are rings, not filled dots, so they never read as cases: the
// ring's colour is the days since the last patrol, a key source (重点) is a larger ring, and
// a source nobody has patrolled is a dashed red ring.
const LAYER_SCALE = SCALE;

export const PATROL_COLOURS = {
  fresh: "#34c759", due: "#ffd60a", late: "#ff9500", overdue: "#ff3b30", never: "#ff3b30",
};

/** One watched source, coloured by its patrol bucket; smaller at city zoom, where ~2,000 of them share the screen. */
export function sourceSymbol(latlng, source, zoom) {
  const size = LAYER_SCALE * (zoom <= 11 ? 0.6 : zoom <= 13 ? 0.8 : 1);
  return window.L.circleMarker(latlng, {
    radius: (source.key ? 9 : 5.5) * size, weight: (source.key ? 4 : 3) * size,
    color: PATROL_COLOURS[source.bucket], dashArray: source.bucket === "never" ? `${4 * size} ${3 * size}` : null,
    fillColor: "#0b1320", fillOpacity: 0.9, pane: CASE_PANE,
  });
}

// A long-unresolved case (久拖不解) is a wide violet ring drawn around its case point, so it
// marks the case without hiding its deadline colour.
export const LONG_UNRESOLVED_COLOUR = "#bf5af2";

/** One long-unresolved case: a ring around where the case is drawn. */
export function longUnresolvedSymbol(latlng) {
  return window.L.circleMarker(latlng, {
    radius: 12 * LAYER_SCALE, weight: 3.5 * LAYER_SCALE, color: LONG_UNRESOLVED_COLOUR, fill: true, fillOpacity: 0,
    pane: CASE_PANE,
  });
}

/** An early-warning alert: its radius on the ground, and a pulsing ring with its count at the centre. */
export function alertSymbols(latlng, alert) {
  const L = window.L;
  const area = L.circle(latlng, {
    radius: alert.radius_m, color: "#ff2d92", weight: 2.5 * LAYER_SCALE, dashArray: `${8 * LAYER_SCALE} ${6 * LAYER_SCALE}`,
    fillColor: "#ff2d92", fillOpacity: 0.08,
  });
  const marker = document.createElement("div");
  marker.className = "alert-marker";
  const ring = document.createElement("span");
  ring.className = "alert-ring";
  const label = document.createElement("span");
  label.className = "alert-label";
  label.textContent = `预警 ${alert.category_label} ${alert.count}件`;
  marker.append(ring, label);
  const size = 40 * LAYER_SCALE;
  const icon = L.divIcon({ className: "alert-icon", html: marker, iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
  return [area, L.marker(latlng, { icon, keyboard: false, title: `预警：${alert.category_label} ${alert.count}件` })];
}
