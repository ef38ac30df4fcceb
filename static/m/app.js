// The inspector's app: start-up, screens, sign-in, the service worker and its update prompt.
// Everything the inspector sees comes from the phone's own copy (IndexedDB); the network is
// used when it answers, and its absence is shown, never hidden.

import * as api from "./api.js";
import { initCards, openCardForm, showCard } from "./card.js";
import {
  closeCheckin, discoveryAt, findSource, initPatrol, locateForList, openCheckin, refreshPatrolToday,
  renderPatrolToday, resumePatrol, stopTracking,
} from "./patrol.js";
import { closeRecord, initRecordForm, openRecord, recordDirty } from "./record-form.js";
import * as store from "./store.js";
import { ensureCardCodes, listenToWorker, onOutbox, pullBootstrap, requestBackgroundSync, syncNow } from "./sync.js";
import { $, h, toast } from "./util.js";
import { initNews, renderNews } from "./news.js";
import { renderOutbox, renderTasks } from "./views.js";

const PROBE_ONLINE_MS = 60000;
const PROBE_OFFLINE_MS = 15000;
const VIEWS = ["login", "tasks", "patrols", "checkin", "record", "card-issue", "card", "outbox", "me"];

const app = {
  data: null, view: null, hash: "", progress: null,
  signedOut: false, updateAccepted: false, version: "", persisted: null, discovery: null, recordBack: "#/tasks",
};

function show(view) {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  const [, current = "tasks"] = (location.hash || "#/tasks").split("/");
  for (const tab of document.querySelectorAll(".tabs a")) {
    tab.classList.toggle("active", tab.dataset.tab.split(" ").includes(current));
  }
  const toastBox = $("toast");
  // A message about the screen being left goes with it; one just raised (e.g. "saved") stays.
  // The card screen is for the citizen to photograph: nothing covers it.
  const fresh = Date.now() - Number(toastBox.dataset.shownAt || 0) <= 1000;
  if (view === "card" || (app.view !== view && !fresh)) toastBox.hidden = true;
  app.view = view;
  document.body.dataset.view = view;
  window.scrollTo(0, 0);
}

const go = (hash) => { location.hash = hash; };
const findCase = (id) => app.data && app.data.cases.find((c) => String(c.id) === String(id));

/** Draw the screen the address names. */
async function render() {
  const [, name = "tasks", arg = ""] = (location.hash || "#/tasks").split("/");
  app.hash = location.hash;
  if (!app.data && name !== "login") return show("login");
  if (name === "login") {
    $("login-back").hidden = !app.data;
    $("login-form").elements.username.value ||= (await store.getMeta("username")) || "";
    return show("login");
  }
  if (name === "check" || name === "card") {
    const caseItem = findCase(arg);
    if (!caseItem) {
      toast("本网格的任务中没有这个案件。");
      return go("#/tasks");
    }
    if (name === "check") {
      app.recordBack = "#/tasks";
      const draft = await draftFor("onsite_check", caseItem.id);
      await openRecord({ kind: "onsite_check", caseItem, data: app.data, onSaved: recordSaved, draft });
      return show("record");
    }
    await openCardForm({ caseItem, data: app.data, onIssued: cardIssued });
    return show("card-issue");
  }
  if (name === "patrol") {
    app.recordBack = "#/tasks";
    const draft = await draftFor("patrol_discovery", null);
    await openRecord({ kind: "patrol_discovery", data: app.data, onSaved: recordSaved, draft });
    return show("record");
  }
  if (name === "patrols") {
    await renderPatrolToday(app.data);
    show("patrols");
    return locateForList(app.data, () => app.view === "patrols");
  }
  if (name === "checkin" || name === "discovery") return renderCheckin(name, arg);
  if (name === "card-view" && (await showCard(decodeURIComponent(arg)))) return show("card");
  if (name === "outbox") {
    await drawOutbox();
    return show("outbox");
  }
  if (name === "me") {
    await drawMe();
    return show("me");
  }
  renderTasks(app.data, await store.outboxItems());
  renderNews(app.data);
  return show("tasks");
}

