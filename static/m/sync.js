// When the outbox goes up: on app start, on the browser's online event, on the service
// worker's Background Sync event (Chromium), from the "upload now" button, and at each
// retry time the backoff sets. The replay itself is in outbox-core.js.

import { addCodes, db, deviceId, spareCodes } from "./store.js";
import { bootstrap, outboxFetch, reserveCardCodes } from "./api.js";

const core = self.FirstlineOutbox;
const SYNC_TAG = "firstline-outbox";
const SPARE_CODES_MIN = 5;
const CODES_BLOCK = 20;

const listeners = new Set();
let retryTimer = null;
let running = null;
let again = false;

/** Call `listener(event)` with {type: "progress"|"result"|"changed", ...} as the outbox moves. */
export function onOutbox(listener) {
  listeners.add(listener);
}

function emit(event) {
  for (const listener of listeners) listener(event);
}

/**
 * Replay the outbox now. One run at a time: a call during a run makes one more run after it,
 * so a record saved while an upload is going on is not left waiting for the next trigger.
 */
export function syncNow({ force = false } = {}) {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    clearTimeout(retryTimer);
    const store = await db();
    const result = await core.runExclusive(() => core.replay(store, {
      fetch: outboxFetch, force, onProgress: (progress) => emit({ type: "progress", ...progress }),
    }));
    scheduleRetry(result);
    emit({ type: "result", ...result });
    return result;
  })().finally(() => {
    running = null;
    if (again) {
      again = false;
      syncNow({ force });
    }
  });
  return running;
}

/** Come back at the time the backoff set for the item at the front of the queue. */
function scheduleRetry(result) {
  if (!result.until) return;
  const wait = Math.max(1000, result.until - Date.now());
  retryTimer = setTimeout(() => syncNow(), wait);
}

/**
 * Ask the browser to replay the outbox in the service worker once it has a connection, even if
 * the app is closed by then. Only Chromium browsers have Background Sync; elsewhere this does
 * nothing and the app replays on start, on the online event and on the button.
 */
export async function requestBackgroundSync() {
  if (!("serviceWorker" in navigator)) return false;
  try {
    const registration = await navigator.serviceWorker.ready;
    if (!("sync" in registration)) return false;
    await registration.sync.register(SYNC_TAG);
    return true;
  } catch (error) {
    return false;
  }
}

/** The service worker tells us when it replayed the outbox itself. */
export function listenToWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "OUTBOX_CHANGED") emit({ type: "changed" });
  });
}

/** Keep at least a few card codes on the phone, reserved while the network is there. */
export async function ensureCardCodes(userId) {
  const spare = await spareCodes(userId);
  if (spare >= SPARE_CODES_MIN) return spare;
  const device = await deviceId();
  const block = await reserveCardCodes(device, CODES_BLOCK);
  await addCodes(block.codes, userId, device);
  return spare + block.codes.length;
}

/**
 * Bring the cached bootstrap up to date: send its sync token, follow the server's pages, put
 * each page's cases in and take its removed ones out, and keep the new token. A first sync
 * (no token yet, a bootstrap from before delta sync, another user's, or a token the server
 * no longer takes) starts from an empty list. Returns the new bootstrap to keep.
 */
export async function pullBootstrap(previous) {
  const token = previous && previous.sync_token ? previous.sync_token : "";
  let page = await bootstrap(token);
  if (token && !page.full && previous.user && page.user.id !== previous.user.id) page = await bootstrap("");
  let cases = new Map(token ? previous.cases.map((c) => [c.id, c]) : []);
  for (;;) {
    if (page.full) cases = new Map();
    for (const c of page.cases) cases.set(c.id, c);
    for (const id of page.removed || []) cases.delete(id);
    if (!page.next) break;
    page = await bootstrap(page.next);
  }
  return { ...page, cases: [...cases.values()] };
}
