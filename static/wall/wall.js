// The map wall (挂图作战): grid polygons as the base map, villages shaded by a measure,
// cases clustered by the server for the viewport, live updates over Server-Sent Events,
// and a kiosk tour of the towns. Stored coordinates are WGS-84; with a GCJ-02 base map
// every point and polygon is shifted before drawing and the viewport shifted back.

import { gcj02ToWgs84, wgs84ToGcj02 } from "../js/coords.js";
import { renderPanels } from "./panels.js";
import { clusterSymbol, pointSymbol } from "./symbols.js";

const L = window.L;
const element = document.getElementById("wall-map");
const urls = element.dataset;
const gcj = urls.tileSystem === "gcj02" && urls.tileUrl !== "";
const toMap = (lon, lat) => (gcj ? wgs84ToGcj02(lon, lat) : [lon, lat]);
const fromMap = (lon, lat) => (gcj ? gcj02ToWgs84(lon, lat) : [lon, lat]);
const latLngOf = (lon, lat) => { const [x, y] = toMap(lon, lat); return L.latLng(y, x); };

const STATE_TEXT = { red: "已超期", yellow: "临期", green: "期限内", closed: "已销号" };
const EVENT_TEXT = { new_case: "新案件", state_change: "状态变化", turned_red: "转为超期", closed: "销号" };
// Stats the browser benchmark and tests read: how long the last case layer took to draw.
const stats = { renders: 0, lastFetchMs: 0, lastDrawMs: 0, symbols: 0 };
window.wallStats = stats;

const map = L.map(element, { preferCanvas: true, zoomSnap: 1, attributionControl: false, zoomControl: true });
map.setView([32.39, 120.57], 10);
window.wallMap = map;  // for the browser benchmark and tests, as wallStats
if (urls.tileUrl) L.tileLayer(urls.tileUrl, { maxZoom: 18, subdomains: urls.tileSubdomains }).addTo(map);

const caseLayer = L.layerGroup().addTo(map);
let townLayer = null;
let villageLayer = null;
let cityBounds = null;
let requestSerial = 0;

function filterParams() {
  const params = new URLSearchParams();
  const form = new FormData(document.getElementById("filters"));
  for (const [name, value] of form) {
    if (!value || name === "measure") continue;
    if (name.startsWith("received_")) {
      params.set(name, `${value}T00:00:00+08:00`);
    } else {
      params.append(name, value);
    }
  }
  return params;
}

async function getJson(url) {
  // "no-cache" revalidates with the ETag: an unchanged viewport comes back as a 304.
  const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return response.json();
}

// --- Grids and village shading ---------------------------------------------------------

const coordsToLatLng = (coords) => latLngOf(coords[0], coords[1]);
const SHADES = ["#13233a", "#1d3b5f", "#2c5a85", "#b3702a", "#d9480f"];
let villageValues = new Map();

function shadeFor(value, max) {
  if (!value) return SHADES[0];
  return SHADES[Math.min(SHADES.length - 1, 1 + Math.floor((value / Math.max(1, max)) * (SHADES.length - 1)))];
}

function styleVillages() {
  if (!villageLayer) return;
  const measure = document.getElementById("measure").value;
  const max = Math.max(0, ...[...villageValues.values()].map((v) => v[measure]));
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
  L.control.layers(null, { "镇（街道）界": townLayer, "村（社区）着色": villageLayer, "案件": caseLayer },
    { collapsed: false }).addTo(map);
  cityBounds = townLayer.getBounds();
  if (cityBounds.isValid()) map.fitBounds(cityBounds, { animate: false });
  element.dataset.gridsReady = "true";
}

async function loadVillages() {
  const data = await getJson(`${urls.villagesUrl}?${filterParams()}`);
  villageValues = new Map(data.villages.map((v) => [v.grid_id, v]));
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
  params.set("zoom", String(Math.round(map.getZoom())));
  return params;
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
  const total = data.kind === "clusters" ? data.total : data.points.length;
  document.getElementById("in-view").textContent = `视野内 ${total.toLocaleString("zh-CN")} 件`;
  stats.lastDrawMs = performance.now() - started;
  stats.symbols = symbols.length;
  stats.renders += 1;
  element.dataset.inView = String(total);
  element.dataset.renders = String(stats.renders);
}

async function loadCases() {
  const serial = ++requestSerial;
  const started = performance.now();
  const data = await getJson(`${urls.viewportUrl}?${viewportParams()}`);
  if (serial !== requestSerial) return;  // a newer view was asked for meanwhile
  stats.lastFetchMs = performance.now() - started;
  drawCases(data);
}

async function loadPanels() {
  try {
    renderPanels(await getJson(urls.panelsUrl));
    element.dataset.panelsReady = "true";
  } catch {
    // The map stays useful when a statistic fails; the header says so.
    document.getElementById("phase").textContent = "统计数据暂不可用，稍后自动重试";
    setTimeout(loadPanels, 30_000);
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

async function openCard(caseId) {
  const card = document.getElementById("card");
  const data = await getJson(urls.caseUrl.replace(/0$/, String(caseId)));
  const flags = [data.above_level && "越级访", data.inspection && "督察交办", data.leader && "领导包案"].filter(Boolean);
  const due = data.due_at ? new Date(data.due_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" }) : "—";
  const title = document.createElement("h3");
  title.textContent = data.number;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "关闭";
  close.addEventListener("click", () => { card.hidden = true; });
  const list = document.createElement("dl");
  list.append(cardRow("类型", data.category), cardRow("镇（街道）", data.town),
    cardRow("状态", STATE_TEXT[data.state]), cardRow("办理时限", due), cardRow("责任单位", data.department),
    cardRow("标记", flags.join("、") || "—"));
  card.className = `wall-card state-${data.state}`;
  card.replaceChildren(title, list, close);
  card.hidden = false;
}

// --- Refresh, live feed, kiosk -----------------------------------------------------------

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadCases(); loadVillages(); loadPanels(); }, 800);
}

function addFeedItem(event) {
  const feed = document.getElementById("feed");
  const item = document.createElement("li");
  item.className = `feed-${event.type}`;
  const time = new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  item.textContent = `${time} ${EVENT_TEXT[event.type]} ${event.number} ${event.town || ""}`;
  feed.prepend(item);
  while (feed.children.length > 8) feed.lastElementChild.remove();
}

function connectLive() {
  const live = document.getElementById("live");
  const source = new EventSource(urls.eventsUrl, { withCredentials: true });
  source.addEventListener("open", () => { live.textContent = "实时：已连接"; live.dataset.state = "open"; });
  source.addEventListener("error", () => { live.textContent = "实时：重新连接中"; live.dataset.state = "retrying"; });
  for (const type of Object.keys(EVENT_TEXT)) {
    source.addEventListener(type, (message) => {
      addFeedItem(JSON.parse(message.data));
      refreshSoon();
    });
  }
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
    map.fitBounds(stops[index], { animate: true });
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
  if (cityBounds) map.fitBounds(cityBounds);
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
  map.on("moveend", loadCases);
  document.getElementById("measure").addEventListener("change", styleVillages);
  document.getElementById("filters").addEventListener("change", (event) => {
    if (event.target.id === "measure") return;
    loadCases(); loadVillages();
  });
  document.getElementById("kiosk").addEventListener("click", () => (kioskTimer ? stopKiosk() : startKiosk()));
  await Promise.all([loadCases(), loadVillages(), loadPanels()]);
  connectLive();
  element.dataset.ready = "true";
  if (new URLSearchParams(window.location.search).get("kiosk") === "1") startKiosk();
}

start();
