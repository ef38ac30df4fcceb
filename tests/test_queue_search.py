"""The work queue finds a case in one step (issue 16, item 3): tabs with counts, search by
case number, hotline work-order number, phone (for those who may read it), address and
keyword, town then village, saved filters, and bulk 签收 / 催办 with a result per case."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseEvent, Notification, SavedFilter
from app.models.vocab import CaseStatus, QueueTab
from app.services import clock
from app.services.cases.deadlines import deadline_states
from tests.factories import make_case
from tests.helpers import Desk, form_token, register, sign_in_pages


def _numbers(page_text: str) -> list[str]:
    """The case numbers a queue page lists, in order."""
    return re.findall(r'data-number="([^"]+)"', page_text)


def _found(desk: Desk, username: str, query: str) -> list[str]:
    """Case numbers the API list finds for a search."""
    response = desk.get(username, f"/api/v1/cases?q={query}")
    assert response.status_code == 200, response.get_json()
    return [c["number"] for c in response.get_json()["items"]]


@pytest.fixture
def hotline_case(app, city):
    """A case registered from the 12345 hotline with its work-order number and a caller's phone."""
    created = register(Desk(app), channel="transfer_12345", work_order_number="GD20261206-0042",
                       petitioner_phone="13955550123", address="西镇幸福路18号", title="饭店油烟扰民")
    return created["case"]


def test_search_finds_a_case_by_number_work_order_and_phone_in_one_step(app, city, hotline_case):
    desk = Desk(app)
    assert hotline_case["work_order_number"] == "GD20261206-0042"
    for query in (hotline_case["number"], "GD20261206-0042", "13955550123", "幸福路", "油烟"):
        assert _found(desk, "command", query) == [hotline_case["number"]], query


def test_the_desk_search_box_finds_by_work_order_number(client, city, hotline_case):
    sign_in_pages(client, "command")
    page = client.get("/desk/?q=GD20261206-0042")
    assert _numbers(page.text) == [hotline_case["number"]]
    assert "来电号码" in page.text  # the box says a phone may be typed, to those who may search by it


def test_the_desk_search_finds_a_closed_case_by_its_number(client, city):
    """The queue lists open cases; a search looks through every status and says so."""
    closed = city.cases["V11"]
    closed.status = CaseStatus.CLOSED
    db.session.commit()
    sign_in_pages(client, "command")
    assert closed.number not in _numbers(client.get("/desk/").text)
    page = client.get(f"/desk/?q={closed.number}")
    assert _numbers(page.text) == [closed.number] and "全部状态（搜索含已结束）" in page.text
    # A status chosen beside the search still narrows it.
    assert _numbers(client.get(f"/desk/?q={closed.number}&status=assigned").text) == []


@pytest.mark.parametrize("username", ["leader", "admin"])
def test_a_phone_finds_nothing_for_those_who_may_not_read_it(app, city, hotline_case, username):
    """A masked phone must not be searchable digit by digit, or the mask would be worth nothing."""
    desk = Desk(app)
    assert _found(desk, username, "13955550123") == []
    assert _found(desk, username, "0123") == []


def test_the_inspector_does_not_find_a_case_by_phone_either(app, city):
    desk = Desk(app)
    assert _found(desk, "insp_V11", "13812345678") == []
    assert _found(desk, "insp_V11", city.cases["V11"].number) == [city.cases["V11"].number]


def test_search_stays_inside_the_scope(app, city):
    desk = Desk(app)
    assert _found(desk, "sup_T2", city.cases["V11"].number) == []


def test_a_bad_work_order_number_is_refused_in_chinese(app, city):
    desk = Desk(app)
    response = desk.post("command", "/api/v1/cases", {
        "channel": "transfer_12345", "category": "air", "sector": "industrial", "title": "异味", "lon": 120.505,
        "lat": 32.312, "petitioner_phone": "13900001111", "work_order_number": "工单 1",
    })
    assert response.status_code == 422
    assert "工单号" in response.get_json()["errors"]["work_order_number"][0]


