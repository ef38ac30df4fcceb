"""The supervisors' patrol pages over the patrol worked example (tests/patrol_example.py): the
compliance page, a grid's sources, one patrol with its track on the map, the tracks on a
source's page, and scope (another town's patrol does not exist)."""

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Patrol, PatrolCheckin
from app.services import clock
from tests.factories import make_case
from tests.helpers import Desk, sign_in_pages
from tests.helpers import sign_in as browser_sign_in
from tests.patrol_example import NOW, add_source, bj, build_scenario

PERIOD = "start=2026-11-02&end=2026-11-15"


@pytest.fixture
def scenario(app, city):
    """The worked example (tests/patrol_example.py) with the clock at its NOW."""
    with clock.frozen_at(NOW):
        yield build_scenario(city)


def put(desk, username, url, payload):
    """PUT JSON as a user, CSRF token included (as the phone's outbox does)."""
    phone, token = desk.client(username)
    return phone.put(url, json=payload, headers={"X-CSRFToken": token})


def _geojson(page_text: str) -> dict:
    """The patrol map's GeoJSON, read back from the page."""
    raw = re.search(r"data-geojson='([^']*)'", page_text).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&amp;", "&"))


def test_compliance_page_puts_overdue_first_and_shows_the_tables(client, scenario):
    sign_in_pages(client, "sup_T1")
    home = client.get("/desk/")
    assert 'href="/desk/patrols/"' in home.text and "巡查考核" in home.text
    page = client.get(f"/desk/patrols/?{PERIOD}")
    assert page.status_code == 200
    text = page.text
    assert re.search(r'id="total-overdue">2<', text) and re.search(r'id="total-rate">59%<', text)
    # Overdue sources, most overdue first, each linked to its source page.
    assert re.findall(r'data-source="([^"]+)"', text) == ["S5", "S3"]
    assert "40 天" in text and f'/desk/sources/{scenario.sources["S5"].id}' in text
    assert re.findall(r'data-grid="([^"]+)"', text) == ["V11", "V12"]
    assert re.findall(r'data-town="([^"]+)"', text) == ["T1"]
    assert text.count('<tr data-person="') == 4
    # Recent patrols, newest first, linked to their pages.
    order = [scenario.patrols[k].id for k in ("P3", "P4", "P2", "P1")]
    assert re.findall(r'data-patrol="([^"]+)"', text) == [str(i) for i in order]
    level2 = client.get(f"/desk/patrols/?{PERIOD}&level=2")
    assert re.findall(r'data-source="([^"]+)"', level2.text) == ["S2", "S3", "S1"]


def test_a_time_at_the_end_of_the_calendar_never_breaks_the_patrol_page(client, scenario):
    # Stored before a patrol's times were checked (its check-ins' always were): 9999-12-31 23:59 UTC
    # has no city time (it is in year 10000 there).
    patrol = scenario.patrols["P3"]
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    db.session.execute(update(Patrol).where(Patrol.id == patrol.id).values(started_at=last, ended_at=last))
    db.session.commit()
    sign_in_pages(client, "sup_T1")
    page = client.get(f"/desk/patrols/{patrol.id}")
    assert page.status_code == 200 and "9999-12-31T23:59:59+00:00" in page.text
    assert client.get(f"/desk/patrols/?{PERIOD}").status_code == 200


def test_grid_page_lists_each_source_with_required_and_done(client, scenario, city):
    sign_in_pages(client, "sup_T1")
    page = client.get(f"/desk/patrols/grids/{city.grids['V11'].id}?{PERIOD}")
    assert page.status_code == 200
    assert re.findall(r'data-source="([^"]+)"', page.text) == ["S1", "S2", "S3", "S4"]
    assert "<th>21</th><th>16</th>" in page.text  # the footer adds up to the grid's row
    assert "11-05、11-09" in page.text  # S3's patrol days, oldest first
    sign_in_pages(client, "sup_T2")
    assert client.get(f"/desk/patrols/grids/{city.grids['V11'].id}").status_code == 404


