// The map wall (挂图作战): grid polygons as the base map, villages shaded by a measure,
// cases clustered by the server for the viewport, watched sources coloured by days since
// their last patrol, early-warning alerts as pulsing rings, live updates over Server-Sent
// Events, and a kiosk tour of the towns. Stored coordinates are WGS-84; with a GCJ-02 base
// map every point and polygon is shifted before drawing and the viewport shifted back.

import { gcj02ToWgs84, wgs84ToGcj02 } from "../js/coords.js";
import { getJson as fetchJson } from "../js/fetch-json.js";
import { labelLayers, speakChinese } from "../js/leaflet-zh.js";
import { renderPanels } from "./panels.js";
import { createBaseMap } from "./basemap.js";
import { boxInMap, createLabels, overlaps, touches } from "./labels.js";
import {
  alertSymbols, CASE_PANE, clusterSymbol, longUnresolvedSymbol, PATROL_COLOURS, pointSymbol, SCALE, sourceSymbol,
} from "./symbols.js";

const L = window.L;
const element = document.getElementById("wall-map");
const urls = element.dataset;
const gcj = urls.tileSystem === "gcj02" && urls.tileUrl !== "";
const toMap = (lon, lat) => (gcj ? wgs84ToGcj02(lon, lat) : [lon, lat]);
const fromMap = (lon, lat) => (gcj ? gcj02ToWgs84(lon, lat) : [lon, lat]);
const latLngOf = (lon, lat) => { const [x, y] = toMap(lon, lat); return L.latLng(y, x); };

// The words for the deadline states and flags come with the page, from the server's vocabulary.
const LABELS = JSON.parse(urls.labels);
const STATE_TEXT = LABELS.deadline_states;
const EVENT_TEXT = { new_case: "新案件", state_change: "状态变化", turned_red: "转为超期", closed: "销号", alert: "预警" };
// Stats the browser benchmark and tests read: how long the last case layer took to draw.
const stats = { renders: 0, lastFetchMs: 0, lastDrawMs: 0, symbols: 0, sourceRenders: 0 };
window.wallStats = stats;

speakChinese(L);
const map = L.map(element, { preferCanvas: true, zoomSnap: 1, attributionControl: false, zoomControl: true });
map.setView([32.39, 120.57], 10);
window.wallMap = map;  // for the browser benchmark and tests, as wallStats
if (urls.tileUrl) L.tileLayer(urls.tileUrl, { maxZoom: 18, subdomains: urls.tileSubdomains }).addTo(map);
// Above the village shading: the city's own roads, water and place names, then the cases.
const baseMap = createBaseMap(map, urls.basemapUrl, latLngOf, fromMap, stats);
map.createPane(CASE_PANE).style.zIndex = 420;

const caseLayer = L.layerGroup().addTo(map);
const sourceLayer = L.layerGroup();
const alertLayer = L.layerGroup().addTo(map);
const longLayer = L.layerGroup().addTo(map);
let townLayer = null;
let villageLayer = null;
let cityBounds = null;
let gridLabels = null;
// The base map's place names arrive after a move; the grid names then lay them out again.
const loadBaseMap = () => baseMap.load().then(() => gridLabels?.update());
// The newest request of each kind wins: an older answer that arrives later (a slow period
// picked before a quick one) is dropped, or it would draw the old selection over the new.
const newestRequests = new Map();
function newestOf(kind) {
  const serial = (newestRequests.get(kind) || 0) + 1;
  newestRequests.set(kind, serial);
  return () => newestRequests.get(kind) === serial;
}

// The filters last applied: the form as it stood at its last change with a valid period.
// Everything the wall asks for and states reads these, so a reversed period changes nothing
// until it is put right (the map's count still names the period it counts).
let applied = { entries: [], labels: "" };

function applyFilters() {
  const form = document.getElementById("filters");
  applied = {
    entries: [...new FormData(form)].filter(([name, value]) => value && name !== "measure"),
    // The filters beside the period, as the selects name them (「噪声 · 来访」), or "" for none.
    labels: ["category", "channel", "state", "flag"]
      .map((name) => form.elements[name])
      .filter((select) => select.value)
      .map((select) => select.selectedOptions[0].textContent.trim())
      .join(" · "),
  };
}

function appliedValue(name) {
  return applied.entries.find(([key]) => key === name)?.[1] || "";
}

