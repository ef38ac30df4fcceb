"""The evidence an inspector's phone gathers, in Chromium on a phone-sized screen with a mocked GPS.

Camera photos keep the camera's own time, place and orientation although the phone shrinks
them, and on Wi-Fi the untouched files follow; a week-old gallery photo is labelled and
flagged; a check cannot be saved without its findings and a photo (or a reason), and a check
far from the case is saved with a warning that a supervisor must confirm it; a busy server is
asked again; a conflict shows both versions and can go as a new record; a form interrupted by
the app being killed comes back with its photos.
"""

import hashlib
import json
import re
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Inspection, Photo
from app.models.vocab import CaseStatus, PhotoStatus
from app.services.field.photos import photo_path
from tests.helpers import (
    CHANGE_THE_RECORD,
    GPS,
    SYNC_TIMEOUT_MS,
    camera_file,
    choose_findings,
    count,
    minutes_ago,
    open_check,
    phone_context,
)
from tests.helpers import sign_in_phone as sign_in

pytestmark = pytest.mark.browser

CITY = ZoneInfo("Asia/Shanghai")
CASE_POINT = (120.505, 32.31)  # where V11's case lies (tests/factories.py)
# Chromium on a desktop cannot tell Wi-Fi from a mobile connection; a phone's Chromium can.
ON_WIFI = 'Object.defineProperty(NetworkInformation.prototype, "type", { get: () => "wifi" });'

QUEUED_RECORD = """async () => {
  const store = await import("/static/m/store.js");
  return (await store.outboxItems()).map((item) => ({ kind: item.kind, key: item.key, body: item.body || null }));
}"""

TURN_A_RED_AND_BLUE_PICTURE = """async () => {
  const { shrink } = await import("/static/m/photos.js");
  const canvas = new OffscreenCanvas(40, 20);
  const context = canvas.getContext("2d");
  context.fillStyle = "#ff0000";
  context.fillRect(0, 0, 20, 20);
  context.fillStyle = "#0000ff";
  context.fillRect(20, 0, 20, 20);
  const picture = await createImageBitmap(canvas);
  const out = {};
  for (const orientation of [3, 6, 8]) {
    const { blob, width, height } = await shrink(picture, 40, orientation);
    const probe = new OffscreenCanvas(width, height).getContext("2d");
    probe.drawImage(await createImageBitmap(blob), 0, 0);
    const at = (x, y) => {
      const [red, , blue] = probe.getImageData(x, y, 1, 1).data;
      return red > blue ? "red" : "blue";
    };
    out[orientation] = { size: [width, height], top: at(width / 2, 2), bottom: at(width / 2, height - 3),
      left: at(2, height / 2), right: at(width - 3, height / 2) };
  }
  return out;
}"""


