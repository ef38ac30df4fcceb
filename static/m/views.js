// Lists drawn from the phone's own data: the task list, the outbox with each item's state.
// (Today's patrol list is drawn by patrol.js; a conflict's two versions by conflicts.js.)

import { conflictPanel } from "./conflicts.js";
import { navigationLinks } from "./geo.js";
import { photosOf } from "./store.js";
import { $, h, labelsOf, showTime, timeLeft } from "./util.js";

/** The colour a case shows now: a deadline that passed while offline turns red at once, and
 *  one whose time is mostly used turns yellow at the time the server said (`yellow_from`). */
export function deadlineState(caseItem, now = Date.now()) {
  const open = caseItem.deadline_state !== "closed" && caseItem.deadline_state !== "none";
  if (open && caseItem.due_at && new Date(caseItem.due_at).getTime() < now) return "red";
  if (open && caseItem.yellow_from && new Date(caseItem.yellow_from).getTime() <= now) return "yellow";
  return caseItem.deadline_state || "none";
}

/** Open cases, nearest deadline first; cases without a deadline last. */
export function byDeadline(cases) {
  const due = (c) => (c.due_at ? new Date(c.due_at).getTime() : Infinity);
  return [...cases].sort((a, b) => due(a) - due(b) || a.number.localeCompare(b.number));
}

function petitionerLine(petitioner) {
  if (!petitioner || petitioner.anonymous) return "信访人：匿名";
  return `信访人：${petitioner.name || "—"}　${petitioner.phone || ""}`;
}

function taskItem(caseItem, localCounts, names, onsiteStates) {
  const state = deadlineState(caseItem);
  const links = caseItem.location ? navigationLinks(caseItem.location.lon, caseItem.location.lat, caseItem.title) : null;
  const counts = localCounts.get(caseItem.id) || { checks: 0, cards: 0 };
  const done = [];
  if (counts.checks) done.push(`本机已核查 ${counts.checks} 次`);
  if (counts.cards) done.push(`已发联系卡 ${counts.cards} 张`);
  return h("li", { class: `task state-${state}`, "data-case-id": caseItem.id, "data-number": caseItem.number, "data-state": state },
    h("div", { class: "task-head" },
      h("span", { class: "chip" }, names[state]),
      h("strong", {}, caseItem.number),
      caseItem.due_at ? h("span", { class: "due" }, `${timeLeft(caseItem.due_at)}（${showTime(caseItem.due_at)}）`) : null),
    h("p", { class: "title" }, caseItem.title),
    h("p", { class: "muted" }, `${caseItem.category_label} · ${caseItem.status_label} · ${caseItem.address || "无地址"}`),
    h("p", { class: "muted" }, petitionerLine(caseItem.petitioner)),
    done.length ? h("p", { class: "done" }, done.join("，")) : null,
    h("div", { class: "actions" },
      takesCheck(caseItem, onsiteStates)
        ? h("a", { class: "button primary", href: `#/check/${caseItem.id}` }, "现场核查")
        : h("span", { class: "muted" }, "待交办后可现场核查"),
      h("a", { class: "button", href: `#/card/${caseItem.id}` }, "联系卡"),
      links ? h("a", { class: "button", href: links.geo }, "导航") : null,
      links ? h("a", { class: "button", href: links.amap, target: "_blank", rel: "noopener" }, "高德") : null));
}

/** Whether the case takes an on-site check now (a bootstrap cached before it said: always). */
function takesCheck(caseItem, onsiteStates) {
  return !onsiteStates || onsiteStates.includes(caseItem.status);
}

/** What this phone already did per case (so the list shows it before the server knows). */
function localCountsByCase(items) {
  const counts = new Map();
  for (const item of items) {
    const caseId = item.body && item.body.case_id;
    if (!caseId || item.state === "rejected") continue;  // refused: not done, whatever the phone holds
    const entry = counts.get(caseId) || { checks: 0, cards: 0 };
    if (item.kind === "card") entry.cards += 1;
    else entry.checks += 1;
    counts.set(caseId, entry);
  }
  return counts;
}

/** Draw the task list from the cached bootstrap. */
export function renderTasks(data, items) {
  $("grid-name").textContent = data.grid ? data.grid.properties.name : "";
  $("data-age").textContent = `案件数据时间：${showTime(data.server_time)}`;
  const counts = localCountsByCase(items.filter((item) => item.user_id === data.user.id));
  const cases = byDeadline(data.cases);
  const names = labelsOf(data, "deadline_states");
  $("task-list").replaceChildren(...cases.map((c) => taskItem(c, counts, names, data.onsite_states)));
  $("no-tasks").hidden = cases.length > 0;
}