def test_patrol_page_has_the_track_sources_and_flagged_checkins(client, scenario):
    sign_in_pages(client, "sup_T1")
    patrol = scenario.patrols["P3"]
    page = client.get(f"/desk/patrols/{patrol.id}")
    assert page.status_code == 200
    assert "测试insp_V11b" in page.text and "4.15" in page.text
    geo = _geojson(page.text)
    [track] = [f for f in geo["features"] if f["properties"]["layer"] == "track"]
    assert track["geometry"] == {"type": "LineString",
                                 "coordinates": [[120.501, 32.301], [120.505, 32.306], [120.509, 32.309]]}
    sources = {f["properties"]["name"]: f["properties"]["checked"] for f in geo["features"]
               if f["properties"]["layer"] == "source"}
    assert sources == {"对象S1": True, "对象S2": True, "对象S3": False, "对象S4": False}
    checkins = [f["properties"] for f in geo["features"] if f["properties"]["layer"] == "checkin"]
    assert [(c["source_name"], c["outcome"], c["outside_radius"]) for c in checkins] == [
        ("对象S1", "nothing_found", False), ("对象S2", "problem_found", False)]
    flagged = client.get(f"/desk/patrols/{scenario.patrols['P4'].id}")
    assert "1 次打卡超出范围" in flagged.text and 'class="state-red"' in flagged.text


def test_case_found_on_patrol_links_to_the_patrol_track(client, scenario, city):
    patrol = scenario.patrols["P3"]
    checkin = db.session.scalar(select(PatrolCheckin).where(PatrolCheckin.patrol_id == patrol.id,
                                                            PatrolCheckin.outcome == "problem_found"))
    case = make_case(120.504, 32.305, title="巡查发现油烟直排", channel="grid_patrol")
    checkin.case_id = case.id
    db.session.commit()
    sign_in_pages(client, "sup_T1")
    page = client.get(f"/desk/cases/{case.id}")
    assert page.status_code == 200 and "本案由巡查打卡发现" in page.text
    assert f'href="/desk/patrols/{patrol.id}">查看巡查轨迹' in page.text and "对象S2" in page.text
    assert case.number in client.get(f"/desk/patrols/{patrol.id}").text
    other = client.get(f"/desk/cases/{city.cases['V11'].id}")
    assert other.status_code == 200 and "本案由巡查打卡发现" not in other.text
    # A check-in linked to a case that came in another way (a hotline call) found it second.
    checkin.case_id = city.cases["V11"].id
    db.session.commit()
    linked = client.get(f"/desk/cases/{city.cases['V11'].id}")
    assert "巡查时发现的问题，已关联到本案" in linked.text and "本案由巡查打卡发现" not in linked.text


def test_another_towns_patrol_is_not_found(client, scenario):
    sign_in_pages(client, "sup_T2")
    page = client.get(f"/desk/patrols/{scenario.patrols['P3'].id}")
    assert page.status_code == 404 and "不在您的管辖范围内" in page.text
    assert client.get("/desk/patrols/not-a-uuid").status_code == 404
    sign_in_pages(client, "leader")
    assert client.get(f"/desk/patrols/{scenario.patrols['P3'].id}").status_code == 403
    assert client.get("/desk/patrols/").status_code == 403


def test_bad_period_is_refused_in_chinese(client, scenario):
    sign_in_pages(client, "sup_T1")
    page = client.get("/desk/patrols/?start=2026-02-30")
    assert page.status_code == 422 and "日期格式应为" in page.text
    backwards = client.get("/desk/patrols/?start=2026-11-15&end=2026-11-01")
    assert backwards.status_code == 422 and "结束日期不能早于开始日期" in backwards.text


def test_source_tracks_newest_first_and_scoped(client, scenario):
    sign_in_pages(client, "sup_T1")
    s1 = scenario.sources["S1"].id
    detail = client.get(f"/desk/sources/{s1}")
    assert detail.status_code == 200 and "巡查轨迹" in detail.text
    assert f'data-tracks-url="/api/v1/patrol-compliance/sources/{s1}/tracks"' in detail.text
    tracks = client.get(f"/api/v1/patrol-compliance/sources/{s1}/tracks").get_json()
    expected = [str(scenario.patrols[k].id) for k in ("P3", "P4", "P2", "P1")]
    assert [f["properties"]["patrol_id"] for f in tracks["features"]] == expected
    limited = client.get(f"/api/v1/patrol-compliance/sources/{s1}/tracks?limit=2").get_json()
    assert len(limited["features"]) == 2
    assert client.get(f"/api/v1/patrol-compliance/sources/{s1}/tracks?limit=0").status_code == 422
    sign_in_pages(client, "sup_T2")
    assert client.get(f"/api/v1/patrol-compliance/sources/{s1}/tracks").status_code == 404


