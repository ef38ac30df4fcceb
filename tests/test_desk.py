"""The supervisor desk pages: queue, filters, intake form, actions panel, bulk assign, messages."""

import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseExtension, Notification
from app.models.vocab import CaseStatus
from app.services import clock
from app.services.settings import set_setting
from tests.helpers import form_token, sign_in_pages


def test_queue_shows_scope_sorted_by_due_and_filters(client, city):
    sign_in_pages(client, "sup_T1")
    page = client.get("/desk/")
    assert page.status_code == 200
    numbers = re.findall(r'data-number="([^"]+)"', page.text)
    assert set(numbers) == {city.cases["V11"].number, city.cases["V12"].number}
    filtered = client.get(f"/desk/?grid_id={city.grids['V12'].id}")
    assert re.findall(r'data-number="([^"]+)"', filtered.text) == [city.cases["V12"].number]
    assert client.get("/desk/?category=nonsense").status_code == 422


def test_queue_form_left_at_all_filters_only_by_what_was_chosen(client, city):
    """The filter form sends every select; one left at 全部 is an empty value, not an error."""
    sign_in_pages(client, "sup_T1")
    form = f"status=&grid_id={city.grids['V12'].id}&category=&channel=&department_id="
    filtered = client.get(f"/desk/?{form}")
    assert filtered.status_code == 200
    assert re.findall(r'data-number="([^"]+)"', filtered.text) == [city.cases["V12"].number]
    refused = client.get("/desk/?category=nonsense&channel=")
    assert refused.status_code == 422 and "筛选条件有误" in refused.text


def test_intake_form_registers_and_shows_errors_in_chinese(client, city):
    sign_in_pages(client, "sup_T1")
    form = client.get("/desk/cases/new")
    assert form.status_code == 200 and "保存登记" in form.text
    token = form_token(form.text)
    bad = client.post("/desk/cases/new", data={"csrf_token": token, "channel": "visit", "title": "x"})
    assert bad.status_code == 422 and "请检查标红的项目" in bad.text
    assert 'value="x"' in bad.text  # what was typed is kept
    good = client.post("/desk/cases/new", data={
        "csrf_token": token, "channel": "visit", "category": "noise", "sector": "tertiary", "priority": "normal",
        "title": "烧烤店油烟噪声", "lon": "120.515", "lat": "32.31", "coord_system": "wgs84",
        "petitioner_phone": "13812340000",
    })
    assert good.status_code == 302
    case = db.session.scalar(select(Case).where(Case.title == "烧烤店油烟噪声"))
    assert case.grid.code == "V12" and case.department.code == "urban"
    page = client.get(good.headers["Location"])
    assert "已登记案件" in page.text and case.number in page.text and "13812340000" in page.text


def test_actions_panel_and_refusals_are_shown_in_chinese(client, city):
    case = city.cases["V11"]
    case.status = CaseStatus.ACCEPTED
    db.session.commit()
    sign_in_pages(client, "sup_T1")
    page = client.get(f"/desk/cases/{case.id}")
    assert 'data-step="assign"' in page.text and 'data-step="sign"' not in page.text
    token = form_token(page.text)
    done = client.post(f"/desk/cases/{case.id}/actions/assign", data={"csrf_token": token}, follow_redirects=True)
    assert "已交办，案件现为「已交办」" in done.text
    again = client.post(f"/desk/cases/{case.id}/actions/assign", data={"csrf_token": token}, follow_redirects=True)
    assert "案件当前为「已交办」，不能交办" in again.text
    hidden = client.post(f"/desk/cases/{city.cases['V21'].id}/actions/sign", data={"csrf_token": token})
    assert hidden.status_code == 404


def test_a_refused_action_comes_back_open_with_everything_typed(client, city):
    """A refusal (here the extension's days) loses nothing: the form is open again, filled in."""
    case = city.cases["V11"]
    case.status = CaseStatus.HANDLING
    db.session.commit()
    sign_in_pages(client, "sup_T1")
    token = form_token(client.get(f"/desk/cases/{case.id}").text)
    reason = "需要第三方检测报告，周期较长 <script>"
    refused = client.post(f"/desk/cases/{case.id}/actions/request_extension",
                          data={"csrf_token": token, "days": "45", "reason": reason})
    assert refused.status_code == 409  # the step's own rule refused it, as the API would
    page = refused.text
    assert page.count("延期天数") >= 2  # the flash at the top and the form's own line
    form = page[page.index('data-step="request_extension"'):]
    form = form[:form.index("</details>")]
    assert form.startswith('data-step="request_extension" open')
    assert 'role="alert"' in form and 'name="days" value="45"' in form
    assert ">需要第三方检测报告，周期较长 &lt;script&gt;</textarea>" in form
    # Nothing else is filled in: another action's form is as empty as ever.
    assert page.count("周期较长") == 1 and page.count(" open>") == 1
    assert not db.session.scalars(select(CaseExtension)).all()


def test_inspector_sees_masked_petitioner_on_case_page(client, city):
    sign_in_pages(client, "insp_V11")
    page = client.get(f"/desk/cases/{city.cases['V11'].id}")
    assert "张**" in page.text and "*******5678" in page.text
    assert "13812345678" not in page.text and "320682199001011234" not in page.text
    assert client.get(f"/desk/cases/{city.cases['V12'].id}").status_code == 404


def test_bulk_assign_assigns_each_and_reports_failures(client, city):
    for code in ("V11", "V12"):
        city.cases[code].status = CaseStatus.ACCEPTED
    db.session.commit()
    sign_in_pages(client, "sup_T1")
    token = form_token(client.get("/desk/").text)
    ids = [city.cases["V11"].id, city.cases["V12"].id, city.cases["V21"].id]
    page = client.post("/desk/bulk/assign", data={"csrf_token": token, "case_id": ids}, follow_redirects=True)
    assert "交办成功 2 件" in page.text
    assert f"{city.cases['V11'].number}：已交办" in page.text
    assert f"#{city.cases['V21'].id}：案件不存在" in page.text
    db.session.expire_all()
    assert db.session.get(Case, ids[0]).status == CaseStatus.ASSIGNED


def test_notifications_page_lists_and_marks_read(client, city):
    user = city.users["sup_T1"]
    db.session.add(Notification(user_id=user.id, case_id=city.cases["V11"].id, kind="reminder",
                                message="案件即将到期，请抓紧办理"))
    db.session.commit()
    sign_in_pages(client, "sup_T1")
    page = client.get("/desk/notifications")
    assert "即将到期" in page.text and 'aria-label="未读 1 条" >1</span>' in page.text
    client.post("/desk/notifications/read", data={"csrf_token": form_token(page.text)})
    # The badge stays in the page for the poll to fill, hidden while nothing is unread.
    assert 'aria-label="未读 0 条" hidden>0</span>' in client.get("/desk/notifications").text


def test_deadline_words_follow_the_yellow_share_the_city_set(client, city):
    """Yellow quotes the ``yellow_at`` setting, not a fixed 75 %; a closed case reads 已销号."""
    set_setting("yellow_at", 0.8)
    late, closed = city.cases["V11"], city.cases["V12"]
    late.received_at, late.due_at = clock.now() - timedelta(days=9), clock.now() + timedelta(days=1)
    closed.status = CaseStatus.CLOSED
    db.session.commit()
    sign_in_pages(client, "sup_T1")
    assert "临期（已用时80%以上）" in client.get(f"/desk/cases/{late.id}").text
    assert re.search(r"期限 [^<]* · 已销号</span>", client.get(f"/desk/cases/{closed.id}").text)
