"""Patrol sync from the inspector app: check-ins and their radius, idempotent resends,
patrol tracks, the discovery link, today's patrol list, and who may read which patrol."""

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Patrol, PatrolCheckin, Source, source_cases
from app.services import clock
from app.services.clock import beijing_date
from app.services.geo.grid_locator import locate_point
from tests.helpers import Desk

INSPECTOR = "insp_V11"
V11_SITE = (120.505, 32.31)
METRES_PER_DEGREE_LAT = 111_195.0


@pytest.fixture
def desk(app, city):
    return Desk(app)


def make_source(code: str, lon: float, lat: float, is_key: bool = False, created_at: datetime | None = None,
                **fields) -> Source:
    """A watched source at a point, placed in its grid and town as the register would."""
    hit = locate_point(lon, lat)
    source = Source(code=code, name=f"对象{code}", kind="factory", sector="industrial", address="测试路",
                    location=from_shape(Point(lon, lat), srid=4326), grid_id=hit.grid_id, town_id=hit.town_id,
                    is_key=is_key, created_at=created_at or clock.now() - timedelta(days=30), **fields)
    db.session.add(source)
    db.session.commit()
    return source


@pytest.fixture
def source(city) -> Source:
    return make_source("S11", *V11_SITE)


def put(desk, username, url, payload):
    client, token = desk.client(username)
    return client.put(url, json=payload, headers={"X-CSRFToken": token})


def north_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """A point the given distance due north."""
    return lon, lat + metres / METRES_PER_DEGREE_LAT


def iso(moment: datetime) -> str:
    return moment.isoformat()


def checkin_body(source_id, metres=40.0, outcome="nothing_found", patrol_id=None, inspection_id=None,
                 captured_at=None, **extra):
    lon, lat = north_of(*V11_SITE, metres)
    captured_at = captured_at or clock.now() - timedelta(hours=1)
    return {
        "patrol_id": str(patrol_id) if patrol_id else None, "source_id": source_id, "outcome": outcome,
        "captured_at": iso(captured_at),
        "location": {"lon": lon, "lat": lat, "accuracy_m": 6.0, "source": "gps", "mock": False,
                     "fix_at": iso(captured_at)},
        "notes": "", "inspection_id": str(inspection_id) if inspection_id else None,
    } | extra


def track_point(minutes: int, metres: float, start: datetime) -> dict:
    lon, lat = north_of(*V11_SITE, metres)
    return {"lon": lon, "lat": lat, "at": iso(start + timedelta(minutes=minutes)), "accuracy_m": 5.0}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- check-ins


def test_checkin_inside_and_outside_the_radius_is_kept_and_measured(desk, city, source):
    inside = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}", checkin_body(source.id, 40))
    assert inside.status_code == 201, inside.get_json()
    body = inside.get_json()
    assert 39 <= body["distance_m"] <= 41 and body["radius_m"] == 100 and body["outside_radius"] is False
    assert body["level"] == 3 and body["outcome_label"] == "未发现问题"
    outside = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}", checkin_body(source.id, 250))
    assert outside.status_code == 201
    assert outside.get_json()["outside_radius"] is True and 248 <= outside.get_json()["distance_m"] <= 252
    assert count(PatrolCheckin) == 2
    stored = db.session.get(PatrolCheckin, uuid.UUID(outside.get_json()["id"]))
    assert stored.grid_id == city.grids["V11"].id and stored.inspector.username == INSPECTOR


def test_checkin_raises_last_patrol_at_but_never_lowers_it(desk, city, source):
    later, earlier = clock.now() - timedelta(hours=1), clock.now() - timedelta(days=2)
    put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}", checkin_body(source.id, captured_at=later))
    put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}", checkin_body(source.id, captured_at=earlier))
    db.session.expire_all()
    assert abs(db.session.get(Source, source.id).last_patrol_at - later) < timedelta(seconds=1)


def test_supervisor_checkin_counts_for_level_2(desk, city, source):
    response = put(desk, "sup_T1", f"/api/v1/patrol-checkins/{uuid.uuid4()}", checkin_body(source.id))
    assert response.status_code == 201 and response.get_json()["level"] == 2