def test_a_patrol_day_synced_from_the_phone_shows_on_the_desk(app, client, city):
    """Check-in first, then the patrol with its track (outbox order never matters)."""
    source = add_source("K1", 120.505, 32.31, city, "V11", is_key=True)
    db.session.commit()
    patrol_id, checkin_id = uuid.uuid4(), uuid.uuid4()
    track = [{"lon": 120.503 + n * 0.001, "lat": 32.309 + n * 0.0005, "at": bj(11, 20, 9).replace(minute=n * 10)
              .isoformat(), "accuracy_m": 6} for n in range(4)]
    with clock.frozen_at(bj(11, 20, 18)):
        phone = Desk(app)
        checkin = put(phone, "insp_V11", f"/api/v1/patrol-checkins/{checkin_id}", {
            "patrol_id": str(patrol_id), "source_id": source.id, "outcome": "nothing_found",
            "captured_at": bj(11, 20, 9).replace(minute=15).isoformat(),
            "location": {"lon": 120.5051, "lat": 32.3101, "accuracy_m": 8, "source": "gps", "mock": False,
                         "fix_at": None}})
        assert checkin.status_code == 201, checkin.get_json()
        patrol = put(phone, "insp_V11", f"/api/v1/patrols/{patrol_id}", {
            "started_at": bj(11, 20, 9).isoformat(), "ended_at": bj(11, 20, 11).isoformat(), "track": track})
        assert patrol.status_code in (200, 201), patrol.get_json()
        sign_in_pages(client, "sup_T1")
        page = client.get("/desk/patrols/?start=2026-11-20&end=2026-11-20")
        # One key source, 1 day at 1 in 2: 1 required, 1 done.
        assert re.search(r'id="total-rate">100%<', page.text)
        assert re.findall(r'data-patrol="([^"]+)"', page.text) == [str(patrol_id)]
        detail = client.get(f"/desk/patrols/{patrol_id}")
    [line] = [f for f in _geojson(detail.text)["features"] if f["properties"]["layer"] == "track"]
    assert line["geometry"]["coordinates"] == [[p["lon"], p["lat"]] for p in track]
    assert "测试insp_V11" in detail.text and "范围内" in detail.text


@pytest.mark.browser
def test_patrol_map_and_source_tracks_draw_in_chromium(page, live_server, scenario, artifacts_dir):
    browser_sign_in(page, live_server, "sup_T1")
    page.goto(f"{live_server}/desk/patrols/?{PERIOD}")
    page.screenshot(path=str(artifacts_dir / "patrol-compliance.png"), full_page=True)
    page.get_by_role("link", name="V11村").click()
    page.locator('tr[data-source="S3"]').wait_for()
    page.screenshot(path=str(artifacts_dir / "patrol-grid.png"), full_page=True)
    page.goto(f"{live_server}/desk/patrols/{scenario.patrols['P3'].id}")
    # Grid polygons, then the track, 4 sources and 2 check-ins.
    page.locator('#patrol-map[data-drawn="7"]').wait_for()
    assert page.locator("#patrol-map path.leaflet-interactive").count() >= 7
    page.screenshot(path=str(artifacts_dir / "patrol-page.png"), full_page=True)
    page.goto(f"{live_server}/desk/sources/{scenario.sources['S1'].id}")
    page.locator('#patrol-tracks .map[data-tracks="4"]').wait_for()
    assert page.locator("#patrol-tracks .track-list li").count() == 4
    assert page.locator("#patrol-tracks .tracks-empty").is_hidden()
    page.screenshot(path=str(artifacts_dir / "patrol-source-tracks.png"), full_page=True)
    page.locator("#patrol-tracks .track-list a").first.click()
    page.wait_for_url(f"{live_server}/desk/patrols/{scenario.patrols['P3'].id}")


def test_a_rate_never_reads_100_or_0_percent_when_it_is_not():
    """1,036 of 1,039 done read 「100%」 in a red tile: such a share keeps one decimal."""
    from app.web import share_text

    assert [share_text(v) for v in (None, 0, 1, 2 / 3, 1036 / 1039, 0.999999, 0.001, 0.5)] == [
        "—", "0%", "100%", "67%", "99.7%", "99.9%", "0.1%", "50%"]