function filterParams() {
  const params = new URLSearchParams();
  for (const [name, value] of applied.entries) {
    if (name === "received_from") {
      params.set(name, `${value}T00:00:00+08:00`);
    } else if (name === "received_to") {
      // "至" a date includes that day, as on the campaign pages: up to the next day's 00:00 (Beijing).
      params.set(name, new Date(Date.parse(`${value}T00:00:00+08:00`) + 86_400_000).toISOString());
    } else {
      params.append(name, value);
    }
  }
  return params;
}

/** Whether the period's dates are in order; if not, the end date says so and the map and
 *  panels keep the last period asked for (the API would refuse it: 422). */
function periodInOrder() {
  const form = document.getElementById("filters");
  const from = form.elements.received_from;
  const to = form.elements.received_to;
  const inOrder = !from.value || !to.value || from.value <= to.value;
  to.setCustomValidity(inOrder ? "" : "结束日期早于开始日期");
  document.getElementById("period-error").hidden = inOrder;
  return inOrder;
}

// Which cases the map shows: every case, or those received in the period the filter sets.
// The panels state their own period; the map states its own, so neither is read as the other.
function mapPeriod() {
  const from = appliedValue("received_from");
  const to = appliedValue("received_to");
  if (from && to) return `受理 ${from} 至 ${to}`;
  if (from) return `${from} 起受理`;
  if (to) return `${to} 前受理`;
  return "全部受理时间";
}

// "no-cache" revalidates with the ETag: an unchanged viewport comes back as a 304.
const getJson = (url) => fetchJson(url, { cache: "no-cache" });

function otherFilters() {
  return applied.labels;
}

// What the map counts: its period and the other filters, stated wherever the map gives a figure.
function mapScope() {
  const others = otherFilters();
  return others ? `${mapPeriod()} · ${others}` : mapPeriod();
}

// The panels follow the period only: with another filter set, the header says so, beside
// the figures that would otherwise be read as the map's (受理量 600 beside 「图上 202 件」).
function notePanelScope() {
  const header = document.getElementById("period");
  header.querySelector(".period-scope")?.remove();
  if (!otherFilters()) return;
  const note = document.createElement("span");
  note.className = "period-scope";
  note.textContent = "（统计面板不随类型、渠道、状态、标记筛选）";
  header.append(note);
}

// --- Grids and village shading ---------------------------------------------------------

const coordsToLatLng = (coords) => latLngOf(coords[0], coords[1]);
const SHADES = ["#13233a", "#1d3b5f", "#2c5a85", "#b3702a", "#d9480f"];
let villageValues = new Map();

function shadeFor(value, max) {
  if (!value) return SHADES[0];
  return SHADES[Math.min(SHADES.length - 1, 1 + Math.floor((value / Math.max(1, max)) * (SHADES.length - 1)))];
}

const MEASURE_TEXT = { open: "未办结（件）", overdue: "超期（件）", score: "考核扣分（分，清零计满分）" };
// The panels' period as they state it (「09-20 至 12-31」): the scores' shading is for it.
let panelPeriod = "";

// The shading's legend: the measure's name and unit, what it counts, the colour ramp, and its
// range. Open and overdue follow the map's filters; the scores, the panels' period.
function renderScaleLegend(measure, max) {
  const scope = measure === "score" ? `统计期间 ${panelPeriod}` : mapScope();
  document.getElementById("legend-measure").textContent = `村（社区）着色：${MEASURE_TEXT[measure]} · ${scope}`;
  document.getElementById("legend-scale").style.background = `linear-gradient(90deg, ${SHADES.join(", ")})`;
  document.getElementById("legend-scale-high").textContent = Number(max.toFixed(1)).toLocaleString("zh-CN");
  element.dataset.shadeMax = String(max);
}

function styleVillages() {
  if (!villageLayer) return;
  const measure = document.getElementById("measure").value;
  const max = Math.max(0, ...[...villageValues.values()].map((v) => v[measure] || 0));
  renderScaleLegend(measure, max);
  villageLayer.setStyle((feature) => {
    const value = villageValues.get(feature.properties.id)?.[measure] || 0;
    return { color: "#3d5a80", weight: 0.6, fillOpacity: 0.55, fillColor: shadeFor(value, max) };
  });
}

