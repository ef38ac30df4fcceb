"""The inspector app's shell, manifest and service worker as the server serves them, and the
outbox replay (static/m/outbox-core.js) run under node against a scripted server.

The browser tests (test_browser_field.py) show the whole flow once; these check the rules
one by one: what an installable, offline-capable app needs from the server, and what the
outbox does with each kind of answer.
"""

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from app.web import field_app

ROOT = Path(__file__).resolve().parent.parent
OUTBOX_CORE = ROOT / "static" / "m" / "outbox-core.js"
ONSITE_RULES = ROOT / "static" / "m" / "onsite-rules.js"


def test_shell_is_served_without_sign_in_and_runs_no_inline_script(client):
    response = client.get("/m/")
    assert response.status_code == 200  # no redirect to the login page: the worker must cache it
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert not re.search(r"\sstyle=", html)
    assert '<link rel="manifest" href="/m/manifest.webmanifest">' in html
    assert "csrf" not in html.lower()  # nothing tied to a session in the cached shell


def test_manifest_makes_an_installable_standalone_app(client):
    response = client.get("/m/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"] == "第一线 · 网格员" and manifest["short_name"] == "第一线"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/m/", "/m/", "standalone")
    assert manifest["lang"] == "zh-CN" and manifest["theme_color"] == field_app.THEME_COLOUR
    sizes = {}
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"
            width, height = Image.open(io.BytesIO(image.data)).size
        assert icon["sizes"] == f"{width}x{height}"
        sizes.setdefault(icon["purpose"], set()).add(width)
    assert sizes == {"any": {192, 512}, "maskable": {512}}