def test_the_intake_form_keeps_the_work_order_number(client, city):
    sign_in_pages(client, "sup_T1")
    form = client.get("/desk/cases/new")
    assert 'name="work_order_number"' in form.text
    client.post("/desk/cases/new", data={
        "csrf_token": form_token(form.text), "channel": "phone_12369", "category": "water", "sector": "industrial",
        "title": "河道发黑", "lon": "120.505", "lat": "32.312", "petitioner_name": "王五",
        "work_order_number": "12369-778899",
    })
    case = db.session.scalar(select(Case).where(Case.title == "河道发黑"))
    assert case.work_order_number == "12369-778899"
    assert "工单号 12369-778899" in client.get(f"/desk/cases/{case.id}").text


def _age(case: Case, used: float) -> None:
    """Make a case's deadline ``used`` (0..>1) of the way through: received a day earlier."""
    now = clock.now()
    span = timedelta(days=4)
    case.received_at = now - span * used
    case.due_at = case.received_at + span


def test_tab_counts_match_the_api_list_of_each_tab(app, client, city):
    cases = city.cases
    cases["V12"].status = CaseStatus.ACCEPTED
    _age(cases["V11"], 0.9)   # yellow: 即将超期
    _age(cases["V21"], 1.2)   # red: 已超期
    cases["V22"].assigned_by_id = city.users["command"].id
    db.session.commit()
    desk = Desk(app)
    counts = desk.get("command", "/api/v1/cases/tab-counts?open=true").get_json()
    for tab in QueueTab:
        listed = desk.get("command", f"/api/v1/cases?open=true&tab={tab.value}").get_json()["meta"]["total"]
        assert counts[tab.value] == listed, tab
    assert counts == {"to_sign": 3, "to_handle": 1, "to_decide": 0, "due_soon": 1, "overdue": 1, "assigned_by_me": 1,
                      "all": 4}
    sign_in_pages(client, "command")
    page = client.get("/desk/")
    assert re.search(r'data-tab="to_sign"[^>]*>待签收 <span class="count">3</span>', page.text)
    assert _numbers(client.get("/desk/?tab=to_sign").text).count(cases["V12"].number) == 0


def test_the_due_soon_and_overdue_tabs_agree_with_the_colours(app, city):
    """The tabs select in SQL what the desk colours in Python: the same yellow, the same red."""
    for code, used in (("V11", 0.5), ("V12", 0.8), ("V21", 0.99), ("V22", 1.5)):
        _age(city.cases[code], used)
    db.session.commit()
    states = deadline_states(list(city.cases.values()), clock.now())
    desk = Desk(app)
    for tab, colour in (("due_soon", "yellow"), ("overdue", "red")):
        listed = {c["id"] for c in desk.get("command", f"/api/v1/cases?tab={tab}").get_json()["items"]}
        assert listed == {case_id for case_id, state in states.items() if state == colour}, tab


def test_town_then_village_narrows_the_queue(client, city):
    sign_in_pages(client, "command")
    page = client.get(f"/desk/?town_id={city.grids['T2'].id}")
    assert set(_numbers(page.text)) == {city.cases["V21"].number, city.cases["V22"].number}
    assert f'data-town="{city.grids["T2"].id}"' in page.text
    village = client.get(f"/desk/?town_id={city.grids['T2'].id}&grid_id={city.grids['V22'].id}")
    assert _numbers(village.text) == [city.cases["V22"].number]
    # A village of another town (an old link): said, and the town alone filters.
    mixed = client.get(f"/desk/?town_id={city.grids['T2'].id}&grid_id={city.grids['V11'].id}")
    assert "所选村（社区）不属于所选镇（街道）" in mixed.text
    assert set(_numbers(mixed.text)) == {city.cases["V21"].number, city.cases["V22"].number}