def test_resend_is_200_and_changes_nothing_other_content_is_409(desk, city, source):
    checkin_id = uuid.uuid4()
    body = checkin_body(source.id, notes="门口无异味")
    first = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{checkin_id}", body)
    again = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{checkin_id}", body)
    assert first.status_code == 201 and again.status_code == 200 and again.get_json() == first.get_json()
    assert count(PatrolCheckin) == 1
    changed = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{checkin_id}", body | {"notes": "改过"})
    assert changed.status_code == 409
    errors = changed.get_json()["errors"]
    assert errors["server"]["notes"] == "门口无异味" and errors["client"]["notes"] == "改过"
    other_user = put(desk, "insp_V12", f"/api/v1/patrol-checkins/{checkin_id}", body | {"notes": "猜编号"})
    assert other_user.status_code == 409
    hidden = other_user.get_json()["errors"]
    assert hidden["server"] is None and hidden["id"] == str(checkin_id) and hidden["client"]["notes"] == "猜编号"
    assert "门口无异味" not in json.dumps(hidden, ensure_ascii=False)


def test_source_outside_my_scope_is_404_and_office_roles_cannot_upload(desk, city, source):
    far = make_source("S21", 120.525, 32.31)
    response = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}", checkin_body(far.id))
    assert response.status_code == 404 and "监管对象" in response.get_json()["message"]
    assert put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}",
               checkin_body(999_999)).status_code == 404
    assert put(desk, "command", f"/api/v1/patrol-checkins/{uuid.uuid4()}",
               checkin_body(source.id)).status_code == 403
    assert count(PatrolCheckin) == 0


def test_bad_checkins_are_422_with_a_message(desk, city, source):
    url = f"/api/v1/patrol-checkins/{uuid.uuid4()}"
    bad_outcome = put(desk, INSPECTOR, url, checkin_body(source.id, outcome="maybe"))
    assert bad_outcome.status_code == 422 and "outcome" in bad_outcome.get_json()["errors"]
    assert bad_outcome.get_json()["message"] == "结果：不是可选的值（可选值见接口文档）。"
    future = put(desk, INSPECTOR, url, checkin_body(source.id, captured_at=clock.now() + timedelta(hours=2)))
    assert future.status_code == 422 and "手机时间" in future.get_json()["message"]
    linked = put(desk, INSPECTOR, url, checkin_body(source.id, inspection_id=uuid.uuid4()))
    assert linked.status_code == 422 and "inspection_id" in linked.get_json()["errors"]
    no_location = checkin_body(source.id)
    del no_location["location"]
    assert put(desk, INSPECTOR, url, no_location).status_code == 422
    assert count(PatrolCheckin) == 0


def test_upload_without_csrf_token_is_refused(desk, city, source):
    client, _ = desk.client(INSPECTOR)
    response = client.put(f"/api/v1/patrol-checkins/{uuid.uuid4()}", json=checkin_body(source.id))
    assert response.status_code == 400 and response.get_json()["errors"] == {"csrf": ["invalid"]}


# ---------------------------------------------------------------- patrols


def test_checkin_before_its_patrol_creates_it_and_the_patrol_fills_it_in(desk, city, source):
    patrol_id, start = uuid.uuid4(), clock.now() - timedelta(hours=2)
    checkin_at = start + timedelta(minutes=30)
    response = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}",
                   checkin_body(source.id, patrol_id=patrol_id, captured_at=checkin_at))
    assert response.status_code == 201 and response.get_json()["patrol_id"] == str(patrol_id)
    placeholder = db.session.get(Patrol, patrol_id)
    assert placeholder.inspector.username == INSPECTOR and abs(placeholder.started_at - checkin_at) < timedelta(
        seconds=1)
    body = {"started_at": iso(start), "ended_at": None, "notes": "",
            "track": [track_point(0, 0, start), track_point(30, 40, start)]}
    filled = put(desk, INSPECTOR, f"/api/v1/patrols/{patrol_id}", body)
    assert filled.status_code == 201, filled.get_json()
    assert filled.get_json()["started_at"] == start.astimezone(UTC).isoformat()
    detail = desk.get("sup_T1", f"/api/v1/patrols/{patrol_id}").get_json()
    assert [c["source_name"] for c in detail["checkins"]] == ["对象S11"]


