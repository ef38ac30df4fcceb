"""Helpers shared by test modules: people at the desk (API and pages), a case walked through
its lifecycle, and a person in Chromium at the desk or on the inspector's phone.

Test modules import from here (or tests.factories, tests.page_client), never from each other.
"""

import base64
import hashlib
import hmac
import io
import json
import math
import random
import re
import threading
import unicodedata
import urllib.parse
import uuid
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Inspection, Photo, RobotWebhook, WallCell
from app.models.vocab import CaseStatus, Category, Channel, InspectionReferral, PhotoStatus
from app.services import clock
from app.services.settings import set_setting
from app.services.wall import clusters as wall_clusters
from app.services.wall.cells import BASE_LEVEL, rebuild_wall_cells
from app.services.wall.clusters import Viewport, answers_from_summary, cluster_query, view_clusters
from tests.factories import EAST, NORTH, SOUTH, WEST, make_case

# ---------------------------------------------------------------- the desk through the API

HANDLER = "officer_env"  # the V11 case is industrial → environment bureau


class Desk:
    """One signed-in API client per user, so a walk through the lifecycle reads like the office."""

    def __init__(self, app):
        self._app = app
        self._clients = {}

    def client(self, username):
        """A client signed in as ``username`` (signed in once, then reused)."""
        if username not in self._clients:
            client = self._app.test_client()
            token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
            response = client.post("/api/v1/auth/login", json={"username": username, "password": "test-password-1"},
                                   headers={"X-CSRFToken": token})
            assert response.status_code == 200, response.get_json()
            self._clients[username] = (client, response.get_json()["csrf_token"])  # a new token after sign-in
        return self._clients[username]

    def post(self, username, url, payload=None):
        """POST JSON as a user, CSRF token included."""
        client, token = self.client(username)
        return client.post(url, json=payload or {}, headers={"X-CSRFToken": token})

    def get(self, username, url):
        """GET as a user."""
        return self.client(username)[0].get(url)

    def act(self, username, case_id, step, expect=200, **payload):
        """Take a lifecycle step and check the status code; return the JSON body."""
        response = self.post(username, f"/api/v1/cases/{case_id}/actions/{step}", payload)
        assert response.status_code == expect, (step, username, response.get_json())
        return response.get_json()