/** The draft this user left in the form `kind` for `caseId` (null: a discovery) and, for a
 *  check-in's discovery, at the source `sourceId` (null: a discovery made away from one). */
async function draftFor(kind, caseId, sourceId = null) {
  const draft = await store.loadDraft(app.data.user.id);
  return draft && draft.kind === kind && (draft.case_id ?? null) === caseId
    && String(draft.checkin ? draft.checkin.source_id : null) === String(sourceId) ? draft : null;
}

/** The address of the form a draft was left in: the app reopens there after being killed. */
function draftHash(draft) {
  if (draft.kind === "onsite_check") return `#/check/${draft.case_id}`;
  return draft.checkin ? `#/discovery/${draft.checkin.source_id}` : "#/patrol";
}

let restoring = false;

/** Leaving a half-filled record asks first: its photos would be lost. */
async function onHashChange() {
  if (restoring) {
    restoring = false;
    return;
  }
  if (app.view === "checkin") closeCheckin();
  if (app.view === "record") {
    if (recordDirty() && !window.confirm("这条记录还没有保存。离开本页会删除草稿（已填内容和照片）。确定离开？")) {
      restoring = true;
      location.hash = app.hash;
      return;
    }
    await closeRecord({ discard: true });
  }
  await render();
}

/** The check-in at a source, or the discovery form that its "发现问题" opened. */
async function renderCheckin(name, arg) {
  const source = findSource(app.data, arg);
  if (!source) {
    toast("今日巡查清单中没有这个监管对象。");
    return go("#/patrols");
  }
  if (name === "discovery") {
    // The form needs the check-in's fix: after the app was killed it comes from the draft,
    // which keeps the check-in; with neither, the check-in starts again.
    const draft = await draftFor("patrol_discovery", null, source.id);
    if (draft && (!app.discovery || app.discovery.source.id !== source.id)) {
      app.discovery = discoveryAt(app.data, draft.checkin);
    }
    if (!app.discovery || app.discovery.source.id !== source.id) return go(`#/checkin/${source.id}`);
    app.recordBack = `#/checkin/${source.id}`;
    await openRecord({ kind: "patrol_discovery", data: app.data, onSaved: discoverySaved, checkin: app.discovery,
      draft: draft && draft.checkin.checkin_id === app.discovery.checkinId ? draft : null });
    return show("record");
  }
  openCheckin({ source, data: app.data, onDone: checkinSaved, onProblem: (found) => {
    app.discovery = found;
    go(`#/discovery/${source.id}`);
  } });
  return show("checkin");
}

async function afterQueued() {
  await updateCounts();
  requestBackgroundSync();
  if (api.isOnline() !== false) syncNow({ force: true });
}

async function recordSaved(item) {
  toast(api.isOnline() ? "已保存，正在上传。" : "已保存在本机，联网后自动上传。");
  app.view = null;
  go(item.body.case_id ? "#/tasks" : "#/outbox");
  await afterQueued();
}

async function checkinSaved() {
  toast(api.isOnline() ? "已打卡：未发现问题。正在上传。" : "已打卡：未发现问题。已保存在本机，联网后自动上传。");
  go("#/patrols");
  await afterQueued();
}

/** A discovery at a source was saved: its check-in ("发现问题") goes into the outbox behind it. */
async function discoverySaved(item) {
  await app.discovery.save(item.id);
  app.discovery = null;
  toast(api.isOnline() ? "已保存发现的问题和打卡，正在上传。" : "已保存发现的问题和打卡，联网后自动上传。");
  app.view = null;
  go("#/patrols");
  await afterQueued();
}

/** A track point was added or tracking paused: the counts and the patrol screen show it. */
async function trackChanged() {
  await updateCounts();
  if (app.view === "patrols") await refreshPatrolToday(app.data);
}

/** The patrol started or ended: upload what can go up, and redraw. */
async function patrolChanged() {
  await afterQueued();
  if (app.view === "patrols") await renderPatrolToday(app.data);
}

async function cardIssued(item) {
  go(`#/card-view/${encodeURIComponent(item.id)}`);
  await afterQueued();
}