def test_patrol_upsert_merges_track_and_measures_the_line(desk, city):
    patrol_id, start = uuid.uuid4(), clock.now() - timedelta(hours=1)
    url = f"/api/v1/patrols/{patrol_id}"
    first = put(desk, INSPECTOR, url, {"started_at": iso(start), "track": [
        track_point(0, 0, start), track_point(1, 100, start)]})
    assert first.status_code == 201 and first.get_json()["track_point_count"] == 2
    assert 99 <= first.get_json()["distance_m"] <= 101
    # The outbox resends the whole patrol with one more point, and an old point again.
    grown = put(desk, INSPECTOR, url, {"started_at": iso(start), "ended_at": iso(start + timedelta(minutes=5)),
                                       "notes": "巡查完毕", "track": [track_point(1, 100, start),
                                                                  track_point(2, 300, start)]})
    assert grown.status_code == 200 and grown.get_json()["track_point_count"] == 3
    assert 299 <= grown.get_json()["distance_m"] <= 301
    late_resend = put(desk, INSPECTOR, url, {"started_at": iso(start), "track": [track_point(0, 0, start)]})
    assert late_resend.status_code == 200 and late_resend.get_json()["ended_at"] is not None
    detail = desk.get(INSPECTOR, url).get_json()
    assert detail["track"]["type"] == "LineString" and len(detail["track"]["coordinates"]) == 3
    assert [p["at"] for p in detail["track_points"]] == sorted(p["at"] for p in detail["track_points"])
    assert detail["notes"] == "巡查完毕" and count(Patrol) == 1


def test_patrol_conflicts_and_bad_input(desk, city):
    patrol_id, start = uuid.uuid4(), clock.now() - timedelta(hours=1)
    url = f"/api/v1/patrols/{patrol_id}"
    ended = iso(start + timedelta(minutes=40))
    assert put(desk, INSPECTOR, url, {"started_at": iso(start), "ended_at": ended}).status_code == 201
    moved_start = put(desk, INSPECTOR, url, {"started_at": iso(start + timedelta(minutes=1))})
    assert moved_start.status_code == 409 and moved_start.get_json()["errors"]["server"]["ended_at"]
    other_end = put(desk, INSPECTOR, url, {"started_at": iso(start), "ended_at": iso(start + timedelta(hours=1))})
    assert other_end.status_code == 409
    someone_else = put(desk, "insp_V12", url, {"started_at": iso(start)})
    assert someone_else.status_code == 409 and someone_else.get_json()["errors"]["server"] is None
    backwards = put(desk, INSPECTOR, f"/api/v1/patrols/{uuid.uuid4()}",
                    {"started_at": iso(start), "ended_at": iso(start - timedelta(minutes=1))})
    assert backwards.status_code == 422 and backwards.get_json()["errors"]["ended_at"] == ["巡查结束时间早于开始时间。"]
    bad_point = put(desk, INSPECTOR, f"/api/v1/patrols/{uuid.uuid4()}",
                    {"started_at": iso(start), "track": [{"lon": 120.5, "lat": 95, "at": iso(start)}]})
    assert bad_point.status_code == 422 and "track" in bad_point.get_json()["errors"]
    assert count(Patrol) == 1


def test_a_patrol_from_the_future_is_refused_as_a_checkin_is(desk, city):
    # A year-9999 start once broke the patrol's desk page for everyone (the schemas now refuse any
    # year past 2099); within the years, the check-ins' rule applies: no time ahead of the clock.
    start = clock.now() - timedelta(hours=1)
    far = put(desk, INSPECTOR, f"/api/v1/patrols/{uuid.uuid4()}", {"started_at": iso(clock.now() + timedelta(hours=2))})
    assert far.status_code == 422 and far.get_json()["errors"] == {"started_at": ["晚于当前时间"]}
    assert "巡查开始时间" in far.get_json()["message"] and "手机时间" in far.get_json()["message"]
    late_end = put(desk, INSPECTOR, f"/api/v1/patrols/{uuid.uuid4()}",
                   {"started_at": iso(start), "ended_at": iso(clock.now() + timedelta(days=2))})
    assert late_end.status_code == 422 and "ended_at" in late_end.get_json()["errors"]
    late_point = put(desk, INSPECTOR, f"/api/v1/patrols/{uuid.uuid4()}",
                     {"started_at": iso(start), "track": [track_point(0, 0, start), track_point(180, 50, start)]})
    assert late_point.status_code == 422 and "track" in late_point.get_json()["errors"]
    assert count(Patrol) == 0
    # A phone clock a few minutes fast is within the check-ins' tolerance.
    fast_clock = {"started_at": iso(clock.now() + timedelta(minutes=5))}
    assert put(desk, INSPECTOR, f"/api/v1/patrols/{uuid.uuid4()}", fast_clock).status_code == 201


