// Small helpers shared by the field app's modules: DOM building, ids, times.

/** Build an element: h("a", { href: "#", class: "button" }, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

/** The words of one of the server's vocabularies, sent in the bootstrap's `labels` ("deadline_states",
 *  "patrol_states"); empty for a bootstrap cached before it carried them, until the next refresh. */
export const labelsOf = (data, vocabulary) => (data && data.labels && data.labels[vocabulary]) || {};

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new random UUID, made on the phone at capture time. */
export const newId = () => crypto.randomUUID();

const pad = (n, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, "0");

/** ISO-8601 in the device's own time with its UTC offset, e.g. 2026-10-20T09:30:05.120+08:00. */
export function isoWithOffset(date = new Date()) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:`
    + `${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
    + `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

/** The city's time zone (the shell names it). */
export const cityZone = () => document.body.dataset.timeZone || "Asia/Shanghai";

/** The UTC offset of `timeZone` at the instant `ms`, as ISO 8601 writes it: "+08:00". */
export function zoneOffset(timeZone, ms) {
  const format = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" });
  const name = format.formatToParts(new Date(ms)).find((part) => part.type === "timeZoneName").value;
  const match = /[+-]\d\d:\d\d$/.exec(name);
  return match ? match[0] : "+00:00";
}

/** A time as people in the city read it: "10月20日 09:30". */
export function showTime(iso) {
  if (!iso) return "—";
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: cityZone(), year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  });
  for (const { type, value } of format.formatToParts(new Date(iso))) parts[type] = value;
  const thisYear = format.formatToParts(new Date()).find((part) => part.type === "year").value;
  // Another year is written out: "1月1日" of 1999 must not read as next month.
  const year = parts.year === thisYear ? "" : `${parts.year}年`;
  return `${year}${Number(parts.month)}月${Number(parts.day)}日 ${parts.hour}:${parts.minute}`;
}

/** "还剩 2 天" / "已超期 5 小时" for a deadline, from now. */
export function timeLeft(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  const hours = Math.abs(ms) / 3600000;
  const amount = hours >= 48 ? `${Math.floor(hours / 24)} 天` : `${Math.max(1, Math.floor(hours))} 小时`;
  return ms >= 0 ? `还剩 ${amount}` : `已超期 ${amount}`;
}

/** The value for an <input type="datetime-local"> showing an ISO time in device time. */
export function toLocalInput(iso) {
  if (!iso) return "";
  return isoWithOffset(new Date(iso)).slice(0, 16);
}

/** An <input type="datetime-local"> value back as ISO with the device's offset, or null. */
export function fromLocalInput(value) {
  return value ? isoWithOffset(new Date(value)) : null;
}

/** A short message at the bottom of the screen that fades by itself. */
export function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.dataset.shownAt = Date.now();
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}
