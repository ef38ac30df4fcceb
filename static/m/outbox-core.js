// The outbox: records, photos, contact cards, patrols and check-ins wait in IndexedDB until
// the server confirms them (ODK/Enketo style: the phone makes each id at capture time; the
// server answers the same id with the same content as success, with other content as 409).
// A patrol is the one record that changes while it waits: it is resent whole as it grows.
// The camera's untouched files of a check wait in their own item behind it ("originals"),
// sent only on Wi-Fi and never holding up the records queued after them.
//
// A classic script, not a module, because both sides replay the outbox: the page imports it
// for its side effect, and the service worker loads it with importScripts for Background
// Sync (service workers cannot import modules in every browser). Everything hangs off
// self.FirstlineOutbox.
(function (root) {
  "use strict";

  const DB_NAME = "firstline-field";
  const DB_VERSION = 1;
  const LOCK_NAME = "firstline-outbox";
  const RETRY_BASE_MS = 2000;
  const RETRY_CAP_MS = 5 * 60 * 1000;
  const RECORD_TIMEOUT_MS = 20000;
  const PHOTO_TIMEOUT_MS = 120000;
  const ME_URL = "/api/v1/me";

  /** Open (and on first use create) the app's database with the given idb `openDB`. */
  function openFieldDB(openDB) {
    return openDB(DB_NAME, DB_VERSION, {
      upgrade(db) {
        db.createObjectStore("meta");
        db.createObjectStore("cache");
        const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        outbox.createIndex("key", "key", { unique: true });
        const photos = db.createObjectStore("photos", { keyPath: "id" });
        photos.createIndex("record_id", "record_id");
        db.createObjectStore("codes", { keyPath: "code" });
      },
    });
  }

  /**
   * Exponential backoff capped at 5 minutes: 2 s, 4 s, 8 s … less up to 20 % at random, so
   * phones that regain signal together do not all call at once.
   */
  function retryDelay(attempts) {
    const exponential = RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1);
    return Math.round(Math.min(RETRY_CAP_MS, exponential) * (1 - Math.random() * 0.2));
  }

  /** Run `task` while holding the outbox lock, so the page and the worker never replay at once. */
  function runExclusive(task) {
    const locks = root.navigator && root.navigator.locks;
    return locks ? locks.request(LOCK_NAME, task) : task();
  }

  /**
   * Whether the phone is on Wi-Fi now. Only Chromium on Android (and ChromeOS) says so
   * (navigator.connection.type); where the browser cannot tell, the answer is no: a
   * camera's file of several MB is never sent over a connection that may be paid by the MB.
   */
  function onWifi() {
    const connection = root.navigator && root.navigator.connection;
    return Boolean(connection) && connection.type === "wifi";
  }

  /** Milliseconds a Retry-After header asks to wait (seconds or an HTTP date), or null. */
  function retryAfterMs(value, now) {
    if (!value) return null;
    const wait = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - now;
    return Number.isFinite(wait) ? Math.min(RETRY_CAP_MS, Math.max(0, wait)) : null;
  }

  /** One HTTP call with a timeout; never throws: status 0 means the network did not answer. */
  async function call(env, method, url, body, headers, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await env.fetch(url, {
        method, body, headers, credentials: "same-origin", cache: "no-store", signal: controller.signal,
      });
      let data = null;
      try {
        data = await response.json();
      } catch (error) {
        data = null;
      }
      return { status: response.status, data, retryAfter: retryAfterMs(response.headers.get("Retry-After"), env.now()) };
    } catch (error) {
      return { status: 0, data: null, retryAfter: null };
    } finally {
      clearTimeout(timer);
    }
  }

  /** What an answer means for the outbox. */
  function verdict(answer) {
    const { status, data } = answer;
    if (status === 200 || status === 201) return "ok";
    if (status === 401) return "signed_out";
    // An account-wide refusal (e.g. a password the administrator set must be changed first):
    // the records are fine, so they wait, in order, instead of being marked as refused.
    if (status === 403) return "forbidden";
    if (status === 400 && data && /CSRF/.test(data.message || "")) return "csrf";
    // 409 is a content conflict only: a passing clash on the server (two uploads racing, a
    // busy database) answers 503 (or 429) with Retry-After, and is simply tried again.
    if (status === 409) return "conflict";
    if (status === 0 || status === 408 || status === 429 || status >= 500) return "retry";
    return "rejected";
  }

  /** The error to keep beside an item, in words the inspector can read. */
  function describe(answer) {
    if (answer.status === 0) return { status: 0, message: "网络不通，稍后自动重试。" };
    const data = answer.data || {};
    return { status: answer.status, message: data.message || `服务器返回 ${answer.status}。`, errors: data.errors || {} };
  }

  /** Send an inspection's record (once) and then each photo the server still lacks, in order. */
  async function sendInspection(db, item, env) {
    const json = { "Content-Type": "application/json", "X-CSRFToken": env.csrf };
    if (!item.record_sent) {
      env.onProgress({ key: item.key, phase: "record" });
      const answer = await call(env, "PUT", item.url, JSON.stringify(item.body), json, RECORD_TIMEOUT_MS);
      const result = verdict(answer);
      if (result !== "ok") return { result, answer };
      item.record_sent = true;
      item.response = answer.data;
      await db.put("outbox", item);
    }
    const missing = new Set((item.response && item.response.missing_photos) || item.photo_ids);
    for (const [index, photoId] of item.photo_ids.entries()) {
      const photo = await db.get("photos", photoId);
      if (!photo || photo.state === "sent") continue;
      if (!missing.has(photoId)) {
        await db.put("photos", { ...photo, state: "sent", sent_at: env.now() });
        continue;
      }
      env.onProgress({ key: item.key, phase: "photo", index });
      const headers = { "Content-Type": photo.type, "X-Content-SHA256": photo.sha256, "X-CSRFToken": env.csrf };
      const answer = await call(env, "PUT", `${item.url}/photos/${photoId}`, photo.blob, headers, PHOTO_TIMEOUT_MS);
      const result = verdict(answer);
      if (result === "conflict" || result === "rejected") {
        await db.put("photos", { ...photo, state: result, last_error: describe(answer) });
      }
      if (result !== "ok") return { result, answer };
      await db.put("photos", { ...photo, state: "sent", sent_at: env.now() });
    }
    return { result: "ok", answer: null };
  }

  /**
   * Send the camera's untouched files of a check (X-Photo-Variant: original), on Wi-Fi only
   * and once the check itself is on the server. "later" leaves the item pending without
   * holding up the queue; each file sent is dropped from the phone at once (it is large).
   */
  async function sendOriginals(db, item, env) {
    const record = (await db.getAll("outbox")).find((other) => other.key === item.record_key);
    if (!env.onWifi() || (record && record.state !== "sent")) return { result: "later", answer: null };
    for (const [index, photoId] of item.photo_ids.entries()) {
      const photo = await db.get("photos", photoId);
      if (!photo || !photo.original || photo.original_state === "sent") continue;
      env.onProgress({ key: item.key, phase: "original", index });
      const headers = { "Content-Type": photo.original_type, "X-Content-SHA256": photo.original_sha256,
        "X-Photo-Variant": "original", "X-CSRFToken": env.csrf };
      const answer = await call(env, "PUT", `${item.url}/photos/${photoId}`, photo.original, headers, PHOTO_TIMEOUT_MS);
      const result = verdict(answer);
      if (result === "conflict" || result === "rejected") {
        await db.put("photos", { ...photo, original_state: result });
      }
      if (result !== "ok") return { result, answer };
      await db.put("photos", { ...photo, original: null, original_state: "sent" });
    }
    return { result: "ok", answer: null };
  }

  /** Send a record that has no photos: a contact card, a patrol, a patrol check-in. */
  async function sendJson(db, item, env) {
    env.onProgress({ key: item.key, phase: "record" });
    const headers = { "Content-Type": "application/json", "X-CSRFToken": env.csrf };
    const answer = await call(env, "PUT", item.url, JSON.stringify(item.body), headers, RECORD_TIMEOUT_MS);
    const result = verdict(answer);
    if (result === "ok") item.response = answer.data;
    return { result, answer };
  }

  /** Record what happened to one item; returns true when the replay goes on to the next item. */
  async function settle(db, item, outcome, env) {
    const fresh = await db.get("outbox", item.seq);
    if (!fresh) return true;
    const merged = { ...fresh, record_sent: item.record_sent, response: item.response };
    if (outcome.result === "ok" && (fresh.revision || 0) !== (item.revision || 0)) {
      // A patrol that grew while its older version was on the way: the new one goes next.
      Object.assign(merged, { attempts: 0, next_try_at: 0, last_error: null });
    } else if (outcome.result === "ok") {
      Object.assign(merged, { state: "sent", sent_at: env.now(), attempts: 0, next_try_at: 0, last_error: null });
    } else if (outcome.result === "conflict" || outcome.result === "rejected") {
      Object.assign(merged, { state: outcome.result, last_error: describe(outcome.answer) });
    } else if (outcome.result === "retry") {
      const attempts = (fresh.attempts || 0) + 1;
      const wait = outcome.answer.retryAfter ?? retryDelay(attempts);
      Object.assign(merged, { attempts, next_try_at: env.now() + wait, last_error: describe(outcome.answer) });
    }
    await db.put("outbox", merged);
    env.onProgress({ key: item.key, phase: "settled", state: merged.state });
    return outcome.result === "ok" || outcome.result === "conflict" || outcome.result === "rejected";
  }

  const SENDERS = { inspection: sendInspection, originals: sendOriginals };

  /** Ask the server who is signed in: the CSRF token for the writes, and a real connectivity check. */
  async function whoAmI(env) {
    const answer = await call(env, "GET", ME_URL, undefined, { Accept: "application/json" }, RECORD_TIMEOUT_MS);
    if (answer.status === 200 && answer.data) return { state: "ok", me: answer.data };
    if (answer.status === 401) return { state: "signed_out" };
    return { state: answer.status === 0 ? "offline" : "retry", status: answer.status };
  }

  /**
   * Replay the outbox in order, oldest first: a record, then its photos.
   *
   * Stops at the first item that must wait (network or server trouble: it stays at the front
   * with a later retry time, the server's Retry-After when it gave one) and on 401 (nothing is
   * touched; the app asks to sign in again). A 409 or another refusal is kept on the phone,
   * shown, and skipped. Originals off Wi-Fi are passed over. `force` ignores the backoff
   * times (the "upload now" button, the online event, Background Sync).
   */
  async function replay(db, options) {
    const env = { fetch: options.fetch, now: options.now || Date.now, onProgress: options.onProgress || (() => {}),
      onWifi: options.onWifi || onWifi };
    const pending = (await db.getAll("outbox")).filter((item) => item.state === "pending");
    if (!pending.length) return { state: "done", sent: 0 };
    const due = Math.min(...pending.map((item) => item.next_try_at || 0));
    if (!options.force && due > env.now()) return { state: "waiting", until: due, sent: 0 };
    const who = await whoAmI(env);
    if (who.state !== "ok") return { state: who.state, sent: 0 };
    env.csrf = who.me.csrf_token;
    let sent = 0;
    for (const item of pending) {
      if (item.user_id !== who.me.id) continue;
      if (!options.force && item.next_try_at > env.now()) return { state: "waiting", until: item.next_try_at, sent };
      const send = SENDERS[item.kind] || sendJson;
      let outcome = await send(db, item, env);
      if (outcome.result === "later") continue;
      if (outcome.result === "csrf") {
        const again = await whoAmI(env);
        if (again.state !== "ok") return { state: again.state, sent };
        env.csrf = again.me.csrf_token;
        outcome = await send(db, item, env);
        if (outcome.result === "csrf") outcome = { result: "retry", answer: outcome.answer };
      }
      if (outcome.result === "signed_out") return { state: "signed_out", sent };
      if (outcome.result === "forbidden") return { state: "forbidden", message: describe(outcome.answer).message, sent };
      const goOn = await settle(db, item, outcome, env);
      if (!goOn) {
        const fresh = await db.get("outbox", item.seq);
        return { state: outcome.answer.status === 0 ? "offline" : "retry", until: fresh.next_try_at, sent };
      }
      if (outcome.result === "ok") sent += 1;
    }
    return { state: "done", sent };
  }

  root.FirstlineOutbox = { DB_NAME, RETRY_BASE_MS, RETRY_CAP_MS, openFieldDB, onWifi, retryDelay, runExclusive, replay };
})(self);
