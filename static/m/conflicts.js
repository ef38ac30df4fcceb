// A content conflict (409): the server already holds this id with other content. The outbox
// shows both versions in words, side by side, and offers the two ways out: keep the server's
// version (this phone's copy is dropped, after a question) or send this phone's version as a
// new record (new ids, the same content and photos). Nothing goes without that choice. When
// the record on the server is not the inspector's own, the server names only its id: then
// sending as new is the only way.

import { h, showTime } from "./util.js";

const FIELD_NAMES = {
  kind: "记录类型", case_id: "案件", captured_at: "记录时间", location: "位置", findings: "核查情况",
  notes: "情况说明", photos: "照片", discovery: "发现的问题", no_photo_reason: "无照片原因",
  started_at: "开始时间", ended_at: "结束时间", track: "轨迹", patrol_id: "所属巡查", source_id: "监管对象",
  outcome: "巡查结果", inspection_id: "发现的问题记录",
  handler_name: "承办人", handler_phone: "联系电话", handler_unit: "承办单位", expected_reply_at: "预计答复",
  issued_at: "发放时间", category: "污染类型", subcategory: "细分类型", sector: "行业", title: "标题",
  description: "问题描述", address: "地址",
};
const KINDS = { onsite_check: "现场核查", patrol_discovery: "巡查发现" };
// The order a person reads a record in (the server's JSON comes sorted by key).
const ORDER = Object.keys(FIELD_NAMES);
const ISO_TIME = /^\d{4}-\d\d-\d\dT/;

/** Whether the server's copy differs from ours, looking only at what the server shows. */
function differs(server, client) {
  if (Array.isArray(server) && (!Array.isArray(client) || server.length !== client.length)) return true;
  if (server !== null && typeof server === "object") {
    if (client === null || typeof client !== "object") return true;
    return Object.keys(server).some((key) => differs(server[key], client[key]));
  }
  if (typeof server === "string" && typeof client === "string" && ISO_TIME.test(server)) {
    return Date.parse(server) !== Date.parse(client);
  }
  return JSON.stringify(server) !== JSON.stringify(client ?? null);
}

/** A choice as words: "已找到" / "未找到", or "未选择" when the inspector chose neither. */
const choice = (value, yes, no) => (value === true ? yes : (value === false ? no : "未选择"));

function placeText(where) {
  if (!where || where.lon == null || where.lat == null) return "无位置";
  let how = "";
  if (where.source === "manual") how = "（地图手选）";
  else if (where.accuracy_m != null) how = `（精度 ±${Math.round(where.accuracy_m)} 米）`;
  return `北纬 ${where.lat.toFixed(5)}，东经 ${where.lon.toFixed(5)}${how}`;
}

function findingsText(findings) {
  const parts = [
    `污染源：${choice(findings.source_found, "已找到", "未找到")}`,
    `违法行为：${choice(findings.violation_found, "发现", "未发现")}`,
  ];
  if (findings.measures) parts.push(`措施：${findings.measures}`);
  if (findings.outcome) parts.push(`处理结果：${findings.outcome}`);
  return parts.join("；");
}

/** One field's value as a person reads it (never JSON). */
function readable(key, value) {
  if (value === null || value === undefined || value === "") return "（无）";
  if (key === "kind") return KINDS[value] || value;
  if (key === "location") return placeText(value);
  if (key === "findings") return findingsText(value);
  if (key === "photos") return `${value.length} 张`;
  if (key === "track") return `${value.length} 个轨迹点`;
  if (typeof value === "string" && ISO_TIME.test(value)) return showTime(value);
  if (typeof value === "boolean") return value ? "是" : "否";
  if (Array.isArray(value)) return `${value.length} 项`;
  if (typeof value === "object") {
    return Object.entries(value).filter(([, v]) => v !== null && v !== "")
      .map(([k, v]) => `${FIELD_NAMES[k] || k}：${readable(k, v)}`).join("；");
  }
  return String(value);
}

/** Whether the 409 shows the server's record (it is the inspector's own) rather than only its id. */
const showsServerRecord = (server) => Boolean(server) && typeof server === "object"
  && Object.keys(server).some((key) => key in FIELD_NAMES);

/** The two versions, field by field; the rows that differ are marked. */
function versionsTable(server, client) {
  const place = (key) => (ORDER.includes(key) ? ORDER.indexOf(key) : ORDER.length);
  const keys = Object.keys(server).filter((key) => key !== "id").sort((a, b) => place(a) - place(b));
  const rows = keys.map((key) => {
    const mine = client ? client[key] : undefined;
    const different = differs(server[key], mine);
    return h("tr", { class: different ? "differs" : null, "data-field": key },
      h("th", { scope: "row" }, FIELD_NAMES[key] || key, different ? " ≠" : ""),
      h("td", {}, readable(key, server[key])),
      h("td", {}, readable(key, mine)));
  });
  return h("table", { class: "versions" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", { scope: "col" }, "服务器上"), h("th", { scope: "col" }, "本机"))),
    h("tbody", {}, ...rows));
}

/**
 * What the inspector sees of a conflicting item and can do about it. `photos` are the item's
 * photos on the phone; `keepServer(item)` and `sendAsNew(item)` carry out the choice.
 */
export function conflictPanel(item, photos, { keepServer, sendAsNew }) {
  const errors = (item.last_error && item.last_error.errors) || {};
  const photoClash = item.kind === "originals" || photos.some((photo) => photo.state === "conflict");
  const own = !photoClash && showsServerRecord(errors.server);
  const parts = [];
  if (item.kind === "originals") parts.push(h("p", { class: "error" }, "服务器上这张照片已有另一份原图，未覆盖。"));
  else if (photoClash) parts.push(h("p", { class: "error" }, "服务器上同编号的照片是另一张照片，未覆盖。"));
  else if (own) parts.push(h("p", { class: "error" }, "服务器上已有这条记录，但内容与本机不同："), versionsTable(errors.server, errors.client));
  else parts.push(h("p", { class: "error" }, "服务器上已有同编号的其他记录。"));
  const buttons = [];
  if (own || photoClash) {
    buttons.push(h("button", { type: "button", class: "small secondary", onclick: () => keepServer(item) }, "保留服务器上的版本"));
  }
  if (item.kind === "inspection") {
    buttons.push(h("button", { type: "button", class: "small primary", onclick: () => sendAsNew(item) }, "作为新记录发送"));
  }
  if (!buttons.length) parts.push(h("p", { class: "muted" }, "本机记录已保留，请联系二级网格核对。"));
  return h("div", { class: "conflict" }, ...parts, buttons.length ? h("div", { class: "row wrap" }, ...buttons) : null);
}
