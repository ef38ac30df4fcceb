// Reading JSON for the desk's and the wall's maps and panels, one way everywhere. A 503 or a
// 429 means the server was busy for a moment (SQLite's write lock held by the worker, a rate
// limit): the request is sent again after the answer's Retry-After, a few times, instead of
// leaving a map without its boundaries. Any other failure throws, with its status.

const RETRIES = 3;
const BUSY = new Set([429, 503]);

const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** GET `url` as JSON (same-origin credentials, plus `init`), retrying a busy server. */
export async function getJson(url, init = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(url, { credentials: "same-origin", ...init });
    if (BUSY.has(response.status) && attempt < RETRIES) {
      const seconds = Math.min(Number(response.headers.get("Retry-After")) || 1, 10);
      await pause(seconds * 1000 * (attempt + 1));
      continue;
    }
    if (!response.ok) throw new Error(`${response.status} ${url}`);
    return response.json();
  }
}
