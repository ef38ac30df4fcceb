// The on-site check (现场核查) and patrol discovery (巡查发现) form: live GPS accuracy and the
// distance to the case, the findings, photos with the camera's own time and place. Saving puts
// the record in the outbox; nothing here needs the network. What is still missing is listed
// above the save button as the inspector works (the server's rule, onsite-rules.js), and the
// form is kept in IndexedDB as a draft, so an app killed in the field reopens with it.
// A discovery made at a source on patrol ("发现问题" at a check-in) comes prefilled from the
// source and carries the source and the check-in's ids, so the server links the three.

import { distanceM, inFeature, watchFix } from "./geo.js";
import { pickOnMap } from "./map-pick.js";
import { assessCheck } from "./onsite-rules.js";
import { preparePhoto, readCameraFacts, sha256Hex } from "./photos.js";
import {
  clearDraft, deleteDraftPhoto, photosOf, queueInspection, saveDraft, saveDraftPhoto,
} from "./store.js";
import { $, cityZone, h, isoWithOffset, newId, showTime } from "./util.js";

// Used only until the first bootstrap that carries them (the server's defaults).
const DEFAULTS = {
  gps_accept_m: 20, gps_warn_m: 100, photo_long_edge_px: 1600, max_upload_bytes: 25 * 1024 * 1024,
  onsite_max_distance_m: 500, onsite_max_accuracy_m: 100, photo_max_age_minutes: 120, photo_far_m: 500,
  upload_originals_on_wifi: 0,
};
const TITLES = { onsite_check: "现场核查", patrol_discovery: "巡查发现" };
const DRAFT_DELAY_MS = 300;

let current = null;
let draftTimer = null;

const settings = () => ({ ...DEFAULTS, ...((current && current.data.settings) || {}) });
const metres = (value) => `±${Math.round(value)} 米`;
const lengthText = (m) => (m < 1000 ? `${Math.round(m)} 米` : `${(m / 1000).toFixed(1)} 公里`);