def wait_until_sent(page, items=1):
    """On the outbox screen, until the server has confirmed `items` records."""
    page.get_by_role("link", name="上传", exact=True).click()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(items, timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#pending b")).to_have_text("0")


def the_inspection(*where) -> Inspection:
    """The one stored inspection (matching `where`), freshly read."""
    db.session.rollback()
    return db.session.scalars(select(Inspection).where(*where)).one()


@pytest.fixture
def phone_on_wifi(browser):
    """A phone in the middle of village V11 that says it is on Wi-Fi."""
    context = phone_context(browser, GPS)
    context.add_init_script(ON_WIFI)
    yield context
    context.close()


@pytest.fixture
def phone_far_away(browser):
    """A phone with a good fix in the neighbouring village V12, about 940 m from V11's case."""
    context = phone_context(browser, {"latitude": 32.31, "longitude": 120.515, "accuracy": 8})
    yield context
    context.close()


def test_camera_photos_keep_the_camera_time_and_place_and_their_originals_follow_on_wifi(
        phone_on_wifi, live_server, city, artifacts_dir, tmp_path):
    page = phone_on_wifi.new_page()
    sign_in(page, live_server)
    phone_on_wifi.set_offline(True)
    page.reload()
    open_check(page, city)
    expect(page.locator("#case-distance")).to_have_text("距案件 0 米 · 定位精度 ±8 米")
    check = page.locator("#record-check")
    expect(check.locator("li")).to_have_text(["须至少拍一张照片，或选择无法拍照的原因", "须选择核查结论"])
    page.get_by_role("button", name="保存记录（还缺 2 项）").click()
    expect(page.locator("#record-error")).to_contain_text("须选择核查结论")
    expect(page.locator("#pending b")).to_have_text("0")  # nothing saved

    first_taken, second_taken = minutes_ago(25), minutes_ago(23)
    first = camera_file(tmp_path / "a.jpg", first_taken, offset="+08:00", gps=(120.5051, 32.3101))
    second = camera_file(tmp_path / "b.jpg", second_taken, offset="+08:00", gps=(120.5049, 32.3099), orientation=6,
                         color=(140, 90, 60))
    page.locator("#photo-camera").set_input_files(first)
    page.locator("#photo-camera").set_input_files(second)
    photos = page.locator('#photo-list li[data-state="ready"]')
    expect(photos).to_have_count(2)
    expect(photos.nth(0)).to_contain_text("现场拍摄")
    expect(photos.nth(0).locator(".camera-time")).to_have_text(
        f"相机时间 {first_taken.month}月{first_taken.day}日 {first_taken:%H:%M}")
    expect(page.locator("#photo-list .photo-warn:visible")).to_have_count(0)
    # The second camera file is stored sideways with "turn 90°" in its EXIF: the copy is upright.
    assert [(p.get_attribute("data-width"), p.get_attribute("data-height")) for p in photos.all()] == [
        ("1600", "1067"), ("1067", "1600")]
    expect(check.locator("li")).to_have_text(["须选择核查结论"])
    choose_findings(page)
    expect(check).to_have_attribute("data-state", "ok")
    page.screenshot(path=str(artifacts_dir / "field-evidence-camera.png"), full_page=True)
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#pending b")).to_have_text("1")
    assert count(Inspection) == 0

    phone_on_wifi.set_offline(False)
    expect(page.locator("#pending b")).to_have_text("0", timeout=SYNC_TIMEOUT_MS)
    page.get_by_role("link", name="上传", exact=True).click()
    originals = page.locator('li.outbox-item[data-key^="originals:"]')
    expect(originals).to_have_attribute("data-state", "sent", timeout=SYNC_TIMEOUT_MS)
    inspection = the_inspection()
    assert inspection.findings["source_found"] is True and inspection.findings["violation_found"] is False
    stored = sorted(inspection.photos, key=lambda p: p.exif_taken_at)
    assert [p.exif_taken_at for p in stored] == [first_taken.astimezone(UTC), second_taken.astimezone(UTC)]
    assert all(p.exif_taken_at < p.captured_at for p in stored)  # the camera's time, not when it was picked
    assert [p.origin for p in stored] == ["camera", "camera"] and [p.exif_orientation for p in stored] == [None, 6]
    assert abs(stored[0].exif_lon - 120.5051) < 1e-4 and not any(p.taken_before_visit for p in stored)
    assert [(p.width, p.height) for p in stored] == [(1600, 1067), (1067, 1600)]  # the phone's copies
    for photo, path in zip(stored, (first, second), strict=True):
        sent = Path(path).read_bytes()
        assert photo.original_sha256 == hashlib.sha256(sent).hexdigest()
        assert photo_path("original", photo.original_sha256).read_bytes() == sent


def test_a_gallery_photo_from_yesterday_is_labelled_and_flagged(phone, live_server, city, artifacts_dir, tmp_path):
    page = phone.new_page()
    sign_in(page, live_server)
    open_check(page, city)
    yesterday = minutes_ago(26 * 60)
    # Picked from the gallery: no UTC offset in its EXIF, and taken some 13 km away.
    page.locator("#photo-gallery").set_input_files(camera_file(tmp_path / "old.jpg", yesterday, gps=(120.6, 32.4)))
    photo = page.locator('#photo-list li[data-state="ready"]')
    expect(photo).to_have_attribute("data-origin", "gallery")
    expect(photo.locator(".chip")).to_have_text("相册选取")
    expect(photo.locator(".camera-time")).to_have_text(
        f"相机时间 {yesterday.month}月{yesterday.day}日 {yesterday:%H:%M}（相机未记录时区，按 +08:00 计）")
    warning = photo.locator(".photo-warn")
    expect(warning).to_contain_text("拍摄于 26 小时前（超过 120 分钟）")
    expect(warning).to_contain_text("照片自带的拍摄位置距这里 13.")
    choose_findings(page)
    page.screenshot(path=str(artifacts_dir / "field-evidence-gallery.png"), full_page=True)
    page.get_by_role("button", name="保存记录").click()  # a warning, not a block
    wait_until_sent(page)

    stored = the_inspection().photos[0]
    assert stored.status == PhotoStatus.RECEIVED and stored.origin == "gallery"
    assert stored.exif_taken_at == yesterday.astimezone(UTC) and stored.exif_taken_at < stored.captured_at
    assert stored.taken_before_visit is True and stored.exif_far_from_checkin is True
    # This browser cannot tell Wi-Fi: no camera file waits on the phone for ever.
    assert [item["kind"] for item in page.evaluate(QUEUED_RECORD)] == ["inspection"]
    assert stored.original_sha256 is None


def test_missing_items_block_and_a_far_check_is_saved_for_a_supervisor(phone_far_away, live_server, city,
                                                                      artifacts_dir):
    page = phone_far_away.new_page()
    sign_in(page, live_server)
    phone_far_away.set_offline(True)
    open_check(page, city)
    distance = page.locator('#case-distance .figure[data-bad="true"]')
    expect(distance).to_have_text(re.compile(r"^距案件 9\d\d 米$"))
    expect(page.locator('#case-distance .figure[data-bad="false"]')).to_have_text("定位精度 ±8 米")
    check = page.locator("#record-check")
    expect(check).to_have_attribute("data-state", "missing")
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#record-error")).to_have_text(
        "请先完成：须至少拍一张照片，或选择无法拍照的原因；须选择核查结论。")
    expect(page.locator("#pending b")).to_have_text("0")

    page.get_by_label("未找到污染源").check()
    expect(check.locator("li")).to_have_text(["须至少拍一张照片，或选择无法拍照的原因", "须选择核查结论"])
    page.get_by_label("未发现违法行为").check()
    page.get_by_label("无法拍照的原因").select_option(label="现场不允许拍照")
    expect(check).to_have_attribute("data-state", "warn")
    expect(check).to_contain_text("超过 500 米")
    expect(check).to_contain_text("仍可保存，但须主管确认后才计为现场核查。")
    page.screenshot(path=str(artifacts_dir / "field-evidence-far.png"), full_page=True)
    page.get_by_role("button", name="保存记录（须主管确认）").click()
    expect(page.locator("#pending b")).to_have_text("1")
    body = page.evaluate(QUEUED_RECORD)[0]["body"]
    assert body["no_photo_reason"] == "not_allowed" and body["photos"] == []
    assert (body["findings"]["source_found"], body["findings"]["violation_found"]) == (False, False)