def register(desk, username="command", **overrides):
    """Register a case in village V11 through the API; return the created case JSON."""
    payload = {
        "channel": "letter", "category": "air", "subcategory": "air.odour", "sector": "industrial",
        "title": "化工厂夜间异味", "description": "每晚十点后有刺鼻气味", "address": "V11村工业路8号",
        "lon": 120.505, "lat": 32.312, "petitioner_name": "李四", "petitioner_phone": "13900001111",
    } | overrides
    response = desk.post(username, "/api/v1/cases", payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_onsite_photo(case_id):
    """What the inspector app's sync leaves behind: an on-site check with a received photo."""
    case = db.session.get(Case, case_id)
    inspection = Inspection(id=uuid.uuid4(), case_id=case.id, inspector_id=case.created_by_id, grid_id=case.grid_id,
                            notes="现场核查", content_sha256="0" * 64, captured_at=clock.now())
    db.session.add(inspection)
    db.session.add(Photo(id=uuid.uuid4(), inspection=inspection, status=PhotoStatus.RECEIVED, sha256="1" * 64))
    db.session.commit()


def plan_date(days: int = 14) -> str:
    """A plan's target date some days after today (Beijing), wherever the clock stands."""
    return (clock.beijing_date(clock.now()) + timedelta(days=days)).isoformat()


def walk_to_signed(desk, case_id, legal_track="petition"):
    """registered → accepted → assigned → signed, with an on-site check and its photo."""
    desk.act("command", case_id, "accept", legal_track=legal_track, notice_text="您反映的问题已受理。")
    desk.act("sup_T1", case_id, "assign")
    desk.act(HANDLER, case_id, "sign")
    desk.act("insp_V11", case_id, "record_onsite", notes="现场闻到明显异味", findings={"source_found": True})
    add_onsite_photo(case_id)


def walk_to_handling(desk, case_id, legal_track="petition"):
    """registered → accepted → assigned → signed → on-site check → handling."""
    walk_to_signed(desk, case_id, legal_track)
    return desk.act(HANDLER, case_id, "plan", measures="限期安装废气处理设施", responsible_name="王五",
                    target_date=plan_date())


REPLY = {"request_summary": "要求整治异味", "facts_and_reasons": "经核查属实，已责令整改",
         "decision": "support", "legal_basis": "《大气污染防治法》第八十条"}


# A demo seed whose tests read no patrol figures makes two weeks of patrols, not the campaign's
# 100 days (about 13,000 check-ins instead of 90,000: seconds per seed); tests/test_demo_sources.py
# seeds the default.
SHORT_PATROLS = ("--patrol-days", "14")

# ---------------------------------------------------------------- the desk pages (test client)

def form_token(page_text: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def sign_in_pages(client, username):
    """Sign a test client in through the login form."""
    token = form_token(client.get("/login").text)
    client.post("/login", data={"username": username, "password": "test-password-1", "csrf_token": token})


# ---------------------------------------------------------------- Chromium: the desk


def open_action(page, step):
    """Unfold one action of the desk case page's panel and return it."""
    action = page.locator(f'details.action[data-step="{step}"]')
    action.locator("summary").click()
    return action


def take_action(page, step, fill=None, done=None):
    """Take one step through its form on the case page; the page must confirm it once (with `done`)."""
    action = open_action(page, step)
    for label, value in (fill or {}).items():
        field = action.get_by_label(label)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    action.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".flash-ok").count() == 1, page.locator(".flash").all_inner_texts()
    if done:
        expect(page.locator(".flash-ok")).to_contain_text(done)

def sign_in(page, live_server, username):
    """Sign in at the desk's login page and wait for the queue."""
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/desk/")


# ---------------------------------------------------------------- Chromium: the inspector's phone

PHONE = {"width": 390, "height": 844}

REQUEUE_EVERYTHING = """async () => {
  const store = await import("/static/m/store.js");
  const db = await store.db();
  for (const item of await db.getAll("outbox")) {
    const reset = { state: "pending", record_sent: false, response: null, attempts: 0, next_try_at: 0 };
    await db.put("outbox", { ...item, ...reset });
  }
  for (const photo of await db.getAll("photos")) await db.put("photos", { ...photo, state: "pending" });
}"""


def camera_jpeg(path, colour) -> str:
    """A 3000×2000 JPEG like a phone camera's, with some detail so it compresses like a photo."""
    image = Image.new("RGB", (3000, 2000), colour)
    draw = ImageDraw.Draw(image)
    for x in range(0, 3000, 120):
        draw.line([(x, 0), (3000 - x, 2000)], fill=(255, 255, 255), width=9)
    image.save(path, "JPEG", quality=92)
    return str(path)


def count(model, *where) -> int:
    """Rows on the server now (a fresh transaction sees the live server's commits)."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def phone_context(browser, gps):
    """A phone-sized touch browser with GPS at `gps`, its own service workers and storage."""
    return browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN",
        timezone_id="Asia/Shanghai", geolocation=gps, service_workers="allow",
        permissions=["geolocation", "background-sync"],  # Chrome grants Background Sync by default
    )


def sign_in_phone(page, live_server):
    """Sign the inspector of V11 in on the phone app and wait until it is ready offline."""
    page.goto(f"{live_server}/m/")
    username = page.get_by_label("用户名")
    try:
        username.wait_for(state="visible", timeout=10000)
    except PlaywrightTimeout:
        # Seen rarely on a loaded machine: the first load of the app shell never starts the
        # app. Not yet understood (see the closing note of the evidence-loop issue); a person
        # would reload, and so does the test, once.
        page.reload()
    username.fill("insp_V11")
    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    # The worker holds the app, and card codes are reserved for offline use. Signing in
    # hashes a password and loads the bootstrap: allow a loaded CI machine more than 5 s.
    expect(page.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=20000)
    expect(page.locator("body")).to_have_attribute("data-spare-codes", re.compile(r"^([5-9]|\d\d+)$"),
                                                   timeout=20000)


# ---------------------------------------------------------------- file names

# A name as a fuzzer uploads it: DEL, C0 controls, a bidi override, a zero-width joiner and a
# line separator around the real name.
HOSTILE_NAME = "a\x7fb\x01\u202e\u200d\u2028c.pdf"


def header_is_clean(value: str) -> bool:
    """True when a header value holds no character a server may refuse to send: nothing below
    0x20, no DEL, nothing of Unicode category C (controls, format, surrogates, private, unassigned)."""
    return all(ord(ch) >= 0x20 and ord(ch) != 0x7F and not unicodedata.category(ch).startswith("C") for ch in value)


# ---------------------------------------------------------------- field uploads


INSPECTOR = "insp_V11"


def make_jpeg(width=3000, height=2000, gps=(120.505, 32.31), taken="2026:11:29 10:00:00", orientation=None,
              color=(90, 140, 60), offset=None) -> bytes:
    """A real JPEG with EXIF time, GPS and optionally an orientation and UTC offset, as a phone makes them."""
    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    if offset:
        exif.get_ifd(0x8769)[0x9011] = offset
    if gps is not None:
        lon, lat = gps
        exif.get_ifd(0x8825).update({1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)})
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def put(desk, username, url, payload):
    client, token = desk.client(username)
    return client.put(url, json=payload, headers={"X-CSRFToken": token})


def put_bytes(desk, username, url, data, content_type="image/jpeg", sha=None, variant=None):
    client, token = desk.client(username)
    headers = {"X-CSRFToken": token, "Content-Type": content_type}
    if variant:
        headers["X-Photo-Variant"] = variant
    if sha is not False:
        headers["X-Content-SHA256"] = sha or hashlib.sha256(data).hexdigest()
    return client.put(url, data=data, headers=headers)


def onsite_body(case_id, photo_ids=(), captured_at="2026-11-29T09:30:00+08:00", lon=120.505, lat=32.31, **extra):
    return {
        "kind": "onsite_check", "case_id": case_id, "captured_at": captured_at,
        "location": {"lon": lon, "lat": lat, "accuracy_m": 8.5, "altitude_m": 4.0,
                     "fix_at": captured_at, "source": "gps", "mock": False},
        "findings": {"source_found": True, "violation_found": True, "measures": "责令停产", "outcome": "已停产"},
        "notes": "现场有刺鼻气味",
        "photos": [{"id": str(p), "captured_at": captured_at, "lon": lon, "lat": lat} for p in photo_ids],
    } | extra


# ---------------------------------------------------------------- Chromium: the phone's record


# The middle of village V11 in the tiny city (tests/factories.py), 8 m accuracy.
GPS = {"latitude": 32.31, "longitude": 120.505, "accuracy": 8}
SYNC_TIMEOUT_MS = 30000

CHANGE_THE_RECORD = """async () => {
  const store = await import("/static/m/store.js");
  const db = await store.db();
  const item = (await db.getAll("outbox")).find((i) => i.kind === "inspection");
  item.body = { ...item.body, notes: item.body.notes + "（事后改动）" };
  await db.put("outbox", { ...item, state: "pending", record_sent: false, response: null });
}"""


def exif_time(moment: datetime) -> str:
    """A camera's DateTimeOriginal: local wall time, no zone."""
    return moment.strftime("%Y:%m:%d %H:%M:%S")


def camera_file(path, moment: datetime, **exif) -> str:
    """A camera's JPEG taken at `moment` (city time), written to `path`; returns the path."""
    path.write_bytes(make_jpeg(taken=exif_time(moment), **exif))
    return str(path)


def minutes_ago(minutes: int) -> datetime:
    """Now in the city, to the second, `minutes` ago."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0) - timedelta(minutes=minutes)


def open_check(page, city):
    """From the task list to the on-site check of V11's case, with the GPS fix taken."""
    task = page.locator(f'li.task[data-number="{city.cases["V11"].number}"]')
    task.get_by_role("link", name="现场核查").click()
    expect(page.locator("#gps-status")).to_have_attribute("data-state", "accepted")


def choose_findings(page):
    """Answer both findings of the on-site form, as an inspector must before saving."""
    page.get_by_label("已找到污染源").check()
    page.get_by_label("未发现违法行为").check()


# ---------------------------------------------------------------- a fake SMS provider and group robots


class FakeProviders:
    """One local HTTP server that answers as Aliyun SMS, Tencent Cloud SMS, 企业微信 and 钉钉 robots.

    It records what each request carried (``received``: channel, the message texts, the query
    and headers) and fails the next ``fail_next`` requests on demand, as a provider does when
    it is down. 钉钉 requests are checked against ``dingtalk_secret``'s signature.
    """

    def __init__(self):
        self.received: list[dict] = []
        self.fail_next = 0
        self.dingtalk_secret = ""
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server hook's name)
                length = int(self.headers.get("Content-Length") or 0)
                fake._answer(self, self.rfile.read(length))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"127.0.0.1:{self.server.server_port}"

    def _answer(self, handler, raw: bytes) -> None:
        url = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if handler.headers.get("X-TC-Action"):
            body = json.loads(raw)
            record = {"channel": "tencent", "to": body["PhoneNumberSet"], "texts": body["TemplateParamSet"]}
        elif handler.headers.get("x-acs-action"):
            record = {"channel": "aliyun", "to": [query["PhoneNumbers"]],
                      "texts": list(json.loads(query["TemplateParam"]).values())}
        else:
            channel = "dingtalk" if url.path.startswith("/robot") else "wecom"
            record = {"channel": channel, "texts": [json.loads(raw)["text"]["content"]], "query": query}
            if channel == "dingtalk":
                record["signed"] = _dingtalk_sign_ok(query, self.dingtalk_secret)
        with self._lock:
            failing = self.fail_next > 0
            self.fail_next -= 1 if failing else 0
            record["failed"] = failing
            self.received.append(record)
        status, answer = (503, {"message": "service unavailable"}) if failing else (200, _success(record["channel"]))
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def delivered(self, channel: str) -> list[dict]:
        """The requests of one channel that were answered with success."""
        return [r for r in self.received if r["channel"] == channel and not r["failed"]]

    def url(self, path: str) -> str:
        """A full http URL on this server (for a robot's webhook)."""
        return f"http://{self.base}{path}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def _success(channel: str) -> dict:
    if channel == "tencent":
        return {"Response": {"SendStatusSet": [{"Code": "Ok", "Message": "send success", "SerialNo": "1",
                                                "PhoneNumber": "", "Fee": 1, "SessionContext": "", "IsoCode": "CN"}],
                             "RequestId": "fake"}}
    if channel == "aliyun":
        return {"Code": "OK", "Message": "OK", "BizId": "fake", "RequestId": "fake"}
    return {"errcode": 0, "errmsg": "ok"}


def _dingtalk_sign_ok(query: dict, secret: str) -> bool:
    """钉钉's own check: sign == Base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    if "timestamp" not in query or "sign" not in query:
        return False
    digest = hmac.new(secret.encode(), f"{query['timestamp']}\n{secret}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), query["sign"])


def sms_config(fake: FakeProviders, provider: str = "aliyun") -> dict:
    """App configuration that sends SMS through ``provider``'s SDK to the fake server."""
    return {"SMS_PROVIDER": provider, "SMS_ACCESS_KEY_ID": "test-id", "SMS_ACCESS_KEY_SECRET": "test-secret",
            "SMS_SIGN_NAME": "第一线", "SMS_TEMPLATE_CODE": "SMS_100", "SMS_DIGEST_TEMPLATE_CODE": "SMS_200",
            "SMS_SDK_APP_ID": "1400000000", "SMS_ENDPOINT": fake.base, "SMS_PROTOCOL": "http",
            "NOTIFY_TIMEOUT_S": 5}


def wire_notifications(app, city, fake: FakeProviders, monkeypatch, phones: dict[str, str]) -> None:
    """SMS through Aliyun's SDK to the fake, a 企业微信 robot for the environment bureau on the
    fake, mobile numbers for some staff (the others keep their office landline), no quiet hours."""
    for key, value in sms_config(fake).items():
        monkeypatch.setitem(app.config, key, value)
    for username, phone in phones.items():
        city.users[username].phone = phone
    env = city.users["officer_env"].department_id
    db.session.add(RobotWebhook(platform="wecom", name="环保局工作群", department_id=env,
                                url=fake.url("/cgi-bin/webhook/send?key=env")))
    set_setting("notify_quiet_start_hour", 0)
    set_setting("notify_quiet_end_hour", 0)
    db.session.commit()


def sign_in_to_wall(page, live_server):
    """Sign in as the command office in the browser and wait until the wall has drawn."""
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("command")
    page.get_by_label("密码").fill("firstline2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/desk/")
    page.goto(f"{live_server}/wall/")
    page.locator('#wall-map[data-ready="true"]').wait_for(timeout=30_000)


# ---------------------------------------------------------------- the map wall's summary (wall_cells)

CITY = Viewport(WEST - 0.01, SOUTH - 0.01, EAST + 0.01, NORTH + 0.01, 12)


def live(user, view: Viewport, now, filters=None) -> list:
    """The clusters of the live GROUP BY over the cases in the view's cells, by cell."""
    return sorted(db.session.execute(cluster_query(user, view, now, filters or {})).all())


def assert_same_clusters(user, view: Viewport, now=None, filters=None) -> list:
    """The summary answers this view, and exactly as the live query does; return the clusters by cell."""
    now, filters = now or clock.now(), filters or {}
    assert answers_from_summary(user, view, filters) is not None
    with mock.patch.object(wall_clusters, "LIVE_SPLIT_MAX", -1):  # the summary's rows, however few the cases
        summary = sorted(view_clusters(user, view, now, filters))
    expected = live(user, view, now, filters)
    assert [(c.zoom_x, c.zoom_y) for c in summary] == [(c.zoom_x, c.zoom_y) for c in expected]
    for got, want in zip(summary, expected, strict=True):
        assert (got.count, got.worst, got.above_level, got.inspection, got.leader, got.case_id) == \
               (want.count, want.worst, want.above_level, want.inspection, want.leader, want.case_id)
        assert math.isclose(got.lon_sum / got.count, want.lon_sum / want.count, abs_tol=1e-9)
        assert math.isclose(got.lat_sum / got.count, want.lat_sum / want.count, abs_tol=1e-9)
    return summary


def summary_rows() -> list[tuple]:
    """Every row of the summary, floats rounded to what summation order can change."""
    rows = db.session.execute(select(WallCell).order_by(WallCell.level, WallCell.cell_x, WallCell.cell_y,
                                                        WallCell.facet))
    return [(c.level, c.cell_x, c.cell_y, c.facet, c.open_count, c.closed_count, round(c.lon_sum, 6),
             round(c.lat_sum, 6), c.earliest_due_at, c.earliest_yellow, c.above_level, c.inspection, c.leader,
             c.min_case_id)
            for c in rows.scalars()]


def assert_summary_current() -> None:
    """The summary the hook kept equals one recomputed from scratch."""
    kept = summary_rows()
    rebuild_wall_cells()
    assert summary_rows() == kept
    db.session.rollback()


def total(user, view: Viewport = CITY) -> int:
    """Cases in the view according to the summary."""
    return sum(c.count for c in assert_same_clusters(user, view))


# The wall zooms the summary tests look at, coarse to finest.
ZOOMS = [8, 10, 12, 13, 14, 15, 16, BASE_LEVEL]


def random_cases(count: int, seed: int, varied: bool = False) -> list[Case]:
    """Cases at random points in every deadline state, with every flag, some without a location.

    ``varied``: also of several categories and channels, some repeating an earlier case.
    """
    rng = random.Random(seed)
    now = clock.now()
    cases = []
    for index in range(count):
        received = now - timedelta(hours=rng.uniform(1, 400))
        fields = dict(received_at=received, due_at=received + timedelta(hours=rng.uniform(-50, 500)),
                      above_level=rng.random() < 0.2, status=CaseStatus.CLOSED if index % 5 == 0 else CaseStatus.SIGNED)
        if rng.random() < 0.2:
            fields["inspection_referral"] = InspectionReferral.CENTRAL
        if index % 7 == 0:
            fields["due_at"] = None
        case = make_case(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH), **fields)
        if index % 11 == 0:
            case.leading_official_id = case.created_by_id or 1
        if varied:
            case.category = rng.choice([Category.AIR, Category.NOISE, Category.WATER])
            case.channel = rng.choice([Channel.PHONE_12369, Channel.VISIT, Channel.ONLINE])
            if cases and rng.random() < 0.15:
                case.repeat_of = cases[0]
        cases.append(case)
    db.session.commit()
    return cases