/** "45 分钟", "5 小时", "3 天": how long ago, as people say it. */
function ageText(minutes) {
  if (minutes < 120) return `${Math.round(minutes)} 分钟`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} 小时`;
  return `${Math.floor(minutes / 1440)} 天`;
}

/** Whether a form is open with something the inspector would lose by leaving. */
export const recordDirty = () => Boolean(current && (current.photos.length || current.touched));

/**
 * Open the form for `kind` ("onsite_check" with `caseItem`, or "patrol_discovery"). `checkin`
 * (patrol.discoveryAt) makes it the discovery of a patrol check-in at a source;
 * `draft` (store.loadDraft) brings back a form the app was killed in, with its photos.
 */
export async function openRecord({ kind, caseItem = null, data, onSaved, checkin = null, draft = null }) {
  await closeRecord();
  const form = $("record-form");
  form.reset();
  $("photo-list").replaceChildren();
  for (const id of ["record-error", "pick-panel", "draft-notice"]) $(id).hidden = true;
  $("draft-state").textContent = "";
  $("record-title").textContent = TITLES[kind];
  $("discovery").hidden = kind !== "patrol_discovery";
  $("findings-choice").hidden = kind !== "onsite_check";
  $("record-case").replaceChildren(...(caseItem ? caseSummary(caseItem) : discoverySummary(checkin)));
  fillNoPhotoReasons(data.no_photo_reasons || {});
  current = { kind, caseItem, data, onSaved, checkin, id: draft ? draft.id : newId(), photos: [], busy: 0, fix: null,
    location: draft ? draft.location : (checkin ? checkin.location : null), touched: Boolean(draft),
    stopWatch: () => {}, saving: false };
  if (checkin) prefillFromSource(form, checkin.source);
  if (draft) await restoreDraft(form, draft);
  current.stopWatch = watchFix(onFix, onGpsError);
  filterSubcategories();
  renderGps();
}

/** Stop watching the position and forget the form (its draft and draft photos too if `discard`). */
export async function closeRecord({ discard = false } = {}) {
  clearTimeout(draftTimer);
  if (!current) return;
  const closing = current;
  current = null;
  closing.stopWatch();
  if (!discard) return;
  for (const photo of closing.photos) await deleteDraftPhoto(photo.id);
  await clearDraft(closing.data.user.id, closing.id);
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

/** The fixed reasons for a check without photos, with the labels the server sent. */
function fillNoPhotoReasons(labels) {
  const select = $("record-form").elements.no_photo_reason;
  select.replaceChildren(h("option", { value: "" }, "请选择"),
    ...Object.entries(labels).map(([value, label]) => h("option", { value }, label)));
}

// ------------------------------------------------------------------ draft

/** Every named field of the form, as the inspector left it. */
function formFields() {
  const values = {};
  for (const [name, value] of new FormData($("record-form"))) values[name] = value;
  return values;
}

/** Put the fields, the position and the photos of a draft back on the form, and say so. */
async function restoreDraft(form, draft) {
  for (const [name, value] of Object.entries(draft.fields || {})) {
    const control = form.elements.namedItem(name);
    if (control) control.value = value;
  }
  current.photos = (await photosOf(draft.id)).filter((photo) => photo.state === "draft");
  $("photo-list").replaceChildren(...current.photos.map(photoItem));
  const notice = $("draft-notice");
  notice.textContent = `已恢复上次未保存的记录（含 ${current.photos.length} 张照片，`
    + `${showTime(draft.saved_at)} 自动保存），请核对后保存。`;
  notice.hidden = false;
}

/** Keep the form as a draft soon (edits come in bursts). */
function keepDraft() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(writeDraft, DRAFT_DELAY_MS);
}

/**
 * Write the draft of the open form; a check-in's discovery keeps its check-in with it (the
 * source, the check-in's id, fix and time), so both come back after the app was killed.
 */
async function writeDraft() {
  const form = current;
  if (!form || form.saving || !recordDirty()) return;
  const savedAt = isoWithOffset();
  const photoIds = form.photos.map((photo) => photo.id);
  await saveDraft(form.data.user.id, {
    kind: form.kind, case_id: form.caseItem ? form.caseItem.id : null, id: form.id, fields: formFields(),
    location: form.location, photo_ids: photoIds, saved_at: savedAt, checkin: form.checkin ? form.checkin.kept : null,
  });
  if (current !== form) return;
  const state = $("draft-state");
  state.textContent = `草稿已自动保存（${showTime(savedAt)}，${photoIds.length} 张照片），应用意外关闭也不会丢失；主动离开本页会先问您是否删除。`;
  state.dataset.photos = String(photoIds.length);
}

/** Something on the form changed: keep it, and say again what is missing. */
function edited() {
  if (!current) return;
  current.touched = true;
  keepDraft();
  renderChecklist();
}

// ------------------------------------------------------------------ position

function onFix(fix) {
  if (!current) return;
  current.fix = fix;
  const manual = current.location && current.location.source === "manual";
  const better = !current.location || fix.accuracy_m <= current.location.accuracy_m;
  if (!manual && fix.accuracy_m !== null && fix.accuracy_m <= settings().gps_accept_m && better) {
    current.location = fix;
    if (recordDirty()) keepDraft();
  }
  renderGps();
}

function onGpsError(message) {
  if (!current || current.location) return;
  const status = $("gps-status");
  status.dataset.state = "error";
  status.textContent = message;
}

/** The location panel: live accuracy, whether it was taken, warnings, the distance to the case. */
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
  renderDistance();
  refreshPhotoWarnings();
  renderChecklist();
}

/** Metres from a point to the case, or null when the case has no location. */
function toCase(point) {
  const target = current.caseItem && current.caseItem.location;
  return point && target ? distanceM(point.lon, point.lat, target.lon, target.lat) : null;
}

/**
 * The distance to the case and the fix's accuracy, live: the taken position once there is
 * one, the current fix before. Each turns red beyond the limits the supervisor must confirm.
 */
function renderDistance() {
  const line = $("case-distance");
  const { kind, caseItem, location, fix } = current;
  line.hidden = kind !== "onsite_check";
  if (line.hidden) return;
  const where = location || fix;
  const distance = toCase(where);
  const limits = settings();
  if (!caseItem.location || !where) {
    line.dataset.state = "unknown";
    line.textContent = caseItem.location ? "定位后显示与案件位置的距离。" : "案件没有登记坐标，无法计算距离。";
    return;
  }
  const far = distance > limits.onsite_max_distance_m;
  const poor = where.accuracy_m === null || where.accuracy_m > limits.onsite_max_accuracy_m;
  line.dataset.state = far || poor ? "warn" : "ok";
  line.replaceChildren(
    h("span", { class: "figure", "data-bad": String(far) }, `${location ? "距案件" : "当前距案件"} ${lengthText(distance)}`),
    " · ",
    h("span", { class: "figure", "data-bad": String(poor) },
      where.accuracy_m === null ? "地图手选，无定位精度" : `定位精度 ${metres(where.accuracy_m)}`));
}

async function useCurrentFix() {
  current.location = { ...current.fix };
  edited();
  renderGps();
}

async function pickManually() {
  const { data, fix, caseItem } = current;
  try {
    const point = await pickOnMap($("pick-panel"), { grid: data.grid, fix, casePoint: caseItem && caseItem.location });
    if (!point || !current) return;
    current.location = { ...point, accuracy_m: null, altitude_m: null, fix_at: null, source: "manual" };
    edited();
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

// ------------------------------------------------------------------ photos

/**
 * Keep the camera's untouched file for upload on Wi-Fi? Only when the server asks for it and
 * this browser can ever tell Wi-Fi from a mobile connection (Chromium on Android); elsewhere
 * it would wait on the phone for ever. Files larger than an upload may be are not kept.
 */
function keepOriginal(file) {
  const connection = navigator.connection;
  const canTell = Boolean(connection) && typeof connection.type === "string";
  return Number(settings().upload_originals_on_wifi) === 1 && canTell && file.size <= settings().max_upload_bytes;
}

/** Add each file the camera or the gallery (`origin`) gave. */
async function addPhotos(event, origin) {
  const input = event.target;
  const files = [...input.files];
  input.value = "";
  for (const file of files) await addPhoto(file, origin);
}

/**
 * Read the camera's facts from the original file, shrink it, note when and where the phone
 * got it, and keep it on the phone at once (with the original, if it may go up on Wi-Fi).
 */
async function addPhoto(file, origin) {
  const form = current;
  const received = new Date();
  const where = form.fix || form.location;
  // A photo that failed before is said once: the next one clears its message.
  for (const failed of $("photo-list").querySelectorAll('[data-state="failed"]')) failed.remove();
  const item = h("li", { class: "photo", "data-state": "working" }, "处理中…");
  $("photo-list").append(item);
  form.busy += 1;
  renderChecklist();
  try {
    const facts = await readCameraFacts(file, cityZone());
    const prepared = await preparePhoto(file, settings().photo_long_edge_px, facts.exif_orientation);
    const photo = {
      id: newId(), record_id: form.id, ...prepared, ...facts, origin, captured_at: isoWithOffset(received),
      taken_ms: received.getTime(), lon: where ? where.lon : null, lat: where ? where.lat : null,
    };
    if (keepOriginal(file)) {
      Object.assign(photo, { original: file, original_type: file.type || "application/octet-stream",
        original_sha256: await sha256Hex(file), original_state: "waiting" });
    }
    await saveDraftPhoto(photo);
    form.photos.push(photo);
    item.replaceWith(photoItem(photo));
  } catch (error) {
    item.dataset.state = "failed";
    item.textContent = "这张照片无法处理，请重拍。";
  } finally {
    form.busy -= 1;
    if (current === form) edited();
  }
}

/** "相机时间 11月29日 10:15", saying when the camera wrote no time zone. */
function cameraTimeText(photo) {
  if (!photo.exif_taken_at) return "无相机时间";
  const assumed = photo.exif_offset_assumed ? `（相机未记录时区，按 ${photo.exif_taken_at.slice(-6)} 计）` : "";
  return `相机时间 ${showTime(photo.exif_taken_at)}${assumed}`;
}

/** Why a photo may not prove this visit: taken long before now, or far from here. Never blocks. */
function photoWarnings(photo) {
  const limits = settings();
  const warnings = [];
  if (photo.exif_taken_at) {
    const minutes = (Date.now() - Date.parse(photo.exif_taken_at)) / 60000;
    if (minutes > limits.photo_max_age_minutes) {
      warnings.push(`拍摄于 ${ageText(minutes)}前（超过 ${limits.photo_max_age_minutes} 分钟），可能不是本次现场所拍，上传后会被标记。`);
    }
  } else if (photo.origin === "gallery") {
    warnings.push("这张相册照片没有相机时间，无法证明是本次现场所拍。");
  }
  const here = current.location || current.fix;
  if (here && photo.exif_lon != null && photo.exif_lat != null) {
    const distance = distanceM(here.lon, here.lat, photo.exif_lon, photo.exif_lat);
    if (distance > limits.photo_far_m) warnings.push(`照片自带的拍摄位置距这里 ${lengthText(distance)}。`);
  }
  return warnings;
}

/** A photo on the form: where it came from, the camera's time, its warnings, and a way to drop it. */
function photoItem(photo) {
  const url = URL.createObjectURL(photo.blob);
  const gallery = photo.origin === "gallery";
  const warnings = photoWarnings(photo);
  const facts = h("div", { class: "photo-facts" },
    h("span", { class: `chip origin-${photo.origin}` }, gallery ? "相册选取" : "现场拍摄"),
    h("span", { class: "camera-time" }, cameraTimeText(photo)),
    h("span", { class: "muted" }, `${photo.width}×${photo.height} · ${Math.round(photo.bytes / 1024)} KB`));
  const remove = h("button", { type: "button", class: "small secondary" }, "删除");
  const item = h("li", { class: "photo", "data-state": "ready", "data-id": photo.id, "data-origin": photo.origin,
    "data-width": photo.width, "data-height": photo.height },
  h("img", { src: url, alt: gallery ? "相册选取的照片" : "现场拍摄的照片" }), facts, remove,
  h("p", { class: "photo-warn warn-text", hidden: !warnings.length }, warnings.join(" ")));
  remove.addEventListener("click", async () => {
    await deleteDraftPhoto(photo.id);
    current.photos = current.photos.filter((p) => p.id !== photo.id);
    URL.revokeObjectURL(url);
    item.remove();
    edited();
  });
  return item;
}

/** Each photo's warnings, again (a new fix may make a photo far). */
function refreshPhotoWarnings() {
  for (const photo of current.photos) {
    const box = document.querySelector(`#photo-list li[data-id="${photo.id}"] .photo-warn`);
    if (!box) continue;
    const warnings = photoWarnings(photo);
    box.hidden = !warnings.length;
    box.textContent = warnings.join(" ");
  }
}

