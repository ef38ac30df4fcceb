"""The map wall's API: exact cluster counts and colours, case cards, ETags, access, live events."""

import html
import json
import math
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import CaseEvent
from app.models.vocab import CaseStatus, Channel, InspectionReferral
from app.services import clock
from app.services.campaign import scoring
from app.services.campaign.periods import stated_period
from app.services.campaign.phases import create_campaign
from app.services.cases.deadlines import case_deadline_state
from app.services.cases.timeline import append_event
from app.services.wall.clusters import POINTS_ZOOM, STATE_RANKS, cell_degrees
from app.services.wall.events import turned_red
from tests.factories import EAST, NORTH, SOUTH, WEST, make_case

CITY_BOX = {"west": WEST - 0.01, "south": SOUTH - 0.01, "east": EAST + 0.01, "north": NORTH + 0.01}


def scatter_cases(count: int, seed: int = 7) -> list:
    """Cases at random points of the tiny city, in every deadline state and with every flag."""
    rng = random.Random(seed)
    now = clock.now()
    cases = []
    for index in range(count):
        kind = index % 4
        fields = {
            0: dict(received_at=now - timedelta(days=2), due_at=now + timedelta(days=10)),  # green
            1: dict(received_at=now - timedelta(days=9), due_at=now + timedelta(days=1)),  # yellow
            2: dict(received_at=now - timedelta(days=9), due_at=now - timedelta(hours=1)),  # red
            3: dict(status=CaseStatus.CLOSED, due_at=now - timedelta(days=3)),  # closed
        }[kind]
        if rng.random() < 0.2:
            fields["above_level"] = True
        if rng.random() < 0.2:
            fields["inspection_referral"] = InspectionReferral.PROVINCIAL
        lon = rng.uniform(WEST + 0.0001, EAST - 0.0001)
        lat = rng.uniform(SOUTH + 0.0001, NORTH - 0.0001)
        cases.append(make_case(lon, lat, **fields))
    db.session.commit()
    return cases


def expected_clusters(cases, zoom: int, box: dict) -> list[tuple]:
    """Cluster the cases in Python the way the server promises: (count, worst, above-level) per cell.

    Every cell the box touches counts whole: all its cases, also those beyond the box's edge.
    """
    size = cell_degrees(zoom)
    now = clock.now()
    x0, x1 = math.floor((box["west"] + 180) / size), math.floor((box["east"] + 180) / size)
    y0, y1 = math.floor((box["south"] + 90) / size), math.floor((box["north"] + 90) / size)
    cells: dict[tuple[int, int], list] = {}
    for case in cases:
        point = db.session.scalar(db.select(db.func.ST_X(case.location)))
        lat = db.session.scalar(db.select(db.func.ST_Y(case.location)))
        key = (math.floor((point + 180) / size), math.floor((lat + 90) / size))
        if x0 <= key[0] <= x1 and y0 <= key[1] <= y1:
            cells.setdefault(key, []).append(case)
    return sorted(
        (len(members), max(STATE_RANKS[str(case_deadline_state(c, now))] for c in members),
         sum(1 for c in members if c.above_level))
        for members in cells.values()
    )


def get_viewport(client, zoom: int, box: dict = CITY_BOX, **filters):
    return client.get("/api/v1/wall/viewport", query_string={**box, "zoom": zoom, **filters})


@pytest.mark.parametrize("zoom", [9, 12, 13, 14, 15])
def test_cluster_counts_and_worst_colours_match_the_cases(client, auth, city, zoom):
    cases = [*city.cases.values(), *scatter_cases(120)]
    auth.login("command")
    body = get_viewport(client, zoom).get_json()
    assert body["kind"] == "clusters"
    assert body["total"] == len(cases)
    got = sorted((c["count"], STATE_RANKS[c["state"]], c["above_level"]) for c in body["clusters"])
    assert got == expected_clusters(cases, zoom, CITY_BOX)


def test_a_partial_viewport_counts_the_whole_cells_it_touches(client, auth, city):
    cases = [*city.cases.values(), *scatter_cases(80, seed=11)]
    box = {"west": WEST + 0.005, "south": SOUTH + 0.004, "east": WEST + 0.027, "north": NORTH - 0.003}
    auth.login("command")
    for query in ({}, {"category": "air"}):  # the summary and the live query alike
        body = get_viewport(client, 14, box, **query).get_json()
        got = sorted((c["count"], STATE_RANKS[c["state"]], c["above_level"]) for c in body["clusters"])
        assert got == expected_clusters(cases, 14, box)
        assert 0 < body["total"] < len(cases)


