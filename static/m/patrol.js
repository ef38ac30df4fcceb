// Grid patrols (网格巡查) on the phone: today's list of the grid's sources, the open patrol
// with its track, and the check-in (巡查打卡) at a source.
//
// Rules kept here:
// - The list comes from the bootstrap (`data.patrol`, the server's GET /api/v1/patrol/today),
//   so it works offline from sign-in on. Due and overdue sources come first, then the nearest.
// - A check-in made on this phone counts at once: each source's due state is recomputed from
//   the server's patrol days plus the days of this user's check-ins still in the outbox, with
//   the server's rule (`due_on` = the `times`-th most recent patrol day + `period_days`).
// - The track is sampled every `patrol_track_interval_s` seconds, and only while this page is
//   visible: a web app cannot run in the background, so a locked screen or another app in
//   front pauses the track, and the patrol screen says so.
// - A patrol is one outbox item, resent whole as it grows (store.savePatrol); a check-in is an
//   outbox item of its own. Ids are made here, at capture time, so a resend is harmless.

import { distanceM, freshFix, lastFix, navigationLinks, quickFix, watchFix } from "./geo.js";
import { openPatrol, outboxItems, queueCheckin, savePatrol } from "./store.js";
import { $, h, isoWithOffset, labelsOf, newId, showTime } from "./util.js";

const DEFAULTS = { gps_accept_m: 20, gps_warn_m: 100, patrol_radius_m: 100, patrol_track_interval_s: 30 };
const URGENT = new Set(["overdue", "due"]);
const END_FIX_TIMEOUT_MS = 5000;

const tracker = { data: null, patrol: null, timer: null, saving: Promise.resolve(), onChange: () => {} };
let checkin = null;

const settings = (data) => ({ ...DEFAULTS, ...((data && data.settings) || {}) });
const zone = () => document.body.dataset.timeZone || "Asia/Shanghai";

/** The calendar day (YYYY-MM-DD) in the city's time zone at a moment. */
export function cityDay(moment = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone(), year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(moment));
}

/** A YYYY-MM-DD day moved by `days`. */
export function addDays(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

const daysBetween = (from, to) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000);

/**
 * A source's due state with this phone's own patrol days added (services/patrol_rules.py's
 * rule). With fewer patrol days than the rule's `times`, the server's due date stands: the
 * missing patrols count as made on the day the source was registered.
 */
export function localDue(due, extraDays, today) {
  const days = [...new Set([...due.patrol_days, ...extraDays])].sort().reverse();
  const { rule } = due;
  let dueOn = rule ? due.due_on : null;
  if (rule && days.length >= rule.times) dueOn = addDays(days[rule.times - 1], rule.period_days);
  let state = "not_required";
  if (dueOn) state = today > dueOn ? "overdue" : (today === dueOn ? "due" : "ok");
  const overdue = state === "overdue" ? daysBetween(dueOn, today) : 0;
  return { ...due, patrol_days: days, last_on: days[0] || null, due_on: dueOn, state, days_overdue: overdue };
}

/** The days on which this user checked in at each source, from the outbox (sent or not). */
function localPatrolDays(items, userId) {
  const days = new Map();
  for (const item of items) {
    if (item.kind !== "checkin" || item.user_id !== userId || item.state === "rejected") continue;
    const list = days.get(item.body.source_id) || [];
    list.push(cityDay(item.body.captured_at));
    days.set(item.body.source_id, list);
  }
  return days;
}

/** Due and overdue first, then nearest to `fix` (or soonest due without a fix), then by name. */
export function patrolOrder(entries, fix) {
  const distance = (entry) => (fix ? entry.distance : 0);
  const dueOn = (entry) => entry.due.due_on || "9999-12-31";
  return [...entries].sort((a, b) => (URGENT.has(b.due.state) - URGENT.has(a.due.state))
    || distance(a) - distance(b) || dueOn(a).localeCompare(dueOn(b)) || a.source.name.localeCompare(b.source.name, "zh-CN"));
}