// ------------------------------------------------------------------ what is missing

/** A yes/no the inspector chose: true, false, or null while neither is chosen. */
function chosen(name) {
  const value = $("record-form").elements[name].value;
  return value === "yes" ? true : (value === "no" ? false : null);
}

/** The reason for having no photo, when the check has none. */
function noPhotoReason() {
  const { kind, photos } = current;
  if (kind !== "onsite_check" || photos.length) return null;
  return $("record-form").elements.no_photo_reason.value || null;
}

/** What must still be done before saving (blocks), and what a supervisor will have to confirm (warns). */
function review() {
  const form = $("record-form").elements;
  const { kind, location, photos, busy } = current;
  const missing = [];
  const warnings = [];
  if (busy) missing.push("照片还在处理中，请稍候");
  if (!location) missing.push("还没有位置：请等待定位达到要求、点“采用当前位置”，或在地图上选点");
  if (kind === "patrol_discovery") {
    if (!form.category.value || !form.sector.value) missing.push("请选择污染类型和行业");
    if (form.title.value.trim().length < 2) missing.push("请填写标题（至少 2 个字）");
    return { missing, warnings };
  }
  const limits = settings();
  const distance = toCase(location);
  const manual = Boolean(location) && location.source === "manual";
  const verdict = assessCheck({
    distance_m: distance, accuracy_m: location ? location.accuracy_m : null, manual_location: manual,
    photo_count: photos.length,
    findings: { source_found: chosen("source_found"), violation_found: chosen("violation_found") },
    no_photo_reason: noPhotoReason(),
  }, limits);
  missing.push(...verdict.missing);
  if (location && verdict.far_from_case) {
    warnings.push(`距案件位置 ${lengthText(distance)}，超过 ${limits.onsite_max_distance_m} 米。`);
  }
  if (location && verdict.poor_accuracy) {
    warnings.push(manual ? "位置是在地图上手选的，又没有照片佐证。"
      : location.accuracy_m === null ? "定位精度未知。"
        : `定位精度 ${metres(location.accuracy_m)}，差于 ${limits.onsite_max_accuracy_m} 米。`);
  }
  return { missing, warnings };
}