def random_views(seed: int, count: int) -> list[Viewport]:
    """Boxes of every size over the city, each with edges anywhere (not on cell borders)."""
    rng = random.Random(seed)
    views = []
    for _ in range(count):
        west, east = sorted(rng.uniform(WEST - 0.005, EAST + 0.005) for _ in range(2))
        south, north = sorted(rng.uniform(SOUTH - 0.005, NORTH + 0.005) for _ in range(2))
        views.append(Viewport(west, south, east, north, rng.choice(ZOOMS)))
    return views


def assert_alert_tags_clear_of_counts(page, most: int = 0):
    """An alert's tag (「预警 大气 3件」) covers at most ``most`` clusters' counts and no other
    tag: it takes the place around its ring that hides fewest (wall.js placeAlertTags)."""
    found = page.evaluate("""() => {
      const map = window.wallMap;
      const frame = map.getContainer().getBoundingClientRect();
      const counts = [];
      map.eachLayer((layer) => {
        if (layer.getRadius && layer.options.pane === "cases" && "state" in layer.options) {
          const p = map.latLngToContainerPoint(layer.getLatLng());
          counts.push({ x: p.x, y: p.y, r: layer.getRadius() });
        }
      });
      const tags = [...document.querySelectorAll(".alert-label")].map((node) => {
        const r = node.getBoundingClientRect();
        const box = { left: r.left - frame.left, right: r.right - frame.left, top: r.top - frame.top,
                      bottom: r.bottom - frame.top };
        const covered = counts.filter((c) => {
          const dx = c.x - Math.max(box.left, Math.min(c.x, box.right));
          const dy = c.y - Math.max(box.top, Math.min(c.y, box.bottom));
          return dx * dx + dy * dy < c.r * c.r;
        }).length;
        return [node.textContent, node.style.left, node.style.top, covered, box];
      });
      return tags;
    }""")
    assert found, "the demo city raises an alert"
    assert all(covered <= most for *_, covered, _ in found), found
    boxes = [box for *_, box in found]
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a["left"] < b["right"]
                and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]], found