def test_a_busy_server_is_asked_again_after_retry_after(phone, live_server, city, tmp_path):
    answers = []

    def busy_once(route):
        if route.request.method == "PUT" and not answers:
            answers.append(503)
            route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json",
                          body=json.dumps({"code": 503, "message": "服务器繁忙，正在自动重试。",
                                           "errors": {"retry": ["transient"]}}, ensure_ascii=False))
            return
        answers.append("server")
        route.continue_()

    phone.route("**/api/v1/inspections/*", busy_once)  # the record, not its photos
    page = phone.new_page()
    sign_in(page, live_server)
    open_check(page, city)
    page.locator("#photo-camera").set_input_files(camera_file(tmp_path / "a.jpg", minutes_ago(5)))
    choose_findings(page)
    page.get_by_role("button", name="保存记录").click()
    wait_until_sent(page)
    assert answers == [503, "server"]
    assert len(the_inspection().photos) == 1


def test_a_refused_check_goes_again_once_its_reason_has_gone(phone, live_server, city, tmp_path):
    """The town took the case back while the inspector was offline: the check is refused, kept
    with its photo, not counted as done; once the case is assigned again it goes as it was."""
    case = city.cases["V11"]
    page = phone.new_page()
    sign_in(page, live_server)
    phone.set_offline(True)
    open_check(page, city)
    page.locator("#photo-camera").set_input_files(camera_file(tmp_path / "a.jpg", minutes_ago(5)))
    choose_findings(page)
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#pending b")).to_have_text("1")
    case.status = CaseStatus.ACCEPTED  # 退单 agreed meanwhile: the case is back at intake
    db.session.commit()
    phone.set_offline(False)
    page.get_by_role("link", name="上传", exact=True).click()
    refused = page.locator('li.outbox-item[data-state="rejected"]')
    expect(refused).to_contain_text("案件当前为「已受理」，不能再记录现场核查。", timeout=SYNC_TIMEOUT_MS)
    page.get_by_role("link", name="任务").click()
    expect(page.locator(f'li.task[data-number="{case.number}"]')).not_to_contain_text("本机已核查")

    case.status = CaseStatus.ASSIGNED  # assigned again
    db.session.commit()
    page.get_by_role("link", name="上传", exact=True).click()
    refused.get_by_role("button", name="重新上传").click()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    assert [p.status for p in the_inspection().photos] == [PhotoStatus.RECEIVED]