async function loadGrids() {
  const grids = await getJson(urls.gridsUrl);
  const villages = grids.features.filter((f) => f.properties.level === 3);
  const towns = grids.features.filter((f) => f.properties.level === 2);
  villageLayer = L.geoJSON({ type: "FeatureCollection", features: villages }, {
    coordsToLatLng, interactive: false,
  }).addTo(map);
  townLayer = L.geoJSON({ type: "FeatureCollection", features: towns }, {
    coordsToLatLng, interactive: false,
    style: { color: "#7fd1ff", weight: 2.2, fill: false },
  }).addTo(map);
  const layers = L.control.layers(null, {
    "底图（道路、水系、地名）": baseMap.layer, "镇（街道）界": townLayer, "村（社区）着色": villageLayer, "案件": caseLayer,
    "监管对象（距上次巡查天数）": sourceLayer, "预警": alertLayer, "久拖不解": longLayer,
  }, { collapsed: false }).addTo(map);
  labelLayers(layers);
  cityBounds = townLayer.getBounds();
  if (cityBounds.isValid()) map.fitBounds(cityBounds, fitOptions({ animate: false }));
  gridLabels = createLabels(map, towns, villages, latLngOf, SCALE, caseCircles, overlayBoxes);
  element.dataset.gridsReady = "true";
}

function scorePeriodParams() {
  const params = new URLSearchParams();
  for (const [name, value] of filterParams()) if (name.startsWith("received_")) params.set(name, value);
  return params;
}

async function loadVillages() {
  // Open and overdue per village from the case aggregates; "score" is the points each
  // village lost in the assessment (services.scoring) for the same period as the panels.
  const current = newestOf("villages");
  const asked = filterParams();
  const [data, scores] = await Promise.all([
    getJson(`${urls.villagesUrl}?${asked}`), getJson(`${urls.villageScoresUrl}?${scorePeriodParams()}`),
  ]);
  if (!current()) return;
  stats.villagesFor = decodeURIComponent(asked.toString());
  villageValues = new Map(data.villages.map((v) => [v.grid_id, { open: v.open, overdue: v.overdue, score: 0 }]));
  for (const village of scores.villages) {
    const values = villageValues.get(village.grid_id) || { open: 0, overdue: 0 };
    villageValues.set(village.grid_id, { ...values, score: village.lost });
  }
  styleVillages();
}

// --- Cases in the viewport --------------------------------------------------------------

function viewportParams() {
  const bounds = map.getBounds();
  const [west, south] = fromMap(bounds.getWest(), bounds.getSouth());
  const [east, north] = fromMap(bounds.getEast(), bounds.getNorth());
  const params = filterParams();
  params.set("west", Math.max(-180, west).toFixed(5));
  params.set("south", Math.max(-90, south).toFixed(5));
  params.set("east", Math.min(180, east).toFixed(5));
  params.set("north", Math.min(90, north).toFixed(5));
  // Cells are sized for a 1920-pixel screen: a 3840-pixel wall asks one level coarser, so its
  // twice-as-large symbols keep the spacing they have on a 1920 screen instead of piling up.
  params.set("zoom", String(Math.max(0, Math.round(map.getZoom() - Math.log2(SCALE)))));
  return params;
}

// The legend's counts are the viewport answer's own sums, so they match the API by construction.
function legendCounts(data) {
  const counts = { red: 0, yellow: 0, green: 0, closed: 0, open: 0, above_level: 0, inspection: 0, leader: 0 };
  if (data.kind === "clusters") {
    for (const cluster of data.clusters) {
      for (const [state, count] of Object.entries(cluster.states)) counts[state] += count;
      for (const flag of ["above_level", "inspection", "leader"]) counts[flag] += cluster[flag];
    }
  } else {
    for (const point of data.points) {
      counts[point.state] = (counts[point.state] || 0) + 1;
      for (const flag of ["above_level", "inspection", "leader"]) if (point[flag]) counts[flag] += 1;
    }
  }
  return counts;
}

function renderLegendCounts(counts) {
  // Where the summary does not split open cases by state, some of each open state are inside
  // the 未细分 row: the legend gives what it knows as a lower bound rather than a total.
  const unsplit = counts.open > 0;
  for (const node of document.querySelectorAll("#legend [data-count]")) {
    const key = node.dataset.count;
    const count = `${(counts[key] || 0).toLocaleString("zh-CN")} 件`;
    if (unsplit && (key === "red" || key === "yellow" || key === "green")) {
      node.textContent = counts[key] ? `至少 ${count}` : "含于未细分";
    } else {
      node.textContent = count;
    }
  }
  document.getElementById("legend-open").hidden = !counts.open;
  element.dataset.legend = JSON.stringify(counts);
}