const metres = (value) => (value >= 1000 ? `${(value / 1000).toFixed(1)} 公里` : `${Math.round(value)} 米`);

/** A source's colour, chip and note; the chip's words are the server's (bootstrap `labels`). */
function dueChip(due, names) {
  const chip = names[due.state] ?? "";
  if (due.state === "overdue") {
    return { css: "state-red", chip: `${chip} ${due.days_overdue} 天`, note: `应于 ${due.due_on} 前巡查` };
  }
  if (due.state === "due") return { css: "state-yellow", chip, note: `应于今天（${due.due_on}）巡查` };
  if (due.state === "ok") return { css: "state-green", chip, note: `下次 ${due.due_on}` };
  return { css: "state-none", chip, note: "本级网格对该对象无频次要求" };
}

function sourceItem({ source, due, distance }, fix, today, names) {
  const { css, chip, note } = dueChip(due, names);
  const links = navigationLinks(source.lon, source.lat, source.name);
  const doneToday = due.patrol_days.includes(today);
  return h("li", { class: `task source ${css}`, "data-source-id": source.id, "data-state": due.state,
    "data-done-today": String(doneToday) },
  h("div", { class: "task-head" },
    h("span", { class: "chip" }, chip),
    source.is_key ? h("span", { class: "chip key" }, "重点") : null,
    h("strong", {}, source.name)),
  h("p", { class: "muted" }, `${source.kind_label} · ${source.address || "无地址"}`),
  h("p", { class: "due-line" }, note, fix ? h("span", { class: "distance" }, `　距您 ${metres(distance)}`) : null),
  doneToday ? h("p", { class: "done" }, "今日已巡查") : null,
  h("div", { class: "actions" },
    h("a", { class: "button primary", href: `#/checkin/${source.id}` }, "打卡"),
    h("a", { class: "button", href: links.geo }, "导航")));
}

/** The open patrol's panel: start, or what is being recorded and the end button. */
function renderPanel(data) {
  const { patrol } = tracker;
  const interval = settings(data).patrol_track_interval_s;
  $("patrol-start").hidden = Boolean(patrol);
  $("patrol-end").hidden = !patrol;
  $("patrol-panel").dataset.open = String(Boolean(patrol));
  if (!patrol) {
    $("patrol-state").textContent = "点“开始巡查”记录本次巡查的轨迹；也可以不开始巡查直接打卡。";
    return;
  }
  const paused = document.visibilityState !== "visible";
  $("patrol-state").textContent = `巡查中：${showTime(patrol.started_at)} 开始，已记录 ${patrol.track.length} 个轨迹点，`
    + `约 ${metres(trackLength(patrol.track))}。${paused ? "轨迹记录已暂停。" : `每 ${interval} 秒记录一次位置。`}`;
}

/** Each source of today's list with its due state as this phone knows it and its distance from `fix`. */
async function patrolEntries(data, fix, today) {
  const mine = localPatrolDays(await outboxItems(), data.user.id);
  return patrolOrder(data.patrol.items.map(({ source, due }) => ({
    source, due: localDue(due, mine.get(source.id) || [], today),
    distance: fix ? distanceM(fix.lon, fix.lat, source.lon, source.lat) : null,
  })), fix);
}

/** Draw today's patrol from the cached bootstrap and the outbox. */
export async function renderPatrolToday(data) {
  tracker.data = data;
  renderPanel(data);
  $("patrol-grid").textContent = data.grid ? data.grid.properties.name : "";
  $("patrol-missing").hidden = Boolean(data.patrol);
  if (!data.patrol) return;
  const today = cityDay();
  const fix = lastFix();
  const ordered = await patrolEntries(data, fix, today);
  const names = labelsOf(data, "patrol_states");
  $("source-list").replaceChildren(...ordered.map((entry) => sourceItem(entry, fix, today, names)));
  $("no-sources").hidden = ordered.length > 0;
  const urgent = ordered.filter((entry) => URGENT.has(entry.due.state)).length;
  $("patrol-summary").textContent = `${today} · 共 ${ordered.length} 个监管对象，今日须巡查 ${urgent} 个。`
    + (fix ? `按距您的远近排序（定位 ±${Math.round(fix.accuracy_m ?? 0)} 米）。` : "尚未定位：按到期日排序。");
}