def test_racing_uploads_of_one_patrol_keep_every_point(desk, city, source):
    patrol_id, start = uuid.uuid4(), clock.now() - timedelta(hours=1)
    desk.client(INSPECTOR)
    results = []

    def send(minute):
        body = {"started_at": iso(start), "track": [track_point(0, 0, start), track_point(minute, 10 * minute, start)]}
        results.append(put(desk, INSPECTOR, f"/api/v1/patrols/{patrol_id}", body).status_code)

    checkin = checkin_body(source.id, patrol_id=patrol_id)

    def check_in():
        results.append(put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}", checkin).status_code)

    threads = [threading.Thread(target=send, args=(minute,)) for minute in (1, 2, 3)]
    threads.append(threading.Thread(target=check_in))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) in ([200, 200, 201, 201],), results
    db.session.commit()  # end the test's own read snapshot (SQLite) before looking
    assert len(db.session.get(Patrol, patrol_id).track_points) == 4 and count(Patrol) == 1


def test_checkin_into_another_users_patrol_is_409(desk, city, source):
    patrol_id = uuid.uuid4()
    assert put(desk, "insp_V12", f"/api/v1/patrols/{patrol_id}",
               {"started_at": iso(clock.now() - timedelta(hours=1))}).status_code == 201
    response = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}",
                   checkin_body(source.id, patrol_id=patrol_id))
    assert response.status_code == 409 and count(PatrolCheckin) == 0


# ---------------------------------------------------------------- discovery link


def discovery_body(source_id, checkin_id, captured_at):
    lon, lat = north_of(*V11_SITE, 30)
    return {
        "kind": "patrol_discovery", "case_id": None, "captured_at": iso(captured_at),
        "location": {"lon": lon, "lat": lat, "accuracy_m": 5.0, "source": "gps", "mock": False},
        "notes": "", "photos": [],
        "discovery": {"category": "air", "sector": "industrial", "title": "车间废气未经处理直排",
                      "source_id": source_id, "patrol_checkin_id": str(checkin_id)},
    }


@pytest.mark.parametrize("discovery_first", [True, False])
def test_problem_found_links_its_discovery_case_in_either_order(desk, city, source, discovery_first):
    checkin_id, inspection_id, at = uuid.uuid4(), uuid.uuid4(), clock.now() - timedelta(hours=1)
    uploads = [
        (f"/api/v1/inspections/{inspection_id}", discovery_body(source.id, checkin_id, at)),
        (f"/api/v1/patrol-checkins/{checkin_id}",
         checkin_body(source.id, outcome="problem_found", inspection_id=inspection_id, captured_at=at)),
    ]
    for url, body in uploads if discovery_first else reversed(uploads):
        assert put(desk, INSPECTOR, url, body).status_code == 201
    case = db.session.scalars(select(Case).where(Case.channel == "grid_patrol")).one()
    assert case.list_kind == "potential" and case.discovered_by_grid_id == city.grids["V11"].id
    checkin = db.session.get(PatrolCheckin, checkin_id)
    assert checkin.case_id == case.id and checkin.inspection_id == inspection_id
    links = db.session.execute(select(source_cases)).all()
    assert [(row.source_id, row.case_id) for row in links] == [(source.id, case.id)]
    resend = put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{checkin_id}", uploads[1][1])
    assert resend.status_code == 200 and resend.get_json()["case_number"] == case.number


def test_discovery_naming_a_source_out_of_scope_is_404(desk, city, source):
    far = make_source("S21", 120.525, 32.31)
    response = put(desk, INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}",
                   discovery_body(far.id, uuid.uuid4(), clock.now() - timedelta(hours=1)))
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.channel == "grid_patrol")) == 0


# ---------------------------------------------------------------- today's patrol


def test_today_lists_my_grid_overdue_first_then_by_due_date(desk, city):
    now = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # noon in Beijing, 2026-11-20
    with clock.frozen_at(now):
        fresh = make_source("A-fresh", 120.502, 32.305)
        due = make_source("B-due", 120.503, 32.305)
        overdue = make_source("C-overdue", 120.504, 32.305)
        make_source("D-inactive", 120.506, 32.305, active=False)
        make_source("E-other-grid", 120.515, 32.305)
        for target, days_ago in ((fresh, 0), (due, 2), (overdue, 5)):
            db.session.add(PatrolCheckin(
                id=uuid.uuid4(), source_id=target.id, inspector_id=city.users[INSPECTOR].id,
                grid_id=city.grids["V11"].id, level=3, outcome="nothing_found", radius_m=100,
                content_sha256="x", captured_at=now - timedelta(days=days_ago)))
        db.session.commit()
        body = desk.get(INSPECTOR, "/api/v1/patrol/today").get_json()
    assert body["level"] == 3 and body["today"] == "2026-11-20"
    assert body["settings"] == {"patrol_radius_m": 100, "patrol_track_interval_s": 30}
    assert body["rules"]["ordinary"]["label"] == "每2天1次"
    rows = [(item["source"]["code"], item["due"]["state"], item["due"]["due_on"]) for item in body["items"]]
    assert rows == [("C-overdue", "overdue", "2026-11-17"), ("B-due", "due", "2026-11-20"),
                    ("A-fresh", "ok", "2026-11-22")]
    assert body["items"][0]["due"]["days_overdue"] == 3
    assert body["items"][0]["source"]["kind_label"] == "工业企业"