/** The boxes, in container pixels, of the panels drawn over the map and of the early-warning
 *  tags (「预警 大气 3件」): names keep off them. */
function overlayBoxes() {
  return [...document.querySelectorAll("#legend, #in-view, .leaflet-control-layers, .leaflet-control-zoom, "
    + ".alert-label")]
    .filter((node) => node.getClientRects().length)
    .map((node) => boxInMap(map, node));
}

/** Where the case symbols sit on screen, [{x, y, r, weight}] in container pixels: the names
 *  keep clear of them, of a cluster's count (weight 10) before a 久拖不解 ring (weight 1). */
const COUNT_WEIGHT = 10;  // hiding a cluster's figure (or a case) costs ten 久拖不解 rings
function caseCircles() {
  const circles = [];
  for (const [layer, weight] of [[caseLayer, COUNT_WEIGHT], [longLayer, 1]]) {
    if (!map.hasLayer(layer)) continue;
    layer.eachLayer((symbol) => {
      const p = map.latLngToContainerPoint(symbol.getLatLng());
      circles.push({ x: p.x, y: p.y, r: symbol.getRadius() + (symbol.options.weight || 0) / 2, weight });
    });
  }
  return circles;
}

// An alert's tag goes where it covers no other tag, the fewest clusters' figures, then the
// fewest 久拖不解 rings: beside its ring if it can, else a little further out, nearest
// first. The grid names then keep off it.
function tagOffsets(ring, width, height) {
  const gap = 4 * SCALE;
  const [beside, above] = [ring / 2 + gap + width / 2, ring / 2 + gap + height / 2];
  const offsets = [[beside, 0], [-beside, 0], [0, above], [0, -above], [beside, above], [beside, -above],
    [-beside, above], [-beside, -above], [0, 2 * above], [0, -2 * above], [beside, 2 * above],
    [beside, -2 * above], [-beside, 2 * above], [-beside, -2 * above]];  // never so far it leaves its ring
  return offsets.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
}

function placeAlertTags() {
  if (!map.hasLayer(alertLayer)) return;
  const circles = caseCircles();
  const placed = [];
  alertLayer.eachLayer((marker) => {
    const label = marker.getElement?.()?.querySelector(".alert-label");
    if (!label) return;
    const centre = map.latLngToContainerPoint(marker.getLatLng());
    const [width, height] = [label.offsetWidth, label.offsetHeight];
    let best = null;
    for (const [dx, dy] of tagOffsets(label.parentElement.offsetWidth, width, height)) {
      const box = { left: centre.x + dx - width / 2, right: centre.x + dx + width / 2,
        top: centre.y + dy - height / 2, bottom: centre.y + dy + height / 2 };
      // Another tag first, then a cluster's figure, then a 久拖不解 ring: each outweighs any number of the next.
      const hidden = circles.filter((circle) => touches(box, circle));
      const counts = hidden.filter((circle) => circle.weight === COUNT_WEIGHT).length;
      const cost = 1e6 * placed.filter((other) => overlaps(box, other)).length + 1e3 * counts
        + hidden.length - counts;
      if (!best || cost < best.cost) best = { dx, dy, box, cost };
      if (cost === 0) break;
    }
    Object.assign(label.style, { left: `calc(50% + ${best.dx}px)`, top: `calc(50% + ${best.dy}px)`,
      transform: "translate(-50%, -50%)" });
    placed.push(best.box);
  });
}