/** The list above the save button, and the button's own words. */
function renderChecklist() {
  if (!current) return;
  const { missing, warnings } = review();
  $("no-photo").hidden = current.kind !== "onsite_check" || current.photos.length > 0;
  const box = $("record-check");
  box.dataset.state = missing.length ? "missing" : (warnings.length ? "warn" : "ok");
  const parts = [];
  if (missing.length) {
    parts.push(h("p", { class: "check-head" }, `保存前还需完成 ${missing.length} 项：`),
      h("ul", { class: "missing" }, ...missing.map((text) => h("li", {}, text))));
  }
  if (warnings.length) {
    parts.push(h("div", { class: "warn-text supervisor" }, ...warnings.map((text) => h("p", {}, text)),
      h("p", {}, "仍可保存，但须主管确认后才计为现场核查。")));
  }
  if (!parts.length) parts.push(h("p", { class: "ok-text" }, "必填项已齐，可以保存。"));
  box.replaceChildren(...parts);
  if (!missing.length && $("record-error").dataset.about === "missing") $("record-error").hidden = true;
  let label = "保存记录";
  if (missing.length) label = `保存记录（还缺 ${missing.length} 项）`;
  else if (warnings.length) label = "保存记录（须主管确认）";
  $("record-save").textContent = label;
}