const ITEM_STATES = {
  pending: "待上传", sent: "已上传", conflict: "冲突：服务器上已有不同内容", rejected: "服务器未接收",
};
const PHOTO_STATES = { draft: "未保存", pending: "待上传", sent: "已上传", conflict: "冲突", rejected: "未接收" };

function itemStateText(item, progress) {
  if (item.state === "pending" && progress && progress.key === item.key) {
    if (progress.phase === "photo") return `正在上传第 ${progress.index + 1} 张照片…`;
    if (progress.phase === "original") return `正在上传第 ${progress.index + 1} 张原图…`;
    return "正在上传…";
  }
  if (item.state === "pending" && item.attempts) {
    return `待重试（已试 ${item.attempts} 次，${showTime(new Date(item.next_try_at).toISOString())} 再试）`;
  }
  if (item.kind === "originals" && item.state === "pending") {
    return self.FirstlineOutbox.onWifi() ? "待上传" : "等待连接 Wi-Fi";
  }
  return ITEM_STATES[item.state];
}

/** What the server said about a check that does not count as on-site until a supervisor accepts it. */
function serverFlags(response) {
  const flags = [];
  if (response.far_from_case) flags.push(`距案件 ${Math.round(response.distance_to_case_m)} 米`);
  if (response.poor_accuracy) flags.push("定位精度不足");
  if (response.incomplete) flags.push(...(response.missing || ["内容不全"]));
  return `服务器标记：${flags.join("、") || "待审核"}。须主管确认后才计为现场核查。`;
}

/** When a record was made, as its body says (camera files waiting for Wi-Fi have no body). */
function recordTime(item) {
  if (!item.body) return "原图只在连接 Wi-Fi 时上传；一周内未上传的只保留已上传的压缩照片。";
  return `记录时间 ${showTime(item.body.captured_at || item.body.issued_at || item.body.started_at)}`
    + (item.kind === "card" ? ` · 卡号 ${item.id}` : "");
}

async function outboxItem(item, progress, userId, actions) {
  const photos = item.kind === "inspection" ? await photosOf(item.id) : [];
  const error = item.last_error && item.state !== "sent" ? item.last_error.message : null;
  const other = item.state === "pending" && item.user_id !== userId;
  const response = item.response || {};
  return h("li", { class: `outbox-item is-${item.state}`, "data-key": item.key, "data-state": item.state },
    h("div", { class: "task-head" }, h("strong", {}, item.label), h("span", { class: "chip" }, itemStateText(item, progress))),
    h("p", { class: "muted" }, recordTime(item)),
    photos.length ? h("p", { class: "muted" }, photos.map((p, i) => `照片${i + 1}：${PHOTO_STATES[p.state]}`).join("　")) : null,
    response.case_number && item.kind === "inspection" && !item.body.case_id
      ? h("p", {}, `已登记为新案件 ${response.case_number}`) : null,
    response.outside_own_grid ? h("p", { class: "warn-text" }, "服务器标记：位置不在本网格内") : null,
    response.outside_radius && item.kind === "checkin"
      ? h("p", { class: "warn-text" }, `服务器标记：超出打卡范围（距对象 ${Math.round(response.distance_m)} 米）`) : null,
    response.counts_as_onsite === false && item.kind === "inspection" && item.body.kind === "onsite_check"
      ? h("p", { class: "warn-text" }, serverFlags(response)) : null,
    error && item.state !== "conflict" ? h("p", { class: item.state === "pending" ? "muted" : "error" }, error) : null,
    item.state === "conflict" ? conflictPanel(item, photos, actions) : null,
    item.state === "rejected" ? h("div", { class: "actions" },
      h("button", { type: "button", class: "small primary", onclick: () => actions.retry(item) }, "重新上传"),
      h("button", { type: "button", class: "small", onclick: () => actions.discard(item) }, "删除本机记录"),
      h("p", { class: "muted" }, "情况改变后（例如案件重新交办）可重新上传；照片和位置都还在本机。")) : null,
    other ? h("p", { class: "warn-text" }, "此记录由另一位用户保存，需该用户登录后才能上传。") : null,
    item.kind === "card" ? h("a", { class: "button small", href: `#/card-view/${encodeURIComponent(item.id)}` }, "查看联系卡") : null);
}

/**
 * Draw the outbox, newest first, each with its state and its photos' states; a conflict
 * offers `actions.keepServer(item)` and `actions.sendAsNew(item)`, a refused record
 * `actions.retry(item)` and `actions.discard(item)`.
 */
export async function renderOutbox(items, progress, userId, actions) {
  const rows = await Promise.all([...items].reverse().map((item) => outboxItem(item, progress, userId, actions)));
  $("outbox-list").replaceChildren(...rows);
  $("outbox-empty").hidden = rows.length > 0;
}
