// Service worker of the inspector's app (scope /m/), after svgomg's worker and the Workbox
// recipes: the app shell precached with an awaited addAll into a versioned cache, old
// caches deleted on activate, cache-first for static files, network-first with a 3 s timeout
// for the inspector's data, only status 200 cached, a new version waiting for the inspector's
// "update" tap, and the outbox replayed on Background Sync where the browser has it.
//
// app/web/field_app.py serves this file at /m/sw.js and fills in the four values below.

const VERSION = "__FIRSTLINE_VERSION__";
const PRECACHE = ["__FIRSTLINE_PRECACHE__"];
const DEFERRED = ["__FIRSTLINE_DEFERRED__"];
const WORKER_IMPORTS = ["__FIRSTLINE_WORKER_IMPORTS__"];

importScripts(...WORKER_IMPORTS);

const SHELL_CACHE = `firstline-shell-${VERSION}`;
const EXTRA_CACHE = `firstline-extra-${VERSION}`;
// The data cache outlives shell versions: it holds the last bootstrap, not code.
const DATA_CACHE = "firstline-data-v1";
const CURRENT_CACHES = [SHELL_CACHE, EXTRA_CACHE, DATA_CACHE];
const [SHELL_URL, OFFLINE_URL] = PRECACHE;
const DATA_TIMEOUT_MS = 3000;
const DATA_PATHS = ["/api/v1/field/bootstrap"];
const STATIC_PREFIXES = ["/static/", "/vendor/"];
const SYNC_TAG = "firstline-outbox";

self.addEventListener("install", (event) => {
  // "reload" skips the HTTP cache, so a new version never precaches an old file.
  const requests = PRECACHE.map((url) => new Request(url, { cache: "reload" }));
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(requests)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    const stale = names.filter((name) => name.startsWith("firstline-") && !CURRENT_CACHES.includes(name));
    await Promise.all(stale.map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

/** Fetch the files only the manual map pick needs, once per version, after start-up. */
async function cacheDeferred() {
  const cache = await caches.open(EXTRA_CACHE);
  for (const url of DEFERRED) {
    if (await cache.match(url)) continue;
    const response = await fetch(url, { cache: "reload" });
    if (response.status === 200) await cache.put(url, response);
  }
}

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "SKIP_WAITING") self.skipWaiting();
  if (type === "CLEAR_DATA") event.waitUntil(caches.delete(DATA_CACHE));
  if (type === "CACHE_DEFERRED") {
    const port = event.ports[0];
    event.waitUntil(cacheDeferred().then(
      () => port.postMessage({ ok: true, version: VERSION }),
      () => port.postMessage({ ok: false, version: VERSION }),
    ));
  }
});

/** Cached copy first; otherwise the network, keeping a 200 answer for next time. */
async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.status === 200) {
    const cache = await caches.open(EXTRA_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

/**
 * The network if it answers within 3 s, else the last good copy. A late answer still
 * refreshes the cache. A 401/403 drops the copy: it belonged to a session that has ended.
 */
function networkFirst(event) {
  const { request } = event;
  const network = fetch(request).then(async (response) => {
    const cache = await caches.open(DATA_CACHE);
    if (response.status === 200) await cache.put(request, response.clone());
    else if (response.status === 401 || response.status === 403) await cache.delete(request);
    return response;
  });
  event.waitUntil(network.catch(() => null));
  const timeout = new Promise((resolve) => { setTimeout(resolve, DATA_TIMEOUT_MS, null); });
  return (async () => {
    try {
      const first = await Promise.race([network, timeout]);
      if (first) return first;
    } catch (error) {
      // no network: fall back to the cached copy below
    }
    const cached = await caches.match(request, { cacheName: DATA_CACHE });
    return cached || network;
  })();
}

/** The app shell for /m/ (cache first: it must open with no network); other pages online or the offline page. */
async function navigation(request) {
  const url = new URL(request.url);
  if (url.pathname === SHELL_URL) {
    const shell = await caches.match(SHELL_URL, { cacheName: SHELL_CACHE });
    if (shell) return shell;
  }
  try {
    return await fetch(request);
  } catch (error) {
    return (await caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE })) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigation(request));
  // A delta sync (with `since`) goes to the network untouched: the app keeps its cases in
  // IndexedDB, and every token is a new address that would only pile up in the cache.
  } else if (DATA_PATHS.includes(url.pathname) && !url.searchParams.has("since")) {
    event.respondWith(networkFirst(event));
  } else if (STATIC_PREFIXES.some((prefix) => url.pathname.startsWith(prefix)) || PRECACHE.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
  // Everything else (the API's writes, /healthz) goes to the network untouched.
});

/** Tell open pages that the outbox changed under them. */
async function notifyPages(message) {
  // Uncontrolled pages too: the app's first page is not yet controlled when it syncs.
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const page of pages) page.postMessage(message);
}

/**
 * Background Sync (Chromium only): the browser wakes the worker when a connection is back,
 * even if the app is closed, and retries later if this promise rejects.
 */
async function replayOutbox() {
  const outbox = self.FirstlineOutbox;
  const db = await outbox.openFieldDB(self.idb.openDB);
  const result = await outbox.runExclusive(() => outbox.replay(db, {
    fetch: (url, init) => fetch(url, init), force: true,
    onProgress: (progress) => notifyPages({ type: "OUTBOX_CHANGED", progress }),
  }));
  await notifyPages({ type: "OUTBOX_CHANGED", result });
  if (["offline", "retry", "waiting"].includes(result.state)) throw new Error(`outbox not sent: ${result.state}`);
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(replayOutbox());
});
