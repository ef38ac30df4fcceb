// The on-site check (现场核查) and patrol discovery (巡查发现) form: live GPS accuracy, the
// findings, photos. Saving puts the record in the outbox; nothing here needs the network.
// A discovery made at a source on patrol ("发现问题" at a check-in) comes prefilled from the
// source and carries the source and the check-in's ids, so the server links the three.

import { inFeature, watchFix } from "./geo.js";
import { pickOnMap } from "./map-pick.js";
import { preparePhoto } from "./photos.js";
import { deleteDraftPhoto, queueInspection, saveDraftPhoto } from "./store.js";
import { $, h, isoWithOffset, newId } from "./util.js";

const DEFAULTS = { gps_accept_m: 20, gps_warn_m: 100, photo_long_edge_px: 1600 };
const TITLES = { onsite_check: "现场核查", patrol_discovery: "巡查发现" };

let current = null;

const settings = () => ({ ...DEFAULTS, ...((current && current.data.settings) || {}) });
const metres = (value) => `±${Math.round(value)} 米`;

/** Whether a form is open with something the inspector would lose by leaving. */
export const recordDirty = () => Boolean(current && (current.photos.length || current.touched));

/**
 * Open the form for `kind` ("onsite_check" with `caseItem`, or "patrol_discovery"). `checkin`
 * ({source, checkinId, location}) makes it the discovery of a patrol check-in at a source.
 */
export function openRecord({ kind, caseItem = null, data, onSaved, checkin = null }) {
  closeRecord();
  const form = $("record-form");
  form.reset();
  $("photo-list").replaceChildren();
  $("record-error").hidden = true;
  $("pick-panel").hidden = true;
  $("record-title").textContent = TITLES[kind];
  $("discovery").hidden = kind !== "patrol_discovery";
  $("record-case").replaceChildren(...(caseItem ? caseSummary(caseItem) : discoverySummary(checkin)));
  current = { kind, caseItem, data, onSaved, checkin, id: newId(), photos: [], busy: 0, fix: null,
    location: checkin ? checkin.location : null, touched: false };
  if (checkin) prefillFromSource(form, checkin.source);
  current.stopWatch = watchFix(onFix, onGpsError);
  filterSubcategories();
  renderGps();
}

/** Stop watching the position and forget the form (draft photos are deleted if `discard`). */
export async function closeRecord({ discard = false } = {}) {
  if (!current) return;
  const closing = current;
  current = null;
  closing.stopWatch();
  if (discard) for (const photo of closing.photos) await deleteDraftPhoto(photo.id);
}

/** The few lines that say which case this is. */
export function caseSummary(caseItem) {
  return [
    h("p", { class: "number" }, caseItem.number, " ", h("span", { class: `chip state-${caseItem.deadline_state}` }, caseItem.status_label)),
    h("p", { class: "title" }, caseItem.title),
    h("p", { class: "muted" }, caseItem.address || ""),
  ];
}

function discoverySummary(checkin) {
  const note = h("p", { class: "muted" }, "新发现的问题会登记为新案件，计入本网格的“先发现”。");
  if (!checkin) return [note];
  const { source } = checkin;
  return [h("p", { class: "title" }, `巡查对象：${source.name}`), h("p", { class: "muted" }, source.address || ""), note];
}

/** What the source already tells: its sector, address and a title naming it. */
function prefillFromSource(form, source) {
  form.elements.sector.value = source.sector || "";
  form.elements.address.value = source.address || "";
  form.elements.title.value = `巡查发现：${source.name}`.slice(0, 200);
}

function onFix(fix) {
  if (!current) return;
  current.fix = fix;
  const manual = current.location && current.location.source === "manual";
  const better = !current.location || fix.accuracy_m <= current.location.accuracy_m;
  if (!manual && fix.accuracy_m !== null && fix.accuracy_m <= settings().gps_accept_m && better) {
    current.location = fix;
  }
  renderGps();
}

function onGpsError(message) {
  if (!current || current.location) return;
  const status = $("gps-status");
  status.dataset.state = "error";
  status.textContent = message;
}

/** The location panel: live accuracy, whether it was taken, warnings. */
function renderGps() {
  const { fix, location } = current;
  const { gps_accept_m: acceptM, gps_warn_m: warnM } = settings();
  const status = $("gps-status");
  const use = $("gps-use");
  let state = "waiting";
  let text = "正在定位…";
  if (location && location.source === "manual") {
    state = "manual";
    text = "已在地图上选点（标记为“地图手选”）。";
  } else if (location) {
    state = "accepted";
    text = `已定位 ${metres(location.accuracy_m)}，已采用。`;
  } else if (fix) {
    text = `当前精度 ${metres(fix.accuracy_m)}，等待达到 ${acceptM} 米以内…`;
  }
  if (fix && state !== "accepted" && state !== "manual") {
    use.textContent = `采用当前位置（${metres(fix.accuracy_m)}）`;
  }
  use.hidden = !fix || state === "accepted" || state === "manual";
  status.dataset.state = state;
  status.textContent = text;
  const shown = location || fix;
  const poor = shown && shown.source !== "manual" && shown.accuracy_m > warnM;
  $("gps-warn").hidden = !poor;
  $("gps-warn").textContent = poor ? `定位精度很差（${metres(shown.accuracy_m)}），请到开阔处稍候，或在地图上选点。` : "";
  const outside = location && !inFeature(location.lon, location.lat, current.data.grid);
  $("grid-warn").hidden = !outside;
  $("grid-warn").textContent = outside ? `该位置不在您的网格（${current.data.grid.properties.name}）内，请确认地点无误。` : "";
}

async function useCurrentFix() {
  current.location = { ...current.fix };
  current.touched = true;
  renderGps();
}

