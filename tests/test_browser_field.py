"""The inspector's app in Chromium on a phone-sized screen, with a mocked GPS.

Sign in, lose the network, reload (the service worker serves the app), record an on-site
check with two camera photos and issue a contact card while offline, come back online and
see the server hold each exactly once; replaying the upload changes nothing, and a changed
record under the same id is refused with 409 and shown to the inspector.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case, ContactCard, Inspection, Photo, User
from app.models.vocab import Channel, DeadlineState, InspectionKind, ListKind, PhotoStatus
from app.services.geo import coords
from app.web import field_app
from tests.helpers import (
    CHANGE_THE_RECORD,
    REQUEUE_EVERYTHING,
    SYNC_TIMEOUT_MS,
    camera_jpeg,
    count,
    phone_context,
    sign_in_phone,
)

pytestmark = pytest.mark.browser

RESEND_DIRECTLY = """async () => {
  const store = await import("/static/m/store.js");
  const db = await store.db();
  const item = (await db.getAll("outbox")).find((i) => i.kind === "inspection");
  const { csrf_token: csrf } = await (await fetch("/api/v1/me")).json();
  const photo = await db.get("photos", item.photo_ids[0]);
  const photoAnswer = await fetch(`${item.url}/photos/${photo.id}`, { method: "PUT", body: photo.blob,
    headers: { "Content-Type": photo.type, "X-Content-SHA256": photo.sha256, "X-CSRFToken": csrf } });
  const json = { "Content-Type": "application/json", "X-CSRFToken": csrf };
  const same = await fetch(item.url, { method: "PUT", body: JSON.stringify(item.body), headers: json });
  const changed = await fetch(item.url, { method: "PUT", headers: json,
    body: JSON.stringify({ ...item.body, findings: { ...item.body.findings, outcome: "未发现问题" } }) });
  return { photo: photoAnswer.status, same: same.status, changed: changed.status, conflict: await changed.json() };
}"""


@pytest.fixture
def phone_poor_fix(browser):
    """A phone in the neighbouring village V12 whose fix is only good to 150 m."""
    context = phone_context(browser, {"latitude": 32.31, "longitude": 120.515, "accuracy": 150})
    yield context
    context.close()


def test_offline_check_and_card_reach_the_server_once(phone, live_server, city, artifacts_dir, tmp_path):
    number = city.cases["V11"].number
    page = phone.new_page()
    sign_in_phone(page, live_server)
    task = page.locator(f'li.task[data-number="{number}"]')
    expect(task).to_be_visible()
    expect(page.locator("li.task")).to_have_count(1)  # only the inspector's own village
    expect(task.locator(".chip")).to_have_text(DeadlineState.GREEN.label)  # the server's words, from the bootstrap
    expect(task).to_contain_text("信访人：张")
    expect(task).not_to_contain_text("13812345678")  # petitioner's phone masked
    expect(task.get_by_role("link", name="导航")).to_have_attribute("href", re.compile(r"^geo:32\.310000,120\.505000"))
    gaode = task.get_by_role("link", name="高德").get_attribute("href")  # Gaode draws in GCJ-02
    lon, lat = (float(v) for v in re.search(r"to=([\d.]+),([\d.]+)", gaode).groups())
    assert (lon, lat) == pytest.approx(coords.wgs84_to_gcj02(120.505, 32.31), abs=1e-6)
    page.screenshot(path=str(artifacts_dir / "field-tasks.png"), full_page=True)

    phone.set_offline(True)
    page.reload()
    expect(task).to_be_visible()
    expect(page.locator("#net")).to_have_text("离线")

    task.get_by_role("link", name="现场核查").click()
    expect(page.locator("#gps-status")).to_have_attribute("data-state", "accepted")
    expect(page.locator("#grid-warn")).to_be_hidden()
    page.get_by_label("已找到污染源").check()
    page.get_by_label("发现违法行为", exact=True).check()
    page.get_by_label("现场采取的措施").fill("责令立即停止排放")
    page.get_by_label("处理结果").select_option("责令限期整改")
    page.get_by_label("情况说明").fill("厂区东侧排口有明显异味")
    page.locator("#photo-camera").set_input_files(camera_jpeg(tmp_path / "a.jpg", (90, 120, 60)))
    page.locator("#photo-camera").set_input_files(camera_jpeg(tmp_path / "b.jpg", (120, 90, 60)))
    photos = page.locator('#photo-list li[data-state="ready"]')
    expect(photos).to_have_count(2)
    assert [p.get_attribute("data-width") for p in photos.all()] == ["1600", "1600"]
    page.screenshot(path=str(artifacts_dir / "field-onsite-form.png"), full_page=True)
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#pending b")).to_have_text("1")

    task.get_by_role("link", name="联系卡").click()
    page.get_by_role("button", name="发放联系卡").click()
    card = page.locator("#contact-card")
    expect(card.locator('[data-field="case_number"]')).to_have_text(number)
    expect(card.locator(".qr svg")).to_be_visible()
    code = card.get_attribute("data-code")
    expect(card.locator('[data-field="status_url"]')).to_have_text(f"{live_server}/c/{code}")
    expect(page.get_by_role("link", name="短信发送")).to_have_attribute("href", re.compile(rf"^sms:.*{code}"))
    page.screenshot(path=str(artifacts_dir / "field-contact-card.png"), full_page=True)
    expect(page.locator("#pending b")).to_have_text("2")
    assert count(Inspection) == 0 and count(ContactCard) == 0  # nothing left the phone while offline

    phone.set_offline(False)
    expect(page.locator("#net")).to_have_text("在线", timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#pending b")).to_have_text("0", timeout=SYNC_TIMEOUT_MS)
    assert count(Inspection) == 1
    inspection = db.session.scalars(select(Inspection)).one()
    assert inspection.case_id == city.cases["V11"].id
    assert inspection.findings["source_found"] is True and inspection.notes == "厂区东侧排口有明显异味"
    assert inspection.captured_at < inspection.received_at  # the phone's time, not the upload's
    assert count(Photo, Photo.status == PhotoStatus.RECEIVED) == 2
    assert {p.width for p in inspection.photos} == {1600}
    card_row = db.session.scalars(select(ContactCard).where(ContactCard.code == code)).one()
    assert card_row.case_id == city.cases["V11"].id and card_row.location is not None  # where it was issued

    page.get_by_role("link", name="上传", exact=True).click()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(2)

    # Replay: everything back in the queue as if the server had never answered; the app
    # sends it again when it starts, and the server answers 200 (already there) to each.
    page.evaluate(REQUEUE_EVERYTHING)
    resent = []
    page.on("response", lambda r: resent.append(r.status) if r.request.method == "PUT" else None)
    page.reload()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(2, timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#pending b")).to_have_text("0")
    assert resent == [200, 200]  # the record (its photos are already there) and the card
    answers = page.evaluate(RESEND_DIRECTLY)
    assert (answers["photo"], answers["same"], answers["changed"]) == (200, 200, 409)
    assert set(answers["conflict"]["errors"]) == {"server", "client"}
    assert (count(Inspection), count(Photo), count(ContactCard)) == (1, 2, 1)

    page.evaluate(CHANGE_THE_RECORD)
    page.get_by_role("button", name="立即上传").click()
    conflict = page.locator('li.outbox-item[data-state="conflict"]')
    expect(conflict).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    expect(conflict).to_contain_text("冲突")
    expect(conflict.locator('tr.differs[data-field="notes"]')).to_contain_text("情况说明")
    expect(page.locator("#pending .attention")).to_have_text("需处理 1")
    db.session.rollback()
    assert db.session.scalars(select(Inspection)).one().notes == "厂区东侧排口有明显异味"
    page.screenshot(path=str(artifacts_dir / "field-outbox-conflict.png"), full_page=True)


def test_patrol_discovery_picked_on_the_map_waits_out_an_expired_session(phone_poor_fix, live_server, city, tmp_path,
                                                                          artifacts_dir):
    page = phone_poor_fix.new_page()
    sign_in_phone(page, live_server)
    phone_poor_fix.set_offline(True)
    page.get_by_role("link", name="巡查发现").click()
    expect(page.locator("#gps-warn")).to_contain_text("定位精度很差（±150 米）")
    expect(page.locator("#gps-status")).to_have_attribute("data-state", "waiting")
    page.get_by_role("button", name="采用当前位置（±150 米）").click()
    expect(page.locator("#grid-warn")).to_contain_text("不在您的网格（V11村）内")

    page.get_by_role("button", name="在地图上选点").click()  # Leaflet, from the worker's cache
    expect(page.locator('.pick-map[data-ready="true"]')).to_be_visible()
    expect(page.locator(".pick-map .leaflet-control-zoom-in")).to_have_attribute("title", "放大")  # not "Zoom in"
    page.locator(".pick-map path.leaflet-interactive").click()  # the middle of the V11 polygon
    page.locator("#pick-panel").screenshot(path=str(artifacts_dir / "field-map-pick.png"))
    page.get_by_role("button", name="确认此位置").click()
    expect(page.locator("#gps-status")).to_have_attribute("data-state", "manual")
    expect(page.locator("#grid-warn")).to_be_hidden()
    page.get_by_label("污染类型").select_option(label="大气")
    page.get_by_label("行业").select_option(label="工业企业")
    page.get_by_label("标题").fill("河边小作坊露天焚烧垃圾")
    not_a_photo = tmp_path / "note.jpg"
    not_a_photo.write_text("不是照片")
    page.locator("#photo-camera").set_input_files(not_a_photo)
    expect(page.locator('#photo-list li[data-state="failed"]')).to_have_text("这张照片无法处理，请重拍。")
    page.locator("#photo-camera").set_input_files(camera_jpeg(tmp_path / "c.jpg", (60, 60, 60)))
    expect(page.locator('#photo-list li[data-state="ready"]')).to_have_count(1)
    expect(page.locator('#photo-list li[data-state="failed"]')).to_have_count(0)  # said once, then gone
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#pending b")).to_have_text("1")

    user = db.session.get(User, city.users["insp_V11"].id)
    user.session_version += 1  # signed out elsewhere ("退出所有设备") while the phone was offline
    db.session.commit()
    phone_poor_fix.set_offline(False)
    expect(page.locator("#relogin")).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#view-login")).to_be_visible()
    expect(page.locator("#pending b")).to_have_text("1")  # kept on the phone
    assert count(Inspection) == 0

    page.get_by_label("密码").fill("test-password-1")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#pending b")).to_have_text("0", timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#relogin")).to_be_hidden()
    db.session.rollback()
    inspection = db.session.scalars(select(Inspection)).one()
    assert inspection.kind == InspectionKind.PATROL_DISCOVERY and inspection.manual_location
    assert not inspection.outside_own_grid and len(inspection.photos) == 1
    case = db.session.get(Case, inspection.case_id)
    assert (case.channel, case.list_kind, case.grid_id) == (Channel.GRID_PATROL, ListKind.POTENTIAL, user.grid_id)
    page.get_by_role("link", name="上传", exact=True).click()
    expect(page.locator("li.outbox-item")).to_contain_text(f"已登记为新案件 {case.number}")
    page.get_by_role("link", name="我的").click()
    expect(page.locator("#me-grid")).to_have_text("V11村")
    page.screenshot(path=str(artifacts_dir / "field-me.png"))


def test_a_new_version_waits_for_the_inspector(phone, live_server, city, monkeypatch):
    page = phone.new_page()
    sign_in_phone(page, live_server)
    page.get_by_role("link", name="我的").click()
    old_version = page.locator("#me-version").inner_text()
    assert old_version == field_app.app_version()

    monkeypatch.setattr(field_app, "app_version", lambda: "next-version")
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
    expect(page.locator("#update")).to_be_visible()
    expect(page.locator("#me-version")).to_have_text(old_version)  # nothing changes by itself
    with page.expect_event("load"):  # the new worker takes over and the app reloads once
        page.get_by_role("button", name="立即更新").click()
    page.get_by_role("link", name="我的").click()
    expect(page.locator("#me-version")).to_have_text("next-version")


QUEUE_A_CARD_BEHIND_THE_APPS_BACK = """async () => {
  const store = await import("/static/m/store.js");
  const { isoWithOffset } = await import("/static/m/util.js");
  const data = await store.loadBootstrap();
  const code = await store.freeCode(data.user.id);
  const body = { case_id: data.cases[0].id, handler_name: "王五", handler_phone: "13900000000", handler_unit: "西镇",
    expected_reply_at: null, issued_at: isoWithOffset(), location: null, device_id: await store.deviceId() };
  await store.queueCard({ key: `card:${code}`, kind: "card", id: code, user_id: data.user.id,
    url: `/api/v1/contact-cards/${code}`, body, label: "联系卡", case_number: data.cases[0].number }, code);
  await (await navigator.serviceWorker.ready).sync.register("firstline-outbox");
  return code;
}"""


def test_background_sync_uploads_from_the_service_worker(phone, live_server, city):
    """Chromium wakes the worker for the outbox; the page (which never saw the item) does nothing."""
    page = phone.new_page()
    sign_in_phone(page, live_server)
    with phone.expect_event("response", lambda r: r.request.method == "PUT") as upload:
        code = page.evaluate(QUEUE_A_CARD_BEHIND_THE_APPS_BACK)
    assert upload.value.url.endswith(f"/api/v1/contact-cards/{code}") and upload.value.status == 201
    assert upload.value.request.service_worker is not None
    assert count(ContactCard, ContactCard.code == code) == 1


def test_a_phone_reloaded_before_its_first_sync_stays_signed_in(phone, live_server, city):
    """Signed in, but reloaded before the first sync was stored: the session still holds, so
    the app fetches its data instead of asking for the password again."""
    page = phone.new_page()
    page.goto(f"{live_server}/m/")
    page.get_by_label("用户名").wait_for(state="visible", timeout=20000)
    token = page.request.get(f"{live_server}/api/v1/auth/csrf").json()["csrf_token"]
    signed = page.request.post(f"{live_server}/api/v1/auth/login",
                               data={"username": "insp_V11", "password": "test-password-1"},
                               headers={"X-CSRFToken": token, "Origin": live_server})
    assert signed.ok, signed.text()
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-view", "tasks", timeout=20000)
    expect(page.get_by_text(city.cases["V11"].number).first).to_be_visible()


QUEUE_ANOTHER_USERS_CARD = """async () => {
  const store = await import("/static/m/store.js");
  const data = await store.loadBootstrap();
  const code = await store.freeCode(data.user.id);
  const body = { case_id: data.cases[0].id, handler_name: "王五", handler_phone: "13900000000", handler_unit: "西镇",
    expected_reply_at: null, issued_at: new Date().toISOString(), location: null, device_id: "shared" };
  await store.queueCard({ key: `card:${code}`, kind: "card", id: code, user_id: data.user.id + 999,
    url: `/api/v1/contact-cards/${code}`, body, label: "联系卡", case_number: data.cases[0].number }, code);
}"""


def test_a_shared_phone_counts_another_users_records_apart(phone, live_server, city):
    """Records another inspector left on this phone wait for them: not counted as mine, not
    claimed on my tasks, not in my sign-out warning, and 'all done' says they still wait."""
    page = phone.new_page()
    sign_in_phone(page, live_server)
    page.evaluate(QUEUE_ANOTHER_USERS_CARD)
    page.reload()
    expect(page.locator("#pending b")).to_have_text("0", timeout=20000)
    expect(page.locator("#pending .others")).to_have_text("他人 1")
    expect(page.locator(".task .done")).to_have_count(0)
    page.get_by_role("link", name="待上传").click()
    page.get_by_role("button", name="立即上传").click()
    expect(page.locator("#sync-status")).to_contain_text("另有他人的 1 条记录", timeout=20000)
    expect(page.locator("#outbox-list")).to_contain_text("需该用户登录后才能上传")