def test_a_cluster_keeps_its_count_while_the_view_edge_slides_across_it(client, auth, city):
    scatter_cases(60, seed=5)
    auth.login("command")
    size = cell_degrees(14)
    # The view's west edge moves through the middle of one column of cells.
    edge = (math.floor((WEST + 0.011 + 180) / size) + 0.2) * size - 180
    bodies = [get_viewport(client, 14, {**CITY_BOX, "west": edge + shift * size}).get_json()
              for shift in (0.0, 0.3, 0.6)]
    assert bodies[0]["clusters"] == bodies[1]["clusters"] == bodies[2]["clusters"]
    first = get_viewport(client, 14, {**CITY_BOX, "west": edge})
    inside = client.get("/api/v1/wall/viewport", query_string={**CITY_BOX, "west": edge + 0.5 * size, "zoom": 14},
                        headers={"If-None-Match": first.headers["ETag"]})
    assert inside.status_code == 304  # a pan within the same cells asks the same question


def test_a_box_far_too_big_for_its_zoom_is_refused_with_a_message(client, auth, city):
    auth.login("command")
    response = client.get("/api/v1/wall/viewport",
                          query_string={"west": 100, "south": 20, "east": 130, "north": 40, "zoom": 18})
    assert response.status_code == 422
    assert "范围过大" in response.get_json()["message"]


@pytest.mark.parametrize("path", ["/api/v1/wall/viewport", "/api/v1/wall/villages"])
@pytest.mark.parametrize(("query", "field"), [
    ({"category": "plastic"}, "category"), ({"channel": "fax"}, "channel"), ({"category": ""}, "category"),
    ({"received_from": "2026-11-30T00:00:00+08:00", "received_to": "2026-11-01T00:00:00+08:00"}, "received_to"),
    ({"received_from": "2026-11-01T00:00:00+08:00", "received_to": "2026-11-01T00:00:00+08:00"}, "received_to"),
])
def test_a_filter_the_wall_does_not_know_is_refused_not_answered_with_an_empty_map(client, auth, city, path, query,
                                                                                     field):
    auth.login("command")
    response = client.get(path, query_string={**CITY_BOX, "zoom": 12, **query})
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert field in str(body), body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(body)), body  # said in Chinese


def test_the_state_filter_keeps_only_red_cases(client, auth, city):
    cases = scatter_cases(40)
    auth.login("command")
    body = get_viewport(client, 12, state="red").get_json()
    assert body["total"] == sum(1 for c in cases if str(case_deadline_state(c, clock.now())) == "red")
    assert {c["state"] for c in body["clusters"]} == {"red"}


def test_flag_and_category_filters(client, auth, city):
    cases = scatter_cases(40)
    auth.login("command")
    above = get_viewport(client, 12, flag="above_level").get_json()
    assert above["total"] == sum(1 for c in cases if c.above_level)
    leader = get_viewport(client, 12, flag="leader").get_json()
    assert leader["total"] == 1  # V11's case is led by a leader
    noise = get_viewport(client, 12, category="noise").get_json()
    assert noise["total"] == 0


def test_high_zoom_sends_single_cases_with_flags_and_no_personal_data(client, auth, city):
    scatter_cases(12)
    auth.login("command")
    response = get_viewport(client, POINTS_ZOOM)
    body = response.get_json()
    assert body["kind"] == "points"
    assert len(body["points"]) == 16
    assert {"id", "lon", "lat", "state", "above_level", "inspection", "leader"} == set(body["points"][0])
    assert "张三丰" not in response.get_data(as_text=True)


def test_case_card_shows_the_handling_facts_and_no_personal_data(client, auth, city):
    case = city.cases["V11"]
    auth.login("command")
    response = client.get(f"/api/v1/wall/cases/{case.id}")
    card = response.get_json()
    assert card["number"] == case.number
    assert card["town"] == "西镇"
    assert card["department"] == "市生态环境局"
    assert card["state"] == "green"
    assert card["leader"] is True
    text = response.get_data(as_text=True)
    for personal in ("张三丰", "13812345678", "320682199001011234", "petitioner"):
        assert personal not in text