function drawCases(data) {
  const started = performance.now();
  const symbols = [];
  if (data.kind === "clusters") {
    for (const cluster of data.clusters) {
      const symbol = clusterSymbol(latLngOf(cluster.lon, cluster.lat), cluster);
      symbol.on("click", () => (cluster.case_id ? openCard(cluster.case_id) : map.setView(symbol.getLatLng(), map.getZoom() + 2)));
      symbols.push(symbol);
    }
  } else {
    for (const point of data.points) {
      const symbol = pointSymbol(latLngOf(point.lon, point.lat), point);
      symbol.on("click", () => openCard(point.id));
      symbols.push(symbol);
    }
  }
  caseLayer.clearLayers();
  symbols.forEach((symbol) => caseLayer.addLayer(symbol));
  longLayer.eachLayer((ring) => ring.bringToBack());  // the 久拖不解 rings never cover a count
  placeAlertTags();
  gridLabels?.update();
  const total = data.kind === "clusters" ? data.total : data.points.length;
  const scope = mapScope();
  document.getElementById("in-view").textContent = `图上 ${total.toLocaleString("zh-CN")} 件（${scope}）`;
  document.getElementById("legend-period").textContent = scope;
  // Open cases split by the worker's snapshot of the minute: the legend says which minute.
  // Split by the worker's snapshot (its minute), counted just now, or partly unsplit (the 未细分 row says).
  const counts = legendCounts(data);
  document.getElementById("legend-as-of").textContent = data.states_as_of
    ? ` · 状态截至 ${beijingTime(data.states_as_of, { hour: "2-digit", minute: "2-digit" })}`
    : (counts.open ? "" : " · 状态为当前");
  renderLegendCounts(counts);
  stats.lastDrawMs = performance.now() - started;
  stats.symbols = symbols.length;
  stats.renders += 1;
  element.dataset.inView = String(total);
  element.dataset.renders = String(stats.renders);
}

async function loadCases() {
  const current = newestOf("cases");
  const started = performance.now();
  const count = document.getElementById("in-view");
  // A period or deadline-state filter over a whole city is counted live and can take a few
  // seconds: say so rather than leave the old figure standing.
  const slow = setTimeout(() => { if (current()) count.textContent = "正在统计…"; }, 400);
  try {
    const data = await getJson(`${urls.viewportUrl}?${viewportParams()}`);
    if (!current()) return;  // a newer view was asked for meanwhile
    stats.lastFetchMs = performance.now() - started;
    drawCases(data);
  } catch {
    if (!current()) return;
    count.textContent = "案件加载失败，稍后自动重试";
    setTimeout(() => { if (current()) loadCases(); }, 15_000);
  } finally {
    clearTimeout(slow);
  }
}

async function loadPanels() {
  const current = newestOf("panels");
  try {
    const data = await getJson(`${urls.panelsUrl}?${scorePeriodParams()}`);
    if (!current()) return;  // a newer period was picked meanwhile
    renderPanels(data);
    notePanelScope();
    panelPeriod = data.period.short_label;
    styleVillages();
    element.dataset.panelsReady = "true";
  } catch {
    if (!current()) return;
    // The map stays useful when a statistic fails; the header says so.
    document.getElementById("phase").textContent = "统计数据暂不可用，稍后自动重试";
    setTimeout(() => { if (current()) loadPanels(); }, 30_000);
  }
}

// --- Case card -------------------------------------------------------------------------

function cardRow(label, value) {
  const row = document.createElement("div");
  const term = document.createElement("dt");
  const detail = document.createElement("dd");
  term.textContent = label;
  detail.textContent = value;
  row.append(term, detail);
  return row;
}

function showCard(heading, body, tone) {
  const card = document.getElementById("card");
  const title = document.createElement("h3");
  title.textContent = heading;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "关闭";
  close.addEventListener("click", () => { card.hidden = true; });
  card.className = `wall-card ${tone}`;
  card.replaceChildren(title, body, close);
  card.hidden = false;
}

function definitionList(rows) {
  const list = document.createElement("dl");
  list.append(...rows.map(([label, value]) => cardRow(label, value)));
  return list;
}

// A moment in Beijing time; ``options`` pick the parts (default: date and time).
const beijingTime = (iso, options = {}) =>
  new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false, ...options });

async function openCard(caseId) {
  const data = await getJson(urls.caseUrl.replace(/0$/, String(caseId)));
  const flags = ["above_level", "inspection", "leader"].filter((flag) => data[flag]).map((flag) => LABELS.flags[flag]);
  const due = data.due_at ? beijingTime(data.due_at) : "—";
  showCard(data.number, definitionList([["类型", data.category], ["镇（街道）", data.town],
    ["状态", STATE_TEXT[data.state]], ["办理时限", due], ["责任单位", data.department],
    ["标记", flags.join("、") || "—"]]), `state-${data.state}`);
}

// --- Watched sources by days since their last patrol ------------------------------------

let sourceBuckets = [];

function daysText(days) {
  return days === null ? "从未巡查" : `${days} 天`;
}

