// The phone's own copy of everything (IndexedDB through the `idb` library): the inspector's
// bootstrap data, the outbox with its photos, the reserved contact-card codes, the patrol
// that is open on this phone (with its track, so a reload or a flat battery loses nothing),
// and the form being filled in (a draft, so an app killed in the field loses nothing either).

import { openDB } from "/vendor/idb/index.js";
import "./outbox-core.js";

import { newId } from "./util.js";

const core = self.FirstlineOutbox;
const KEEP_SENT_MS = 7 * 24 * 3600 * 1000;

let opened = null;

/** The open database (opened once per page). */
export function db() {
  opened ||= core.openFieldDB(openDB);
  return opened;
}

/** A value from the small key-value store. */
export async function getMeta(key) {
  return (await db()).get("meta", key);
}

/** Keep a value in the small key-value store. */
export async function setMeta(key, value) {
  return (await db()).put("meta", value, key);
}

/** This phone's id for card-code blocks, made once. */
export async function deviceId() {
  let id = await getMeta("device_id");
  if (!id) {
    id = newId();
    await setMeta("device_id", id);
  }
  return id;
}

/** The last bootstrap (user, grid, cases, settings) the server sent, or undefined. */
export async function loadBootstrap() {
  return (await db()).get("cache", "bootstrap");
}

/** Keep the bootstrap for offline use. */
export async function saveBootstrap(data) {
  return (await db()).put("cache", data, "bootstrap");
}

/** Forget the signed-in user's cached data (on sign-out); the outbox stays. */
export async function forgetBootstrap() {
  return (await db()).delete("cache", "bootstrap");
}

/** Every outbox item, oldest first. */
export async function outboxItems() {
  return (await db()).getAll("outbox");
}

/** One outbox item by its key ("inspection:<uuid>" or "card:<code>"). */
export async function outboxItem(key) {
  return (await db()).getFromIndex("outbox", "key", key);
}

/** Put an item back in the queue (used after the user fixed or confirmed something). */
export async function saveOutboxItem(item) {
  return (await db()).put("outbox", item);
}

/** The photos of one record, in the order they were taken. */
export async function photosOf(recordId) {
  const photos = await (await db()).getAllFromIndex("photos", "record_id", recordId);
  return photos.sort((a, b) => a.taken_ms - b.taken_ms);
}

/** Keep a photo taken for a record still being filled in. */
export async function saveDraftPhoto(photo) {
  return (await db()).put("photos", { ...photo, state: "draft" });
}

/** Drop a photo the inspector removed before saving the record. */
export async function deleteDraftPhoto(id) {
  const store = await db();
  const photo = await store.get("photos", id);
  if (photo && photo.state === "draft") await store.delete("photos", id);
}

/**
 * Queue a saved record and mark its photos as waiting, in one transaction; with `originals`,
 * the camera's files queue behind it, and the draft of `draftOf` (a user id) is gone at once.
 */
export async function queueInspection(item, photoIds, { originals = null, draftOf = null } = {}) {
  const tx = (await db()).transaction(["outbox", "photos", "meta"], "readwrite");
  const photos = tx.objectStore("photos");
  for (const id of photoIds) {
    const photo = await photos.get(id);
    await photos.put({ ...photo, state: "pending" });
  }
  await tx.objectStore("outbox").add(newItem(item));
  if (originals) await tx.objectStore("outbox").add(newItem(originals));
  if (draftOf !== null) await tx.objectStore("meta").delete(draftKey(draftOf));
  await tx.done;
}

const draftKey = (userId) => `draft:${userId}`;

/** The form this user was filling in when the app last stopped, or undefined. */
export async function loadDraft(userId) {
  return getMeta(draftKey(userId));
}

/** Keep the form being filled in (its photos are kept as they are taken, as drafts). */
export async function saveDraft(userId, draft) {
  return setMeta(draftKey(userId), draft);
}

/** Forget the form being filled in (discarded by the inspector), if it is still form `id`. */
export async function clearDraft(userId, id) {
  const draft = await loadDraft(userId);
  if (draft && draft.id === id) await (await db()).delete("meta", draftKey(userId));
}