def test_a_conflict_shows_both_versions_and_goes_as_a_new_record(phone, live_server, city, artifacts_dir, tmp_path):
    refused = []

    def someone_elses_id(route):
        """The first upload finds the id taken by a record the inspector may not read: ids only."""
        if route.request.method == "PUT" and not refused:
            record_id = route.request.url.rsplit("/", 1)[1]
            refused.append(record_id)
            route.fulfill(status=409, content_type="application/json", body=json.dumps({
                "code": 409, "message": "该记录编号已存在且内容不同，未覆盖服务器上的记录。",
                "errors": {"server": {"id": record_id}, "client": {"id": record_id}}}, ensure_ascii=False))
            return
        route.continue_()

    phone.route("**/api/v1/inspections/*", someone_elses_id)
    page = phone.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server)
    open_check(page, city)
    page.get_by_label("情况说明").fill("厂区东侧排口有明显异味")
    page.locator("#photo-camera").set_input_files(camera_file(tmp_path / "a.jpg", minutes_ago(5)))
    choose_findings(page)
    page.get_by_role("button", name="保存记录").click()
    page.get_by_role("link", name="上传", exact=True).click()
    conflict = page.locator('li.outbox-item[data-state="conflict"]')
    expect(conflict).to_contain_text("服务器上已有同编号的其他记录", timeout=SYNC_TIMEOUT_MS)
    expect(conflict.get_by_role("button", name="保留服务器上的版本")).to_have_count(0)
    conflict.get_by_role("button", name="作为新记录发送").click()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    first = the_inspection()
    assert str(first.id) != refused[0] and [p.status for p in first.photos] == [PhotoStatus.RECEIVED]

    page.evaluate(CHANGE_THE_RECORD)  # the phone's copy now says something else under the same id
    page.get_by_role("button", name="立即上传").click()
    expect(conflict).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    notes = conflict.locator('tr.differs[data-field="notes"]')
    expect(notes.locator("td")).to_have_text(["厂区东侧排口有明显异味", "厂区东侧排口有明显异味（事后改动）"])
    expect(conflict.locator('tr[data-field="findings"]')).not_to_have_class("differs")
    expect(conflict.locator('tr[data-field="findings"] td').first).to_have_text(
        "污染源：已找到；违法行为：未发现")
    page.screenshot(path=str(artifacts_dir / "field-evidence-conflict.png"), full_page=True)
    conflict.get_by_role("button", name="作为新记录发送").click()
    expect(page.locator('li.outbox-item[data-state="sent"]')).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#pending .attention")).to_have_count(0)
    second = the_inspection(Inspection.id != first.id)
    assert second.notes == "厂区东侧排口有明显异味（事后改动）" and len(second.photos) == 1
    assert second.photos[0].status == PhotoStatus.RECEIVED and second.photos[0].id != first.photos[0].id
    assert the_inspection(Inspection.id == first.id).notes == "厂区东侧排口有明显异味"  # never overwritten

    page.evaluate(CHANGE_THE_RECORD)
    page.get_by_role("button", name="立即上传").click()
    expect(conflict).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    conflict.get_by_role("button", name="保留服务器上的版本").click()
    expect(page.locator("li.outbox-item")).to_have_count(0)  # the phone's copy is gone, by choice
    assert count(Inspection) == 2 and count(Photo) == 2