async function openSourceCard(sourceId) {
  const data = await getJson(urls.sourceUrl.replace(/0$/, String(sourceId)));
  showCard(data.name, definitionList([["类型", data.kind_label], ["重点", data.key ? "重点监管对象" : "否"],
    ["上次巡查", data.last_patrol_at ? beijingTime(data.last_patrol_at) : "从未巡查"],
    ["距今", daysText(data.days)], ["网格", data.grid], ["镇（街道）", data.town],
    ["责任单位", data.department]]), `patrol-${data.bucket}`);
}

function renderSourceLegend(buckets) {
  const legend = document.getElementById("legend-sources");
  const items = buckets.map((bucket) => {
    const item = document.createElement("li");
    const ring = document.createElement("i");
    ring.className = `ring ring-${bucket.code}`;
    item.append(ring, bucket.label);
    return item;
  });
  const key = document.createElement("li");
  const big = document.createElement("i");
  big.className = "ring ring-key";
  key.append(big, "重点");
  const title = document.createElement("li");
  title.className = "legend-title";
  title.textContent = "距上次巡查";
  legend.replaceChildren(title, ...items, key);
}

function drawSources(data) {
  const symbols = data.sources.map((source) => {
    const symbol = sourceSymbol(latLngOf(source.lon, source.lat), source, map.getZoom());
    symbol.on("click", () => openSourceCard(source.id));
    return symbol;
  });
  sourceLayer.clearLayers();
  symbols.forEach((symbol) => sourceLayer.addLayer(symbol));
  if (JSON.stringify(sourceBuckets) !== JSON.stringify(data.buckets)) {
    sourceBuckets = data.buckets;
    renderSourceLegend(sourceBuckets);
  }
  // Beyond the server's limit the layer says it shows only part of the view.
  document.querySelector("#legend-sources .legend-title").textContent = data.truncated
    ? `距上次巡查（仅显示 ${data.sources.length} 个，请放大）` : "距上次巡查";
  const counts = Object.fromEntries(Object.keys(PATROL_COLOURS).map((code) => [code, 0]));
  data.sources.forEach((source) => { counts[source.bucket] += 1; });
  stats.sourceRenders += 1;
  element.dataset.sources = String(data.sources.length);
  element.dataset.sourceBuckets = JSON.stringify(counts);
}

let sourceSerial = 0;
async function loadSources() {
  if (!map.hasLayer(sourceLayer)) return;
  const serial = ++sourceSerial;
  const bounds = map.getBounds().pad(0.2);
  const [west, south] = fromMap(bounds.getWest(), bounds.getSouth());
  const [east, north] = fromMap(bounds.getEast(), bounds.getNorth());
  const params = new URLSearchParams({
    west: Math.max(-180, west).toFixed(5), south: Math.max(-90, south).toFixed(5),
    east: Math.min(180, east).toFixed(5), north: Math.min(90, north).toFixed(5),
  });
  const data = await getJson(`${urls.sourcesUrl}?${params}`);
  if (serial === sourceSerial) drawSources(data);
}

// --- Long-unresolved cases (久拖不解) ------------------------------------------------------

function openLongCard(item) {
  const link = document.createElement("a");
  link.href = urls.longUnresolvedPage;
  link.textContent = "查看久拖不解名单";
  const body = definitionList([["镇（街道）", item.town], ["已历时", `${item.days_open} 天`],
    ["超过办理期限", item.days_overdue ? `${item.days_overdue} 天` : "—"], ["列入原因", item.reasons.join("；")]]);
  body.append(link);
  showCard(`久拖不解：${item.number}`, body, "long-card");
}

let longSerial = 0;
async function loadLong() {
  if (!map.hasLayer(longLayer)) return;
  const serial = ++longSerial;
  const bounds = map.getBounds().pad(0.2);
  const [west, south] = fromMap(bounds.getWest(), bounds.getSouth());
  const [east, north] = fromMap(bounds.getEast(), bounds.getNorth());
  const params = new URLSearchParams({
    west: Math.max(-180, west).toFixed(5), south: Math.max(-90, south).toFixed(5),
    east: Math.min(180, east).toFixed(5), north: Math.min(90, north).toFixed(5),
  });
  const data = await getJson(`${urls.longUnresolvedUrl}?${params}`);
  if (serial !== longSerial) return;
  longLayer.clearLayers();
  for (const item of data.cases) {
    const symbol = longUnresolvedSymbol(latLngOf(item.lon, item.lat));
    symbol.on("click", () => openLongCard(item));
    longLayer.addLayer(symbol);
    symbol.bringToBack();  // under the clusters: a ring must not cover a cluster's count
  }
  gridLabels?.update();
  document.getElementById("legend-long").textContent = data.truncated
    ? `久拖不解（仅显示 ${data.cases.length} 件，请放大）` : `久拖不解 ${data.cases.length} 件（本视图，不随筛选）`;
  element.dataset.longUnresolved = String(data.cases.length);
}

