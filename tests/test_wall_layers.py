"""The wall's further layers: sources by days since their last patrol, early-warning alerts,
villages shaded by their real score, and the live feed replaying what a reconnect missed."""

from datetime import UTC, datetime, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from app.extensions import db
from app.models import Source
from app.models.vocab import Channel, Sector, SourceKind
from app.services import clock
from app.services.campaign import early_warning, scoring
from app.services.campaign.phases import create_campaign
from app.services.cases.timeline import append_event
from app.services.geo.grid_locator import locate_point
from tests.factories import EAST, NORTH, SOUTH, WEST, make_case

CITY_BOX = {"west": WEST - 0.01, "south": SOUTH - 0.01, "east": EAST + 0.01, "north": NORTH + 0.01}
# 10:00 on 20 November 2026 in Beijing.
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def beijing(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Beijing wall-clock time in 2026 as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def make_source(code: str, lon: float, lat: float, last_patrol_at: datetime | None, **fields) -> Source:
    """A watched source at a point, placed in its grid and town as the register does."""
    hit = locate_point(lon, lat)
    values = dict(code=code, name=f"{code}化工有限公司", kind=SourceKind.FACTORY, sector=Sector.INDUSTRIAL,
                  location=from_shape(Point(lon, lat), srid=4326), grid_id=hit.grid_id if hit else None,
                  town_id=hit.town_id if hit else None, responsible_name="李负责", responsible_phone="13900001111",
                  last_patrol_at=last_patrol_at)
    values.update(fields)
    source = Source(**values)
    db.session.add(source)
    db.session.flush()
    return source


@pytest.fixture
def sources(city) -> dict[str, Source]:
    """Sources in V11 (西镇) and V21 (东镇) whose last patrols fall on either side of each bucket bound."""
    patrolled = {
        "S0": beijing(20, 8),  # this morning: 0 days
        "S2": beijing(18, 0, 30),  # 17 Nov 16:30 UTC, but 18 Nov in Beijing: 2 days
        "S3": beijing(17, 23, 50),  # 3 days
        "S7": beijing(13, 12),  # 7 days
        "S8": beijing(12, 12),  # 8 days
        "S14": beijing(6, 12),  # 14 days
        "S15": beijing(5, 23, 59),  # 15 days
        "SN": None,  # never patrolled
    }
    made = {}
    for index, (code, last) in enumerate(patrolled.items()):
        lon = 120.501 + 0.001 * index if index % 2 == 0 else 120.521 + 0.001 * index
        made[code] = make_source(code, lon, 32.305 + 0.001 * index, last, is_key=code == "S15")
    made["OFF"] = make_source("OFF", 120.505, 32.31, None, active=False)
    made["FAR"] = make_source("FAR", 121.2, 32.9, None)
    db.session.commit()
    return made


def get_sources(client, box=CITY_BOX, headers=None):
    return client.get("/api/v1/wall/sources", query_string=box, headers=headers or {})


# ------------------------------------------------------------------------ sources layer


def test_sources_are_bucketed_by_beijing_days_since_their_last_patrol(client, auth, sources):
    auth.login("command")
    with clock.frozen_at(NOW):
        body = get_sources(client).get_json()
    got = {s["name"][: s["name"].index("化")]: (s["days"], s["bucket"]) for s in body["sources"]}
    assert got == {
        "S0": (0, "fresh"), "S2": (2, "fresh"), "S3": (3, "due"), "S7": (7, "due"), "S8": (8, "late"),
        "S14": (14, "late"), "S15": (15, "overdue"), "SN": (None, "never"),
    }  # the inactive source and the one outside the box are not there
    assert body["as_of"] == "2026-11-20"
    assert [b["code"] for b in body["buckets"]] == ["fresh", "due", "late", "overdue", "never"]
    s15 = next(s for s in body["sources"] if s["name"].startswith("S15"))
    assert s15["key"] is True and s15["kind_label"] == "工业企业" and s15["town"] == "西镇"
    s2 = next(s for s in body["sources"] if s["name"].startswith("S2"))
    assert s2["town"] == "东镇" and s2["key"] is False


def test_a_partial_box_holds_only_the_sources_inside(client, auth, sources):
    auth.login("command")
    west_town = {"west": WEST, "south": SOUTH, "east": 120.52, "north": NORTH}
    with clock.frozen_at(NOW):
        body = get_sources(client, west_town).get_json()
    assert {s["town"] for s in body["sources"]} == {"西镇"}
    assert len(body["sources"]) == 4


def test_a_box_with_too_many_sources_says_it_is_cut_short(client, auth, sources, monkeypatch):
    monkeypatch.setattr("app.services.wall.layers.MAX_SOURCES", 3)
    auth.login("command")
    body = get_sources(client).get_json()
    assert body["truncated"] is True and len(body["sources"]) == 3
    assert get_sources(client, {"west": WEST, "south": SOUTH, "east": 120.504, "north": NORTH}).get_json()[
        "truncated"] is False


def test_the_source_card_names_the_unit_and_never_a_person(client, auth, sources):
    auth.login("command")
    with clock.frozen_at(NOW):
        response = client.get(f"/api/v1/wall/sources/{sources['S8'].id}")
    card = response.get_json()
    assert card["name"] == "S8化工有限公司"
    assert (card["kind_label"], card["key"], card["days"], card["bucket"]) == ("工业企业", False, 8, "late")
    assert card["last_patrol_on"] == "2026-11-12"
    assert (card["grid"], card["town"], card["department"]) == ("V11村", "西镇", "市生态环境局")
    text = response.get_data(as_text=True)
    assert "李负责" not in text and "13900001111" not in text
    never = client.get(f"/api/v1/wall/sources/{sources['SN'].id}").get_json()
    assert (never["days"], never["bucket"], never["last_patrol_on"]) == (None, "never", None)
    assert client.get("/api/v1/wall/sources/999999").status_code == 404


def test_an_unchanged_sources_layer_costs_a_304_until_a_patrol_or_a_new_day(client, auth, sources):
    auth.login("command")
    with clock.frozen_at(NOW):
        first = get_sources(client)
        etag = first.headers["ETag"]
        again = get_sources(client, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b""
        sources["SN"].last_patrol_at = beijing(20, 9)
        db.session.commit()
        patrolled = get_sources(client, headers={"If-None-Match": etag})
        assert patrolled.status_code == 200
        assert next(s for s in patrolled.get_json()["sources"] if s["name"].startswith("SN"))["bucket"] == "fresh"
    with clock.frozen_at(NOW + timedelta(days=1)):
        tomorrow = get_sources(client, headers={"If-None-Match": patrolled.headers["ETag"]})
    assert tomorrow.status_code == 200
    assert next(s for s in tomorrow.get_json()["sources"] if s["name"].startswith("S0"))["days"] == 1


def test_a_bad_box_is_a_422_in_chinese(client, auth, city):
    auth.login("command")
    response = get_sources(client, {"west": 121, "south": 32, "east": 120, "north": 33})
    assert response.status_code == 422
    assert "范围无效" in str(response.get_json()["errors"])
    assert get_sources(client, {"west": "x", "south": 32, "east": 120, "north": 33}).status_code == 422


@pytest.mark.parametrize("username", ["sup_T1", "insp_V11", "officer_env"])
def test_only_wall_users_get_the_new_layers(client, auth, sources, username):
    auth.login(username)
    assert get_sources(client).status_code == 403
    assert client.get(f"/api/v1/wall/sources/{sources['S0'].id}").status_code == 403
    assert client.get("/api/v1/wall/alerts").status_code == 403
    assert client.get("/api/v1/wall/village-scores").status_code == 403


# ------------------------------------------------------------------------ alerts layer


def odour_cluster(count: int = 3) -> list:
    """``count`` people's air complaints within 100 m of one another in V12, received in the last hours."""
    now = clock.now()
    return [make_case(120.5151 + 0.0003 * i, 32.3032, received_at=now - timedelta(hours=i + 1),
                      petitioner_phone=f"1390000{i:04d}") for i in range(count)]


def test_active_alerts_are_rings_with_their_cases(client, auth, city):
    cases = odour_cluster()
    early_warning.scan()
    db.session.commit()
    auth.login("command")
    response = client.get("/api/v1/wall/alerts")
    alerts = response.get_json()["alerts"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["category_label"], alert["count"], alert["radius_m"]) == ("大气", 3, 500)
    assert abs(alert["lon"] - 120.5154) < 1e-6 and abs(alert["lat"] - 32.3032) < 1e-6
    again = client.get("/api/v1/wall/alerts", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    listed = client.get(f"/api/v1/wall/alerts/{alert['id']}")
    body = listed.get_json()
    assert [c["number"] for c in body["cases"]] == [c.number for c in reversed(cases)]
    assert {c["category_label"] for c in body["cases"]} == {"大气"}
    assert {c["state"] for c in body["cases"]} == {"green"}
    assert {c["town"] for c in body["cases"]} == {"西镇"}
    text = listed.get_data(as_text=True)
    assert "张三丰" not in text and "13812345678" not in text
    assert client.get("/api/v1/wall/alerts/999999").status_code == 404


def test_a_dismissed_alert_leaves_the_wall(client, auth, city):
    odour_cluster()
    alert = early_warning.scan()[0]
    early_warning.dismiss(city.users["command"], alert.id)
    db.session.commit()
    auth.login("command")
    assert client.get("/api/v1/wall/alerts").get_json()["alerts"] == []


# ------------------------------------------------------------------------ village score


def above_level(lon: float, lat: float, received_at: datetime, **fields):
    """An above-level petition (赴京越级访) received at a given moment."""
    return make_case(lon, lat, channel=Channel.ABOVE_LEVEL_BEIJING, above_level=True, received_at=received_at,
                     **fields)


def scores_by_village(client, city, **query) -> dict[str, tuple]:
    """GET /wall/village-scores as {village code: (score, lost, zeroed)}."""
    body = client.get("/api/v1/wall/village-scores", query_string=query).get_json()
    codes = {g.id: code for code, g in city.grids.items()}
    return {codes[v["grid_id"]]: (v["score"], v["lost"], v["zeroed"]) for v in body["villages"]}


def test_village_scores_are_the_assessment_figures_for_the_last_30_days(client, auth, city):
    """No campaign runs: the period is the last 30 days (2026-10-22 … 2026-11-20), as on the
    campaign pages. V11 −2; V21: a first above-level petition −2 and its repeat −4."""
    with clock.frozen_at(NOW):
        above_level(120.505, 32.31, beijing(3, 9))
        first = above_level(120.525, 32.31, beijing(23, 9, month=10))
        above_level(120.526, 32.31, beijing(2, 9), repeat_of_id=first.id)
        above_level(120.535, 32.31, beijing(21, 9, month=10))  # the day before the period
        db.session.commit()
        auth.login("command")
        got = scores_by_village(client, city)
        start, end = beijing(22, 0, month=10), beijing(21, 0)
        expected = {code: (s.score, 20 - s.score, s.zeroed) for s in scoring.grid_scores(start, end)
                    for code, g in city.grids.items() if g.id == s.grid_id}
    assert got == {"V11": (18.0, 2.0, False), "V12": (20.0, 0.0, False), "V21": (14.0, 6.0, False),
                   "V22": (20.0, 0.0, False)}
    assert got == expected


def test_village_scores_follow_the_running_campaign_and_the_date_filter(client, auth, city):
    with clock.frozen_at(NOW):
        create_campaign(city.users["command"], 2026)
        above_level(120.505, 32.31, beijing(3, 9))  # during the campaign: V11's item is zeroed
        above_level(120.525, 32.31, beijing(1, 9, month=8))  # before it: outside the period
        db.session.commit()
        auth.login("command")
        campaign = scores_by_village(client, city)
        august = scores_by_village(client, city, received_from="2026-08-01T00:00:00+08:00",
                                   received_to="2026-09-01T00:00:00+08:00")
        backwards = client.get("/api/v1/wall/village-scores", query_string={
            "received_from": "2026-09-01T00:00:00+08:00", "received_to": "2026-08-01T00:00:00+08:00"})
    assert campaign["V11"] == (0.0, 20.0, True) and campaign["V21"] == (20.0, 0.0, False)
    assert august["V11"] == (20.0, 0.0, False) and august["V21"] == (18.0, 2.0, False)
    assert backwards.status_code == 422 and "统计期间无效" in backwards.get_json()["message"]


# ------------------------------------------------------------------------ live feed replay


def stream(client, cursor: str | None = None, seconds: float = 0.2) -> str:
    """Read the wall's event stream for a moment, resuming from ``cursor`` when given."""
    headers = {"Last-Event-ID": cursor} if cursor is not None else {}
    return client.get(f"/api/v1/wall/events?max_seconds={seconds}", headers=headers).get_data(as_text=True)


def last_id(text: str) -> str:
    """The last SSE id in a stream: where the browser would reconnect from."""
    return [line[4:] for line in text.splitlines() if line.startswith("id: ")][-1]


@pytest.fixture
def fast_stream(app, monkeypatch):
    """Poll the event table every 50 ms."""
    monkeypatch.setitem(app.config, "WALL_SSE_POLL_SECONDS", 0.05)


def test_a_reconnect_replays_the_cases_that_turned_red_during_the_gap(client, auth, city, fast_stream):
    auth.login("command")
    cursor = last_id(stream(client))
    with clock.travel(timedelta(days=3, hours=1)):  # every tiny-city case is due in 3 days
        fresh = stream(client)
        resumed = stream(client, cursor)
        after = stream(client, last_id(resumed))
    assert "turned_red" not in fresh  # a new wall starts now; it loads the red ones on the map
    numbers = sorted(c.number for c in city.cases.values())
    reds = sorted(line.split('"number": "')[1].split('"')[0] for line in resumed.splitlines()
                  if line.startswith("data: ") and '"turned_red"' in line)
    assert reds == numbers
    assert "turned_red" not in after  # each red is told once


def test_a_reconnect_resumes_events_and_alerts_after_its_cursor(client, auth, city, fast_stream):
    auth.login("command")
    cursor = last_id(stream(client))
    append_event(city.cases["V22"], "close", note="销号")
    append_event(city.cases["V21"], "sign", note="")
    odour_cluster()
    early_warning.scan()
    db.session.commit()
    resumed = stream(client, cursor)
    assert resumed.startswith(f"retry: 3000\nid: {cursor}\n\n")
    assert "event: closed" in resumed and city.cases["V22"].number in resumed
    # A step names itself for the feed (签收), not only as a change of state.
    assert 'event: state_change' in resumed and '"kind_label": "签收"' in resumed
    assert resumed.count("event: new_case") == 3  # the three odour complaints
    assert resumed.count("event: alert") == 1 and '"category_label": "大气"' in resumed
    quiet = stream(client, last_id(resumed))
    assert "event:" not in quiet


def test_an_old_style_numeric_id_still_resumes_case_events(client, auth, city, fast_stream):
    auth.login("command")
    text = stream(client, "0")
    assert text.count("event: new_case") == 4
    assert stream(client, "not-a-cursor").count("event:") == 0  # unreadable: start afresh
    for garbage in ("²", "1-999999999999999999-0", "-1", "1-2", "9" * 40):
        assert stream(client, garbage, seconds=0.05).startswith("retry: 3000\nid: ")