/**
 * While walking: the panel, and the distances in place. The list is redrawn only when the
 * order changes, so a button under the inspector's thumb does not move at every track point.
 */
export async function refreshPatrolToday(data) {
  renderPanel(data);
  const fix = lastFix();
  if (!data.patrol || !fix) return;
  const ordered = await patrolEntries(data, fix, cityDay());
  const shown = [...$("source-list").children];
  const sameOrder = shown.length === ordered.length
    && ordered.every((entry, i) => shown[i].dataset.sourceId === String(entry.source.id));
  if (!sameOrder || shown.some((row) => !row.querySelector(".distance"))) return renderPatrolToday(data);
  ordered.forEach((entry, i) => { shown[i].querySelector(".distance").textContent = `　距您 ${metres(entry.distance)}`; });
}

/** Redraw once a position is known, so the list sorts by distance. */
export async function locateForList(data, stillShown) {
  const before = lastFix();
  const fix = await quickFix();
  if (fix && fix !== before && stillShown()) await renderPatrolToday(data);
}

function trackLength(track) {
  let total = 0;
  for (let i = 1; i < track.length; i += 1) {
    total += distanceM(track[i - 1].lon, track[i - 1].lat, track[i].lon, track[i].lat);
  }
  return total;
}

/** The outbox item for the patrol as it stands: the whole patrol, for PUT /api/v1/patrols/<id>. */
function patrolItem(patrol) {
  const state = patrol.ended_at ? "已结束" : "进行中";
  return {
    key: `patrol:${patrol.id}`, kind: "patrol", id: patrol.id, user_id: patrol.user_id,
    url: `/api/v1/patrols/${patrol.id}`,
    body: { started_at: patrol.started_at, ended_at: patrol.ended_at, track: patrol.track.map((p) => ({ ...p })), notes: "" },
    label: `巡查 ${showTime(patrol.started_at)} 起（${state}，轨迹 ${patrol.track.length} 点）`,
  };
}

/**
 * Save the patrol as it is now. Saves run one after another in the order they were asked
 * for, so a track point sampled just before the end can never overwrite the ended patrol.
 */
function persist(patrol) {
  const snapshot = { ...patrol, track: [...patrol.track] };
  const save = () => savePatrol(snapshot, patrolItem(snapshot));
  tracker.saving = tracker.saving.then(save, save);
  return tracker.saving;
}

/** Add a fix to the open patrol's track (a fix worse than the warning limit would only add noise). */
async function addPoint(patrol, fix) {
  if (!fix || tracker.patrol !== patrol || fix.accuracy_m === null) return;
  if (fix.accuracy_m > settings(tracker.data).gps_warn_m) return;
  const at = fix.fix_at;
  if (patrol.track.some((point) => point.at === at)) return;
  patrol.track.push({ lon: fix.lon, lat: fix.lat, at, accuracy_m: fix.accuracy_m });
  await persist(patrol);
  tracker.onChange();
}

async function sample() {
  const patrol = tracker.patrol;
  if (!patrol || document.visibilityState !== "visible") return;
  await addPoint(patrol, await freshFix());
}

/** Sample now and then every interval, while the page is visible. */
function track() {
  clearInterval(tracker.timer);
  tracker.timer = null;
  if (!tracker.patrol || document.visibilityState !== "visible") return;
  const interval = settings(tracker.data).patrol_track_interval_s;
  tracker.timer = setInterval(sample, interval * 1000);
  sample();
}

/** Pause on a hidden page, resume (with a fix at once) when it shows again. */
function onVisibility() {
  track();
  tracker.onChange();
}

/** Pick up a patrol left open on this phone (after a reload or a restart). */
export async function resumePatrol(data) {
  tracker.data = data;
  tracker.patrol = (await openPatrol(data.user.id)) || null;
  track();
}