def test_saved_filters_belong_to_their_user(client, city):
    sign_in_pages(client, "command")
    token = form_token(client.get("/desk/").text)
    client.post("/desk/filters", data={"csrf_token": token, "name": "东镇超期",
                                       "query": f"tab=overdue&town_id={city.grids['T2'].id}&page=3"})
    saved = db.session.scalar(select(SavedFilter))
    assert saved.query == f"tab=overdue&town_id={city.grids['T2'].id}"
    page = client.get("/desk/")
    assert "东镇超期" in page.text and saved.query.replace("&", "&amp;") in page.text
    refused = client.post("/desk/filters", data={"csrf_token": token, "name": " ", "query": "tab=all"},
                          follow_redirects=True)
    assert "请填写 1 至 40 字的名称" in refused.text

    sign_in_pages(client, "sup_T1")
    other = client.get("/desk/")
    assert "东镇超期" not in other.text
    client.post(f"/desk/filters/{saved.id}/delete", data={"csrf_token": form_token(other.text)})
    assert db.session.get(SavedFilter, saved.id) is not None


def test_bulk_sign_reports_each_case(client, city):
    city.cases["V21"].status = CaseStatus.SIGNED
    db.session.commit()
    sign_in_pages(client, "officer_env")
    token = form_token(client.get("/desk/").text)
    ids = [city.cases["V11"].id, city.cases["V21"].id, city.cases["V12"].id]
    page = client.post("/desk/bulk/sign", data={"csrf_token": token, "case_id": ids}, follow_redirects=True)
    assert f"{city.cases['V11'].number}：已签收" in page.text
    assert f"{city.cases['V21'].number}：案件当前为「已签收」，不能签收" in page.text
    assert f"#{city.cases['V12'].id}：案件不存在" in page.text  # the urban bureau's case: not theirs to see
    assert "共 3 件，签收成功 1 件" in page.text
    db.session.expire_all()
    assert db.session.get(Case, ids[0]).status == CaseStatus.SIGNED


def test_bulk_remind_tells_the_handler_and_keeps_it_on_the_timeline(client, city):
    sign_in_pages(client, "command")
    token = form_token(client.get("/desk/").text)
    ids = [city.cases["V11"].id, city.cases["V22"].id]
    page = client.post("/desk/bulk/remind", data={"csrf_token": token, "case_id": ids, "note": "今天内反馈"},
                       follow_redirects=True)
    assert "共 2 件，催办成功 2 件" in page.text
    told = db.session.scalars(select(Notification).where(Notification.case_id == ids[0])).all()
    assert [n.user_id for n in told] == [city.users["officer_env"].id]
    assert "催办" in told[0].message and "今天内反馈" in told[0].message
    assert db.session.scalar(select(CaseEvent.kind).where(CaseEvent.case_id == ids[0]).order_by(CaseEvent.seq.desc()))\
        == "remind"


def test_a_handler_may_not_remind(client, city):
    sign_in_pages(client, "officer_env")
    page = client.get("/desk/")
    assert "批量签收" in page.text and "批量催办" not in page.text
    page = client.post("/desk/bulk/remind", data={"csrf_token": form_token(page.text),
                                                  "case_id": [city.cases["V11"].id]}, follow_redirects=True)
    assert "不能催办" in page.text


def test_a_departments_queue_holds_its_own_work(app, city):
    """待办理 for a department is what it signed and handles, not intake or a return under
    review; a leading official signs nothing, so has nothing 待签收."""
    made = {status: make_case(120.505, 32.31, status=status)
            for status in (CaseStatus.REGISTERED, CaseStatus.RETURN_REQUESTED, CaseStatus.SIGNED, CaseStatus.HANDLING)}
    db.session.commit()
    desk = Desk(app)
    listed = desk.get("officer_env", "/api/v1/cases?tab=to_handle&per_page=100").get_json()["items"]
    mine = {item["id"] for item in listed}
    assert mine >= {made[CaseStatus.SIGNED].id, made[CaseStatus.HANDLING].id}
    assert not mine & {made[CaseStatus.REGISTERED].id, made[CaseStatus.RETURN_REQUESTED].id}
    assert all(db.session.get(Case, i).status in ("signed", "handling") for i in mine)
    leader = desk.get("leader", "/api/v1/cases?tab=to_sign").get_json()
    assert leader["meta"]["total"] == 0