def test_today_for_a_supervisor_is_the_town_at_level_2(desk, city):
    make_source("K1", 120.505, 32.31, is_key=True)
    make_source("V12-site", 120.515, 32.31)
    make_source("T2-site", 120.525, 32.31)
    body = desk.get("sup_T1", "/api/v1/patrol/today").get_json()
    assert body["level"] == 2
    assert sorted(item["source"]["code"] for item in body["items"]) == ["K1", "V12-site"]
    key = next(item for item in body["items"] if item["source"]["code"] == "K1")
    assert key["due"]["source_class"] == "key" and key["due"]["rule"]["label"] == "每7天2次"


# ---------------------------------------------------------------- queries


@pytest.fixture
def two_patrols(desk, city):
    """One patrol in V11 (with a flagged check-in) and one in V21, a week apart."""
    source = make_source("S11", *V11_SITE)
    v11, v21 = uuid.uuid4(), uuid.uuid4()
    start = clock.now() - timedelta(hours=3)
    put(desk, INSPECTOR, f"/api/v1/patrols/{v11}", {"started_at": iso(start), "track": [
        track_point(0, 0, start), track_point(10, 500, start)]})
    put(desk, INSPECTOR, f"/api/v1/patrol-checkins/{uuid.uuid4()}",
        checkin_body(source.id, 250, patrol_id=v11, captured_at=start + timedelta(minutes=5)))
    put(desk, "insp_V21", f"/api/v1/patrols/{v21}", {"started_at": iso(start - timedelta(days=7))})
    return v11, v21


def test_patrol_list_and_detail_follow_grid_scope(desk, city, two_patrols):
    v11, v21 = two_patrols
    mine = desk.get(INSPECTOR, "/api/v1/patrols").get_json()
    assert [p["id"] for p in mine["items"]] == [str(v11)] and mine["meta"]["total"] == 1
    row = mine["items"][0]
    assert row["checkin_count"] == 1 and row["outside_radius_count"] == 1 and row["grid"]["code"] == "V11"
    assert desk.get("insp_V21", f"/api/v1/patrols/{v11}").status_code == 404
    assert desk.get("sup_T2", f"/api/v1/patrols/{v11}").status_code == 404
    assert desk.get("sup_T1", f"/api/v1/patrols/{v11}").status_code == 200
    everyone = desk.get("command", "/api/v1/patrols").get_json()
    assert [p["id"] for p in everyone["items"]] == [str(v11), str(v21)]
    assert desk.get("officer_env", "/api/v1/patrols").get_json()["items"] == []
    detail = desk.get("sup_T1", f"/api/v1/patrols/{v11}").get_json()
    assert detail["checkins"][0]["outside_radius"] is True and detail["inspector"]["name"] == "测试insp_V11"
    assert 499 <= detail["distance_m"] <= 501


def test_patrol_list_filters(desk, city, two_patrols):
    v11, v21 = two_patrols
    today = beijing_date(clock.now())
    week_ago = beijing_date(clock.now() - timedelta(days=7, hours=3)).isoformat()
    in_t2 = desk.get("command", f"/api/v1/patrols?town_id={city.grids['T2'].id}").get_json()
    assert [p["id"] for p in in_t2["items"]] == [str(v21)]
    by_inspector = desk.get("command", f"/api/v1/patrols?inspector_id={city.users['insp_V21'].id}").get_json()
    assert [p["id"] for p in by_inspector["items"]] == [str(v21)]
    by_date = desk.get("command", f"/api/v1/patrols?start={week_ago}&end={week_ago}").get_json()
    assert [p["id"] for p in by_date["items"]] == [str(v21)]
    by_grid = desk.get("command", f"/api/v1/patrols?grid_id={city.grids['V11'].id}&per_page=1").get_json()
    assert [p["id"] for p in by_grid["items"]] == [str(v11)] and by_grid["meta"]["pages"] == 1
    backwards = desk.get("command", f"/api/v1/patrols?start={today}&end={week_ago}")
    assert backwards.status_code == 422
    assert desk.get("command", "/api/v1/patrols?start=yesterday").status_code == 422
    assert desk.get(INSPECTOR, f"/api/v1/patrols/{uuid.uuid4()}").status_code == 404