/** The header: online or not (by a real request), and how many records wait. */
async function updateCounts() {
  const { pending, others, attention } = await store.outboxCounts(null, app.data ? app.data.user.id : null);
  const badge = $("pending");
  badge.dataset.count = pending;
  badge.dataset.attention = attention;
  badge.replaceChildren("待上传 ", h("b", {}, String(pending)));
  if (attention) badge.append(h("span", { class: "attention", title: "需处理的记录" }, `需处理 ${attention}`));
  if (others) badge.append(h("span", { class: "others", title: "其他用户在本机保存、待其本人登录后上传的记录" }, `他人 ${others}`));
  // "All done" from the last upload is no longer true once a record waits again.
  if (pending && document.body.dataset.syncState === "done") {
    document.body.dataset.syncState = api.isOnline() === false ? "offline" : "waiting";
    $("sync-status").textContent = SYNC_RESULTS[document.body.dataset.syncState];
  } else if (document.body.dataset.syncState === "done") {
    $("sync-status").textContent = others
      ? `本人的记录已全部处理；另有他人的 ${others} 条记录，需其本人登录后上传。` : SYNC_RESULTS.done;
  }
}

function showConnectivity(online) {
  const net = $("net");
  net.dataset.state = online ? "online" : "offline";
  net.textContent = online ? "在线" : "离线";
}

let drawnOutbox = "";

async function drawOutbox() {
  const userId = app.data ? app.data.user.id : null;
  const items = await store.outboxItems();
  drawnOutbox = outboxSignature(items);
  await renderOutbox(items, app.progress, userId, { keepServer, sendAsNew, retry, discard });
}

const outboxSignature = (items) => items.map((item) => `${item.key}:${item.state}`).join("|");

// The service worker tells the page when it sent the outbox itself, but a page it does not
// yet control (or one in the background) can miss the message: while the outbox is on
// screen, look again now and then and redraw if anything changed.
setInterval(async () => {
  if (app.view !== "outbox" || document.visibilityState !== "visible") return;
  if (outboxSignature(await store.outboxItems()) === drawnOutbox) return;
  await updateCounts();
  await drawOutbox();
}, 3000);

/** Drop this phone's copy of an outbox item once the inspector confirms `question`; say `done`. */
async function dropAfterAsking(item, question, done) {
  if (!window.confirm(question)) return;
  await store.dropItem(item.key);
  toast(done);
  await updateCounts();
  await drawOutbox();
}

/** Put an outbox item back in the queue (`requeue`: a store function of its key); say `done`. */
async function queueAgain(item, requeue, done) {
  await requeue(item.key);
  toast(done);
  await drawOutbox();
  await afterQueued();
}

/** A conflict settled for the server's version: this phone's copy goes, after one question. */
function keepServer(item) {
  const what = item.kind === "originals" ? "本机保存的这些原图" : "本机这条记录及其照片";
  return dropAfterAsking(item, `${what}将被删除，以服务器上的为准。确定？`, "已删除本机的记录，以服务器上的为准。");
}

/** A refused record the inspector gives up: it and its photos leave this phone, after one question. */
function discard(item) {
  return dropAfterAsking(item, "这条未被接收的记录及其照片将从本机删除。确定？", "已删除本机的记录。");
}

/** A refused record sent again as it is, once its reason has gone. */
function retry(item) {
  return queueAgain(item, store.retryItem, "已重新加入待上传。");
}

/** A conflict settled by sending this phone's version again under a new id. */
function sendAsNew(item) {
  return queueAgain(item, store.resendAsNew, "已作为新记录加入待上传。");
}

async function drawMe() {
  const user = app.data.user;
  $("me-name").textContent = `${user.full_name}（${user.username}）`;
  $("me-grid").textContent = app.data.grid ? app.data.grid.properties.name : "—";
  $("me-codes").textContent = `${await store.spareCodes(user.id)} 个`;
  let storage = app.persisted ? "已设为持久保存（浏览器不会自动清除）" : "未获持久保存许可：空间紧张时浏览器可能清除，请尽快上传";
  if (navigator.storage && navigator.storage.estimate) {
    const { usage } = await navigator.storage.estimate();
    storage += `；已用 ${(usage / 1048576).toFixed(1)} MB`;
  }
  $("me-storage").textContent = storage;
  $("me-version").textContent = app.version || "—";
}