/** Stop recording (sign-out); the open patrol stays on the phone for its owner. */
export function stopTracking() {
  clearInterval(tracker.timer);
  tracker.timer = null;
  tracker.patrol = null;
}

/** Open a patrol: its id and start time are made here. */
export async function startPatrol() {
  const { data } = tracker;
  if (tracker.patrol) return;  // a second tap on "开始巡查" opens nothing new
  const patrol = { id: newId(), user_id: data.user.id, started_at: isoWithOffset(), ended_at: null, track: [] };
  tracker.patrol = patrol;
  await persist(patrol);
  track();
}

/** End the open patrol with a last position, and queue its final version. */
export async function endPatrol() {
  const patrol = tracker.patrol;
  if (!patrol) return;
  clearInterval(tracker.timer);
  await addPoint(patrol, await freshFix(END_FIX_TIMEOUT_MS));
  patrol.ended_at = isoWithOffset();
  tracker.patrol = null;
  tracker.timer = null;
  await persist(patrol);
}

/** The open patrol's id, or null. */
export const openPatrolId = () => (tracker.patrol ? tracker.patrol.id : null);

/** Wire the patrol screen once, at start-up; `onChange` redraws whatever shows the patrol. */
export function initPatrol({ onStarted, onEnded, onChange }) {
  tracker.onChange = onChange;
  $("patrol-start").addEventListener("click", async () => {
    await startPatrol();
    onStarted();
  });
  $("patrol-end").addEventListener("click", async () => {
    if (!window.confirm("确定结束本次巡查？")) return;
    $("patrol-end").disabled = true;
    try {
      await endPatrol();
    } finally {
      $("patrol-end").disabled = false;
    }
    onEnded();
  });
  document.addEventListener("visibilitychange", onVisibility);
  $("checkin-nothing").addEventListener("click", () => checkinNothingFound());
  $("checkin-problem").addEventListener("click", () => checkinProblemFound());
}

/* The check-in screen */

/** The source of today's list with this id, or undefined. */
export function findSource(data, id) {
  const items = (data && data.patrol && data.patrol.items) || [];
  const found = items.find((item) => String(item.source.id) === String(id));
  return found && found.source;
}

function sourceSummary(source) {
  const kinds = [...new Set([source.kind_label, source.sector_label])].join(" · ");
  const lines = [
    h("p", { class: "title" }, source.name, " ", source.is_key ? h("span", { class: "chip key" }, "重点") : null),
    h("p", { class: "muted" }, `${kinds} · ${source.address || "无地址"}`),
  ];
  if (source.responsible_name) {
    lines.push(h("p", { class: "muted" }, `负责人：${source.responsible_name}　${source.responsible_phone || ""}`));
  }
  return lines;
}

/**
 * Open the check-in at `source`: watch the position, show the distance and whether it is
 * beyond the radius. `onDone(item)` follows a "nothing found" check-in; `onProblem(checkin)`
 * opens the discovery form with {source, checkinId, location}.
 */
export function openCheckin({ source, data, onDone, onProblem }) {
  closeCheckin();
  checkin = { source, data, onDone, onProblem, id: newId(), fix: null, busy: false };
  $("checkin-source").replaceChildren(...sourceSummary(source));
  $("checkin-nopatrol").hidden = Boolean(tracker.patrol);
  checkin.stopWatch = watchFix(onCheckinFix, onCheckinError);
  renderCheckin();
}

/** Stop watching the position for the check-in screen. */
export function closeCheckin() {
  if (!checkin) return;
  checkin.stopWatch();
  checkin = null;
}

function onCheckinFix(fix) {
  if (!checkin) return;
  const accept = settings(checkin.data).gps_accept_m;
  const held = checkin.fix;
  // A fix good enough is taken as it comes (the inspector walks up); a poor one only if nothing better is held.
  if (!held || fix.accuracy_m <= accept || fix.accuracy_m <= held.accuracy_m) checkin.fix = fix;
  renderCheckin();
}

function onCheckinError(message) {
  if (!checkin || checkin.fix) return;
  const status = $("checkin-gps");
  status.dataset.state = "error";
  status.textContent = message;
}