// --- Early-warning alerts ---------------------------------------------------------------

async function openAlertCard(alertId) {
  const data = await getJson(urls.alertUrl.replace(/0$/, String(alertId)));
  const alert = data.alert;
  const list = document.createElement("ol");
  list.className = "card-cases";
  const shown = data.cases.slice(0, 10);
  for (const item of shown) {
    const row = document.createElement("li");
    row.className = `state-${item.state}`;
    row.textContent = `${item.number} ${item.category_label} ${item.status_label}（${STATE_TEXT[item.state]}）${item.town}`;
    list.append(row);
  }
  if (data.cases.length > shown.length) {
    const more = document.createElement("li");
    more.textContent = `另有 ${data.cases.length - shown.length} 件`;
    list.append(more);
  }
  const summary = definitionList([["类型", alert.category_label], ["案件数", `${alert.count} 件`],
    ["范围", `半径 ${Math.round(alert.radius_m)} 米`], ["发出时间", beijingTime(alert.raised_at)]]);
  const body = document.createElement("div");
  body.append(summary, list);
  showCard(`预警：${alert.category_label}类投诉集中`, body, "alert-card");
}

async function loadAlerts() {
  const data = await getJson(urls.alertsUrl);
  alertLayer.clearLayers();
  for (const alert of data.alerts) {
    for (const symbol of alertSymbols(latLngOf(alert.lon, alert.lat), alert)) {
      symbol.on("click", () => openAlertCard(alert.id));
      alertLayer.addLayer(symbol);
    }
  }
  document.getElementById("legend-alerts").textContent = `预警 ${data.alerts.length} 起（全市，不随筛选）`;
  element.dataset.alerts = String(data.alerts.length);
  placeAlertTags();
  gridLabels?.update();  // names keep off the tags
}

// --- Refresh, live feed, kiosk -----------------------------------------------------------

// The cases on the map follow every event; the city-wide statistics (panels, village
// shading) are aggregates over every case, seconds of work at a million cases, so a busy
// stream refreshes them at most every STATS_EVERY_MS (the last event is always shown).
const STATS_EVERY_MS = 30_000;
let refreshTimer = null;
let cellsTimer = null;
let statsTimer = null;
let statsAt = Date.now();
function refreshStats() {
  if (statsTimer) return;
  statsTimer = setTimeout(() => {
    statsTimer = null;
    statsAt = Date.now();
    loadVillages();
    loadPanels();
  }, Math.max(0, statsAt + STATS_EVERY_MS - Date.now()));
}
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadCases(); loadSources(); loadLong(); loadAlerts(); refreshStats(); }, 800);
}

// The feed keeps as many of the newest items as its panel holds: it never scrolls or clips.
function fitFeed() {
  const feed = document.getElementById("feed");
  while (feed.children.length > 1 && feed.scrollHeight > feed.clientHeight) feed.lastElementChild.remove();
}

function feedText(event) {
  if (event.type === "alert") return `${EVENT_TEXT.alert} ${event.category_label}类投诉 ${event.count} 件集中`;
  // A step names itself (签收, 答复…); "状态变化" only where an older server sends no name.
  const what = event.type === "state_change" && event.kind_label ? event.kind_label : EVENT_TEXT[event.type];
  return `${what} ${event.number} ${event.town || ""}`;
}

function addFeedItem(event) {
  const feed = document.getElementById("feed");
  const item = document.createElement("li");
  item.className = `feed-${event.type}`;
  // A replayed event shows when it happened, not when the wall came back.
  const time = new Date(event.at || Date.now()).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  item.textContent = `${time} ${feedText(event)}`;
  feed.prepend(item);
  fitFeed();
}