/** Fetch fresh cases; keep the old copy when the server cannot be reached. */
async function refreshData() {
  try {
    const data = await pullBootstrap(app.data);
    await store.saveBootstrap(data);
    const newUser = !app.data || app.data.user.id !== data.user.id;
    app.data = data;
    signedIn();
    if (newUser) await resumePatrol(app.data);
    if (app.view === "tasks") renderTasks(app.data, await store.outboxItems());
    renderNews(app.data);
    if (app.view === "patrols") await renderPatrolToday(app.data);
  } catch (error) {
    if (error.status === 401) signedOutNow();
    return error;
  }
  return null;
}

async function topUpCodes() {
  if (!app.data || app.signedOut) return;
  try {
    document.body.dataset.spareCodes = await ensureCardCodes(app.data.user.id);
  } catch (error) {
    if (error.status === 401) signedOutNow();
  }
}

function signedIn() {
  app.signedOut = false;
  $("relogin").hidden = true;
}

/** The session ended: ask to sign in again; every unsent record stays where it is. */
function signedOutNow() {
  if (!app.data) return;
  const first = !app.signedOut;
  app.signedOut = true;
  $("relogin").hidden = false;
  if (first && app.view !== "record" && app.view !== "card-issue") go("#/login");
}

async function whenOnline() {
  if (!app.data) return;
  await refreshData();
  await syncNow({ force: true });
  await topUpCodes();
}

let probeTimer = null;

async function probeLoop() {
  clearTimeout(probeTimer);
  const online = await api.probe();
  probeTimer = setTimeout(probeLoop, online ? PROBE_ONLINE_MS : PROBE_OFFLINE_MS);
}

async function onOutboxEvent(event) {
  if (event.type === "progress") app.progress = event.phase === "settled" ? null : event;
  if (event.type === "result") {
    app.progress = null;
    if (event.state === "signed_out") signedOutNow();
    if (event.sent) toast(`已上传 ${event.sent} 条记录。`);
    if (event.state === "forbidden") toast(event.message);
  }
  if (event.type === "result") {
    $("sync-status").textContent = SYNC_RESULTS[event.state] || "";
    document.body.dataset.syncState = event.state;
  }
  await updateCounts();  // after the result: "all done" says whether others' records still wait
  if (app.view === "outbox") await drawOutbox();
  if (app.view === "card") await showCard(decodeURIComponent(location.hash.split("/")[2] || ""));
}

const SYNC_RESULTS = {
  done: "全部记录已处理。", offline: "网络不通，恢复后自动上传。", retry: "服务器暂时无法处理，稍后自动重试。",
  waiting: "稍后自动重试。", signed_out: "登录已过期，请重新登录后上传。",
  forbidden: "服务器拒绝了本账号的上传，记录仍保存在本机，请联系管理员。",
};

async function onLogin(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("login-error");
  error.hidden = true;
  form.querySelector("button").disabled = true;
  try {
    const me = await api.login(form.elements.username.value.trim(), form.elements.password.value);
    if (me.role !== "inspector") {
      await api.logout().catch(() => {});
      throw new api.ApiError(403, { message: "移动端供三级网格员使用；其他角色请使用电脑端办案台。" });
    }
    await store.setMeta("username", me.username);
    form.elements.password.value = "";
    const failure = await refreshData();
    if (!app.data || app.data.user.id !== me.id) {
      if (failure && failure.status === 401) throw new api.ApiError(401, { message: "登录未生效，请再登录一次。" });
      throw failure || new api.ApiError(0, null);
    }
    await keepStorage();
    go("#/tasks");
    await syncNow({ force: true });
    await topUpCodes();
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  } finally {
    form.querySelector("button").disabled = false;
  }
}

async function onLogout() {
  const { pending } = await store.outboxCounts(null, app.data ? app.data.user.id : null);
  const warning = pending
    ? `还有 ${pending} 条记录未上传。退出后它们仍保存在本机，需本人再次登录才能上传。确定退出？`
    : "确定退出登录？";
  if (!window.confirm(warning)) return;
  stopTracking();
  await api.logout().catch(() => {});
  await store.forgetBootstrap();
  const registration = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration() : null;
  if (registration && registration.active) registration.active.postMessage({ type: "CLEAR_DATA" });
  app.data = null;
  go("#/login");
}