/** The distance to the source and the warnings, from the fix held. */
function renderCheckin() {
  const { fix, source, data } = checkin;
  const { gps_warn_m: warnM, patrol_radius_m: radius } = settings(data);
  const status = $("checkin-gps");
  const warn = $("checkin-warn");
  $("checkin-nothing").disabled = !fix;
  $("checkin-problem").disabled = !fix;
  if (!fix) {
    status.dataset.state = "waiting";
    status.textContent = "正在定位…（打卡需要定位）";
    $("checkin-distance").textContent = "";
    warn.hidden = true;
    return;
  }
  const distance = distanceM(fix.lon, fix.lat, source.lon, source.lat);
  const outside = distance > radius;
  status.dataset.state = "accepted";
  status.textContent = `已定位 ±${Math.round(fix.accuracy_m ?? 0)} 米`;
  $("checkin-distance").textContent = `距该对象约 ${metres(distance)}`;
  $("checkin-distance").dataset.outside = String(outside);
  const lines = [];
  if (outside) lines.push(`超出 ${radius} 米打卡范围：仍可打卡，但这次打卡会被标记为“超出范围”。`);
  if (fix.accuracy_m > warnM) lines.push(`定位精度很差（±${Math.round(fix.accuracy_m)} 米），请到开阔处稍候。`);
  warn.textContent = lines.join(" ");
  warn.hidden = lines.length === 0;
}

function checkinLocation(fix) {
  return { lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy_m, source: fix.source, mock: false, fix_at: fix.fix_at };
}

/** The outbox item for a check-in, for PUT /api/v1/patrol-checkins/<id>. */
function checkinItem({ id, source, data, fix }, outcome, inspectionId, capturedAt) {
  return {
    key: `checkin:${id}`, kind: "checkin", id, user_id: data.user.id, url: `/api/v1/patrol-checkins/${id}`,
    body: {
      patrol_id: openPatrolId(), source_id: source.id, outcome, captured_at: capturedAt,
      location: checkinLocation(fix), notes: "", inspection_id: inspectionId,
    },
    label: `巡查打卡：${source.name}（${outcome === "problem_found" ? "发现问题" : "未发现问题"}）`,
  };
}

/** Queue a check-in and put its fix on the open patrol's track. */
async function queue(visit, outcome, inspectionId, capturedAt) {
  const item = checkinItem(visit, outcome, inspectionId, capturedAt);
  await queueCheckin(item);
  if (tracker.patrol) await addPoint(tracker.patrol, visit.fix);
  return item;
}

/** "未发现问题": one tap, queued, back to the list. */
async function checkinNothingFound() {
  if (!checkin || !checkin.fix || checkin.busy) return;
  checkin.busy = true;
  const visit = checkin;
  const item = await queue(visit, "nothing_found", null, isoWithOffset());
  closeCheckin();
  visit.onDone(item);
}

/** "发现问题": the discovery form, prefilled; the check-in is queued when the form is saved. */
function checkinProblemFound() {
  if (!checkin || !checkin.fix) return;
  const visit = checkin;
  closeCheckin();
  visit.onProblem(discoveryAt(visit.data, { source_id: visit.source.id, checkin_id: visit.id,
    fix: { ...visit.fix, altitude_m: visit.fix.altitude_m ?? null }, captured_at: isoWithOffset() }));
}

/**
 * The discovery of a check-in at a source ({source, checkinId, location, kept, save}):
 * `kept` is what a draft keeps of it ({source_id, checkin_id, fix, captured_at}), so a form the
 * app was killed in comes back with its check-in; `save(inspectionId)` queues the check-in.
 * Undefined when the source is no longer on today's list.
 */
export function discoveryAt(data, kept) {
  const source = findSource(data, kept.source_id);
  if (!source) return undefined;
  const visit = { source, data, id: kept.checkin_id, fix: kept.fix };
  return {
    source, checkinId: kept.checkin_id, location: kept.fix, kept,
    save: (inspectionId) => queue(visit, "problem_found", inspectionId, kept.captured_at),
  };
}
