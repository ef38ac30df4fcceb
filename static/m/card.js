// The contact card (联系卡): issued on the spot, offline too, with a code from the block this
// phone reserved in advance. The citizen photographs it, gets it by SMS, or takes a print; its
// QR code opens the public status page /c/<code>.

import qrcode from "/vendor/qrcode-generator/qrcode.mjs";

import { quickFix } from "./geo.js";
import { caseSummary } from "./record-form.js";
import { deviceId, freeCode, outboxItem, queueCard, spareCodes } from "./store.js";
import { $, fromLocalInput, isoWithOffset, showTime, toLocalInput } from "./util.js";

let issuing = null;

/** The public status page of a card, as the QR code carries it. */
export const statusUrl = (code) => `${location.origin}/c/${encodeURIComponent(code)}`;

/** Fill the issue form for a case: the handler defaults to the case's responsible person. */
export async function openCardForm({ caseItem, data, onIssued }) {
  const handler = caseItem.responsible_person || {
    name: data.user.full_name, phone: data.user.phone, unit: data.user.unit,
  };
  const form = $("card-form");
  form.reset();
  form.elements.handler_name.value = handler.name || "";
  form.elements.handler_phone.value = handler.phone || "";
  form.elements.handler_unit.value = handler.unit || (caseItem.department && caseItem.department.name) || "";
  form.elements.expected_reply_at.value = toLocalInput(caseItem.due_at);
  $("card-case").replaceChildren(...caseSummary(caseItem));
  $("card-error").hidden = true;
  const spare = await spareCodes(data.user.id);
  $("card-codes").textContent = `本机还有 ${spare} 个联系卡编号可用（离线也能发卡）。`;
  issuing = { caseItem, data, onIssued };
  quickFix();  // start finding the issuing place while the form is filled in
}

async function issue(event) {
  event.preventDefault();
  const { caseItem, data, onIssued } = issuing;
  const form = event.target.elements;
  const code = await freeCode(data.user.id);
  if (!code) {
    const box = $("card-error");
    box.textContent = "本机的联系卡编号已用完：请联网后再发卡（联网时会自动预留新编号）。";
    box.hidden = false;
    return;
  }
  const replyAt = fromLocalInput(form.expected_reply_at.value);
  if (replyAt && Date.parse(replyAt) < Date.now()) {
    const box = $("card-error");
    box.textContent = "预计答复时间已过，请改为今后的时间（或留空）。";
    box.hidden = false;
    form.expected_reply_at.focus();
    return;
  }
  const where = await quickFix();
  const body = {
    case_id: caseItem.id,
    handler_name: form.handler_name.value.trim(),
    handler_phone: form.handler_phone.value.trim(),
    handler_unit: form.handler_unit.value.trim(),
    expected_reply_at: replyAt,
    issued_at: isoWithOffset(),
    location: where ? { lon: where.lon, lat: where.lat } : null,
    device_id: await deviceId(),
  };
  const item = {
    key: `card:${code}`, kind: "card", id: code, user_id: data.user.id,
    url: `/api/v1/contact-cards/${encodeURIComponent(code)}`, body,
    label: `联系卡 ${caseItem.number}`, case_number: caseItem.number,
  };
  await queueCard(item, code);
  onIssued(item);
}

/** The text of the SMS the inspector can send the citizen. */
export function smsText(item) {
  const b = item.body;
  const reply = b.expected_reply_at ? `，预计${showTime(b.expected_reply_at)}前答复` : "";
  return `【环境信访联系卡】您反映的问题（案件编号${item.case_number}）由${b.handler_unit}${b.handler_name}`
    + `负责办理，电话${b.handler_phone}${reply}。查询进度：${statusUrl(item.id)}`;
}

/** Show an issued card, QR code drawn on the phone (works offline). */
export async function showCard(code) {
  const item = await outboxItem(`card:${code}`);
  if (!item) return false;
  const card = $("contact-card");
  const b = item.body;
  const fields = {
    case_number: item.case_number, handler_name: b.handler_name, handler_phone: b.handler_phone,
    handler_unit: b.handler_unit, expected_reply: b.expected_reply_at ? showTime(b.expected_reply_at) : "办理后尽快答复",
    status_url: statusUrl(code), code, issued: showTime(b.issued_at),
  };
  for (const [name, value] of Object.entries(fields)) card.querySelector(`[data-field="${name}"]`).textContent = value;
  const qr = qrcode(0, "M");
  qr.addData(statusUrl(code));
  qr.make();
  const box = card.querySelector('[data-field="qr"]');
  box.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true, alt: `联系卡二维码 ${code}` });
  card.dataset.code = code;
  $("card-sms").href = `sms:?body=${encodeURIComponent(smsText(item))}`;
  $("card-state").textContent = item.state === "sent" ? "已上传到服务器。" : "已保存在本机，联网后自动上传。";
  return true;
}

/** Full screen for the citizen to photograph; a tap anywhere closes it. */
async function fullScreen() {
  const card = $("contact-card");
  card.classList.add("fullscreen");
  card.addEventListener("click", () => {
    card.classList.remove("fullscreen");
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  }, { once: true });
  if (card.requestFullscreen) await card.requestFullscreen().catch(() => {});
}

/** Wire the card controls once, at start-up. */
export function initCards() {
  $("card-form").addEventListener("submit", issue);
  $("card-full").addEventListener("click", fullScreen);
  $("card-print").addEventListener("click", () => window.print());
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement) $("contact-card").classList.remove("fullscreen");
  });
}