function connectLive() {
  const live = document.getElementById("live");
  const source = new EventSource(urls.eventsUrl, { withCredentials: true });
  let opened = false;
  source.addEventListener("open", () => {
    live.textContent = "实时：已连接";
    live.dataset.state = "open";
    // After a reconnect the server replays what the feed missed; the map and panels reload.
    if (opened) refreshSoon();
    opened = true;
  });
  source.addEventListener("error", () => { live.textContent = "实时：重新连接中"; live.dataset.state = "retrying"; });
  for (const type of Object.keys(EVENT_TEXT)) {
    source.addEventListener(type, (message) => {
      addFeedItem(JSON.parse(message.data));
      refreshSoon();
    });
  }
  // The map's summary caught up with changes whose events came a moment before it did.
  source.addEventListener("cells", () => {
    clearTimeout(cellsTimer);
    cellsTimer = setTimeout(loadCases, 300);
  });
}

let kioskTimer = null;
function startKiosk() {
  const towns = townLayer ? townLayer.getLayers() : [];
  const stops = [...towns.map((layer) => layer.getBounds()), cityBounds];
  let index = 0;
  const button = document.getElementById("kiosk");
  button.setAttribute("aria-pressed", "true");
  button.textContent = "停止轮播";
  const next = () => {
    map.fitBounds(stops[index], fitOptions({ animate: true }));
    index = (index + 1) % stops.length;
  };
  next();
  kioskTimer = setInterval(next, Number(urls.kioskSeconds) * 1000);
}

function stopKiosk() {
  clearInterval(kioskTimer);
  kioskTimer = null;
  const button = document.getElementById("kiosk");
  button.setAttribute("aria-pressed", "false");
  button.textContent = "轮播各镇";
  if (cityBounds) map.fitBounds(cityBounds, fitOptions());
}

// Fitting the city or a town keeps it clear of the legend, which stands over the map's lower
// left: the map is padded on the left by the legend's width (in pixels, so on a 4K wall too).
function fitOptions(options = {}) {
  const legend = document.querySelector(".wall-legend-main");
  const left = legend && !legend.hidden ? legend.offsetLeft + legend.offsetWidth : 0;
  const margin = Math.round(16 * SCALE);
  return { ...options, paddingTopLeft: [left + margin, margin], paddingBottomRight: [margin, margin] };
}

function tickClock() {
  document.getElementById("clock").textContent = new Date().toLocaleString("zh-CN", {
    timeZone: "Asia/Shanghai", hour12: false, month: "long", day: "numeric", weekday: "short",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

async function start() {
  tickClock();
  setInterval(tickClock, 1000);
  await loadGrids();
  map.on("moveend", () => { loadCases(); loadSources(); loadLong(); loadBaseMap(); });
  map.on("overlayadd overlayremove", (event) => {
    if (event.layer === longLayer && event.type === "overlayadd") loadLong();
    if ([caseLayer, longLayer, alertLayer].includes(event.layer)) {  // tags and names move with the symbols
      placeAlertTags();
      gridLabels?.update();
    }
    if (event.layer !== sourceLayer) return;
    document.getElementById("legend-sources").hidden = event.type === "overlayremove";
    if (event.type === "overlayadd") loadSources();
  });
  window.addEventListener("resize", fitFeed);
  // Alerts also end by themselves (one window after their newest complaint).
  setInterval(loadAlerts, 60_000);
  document.getElementById("measure").addEventListener("change", styleVillages);
  document.getElementById("filters").addEventListener("change", (event) => {
    if (event.target.id === "measure") return;
    if (!periodInOrder()) return;  // nothing is asked for a period that ends before it starts
    applyFilters();
    loadCases(); loadVillages();
    if (event.target.name.startsWith("received_")) loadPanels();
    else notePanelScope();
  });
  document.getElementById("kiosk").addEventListener("click", () => (kioskTimer ? stopKiosk() : startKiosk()));
  // A reversed period the browser kept from before a reload is dropped, not asked for.
  if (!periodInOrder()) {
    document.getElementById("filters").elements.received_to.value = "";
    periodInOrder();
  }
  applyFilters();
  await Promise.all([loadCases(), loadVillages(), loadPanels(), loadAlerts(), loadLong(), loadBaseMap()]);
  connectLive();
  element.dataset.ready = "true";
  if (new URLSearchParams(window.location.search).get("kiosk") === "1") startKiosk();
}

start();