/** Ask the browser not to evict the outbox when space runs low. */
async function keepStorage() {
  if (!navigator.storage || !navigator.storage.persist) return;
  app.persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
}

/** Register the worker; a new version waits until the inspector agrees to update. */
async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const { worker, scope } = document.body.dataset;
  const registration = await navigator.serviceWorker.register(worker, { scope });
  const offer = (waiting) => {
    $("update").hidden = false;
    $("update-now").onclick = () => {
      app.updateAccepted = true;
      waiting.postMessage({ type: "SKIP_WAITING" });
    };
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const installing = registration.installing;
    installing.addEventListener("statechange", () => {
      if (installing.state === "installed" && navigator.serviceWorker.controller) offer(installing);
    });
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (app.updateAccepted) window.location.reload();
  });
  await offlineReady();
}

/** Once a worker controls the page and holds the map files too, say so (tests wait for it). */
async function offlineReady() {
  const registration = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  const channel = new MessageChannel();
  const reply = new Promise((resolve) => { channel.port1.onmessage = (event) => resolve(event.data); });
  registration.active.postMessage({ type: "CACHE_DEFERRED" }, [channel.port2]);
  const answer = await reply;
  app.version = answer.version;
  $("me-version").textContent = app.version;
  document.body.dataset.offlineReady = String(answer.ok);
}

function wire() {
  initRecordForm({ onCancel: () => go(app.data ? app.recordBack : "#/login") });
  initPatrol({ onStarted: patrolChanged, onEnded: patrolChanged, onChange: trackChanged });
  initCards();
  initNews(() => app.data, store.saveBootstrap);
  listenToWorker();
  onOutbox(onOutboxEvent);
  api.onConnectivity((online) => {
    showConnectivity(online);
    if (online) whenOnline();
  });
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", onLogout);
  $("upload-now").addEventListener("click", async () => {
    $("sync-status").textContent = "正在上传…";
    if (!(await api.probe())) {
      $("sync-status").textContent = SYNC_RESULTS.offline;
      toast(SYNC_RESULTS.offline);
      return;
    }
    await syncNow({ force: true });
  });
  window.addEventListener("hashchange", onHashChange);
  window.addEventListener("online", probeLoop);
  window.addEventListener("offline", probeLoop);
  // Camera files wait for Wi-Fi: joining one sends them.
  if (navigator.connection) {
    navigator.connection.addEventListener("change", () => {
      if (self.FirstlineOutbox.onWifi() && app.data) syncNow({ force: true });
    });
  }
}

/** After the app was killed with a form open, go back to that form (it restores itself). */
async function resumeDraft() {
  const draft = await store.loadDraft(app.data.user.id);
  if (draft && location.hash !== draftHash(draft)) history.replaceState(null, "", draftHash(draft));
}

async function resumeSignedIn() {
  await refreshData();  // a 401 (nobody signed in on this phone) leaves the sign-in form
  if (!app.data) return;
  await store.setMeta("username", app.data.user.username);
  go("#/tasks");
  await syncNow({ force: true });
  await topUpCodes();
}

async function start() {
  wire();
  app.data = (await store.loadBootstrap()) || null;
  if (app.data) await resumePatrol(app.data);
  if (app.data) await resumeDraft();
  await store.purgeOld();
  await updateCounts();
  await render();
  registerWorker().catch(() => { document.body.dataset.offlineReady = "false"; });
  await probeLoop();
  // Reloaded between signing in and the first sync being stored: the session is still good,
  // so fetch the data now instead of asking for the password again.
  if (!app.data && api.isOnline()) await resumeSignedIn();
  if (app.data) document.body.dataset.spareCodes = await store.spareCodes(app.data.user.id);
  if (navigator.storage && navigator.storage.persisted) app.persisted = await navigator.storage.persisted();
  if (app.data && api.isOnline() === false) syncNow();
}

start();