async function pickManually() {
  const { data, fix, caseItem } = current;
  try {
    const point = await pickOnMap($("pick-panel"), { grid: data.grid, fix, casePoint: caseItem && caseItem.location });
    if (!point || !current) return;
    current.location = { ...point, accuracy_m: null, altitude_m: null, fix_at: null, source: "manual" };
    current.touched = true;
    renderGps();
  } catch (error) {
    console.error(error);
    showError("地图组件还没有下载到本机：请联网打开一次应用后再试。");
  }
}

/** Only the subcategories of the chosen category. */
function filterSubcategories() {
  const form = $("record-form");
  const category = form.elements.category.value;
  for (const option of form.elements.subcategory.options) {
    option.hidden = Boolean(option.value) && !option.value.startsWith(`${category}.`);
  }
  if (form.elements.subcategory.selectedOptions[0].hidden) form.elements.subcategory.value = "";
}

/** Resize each new photo, note its time and place, and keep it on the phone at once. */
async function addPhotos(event) {
  const input = event.target;
  const files = [...input.files];
  input.value = "";
  for (const file of files) {
    const taken = new Date();
    const where = current.fix || current.location;
    const item = h("li", { class: "photo", "data-state": "working" }, "处理中…");
    $("photo-list").append(item);
    current.busy += 1;
    const form = current;
    try {
      const prepared = await preparePhoto(file, settings().photo_long_edge_px);
      const photo = {
        id: newId(), record_id: form.id, ...prepared, captured_at: isoWithOffset(taken), taken_ms: taken.getTime(),
        lon: where ? where.lon : null, lat: where ? where.lat : null,
      };
      await saveDraftPhoto(photo);
      form.photos.push(photo);
      item.replaceWith(photoItem(photo));
    } catch (error) {
      item.dataset.state = "failed";
      item.textContent = "这张照片无法处理，请重拍。";
    } finally {
      form.busy -= 1;
    }
  }
}

function photoItem(photo) {
  const url = URL.createObjectURL(photo.blob);
  const item = h("li", { class: "photo", "data-state": "ready", "data-width": photo.width, "data-height": photo.height },
    h("img", { src: url, alt: "现场照片" }),
    h("span", { class: "muted" }, `${photo.width}×${photo.height} · ${Math.round(photo.bytes / 1024)} KB`),
    h("button", { type: "button", class: "small secondary", onclick: async () => {
      await deleteDraftPhoto(photo.id);
      current.photos = current.photos.filter((p) => p.id !== photo.id);
      URL.revokeObjectURL(url);
      item.remove();
    } }, "删除"));
  return item;
}

function showError(message) {
  const box = $("record-error");
  box.textContent = message;
  box.hidden = false;
  box.scrollIntoView({ block: "center" });
}

/** The record as the API takes it, or a Chinese reason why it cannot be saved yet. */
function buildRecord() {
  const form = $("record-form").elements;
  const { kind, caseItem, location, photos } = current;
  if (current.busy) return { error: "照片还在处理中，请稍候。" };
  if (!location) return { error: "还没有位置：请等待定位达到要求、点“采用当前位置”，或在地图上选点。" };
  const body = {
    kind,
    case_id: caseItem ? caseItem.id : null,
    captured_at: isoWithOffset(),
    location: {
      lon: location.lon, lat: location.lat, accuracy_m: location.accuracy_m, altitude_m: location.altitude_m,
      fix_at: location.fix_at, source: location.source, mock: false,
    },
    findings: {
      source_found: form.source_found.checked, violation_found: form.violation_found.checked,
      measures: form.measures.value.trim(), outcome: form.outcome.value,
    },
    notes: form.notes.value.trim(),
    photos: photos.map((p) => ({ id: p.id, captured_at: p.captured_at, lon: p.lon, lat: p.lat })),
  };
  if (kind === "patrol_discovery") {
    const discovery = {
      category: form.category.value, sector: form.sector.value, title: form.title.value.trim(),
      description: form.description.value.trim(), address: form.address.value.trim(),
    };
    if (form.subcategory.value) discovery.subcategory = form.subcategory.value;
    if (current.checkin) {
      discovery.source_id = current.checkin.source.id;
      discovery.patrol_checkin_id = current.checkin.checkinId;
    }
    if (!discovery.category || !discovery.sector) return { error: "请选择污染类型和行业。" };
    if (discovery.title.length < 2) return { error: "请填写标题（至少 2 个字）。" };
    body.discovery = discovery;
  }
  return { body };
}

/** "巡查发现：<title>", once (a title made at a source already starts with it). */
const discoveryLabel = (title) => (title.startsWith("巡查发现") ? title : `巡查发现：${title}`);

async function save(event) {
  event.preventDefault();
  const { body, error } = buildRecord();
  if (error) return showError(error);
  const { id, data, caseItem, photos, onSaved } = current;
  const item = {
    key: `inspection:${id}`, kind: "inspection", id, user_id: data.user.id, url: `/api/v1/inspections/${id}`, body,
    photo_ids: photos.map((p) => p.id),
    label: caseItem ? `现场核查 ${caseItem.number}` : discoveryLabel(body.discovery.title),
  };
  await queueInspection(item, item.photo_ids);
  await closeRecord();
  onSaved(item);
}

/** Wire the form's controls once, at start-up. */
export function initRecordForm({ onCancel }) {
  const form = $("record-form");
  form.addEventListener("submit", save);
  form.addEventListener("input", () => { if (current) current.touched = true; });
  form.elements.category.addEventListener("change", filterSubcategories);
  $("photo-input").addEventListener("change", addPhotos);
  $("gps-use").addEventListener("click", useCurrentFix);
  $("gps-map").addEventListener("click", pickManually);
  $("record-cancel").addEventListener("click", onCancel);
}