def test_service_worker_is_served_for_the_app_scope_and_never_stale(client):
    response = client.get("/m/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/m/"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert "__FIRSTLINE_" not in source
    assert f'const VERSION = "{field_app.app_version()}";' in source


def test_every_file_the_worker_caches_exists(client):
    """One missing file would make the worker's addAll fail, and the app would never work offline."""
    source = client.get("/m/sw.js").get_data(as_text=True)
    lists = re.findall(r"^const (PRECACHE|DEFERRED|WORKER_IMPORTS) = (\[.*\]);$", source, flags=re.M)
    urls = [url for _, listed in lists for url in json.loads(listed)]
    assert len(lists) == 3 and "/m/" in urls and "/vendor/leaflet/leaflet.js" in urls
    assert "/vendor/exifr/lite.esm.mjs" in urls  # photos are read offline too
    for url in urls:
        with client.get(url) as response:
            assert response.status_code == 200, url
            if url.endswith((".js", ".mjs")):
                assert response.mimetype == "text/javascript", url  # module scripts refuse other types


def test_offline_page_and_vendored_packages(client):
    assert "当前没有网络" in client.get("/m/offline").get_data(as_text=True)
    with client.get("/vendor/idb/index.js") as idb, client.get("/vendor/qrcode-generator/qrcode.mjs") as qr:
        assert b"openDB" in idb.data and b"createSvgTag" in qr.data
    assert client.get("/vendor/idb/../package.json").status_code == 404


# ------------------------------------------------------------ the outbox replay, under node

HARNESS = r"""
globalThis.self = globalThis;
await import(%(core)s);
const core = globalThis.FirstlineOutbox;
const NOW = 1_000_000;

function fakeDb(outbox, photos) {
  const stores = { outbox: new Map(outbox.map((i) => [i.seq, i])), photos: new Map(photos.map((p) => [p.id, p])) };
  return {
    stores,
    async getAll(name) { return [...stores[name].values()].map((v) => ({ ...v })); },
    async get(name, key) { const v = stores[name].get(key); return v && { ...v }; },
    async put(name, value) { stores[name].set(name === "outbox" ? value.seq : value.id, { ...value }); },
  };
}

function inspection(seq, id, photoIds, extra = {}) {
  return { seq, key: `inspection:${id}`, kind: "inspection", id, user_id: 7, url: `/api/v1/inspections/${id}`,
    body: { kind: "onsite_check", notes: id }, photo_ids: photoIds, state: "pending", attempts: 0,
    next_try_at: 0, record_sent: false, response: null, ...extra };
}
const card = (seq, code) => ({ seq, key: `card:${code}`, kind: "card", id: code, user_id: 7,
  url: `/api/v1/contact-cards/${code}`, body: { case_id: 1 }, state: "pending", attempts: 0, next_try_at: 0 });
const photo = (id, recordId) => ({ id, record_id: recordId, blob: new Blob([id]), type: "image/jpeg",
  sha256: `sha-${id}`, state: "pending" });
const originals = (seq, id, photoIds) => ({ seq, key: `originals:${id}`, kind: "originals", id, user_id: 7,
  url: `/api/v1/inspections/${id}`, record_key: `inspection:${id}`, photo_ids: photoIds, state: "pending",
  attempts: 0, next_try_at: 0 });
const withOriginal = (id, recordId) => ({ ...photo(id, recordId), state: "sent", original: new Blob([`camera-${id}`]),
  original_type: "image/jpeg", original_sha256: `orig-${id}`, original_state: "waiting" });

/** A server that answers each "METHOD path" from a list of [status, body, headers] (the last one repeats). */
function server(script) {
  const calls = [];
  const fetch = async (url, init) => {
    const key = `${init.method} ${url}`;
    calls.push({ key, csrf: init.headers["X-CSRFToken"] || null, sha: init.headers["X-Content-SHA256"] || null,
      variant: init.headers["X-Photo-Variant"] || null,
      body: typeof init.body === "string" ? JSON.parse(init.body) : null });
    const answers = script[key] || script[`${init.method} *`];
    if (!answers) throw new TypeError("Failed to fetch");
    const [status, body, headers] = answers.length > 1 ? answers.shift() : answers[0];
    return new Response(JSON.stringify(body ?? {}),
      { status, headers: { "Content-Type": "application/json", ...(headers || {}) } });
  };
  return { calls, fetch };
}
const ME = { "GET /api/v1/me": [[200, { id: 7, csrf_token: "token-1" }]] };

async function run(outbox, photos, script, options = {}) {
  const db = fakeDb(outbox, photos);
  const { calls, fetch } = server({ ...ME, ...script });
  const result = await core.replay(db, { fetch, now: () => NOW, force: true, ...options });
  return { result, calls, outbox: [...db.stores.outbox.values()], photos: [...db.stores.photos.values()] };
}

const out = {};
out.in_order = await run(
  [inspection(1, "a", ["p1", "p2"]), card(2, "K7Q2-9XMA")], [photo("p1", "a"), photo("p2", "a")],
  { "PUT /api/v1/inspections/a": [[201, { missing_photos: ["p1", "p2"] }]], "PUT *": [[201, {}]] });
out.only_missing_photos = await run(
  [inspection(1, "a", ["p1", "p2"])], [photo("p1", "a"), photo("p2", "a")],
  { "PUT /api/v1/inspections/a": [[200, { missing_photos: ["p2"] }]], "PUT *": [[201, {}]] });
out.server_trouble = await run(
  [inspection(1, "a", []), card(2, "C")], [], { "PUT /api/v1/inspections/a": [[503, {}]] });
const unplugged = async () => { throw new TypeError("offline"); };
out.no_network = await run([inspection(1, "a", [])], [], {}, { fetch: unplugged });
out.waiting = await run([inspection(1, "a", [], { attempts: 3, next_try_at: NOW + 5000 })], [], {}, { force: false });
out.signed_out = await run([inspection(1, "a", [])], [], { "GET /api/v1/me": [[401, { message: "请先登录。" }]] });
out.expired_mid_way = await run([inspection(1, "a", [])], [], { "PUT *": [[401, { message: "请先登录。" }]] });
out.conflict = await run([inspection(1, "a", []), card(2, "C")], [], {
  "PUT /api/v1/inspections/a": [[409, { message: "该记录编号已存在且内容不同。", errors: { server: {}, client: {} } }]],
  "PUT /api/v1/contact-cards/C": [[201, {}]] });
out.photo_conflict = await run([inspection(1, "a", ["p1"])], [photo("p1", "a")], {
  "PUT /api/v1/inspections/a": [[201, { missing_photos: ["p1"] }]], "PUT *": [[409, { message: "不同的内容" }]] });
out.stale_csrf = await run([inspection(1, "a", [])], [], {
  "GET /api/v1/me": [[200, { id: 7, csrf_token: "token-1" }], [200, { id: 7, csrf_token: "token-2" }]],
  "PUT /api/v1/inspections/a": [[400, { message: "安全校验失败（CSRF 令牌缺失或无效）" }], [201, {}]] });
out.other_user = await run([inspection(1, "a", [], { user_id: 99 })], [], { "PUT *": [[201, {}]] });
const BUSY = { code: 503, message: "服务器繁忙，正在自动重试。", errors: { retry: ["transient"] } };
out.busy = await run([inspection(1, "a", []), card(2, "C")], [], {
  "PUT /api/v1/inspections/a": [[503, BUSY, { "Retry-After": "7" }]] });
out.rate_limited = await run([inspection(1, "a", [])], [], { "PUT *": [[429, {}, { "Retry-After": "3" }]] });
const sentRecord = inspection(1, "a", ["p1"], { state: "sent", record_sent: true });
const cameraFiles = () => [withOriginal("p1", "a")];
out.originals_off_wifi = await run([sentRecord, originals(2, "a", ["p1"]), card(3, "C")], cameraFiles(),
  { "PUT *": [[201, {}]] }, { onWifi: () => false });
out.originals_on_wifi = await run([sentRecord, originals(2, "a", ["p1"]), card(3, "C")], cameraFiles(),
  { "PUT *": [[201, {}]] }, { onWifi: () => true });
out.originals_of_a_conflict = await run([{ ...sentRecord, state: "conflict" }, originals(2, "a", ["p1"])],
  cameraFiles(), { "PUT *": [[201, {}]] }, { onWifi: () => true });

// A patrol grows (store.savePatrol: new body, revision + 1) while its older body is on the way.
const patrol = { seq: 1, key: "patrol:t", kind: "patrol", id: "t", user_id: 7, url: "/api/v1/patrols/t",
  body: { track: [1] }, revision: 1, state: "pending", attempts: 0, next_try_at: 0 };
const patrolDb = fakeDb([patrol], []);
const patrolServer = server({ ...ME, "PUT /api/v1/patrols/t": [[201, {}], [200, {}]] });
const growing = async (url, init) => {
  const answer = await patrolServer.fetch(url, init);
  const stored = patrolDb.stores.outbox.get(1);
  if (init.method === "PUT" && stored.revision === 1) {
    patrolDb.stores.outbox.set(1, { ...stored, body: { track: [1, 2] }, revision: 2 });
  }
  return answer;
};
out.patrol_grew = { results: [], states: [] };
for (let i = 0; i < 2; i += 1) {
  out.patrol_grew.results.push(await core.replay(patrolDb, { fetch: growing, now: () => NOW, force: true }));
  out.patrol_grew.states.push(patrolDb.stores.outbox.get(1).state);
}
out.patrol_grew.calls = patrolServer.calls;

const db = fakeDb([inspection(1, "a", [])], []);
const failing = server({ ...ME, "PUT *": [[500, {}]] });
out.delays = [];
for (let i = 0; i < 12; i += 1) {
  await core.replay(db, { fetch: failing.fetch, now: () => NOW, force: true });
  out.delays.push(db.stores.outbox.get(1).next_try_at - NOW);
}
out.base_ms = core.RETRY_BASE_MS;
out.cap_ms = core.RETRY_CAP_MS;
console.log(JSON.stringify(out, (key, value) => (value instanceof Blob ? "blob" : value)));
"""


@pytest.fixture(scope="module")
def replays() -> dict:
    """Every scenario's result, final outbox and photos, and the calls the server saw."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the outbox replay cannot be run")
    script = HARNESS % {"core": json.dumps(OUTBOX_CORE.as_uri())}
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                          check=True)
    return json.loads(done.stdout)


def keys(run: dict) -> list[str]:
    return [call["key"] for call in run["calls"]]


def states(run: dict, store: str = "outbox") -> list[str]:
    return [item["state"] for item in run[store]]


def test_a_record_goes_first_then_its_photos_then_the_next_record(replays):
    run = replays["in_order"]
    assert keys(run) == [
        "GET /api/v1/me", "PUT /api/v1/inspections/a", "PUT /api/v1/inspections/a/photos/p1",
        "PUT /api/v1/inspections/a/photos/p2", "PUT /api/v1/contact-cards/K7Q2-9XMA",
    ]
    assert {call["csrf"] for call in run["calls"][1:]} == {"token-1"}
    assert [call["sha"] for call in run["calls"][2:4]] == ["sha-p1", "sha-p2"]
    assert states(run) == ["sent", "sent"] and states(run, "photos") == ["sent", "sent"]
    assert run["result"] == {"state": "done", "sent": 2}


def test_only_the_photos_the_server_lacks_are_sent(replays):
    run = replays["only_missing_photos"]
    assert keys(run)[1:] == ["PUT /api/v1/inspections/a", "PUT /api/v1/inspections/a/photos/p2"]
    assert states(run, "photos") == ["sent", "sent"]


def test_server_trouble_keeps_the_record_at_the_front_with_a_retry_time(replays):
    run = replays["server_trouble"]
    assert keys(run)[1:] == ["PUT /api/v1/inspections/a"]  # the card behind it waits its turn
    first, behind = run["outbox"]
    assert (first["state"], first["attempts"], behind["state"]) == ("pending", 1, "pending")
    assert first["last_error"]["status"] == 503 and run["result"]["state"] == "retry"
    assert run["result"]["until"] == first["next_try_at"] > 1_000_000


def test_without_network_nothing_changes_but_the_retry_time(replays):
    run = replays["no_network"]
    assert run["result"] == {"state": "offline", "sent": 0}
    assert run["outbox"][0]["state"] == "pending" and run["outbox"][0]["attempts"] == 0


def test_backoff_grows_exponentially_up_to_a_cap(replays):
    delays, base, cap = replays["delays"], replays["base_ms"], replays["cap_ms"]
    for attempt, delay in enumerate(delays, start=1):
        full = min(cap, base * 2 ** (attempt - 1))
        assert 0.8 * full <= delay <= full
    assert max(delays) <= cap and delays[-1] >= 0.8 * cap


def test_a_backoff_time_not_yet_reached_waits_unless_forced(replays):
    run = replays["waiting"]
    assert run["result"] == {"state": "waiting", "until": 1_005_000, "sent": 0} and keys(run) == []


def test_a_signed_out_session_touches_nothing(replays):
    for name in ("signed_out", "expired_mid_way"):
        run = replays[name]
        assert run["result"]["state"] == "signed_out"
        item = run["outbox"][0]
        assert (item["state"], item["attempts"], item["record_sent"]) == ("pending", 0, False)


def test_a_conflict_is_kept_and_shown_and_the_queue_goes_on(replays):
    run = replays["conflict"]
    assert states(run) == ["conflict", "sent"]
    assert run["outbox"][0]["last_error"]["status"] == 409
    assert set(run["outbox"][0]["last_error"]["errors"]) == {"server", "client"}
    photo_run = replays["photo_conflict"]
    assert states(photo_run) == ["conflict"] and states(photo_run, "photos") == ["conflict"]
    assert photo_run["outbox"][0]["record_sent"] is True


def test_a_stale_csrf_token_is_renewed_once(replays):
    run = replays["stale_csrf"]
    assert keys(run) == ["GET /api/v1/me", "PUT /api/v1/inspections/a", "GET /api/v1/me", "PUT /api/v1/inspections/a"]
    assert run["calls"][-1]["csrf"] == "token-2" and states(run) == ["sent"]


def test_a_busy_server_is_asked_again_after_its_retry_after(replays):
    """503 and 429 are passing trouble: the item stays pending, due when the server said."""
    run = replays["busy"]
    first, behind = run["outbox"]
    assert (first["state"], first["attempts"], behind["state"]) == ("pending", 1, "pending")
    assert first["next_try_at"] == 1_000_000 + 7000 and first["last_error"]["message"] == "服务器繁忙，正在自动重试。"
    assert run["result"] == {"state": "retry", "until": 1_007_000, "sent": 0}
    limited = replays["rate_limited"]["outbox"][0]
    assert (limited["state"], limited["next_try_at"]) == ("pending", 1_003_000)


def test_camera_files_go_only_on_wifi_and_never_hold_up_the_queue(replays):
    off = replays["originals_off_wifi"]
    assert keys(off)[1:] == ["PUT /api/v1/contact-cards/C"]  # the card behind them went
    assert states(off) == ["sent", "pending", "sent"] and off["photos"][0]["original"] == "blob"
    on = replays["originals_on_wifi"]
    assert keys(on)[1:] == ["PUT /api/v1/inspections/a/photos/p1", "PUT /api/v1/contact-cards/C"]
    call = on["calls"][1]
    assert (call["variant"], call["sha"]) == ("original", "orig-p1")
    assert states(on) == ["sent", "sent", "sent"]
    assert on["photos"][0]["original_state"] == "sent" and on["photos"][0]["original"] is None  # space freed
    waiting = replays["originals_of_a_conflict"]
    assert keys(waiting) == ["GET /api/v1/me"] and states(waiting) == ["conflict", "pending"]


def test_records_of_another_user_wait_for_that_user(replays):
    run = replays["other_user"]
    assert keys(run) == ["GET /api/v1/me"] and states(run) == ["pending"]


def test_a_patrol_that_grew_on_the_way_is_sent_again_whole(replays):
    """The outbox holds one item per patrol: a newer body stays pending until it too is confirmed."""
    run = replays["patrol_grew"]
    assert run["states"] == ["pending", "sent"]
    puts = [call for call in run["calls"] if call["key"] == "PUT /api/v1/patrols/t"]
    assert [call["body"] for call in puts] == [{"track": [1]}, {"track": [1, 2]}]


RULES_HARNESS = r"""
const rules = await import("data:text/javascript;base64," + %(source)s);
const limits = { onsite_max_distance_m: 500, onsite_max_accuracy_m: 100 };
const complete = { distance_m: 40, accuracy_m: 8, photo_count: 2, no_photo_reason: null,
  findings: { source_found: true, violation_found: false } };
const cases = {
  complete,
  nothing_chosen: { ...complete, photo_count: 0, findings: { measures: "" } },
  half_chosen: { ...complete, findings: { source_found: false } },
  reason_instead_of_photo: { ...complete, photo_count: 0, no_photo_reason: "safety" },
  at_the_limits: { ...complete, distance_m: 500, accuracy_m: 100 },
  beyond_the_limits: { ...complete, distance_m: 500.5, accuracy_m: 100.5 },
  picked_on_the_map: { ...complete, accuracy_m: null, manual_location: true },
  picked_without_a_photo: { ...complete, accuracy_m: null, manual_location: true, photo_count: 0,
    no_photo_reason: "safety" },
  fix_of_unknown_accuracy: { ...complete, accuracy_m: null },
  case_without_location: { ...complete, distance_m: null },
};
const out = { missing: [rules.MISSING_PHOTO, rules.MISSING_FINDINGS] };
for (const [name, check] of Object.entries(cases)) out[name] = rules.assessCheck(check, limits);
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def verdicts() -> dict:
    """The phone's copy of the on-site rule, applied to a handful of checks under node."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the on-site rule cannot be run")
    source = base64.b64encode(ONSITE_RULES.read_bytes()).decode()
    done = subprocess.run(["node", "--input-type=module", "-e", RULES_HARNESS % {"source": json.dumps(source)}],
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_the_phone_judges_an_onsite_check_as_the_contract_says(verdicts):
    assert verdicts["missing"] == ["须至少拍一张照片，或选择无法拍照的原因", "须选择核查结论"]
    assert verdicts["complete"] == {"far_from_case": False, "poor_accuracy": False, "incomplete": False,
                                    "missing": [], "counts_as_onsite": True}
    assert verdicts["nothing_chosen"]["missing"] == verdicts["missing"]
    assert verdicts["half_chosen"]["missing"] == ["须选择核查结论"]
    assert verdicts["reason_instead_of_photo"]["counts_as_onsite"] is True
    assert verdicts["at_the_limits"]["counts_as_onsite"] is True
    beyond = verdicts["beyond_the_limits"]
    assert (beyond["far_from_case"], beyond["poor_accuracy"], beyond["incomplete"]) == (True, True, False)
    # A point picked on the map is judged by its photos, as the server judges it.
    assert verdicts["picked_on_the_map"]["counts_as_onsite"] is True
    without = verdicts["picked_without_a_photo"]
    assert without["poor_accuracy"] is True and not without["incomplete"] and not without["counts_as_onsite"]
    assert verdicts["fix_of_unknown_accuracy"]["poor_accuracy"] is True
    assert verdicts["case_without_location"]["far_from_case"] is False