/** An error above the save button; `about` "missing" goes by itself once nothing is missing. */
function showError(message, about = "other") {
  const box = $("record-error");
  box.textContent = message;
  box.dataset.about = about;
  box.hidden = false;
  box.scrollIntoView({ block: "center" });
}

// ------------------------------------------------------------------ saving

/** A photo as the record announces it: when and where the phone got it, and what the camera says. */
const announce = (photo) => ({
  id: photo.id, captured_at: photo.captured_at, lon: photo.lon, lat: photo.lat, origin: photo.origin ?? null,
  exif_taken_at: photo.exif_taken_at ?? null, exif_lon: photo.exif_lon ?? null, exif_lat: photo.exif_lat ?? null,
  exif_orientation: photo.exif_orientation ?? null,
});

/** The findings: what was done, and each yes/no only when the inspector chose it. */
function findings(form) {
  const result = { measures: form.measures.value.trim(), outcome: form.outcome.value };
  for (const name of ["source_found", "violation_found"]) {
    const value = chosen(name);
    if (value !== null) result[name] = value;
  }
  return result;
}

/** The record as the API takes it, or a Chinese list of what is missing. */
function buildRecord() {
  const form = $("record-form").elements;
  const { missing } = review();
  if (missing.length) return { error: `请先完成：${missing.join("；")}。` };
  const { kind, caseItem, location, photos } = current;
  const body = {
    kind,
    case_id: caseItem ? caseItem.id : null,
    captured_at: isoWithOffset(),
    location: {
      lon: location.lon, lat: location.lat, accuracy_m: location.accuracy_m, altitude_m: location.altitude_m,
      fix_at: location.fix_at, source: location.source, mock: false,
    },
    findings: findings(form),
    notes: form.notes.value.trim(),
    photos: photos.map(announce),
  };
  const reason = noPhotoReason();
  if (reason) body.no_photo_reason = reason;
  if (kind === "patrol_discovery") body.discovery = discoveryOf(form);
  return { body };
}

function discoveryOf(form) {
  const discovery = {
    category: form.category.value, sector: form.sector.value, title: form.title.value.trim(),
    description: form.description.value.trim(), address: form.address.value.trim(),
  };
  if (form.subcategory.value) discovery.subcategory = form.subcategory.value;
  if (current.checkin) {
    discovery.source_id = current.checkin.source.id;
    discovery.patrol_checkin_id = current.checkin.checkinId;
  }
  return discovery;
}

/** "巡查发现：<title>", once (a title made at a source already starts with it). */
const discoveryLabel = (title) => (title.startsWith("巡查发现") ? title : `巡查发现：${title}`);

/** The camera files that wait behind the record for Wi-Fi, as their own outbox item, or null. */
function originalsItem(item) {
  const kept = current.photos.filter((photo) => photo.original);
  if (!kept.length) return null;
  return { key: `originals:${item.id}`, kind: "originals", id: item.id, user_id: item.user_id, url: item.url,
    record_key: item.key, photo_ids: kept.map((photo) => photo.id), label: `原图 ${kept.length} 张 · ${item.label}` };
}

async function save(event) {
  event.preventDefault();
  const { body, error } = buildRecord();
  if (error) return showError(error, "missing");
  clearTimeout(draftTimer);
  current.saving = true;
  const { id, data, caseItem, photos, onSaved, checkin } = current;
  const item = {
    key: `inspection:${id}`, kind: "inspection", id, user_id: data.user.id, url: `/api/v1/inspections/${id}`, body,
    photo_ids: photos.map((p) => p.id),
    label: caseItem ? `现场核查 ${caseItem.number}` : discoveryLabel(body.discovery.title),
  };
  await queueInspection(item, item.photo_ids, { originals: originalsItem(item), draftOf: data.user.id });
  await closeRecord();
  onSaved(item);
}

/** Wire the form's controls once, at start-up. */
export function initRecordForm({ onCancel }) {
  const form = $("record-form");
  form.addEventListener("submit", save);
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);
  form.elements.category.addEventListener("change", filterSubcategories);
  $("photo-camera").addEventListener("change", (event) => addPhotos(event, "camera"));
  $("photo-gallery").addEventListener("change", (event) => addPhotos(event, "gallery"));
  $("gps-use").addEventListener("click", useCurrentFix);
  $("gps-map").addEventListener("click", pickManually);
  $("record-cancel").addEventListener("click", onCancel);
}
