// Talking to the server, and knowing whether we can: connectivity is judged by real requests
// (navigator.onLine only says a network interface is up, not that the server answers).

const PROBE_URL = "/healthz";
const TIMEOUT_MS = 8000;
const listeners = new Set();
let online = null;

/** Whether the last real request reached the server (null before the first one). */
export const isOnline = () => online;

/** Call `listener(online)` whenever connectivity changes. */
export function onConnectivity(listener) {
  listeners.add(listener);
}

/** Note the outcome of a real request. */
export function noteConnectivity(reached) {
  if (reached === online) return;
  online = reached;
  for (const listener of listeners) listener(online);
}

/** An API error with the server's Chinese message (status 0: no network). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || (status === 0 ? "网络不通，请稍后再试。" : `请求失败（${status}）。`));
    this.status = status;
    this.body = body;
  }
}

/** fetch with a timeout that also records connectivity; resolves to the Response. */
export async function send(url, init = {}, timeoutMs = TIMEOUT_MS) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { credentials: "same-origin", ...init, signal: controller.signal });
    noteConnectivity(true);
    return response;
  } catch (error) {
    noteConnectivity(false);
    throw new ApiError(0, null);
  } finally {
    clearTimeout(timer);
  }
}

/** A JSON request; throws ApiError on any status but 2xx. */
export async function json(method, url, body = undefined, csrf = null) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf) headers["X-CSRFToken"] = csrf;
  const response = await send(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Ask the server whether it answers (never served from a cache). */
export async function probe() {
  try {
    await send(PROBE_URL, { cache: "no-store" }, 5000);
  } catch (error) {
    // noted as offline by send()
  }
  return online;
}

/** Sign in; the answer is the user with a fresh CSRF token. */
export async function login(username, password) {
  const { csrf_token: csrf } = await json("GET", "/api/v1/auth/csrf");
  return json("POST", "/api/v1/auth/login", { username, password }, csrf);
}

/** Sign out of this device. */
export async function logout() {
  const { csrf_token: csrf } = await json("GET", "/api/v1/auth/csrf");
  return json("POST", "/api/v1/auth/logout", undefined, csrf);
}

/** The inspector's grid, settings and one page of case changes since the sync token `since`
 *  ("" for a first sync). */
export const bootstrap = (since) => json("GET", `/api/v1/field/bootstrap?since=${encodeURIComponent(since)}`);

/** Reserve a block of contact-card codes for this phone. */
export async function reserveCardCodes(deviceId, count) {
  const me = await json("GET", "/api/v1/me");
  return json("POST", "/api/v1/field/card-codes", { device_id: deviceId, count }, me.csrf_token);
}

/** A fetch for the outbox replay that also records connectivity. */
export async function outboxFetch(url, init) {
  try {
    const response = await fetch(url, init);
    noteConnectivity(true);
    return response;
  } catch (error) {
    noteConnectivity(false);
    throw error;
  }
}