/**
 * Drop a record the server already holds in another version, with its photos and the camera
 * files waiting behind it: the inspector chose the server's version. Dropping an originals
 * item drops only those files.
 */
export async function dropItem(key) {
  const tx = (await db()).transaction(["outbox", "photos"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const photos = tx.objectStore("photos");
  const item = await outbox.index("key").get(key);
  if (!item) return tx.done;
  const originals = item.kind === "originals" ? item : await outbox.index("key").get(`originals:${item.id}`);
  if (originals) {
    for (const id of originals.photo_ids) {
      const photo = await photos.get(id);
      if (photo) await photos.put({ ...photo, original: null, original_state: "dropped" });
    }
    await outbox.delete(originals.seq);
  }
  if (item.kind !== "originals") {
    for (const id of item.photo_ids || []) await photos.delete(id);
    await outbox.delete(item.seq);
  }
  return tx.done;
}

/**
 * Queue a refused record again as it is (the same id: nothing of it was stored), with its
 * refused photos: the inspector says the reason has gone (the case was assigned again).
 */
export async function retryItem(key) {
  const tx = (await db()).transaction(["outbox", "photos"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const photos = tx.objectStore("photos");
  const item = await outbox.index("key").get(key);
  if (item && item.state === "rejected") {
    for (const id of item.photo_ids || []) {
      const photo = await photos.get(id);
      if (photo && photo.state === "rejected") await photos.put({ ...photo, state: "pending", last_error: null });
    }
    await outbox.put({ ...item, state: "pending", last_error: null });
  }
  return tx.done;
}

/**
 * Send a conflicting check again as a new record: a new id and new photo ids (announced in
 * its body), the same content, the same photo files queued again, the camera files behind
 * it, and a check-in that waits for this discovery pointed at the new id. Returns the new key.
 */
export async function resendAsNew(key) {
  const tx = (await db()).transaction(["outbox", "photos"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const photos = tx.objectStore("photos");
  const old = await outbox.index("key").get(key);
  const id = newId();
  const ids = new Map(old.photo_ids.map((photoId) => [photoId, newId()]));
  for (const [oldId, freshId] of ids) {
    const photo = await photos.get(oldId);
    if (!photo) continue;
    const original = photo.original ? { original_state: "waiting" } : {};
    await photos.put({ ...photo, ...original, id: freshId, record_id: id, state: "pending", sent_at: null });
    await photos.delete(oldId);
  }
  const url = `/api/v1/inspections/${id}`;
  const body = { ...old.body, photos: (old.body.photos || []).map((p) => ({ ...p, id: ids.get(p.id) || p.id })) };
  await outbox.delete(old.seq);
  await outbox.add(newItem({ key: `inspection:${id}`, kind: "inspection", id, user_id: old.user_id, url, body,
    photo_ids: [...ids.values()], label: old.label, resent_from: old.id }));
  const originals = await outbox.index("key").get(`originals:${old.id}`);
  if (originals) {
    await outbox.delete(originals.seq);
    await outbox.add(newItem({ kind: "originals", key: `originals:${id}`, id, user_id: old.user_id, url,
      record_key: `inspection:${id}`, label: originals.label,
      photo_ids: originals.photo_ids.map((photoId) => ids.get(photoId) || photoId) }));
  }
  for (const other of await outbox.getAll()) {
    if (other.kind === "checkin" && other.state === "pending" && other.body.inspection_id === old.id) {
      await outbox.put({ ...other, body: { ...other.body, inspection_id: id } });
    }
  }
  await tx.done;
  return `inspection:${id}`;
}

/** Queue a contact card and mark its code as used, in one transaction. */
export async function queueCard(item, code) {
  const tx = (await db()).transaction(["outbox", "codes"], "readwrite");
  const codes = tx.objectStore("codes");
  await codes.put({ ...(await codes.get(code)), state: "used", used_at: Date.now() });
  await tx.objectStore("outbox").add(newItem(item));
  await tx.done;
}

/** Queue a patrol check-in (巡查打卡). */
export async function queueCheckin(item) {
  return (await db()).add("outbox", newItem(item));
}

/** The patrol this user has open on this phone, or undefined. */
export async function openPatrol(userId) {
  return getMeta(`open_patrol:${userId}`);
}

/**
 * Keep the patrol and put its latest version in the outbox. A patrol grows while it is open,
 * so the outbox holds ONE item per patrol whose body is the whole patrol so far, not one per
 * track point: the server merges the track. `revision` tells a replay that was sending an
 * older body to leave the item pending (outbox-core.js, settle). An item the server refused
 * stays as it is, for the inspector to see.
 */
export async function savePatrol(patrol, item) {
  const tx = (await db()).transaction(["outbox", "meta"], "readwrite");
  const meta = tx.objectStore("meta");
  if (patrol.ended_at) await meta.delete(`open_patrol:${patrol.user_id}`);
  else await meta.put(patrol, `open_patrol:${patrol.user_id}`);
  const outbox = tx.objectStore("outbox");
  const queued = await outbox.index("key").get(item.key);
  if (!queued) {
    await outbox.add(newItem({ ...item, revision: 1 }));
  } else if (queued.state === "pending" || queued.state === "sent") {
    const again = queued.state === "sent" ? { attempts: 0, next_try_at: 0, last_error: null } : {};
    await outbox.put({ ...queued, ...again, body: item.body, label: item.label, state: "pending",
      revision: (queued.revision || 0) + 1 });
  }
  await tx.done;
}

function newItem(item) {
  return { state: "pending", attempts: 0, next_try_at: 0, last_error: null, record_sent: false,
    response: null, created_at: Date.now(), ...item };
}

/**
 * How many records still wait to go up, and how many need the inspector's attention. Camera
 * files waiting for Wi-Fi are not records: they are listed on the outbox screen, not counted.
 */
export async function outboxCounts(items = null, userId = null) {
  const all = items || (await outboxItems());
  // On a shared phone, another user's records wait for them: counted apart, never as mine.
  const mine = (item) => userId === null || item.user_id === userId;
  const waiting = all.filter((item) => item.state === "pending" && item.kind !== "originals");
  return {
    pending: waiting.filter(mine).length,
    others: waiting.length - waiting.filter(mine).length,
    attention: all.filter((item) => mine(item) && (item.state === "conflict" || item.state === "rejected")).length,
  };
}

/** A free card code reserved for this user, or null. */
export async function freeCode(userId) {
  const codes = await (await db()).getAll("codes");
  const free = codes.filter((c) => c.state === "free" && c.user_id === userId);
  free.sort((a, b) => a.code.localeCompare(b.code));
  return free[0] ? free[0].code : null;
}

/** How many unused card codes this user has on this phone. */
export async function spareCodes(userId) {
  const codes = await (await db()).getAll("codes");
  return codes.filter((c) => c.state === "free" && c.user_id === userId).length;
}

/** Keep a block of codes the server reserved for this phone and user. */
export async function addCodes(codes, userId, device) {
  const tx = (await db()).transaction("codes", "readwrite");
  for (const code of codes) {
    await tx.store.put({ code, user_id: userId, device_id: device, state: "free", reserved_at: Date.now() });
  }
  await tx.done;
}

/**
 * Drop what the server confirmed more than a week ago, drafts nobody saved, and camera files
 * that found no Wi-Fi within a week (their checks went up with the phone's copies; the space
 * is needed for new photos).
 */
export async function purgeOld(now = Date.now()) {
  const store = await db();
  for (const item of await store.getAll("outbox")) {
    if (item.kind === "originals" && item.state === "pending" && now - item.created_at >= KEEP_SENT_MS) {
      await dropItem(item.key);
      continue;
    }
    if (item.state !== "sent" || now - item.sent_at < KEEP_SENT_MS) continue;
    if (item.kind !== "originals") for (const id of item.photo_ids || []) await store.delete("photos", id);
    await store.delete("outbox", item.seq);
  }
  for (const photo of await store.getAll("photos")) {
    if (photo.state === "draft" && now - photo.taken_ms > KEEP_SENT_MS) await store.delete("photos", photo.id);
  }
}