def test_an_unchanged_viewport_costs_a_304_until_a_case_changes(client, auth, city):
    auth.login("command")
    first = get_viewport(client, 12)
    assert first.headers["ETag"]
    again = client.get(first.request.url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    append_event(city.cases["V12"], "sign", note="签收")
    db.session.commit()
    changed = client.get(first.request.url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize("username", ["sup_T1", "insp_V11", "officer_env", "leader"])
def test_only_the_command_office_and_admins_see_the_wall(client, auth, city, username):
    auth.login(username)
    assert get_viewport(client, 12).status_code == 403
    assert client.get("/api/v1/wall/panels").status_code == 403
    page = client.get("/wall/")
    assert page.status_code == 403
    assert "挂图作战大屏仅供指挥部办公室使用" in page.get_data(as_text=True)


def test_the_wall_page_is_served_to_the_command_office(client, auth, city):
    auth.login("command")
    page = client.get("/wall/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "挂图作战" in html and "西镇" not in html.split("<select")[0]
    assert "<script>" not in html and "style=" not in html


def test_the_wall_words_its_states_and_flags_as_the_desk_does(client, auth, city):
    """The legend, the filters and wall.js all read one table the page carries (models.vocab); grey is
    已结束 there, since it holds declined and transferred cases beside the 已销号 ones."""
    auth.login("command")
    page = client.get("/wall/").get_data(as_text=True)
    labels = json.loads(html.unescape(re.search(r"data-labels='([^']*)'", page).group(1)))
    assert labels["deadline_states"] == {"red": "已超期", "yellow": "临期", "green": "期限内", "closed": "已结束"}
    assert labels["flags"] == {"above_level": "越级访", "inspection": "督察交办", "leader": "领导包案",
                               "repeat": "重复访"}
    state_filter = page.split('name="state"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w+)">([^<]+)</option>', state_filter) == [
        ("red", "已超期"), ("yellow", "临期"), ("green", "期限内"), ("closed", "已结束")]  # worst first
    assert '<i class="dot dot-closed"></i>已结束<small class="legend-note">（销号、不予受理、转送）</small>' in page


def test_villages_count_open_and_overdue_cases(client, auth, city):
    """Village shading by case counts; the assessment score is /wall/village-scores, from the rules."""
    cases = [*city.cases.values(), *scatter_cases(40)]
    auth.login("command")
    villages = client.get("/api/v1/wall/villages").get_json()["villages"]
    now = clock.now()
    opened = Counter(c.grid_id for c in cases if c.status != CaseStatus.CLOSED)
    overdue = Counter(c.grid_id for c in cases if str(case_deadline_state(c, now)) == "red")
    assert {v["grid_id"]: (v["open"], v["overdue"]) for v in villages} == {
        grid_id: (opened[grid_id], overdue[grid_id]) for grid_id in {c.grid_id for c in cases}}
    assert all(set(v) == {"grid_id", "open", "overdue"} for v in villages)


def test_panels_count_open_closed_overdue_and_rank_towns(client, auth, city):
    cases = scatter_cases(40)
    auth.login("command")
    body = client.get("/api/v1/wall/panels").get_json()
    counts = body["counts"]
    everything = [*city.cases.values(), *cases]  # all received within the last 30 days
    assert counts["this_period"] == len(everything)
    assert counts["closed"] == sum(1 for c in everything if c.status == CaseStatus.CLOSED)
    assert counts["open"] == len(everything) - counts["closed"]
    assert counts["overdue"] == sum(1 for c in everything if str(case_deadline_state(c, clock.now())) == "red")
    above_level = {str(c) for c in Channel.above_level_channels()}
    assert counts["above_level"] == sum(1 for c in everything if c.channel in above_level)
    assert counts["above_level"] == sum(t["above_level"] for t in body["towns"])
    period = stated_period(None, None)  # no campaign runs: the last 30 days, as on the campaign pages
    assert body["period"]["heading"] == period.heading and "最近30天" in period.heading
    assert [(t["town_name"], t["score"]) for t in body["towns"]] == [
        (r.town_name, r.score) for r in scoring.town_ranking(period.start, period.end)]
    assert {t["town_name"] for t in body["towns"]} == {"西镇", "东镇"}
    assert body["top_categories"][0]["label"] == "大气"


def test_the_panels_cover_the_campaign_or_the_picked_period_and_say_so(client, auth, city):
    """Hand count: the campaign 2026-09-20 … 2026-12-31 holds the city's 4 base cases (moved
    to 2026-10-01) and one more on 2026-12-01; a case of 2026-08-01 is before it; 2025-10-01
    is last year's same dates so far (now is 2026-12-06 12:00 Beijing). A period picked as
    2026-08-01 … 2026-08-31 holds only the August case."""
    now = datetime(2026, 12, 6, 4, tzinfo=UTC)
    with clock.frozen_at(now):
        for case in city.cases.values():
            case.received_at = datetime(2026, 10, 1, 4, tzinfo=UTC)
        make_case(120.505, 32.31, received_at=datetime(2026, 12, 1, 4, tzinfo=UTC))
        make_case(120.505, 32.31, received_at=datetime(2026, 8, 1, 4, tzinfo=UTC))
        make_case(120.505, 32.31, received_at=datetime(2025, 10, 1, 4, tzinfo=UTC))
        create_campaign(city.users["command"], 2026)
        db.session.commit()
        auth.login("command")
        body = client.get("/api/v1/wall/panels").get_json()
        august = client.get("/api/v1/wall/panels", query_string={
            "received_from": "2026-08-01T00:00:00+08:00", "received_to": "2026-09-01T00:00:00+08:00"}).get_json()
        scores = client.get("/api/v1/wall/village-scores").get_json()
        minute = client.get("/api/v1/wall/panels", query_string={
            "received_from": "2026-11-07T23:20:00+08:00", "received_to": "2026-12-06T12:00:00+08:00"}).get_json()
    # A period to the minute says so: its first day's count is not the whole day's.
    assert minute["period"]["label"] == "2026-11-07 23:20 至 2026-12-06 12:00"
    assert minute["period"]["short_label"] == "11-07 23:20 至 12-06 12:00"
    assert minute["counts"]["this_period"] == 1
    assert body["period"]["heading"] == "统计期间：2026-09-20 至 2026-12-31（2026年环境信访百日攻坚行动）"
    assert (body["counts"]["this_period"], body["counts"]["last_period"]) == (5, 1)
    assert scores["period"]["label"] == "2026-09-20 至 2026-12-31"
    assert august["period"]["heading"] == "统计期间：2026-08-01 至 2026-08-31（自选期间）"
    assert august["counts"]["this_period"] == 1


def test_the_live_stream_sends_new_cases_and_closures(client, auth, city, app, monkeypatch):
    monkeypatch.setitem(app.config, "WALL_SSE_POLL_SECONDS", 0.05)
    auth.login("command")
    closed = city.cases["V22"]
    append_event(closed, "close", note="销号")
    db.session.commit()
    response = client.get("/api/v1/wall/events?max_seconds=0.3", headers={"Last-Event-ID": "0"})
    assert response.mimetype == "text/event-stream"
    text = response.get_data(as_text=True)
    assert text.startswith("retry: ")
    assert text.count("event: new_case") == 4
    assert "event: closed" in text and closed.number in text
    last_id = [line[4:] for line in text.splitlines() if line.startswith("id: ")][-1]  # the stream's cursor
    resumed = client.get("/api/v1/wall/events?max_seconds=0.2", headers={"Last-Event-ID": last_id})
    assert "event:" not in resumed.get_data(as_text=True)


def test_a_fresh_stream_starts_after_the_newest_event_and_tells_the_browser_where(client, auth, city, app,
                                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "WALL_SSE_POLL_SECONDS", 0.05)
    auth.login("command")
    newest = db.session.scalar(db.select(db.func.max(CaseEvent.id)))
    text = client.get("/api/v1/wall/events?max_seconds=0.2").get_data(as_text=True)
    assert "event:" not in text
    assert text.startswith(f"retry: 3000\nid: {newest}-")  # a reconnect resumes from here


def test_turned_red_reports_cases_whose_due_time_passed(city):
    case = city.cases["V21"]
    due = case.due_at
    with clock.travel(timedelta(days=4)):
        user = city.users["command"]
        found = turned_red(user, due - timedelta(minutes=1), clock.now())
    assert [e["number"] for e in found if e["case_id"] == case.id] == [case.number]


def test_a_street_view_with_too_many_cases_stays_clustered(client, auth, city, monkeypatch):
    cases = [*city.cases.values(), *scatter_cases(12)]
    monkeypatch.setattr("app.services.wall.clusters.MAX_POINTS", 10)
    auth.login("command")
    body = get_viewport(client, POINTS_ZOOM).get_json()
    assert body["kind"] == "clusters"
    assert body["total"] == len(cases)