def test_a_form_interrupted_by_the_app_being_killed_comes_back_with_its_photos(phone, live_server, city,
                                                                             artifacts_dir, tmp_path):
    page = phone.new_page()
    sign_in(page, live_server)
    open_check(page, city)
    page.get_by_label("已找到污染源").check()
    page.get_by_label("情况说明").fill("排口仍有黑水流出")
    page.locator("#photo-camera").set_input_files(camera_file(tmp_path / "a.jpg", minutes_ago(6)))
    page.locator("#photo-gallery").set_input_files(camera_file(tmp_path / "b.jpg", minutes_ago(4)))
    expect(page.locator('#photo-list li[data-state="ready"]')).to_have_count(2)
    expect(page.locator("#draft-state")).to_have_attribute("data-photos", "2")  # written after the notes
    page.close()  # killed: no unload, no goodbye

    page = phone.new_page()
    page.goto(f"{live_server}/m/")
    expect(page.locator("#view-record")).to_be_visible()
    expect(page.locator("#draft-notice")).to_contain_text("已恢复上次未保存的记录（含 2 张照片")
    photos = page.locator('#photo-list li[data-state="ready"]')
    expect(photos).to_have_count(2)
    expect(photos.locator(".chip")).to_have_text(["现场拍摄", "相册选取"])
    expect(page.get_by_label("情况说明")).to_have_value("排口仍有黑水流出")
    expect(page.get_by_label("已找到污染源")).to_be_checked()
    expect(page.locator("#record-check li")).to_have_text(["须选择核查结论"])
    page.screenshot(path=str(artifacts_dir / "field-evidence-restored.png"), full_page=True)
    page.get_by_label("发现违法行为", exact=True).check()
    page.get_by_role("button", name="保存记录").click()
    wait_until_sent(page)
    inspection = the_inspection()
    assert inspection.notes == "排口仍有黑水流出" and inspection.findings["violation_found"] is True
    assert sorted(p.origin for p in inspection.photos) == ["camera", "gallery"]
    assert all(p.status == PhotoStatus.RECEIVED for p in inspection.photos)
    page.goto(f"{live_server}/m/#/tasks")
    page.reload()  # reopened: the task list, for the draft went with the saved record
    expect(page.locator("#view-tasks")).to_be_visible()


def test_the_phone_turns_a_picture_as_its_exif_says_when_the_decoder_does_not(page, live_server):
    page.goto(f"{live_server}/m/")
    turned = page.evaluate(TURN_A_RED_AND_BLUE_PICTURE)
    assert (turned["3"]["size"], turned["3"]["left"], turned["3"]["right"]) == ([40, 20], "blue", "red")
    assert (turned["6"]["size"], turned["6"]["top"], turned["6"]["bottom"]) == ([20, 40], "red", "blue")
    assert (turned["8"]["size"], turned["8"]["top"], turned["8"]["bottom"]) == ([20, 40], "blue", "red")
