"""The map wall's summary (wall_cells): the same clusters as the live query, kept current on commit."""

import random
import threading
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import event, select

from app.extensions import db
from app.models import Case, WallCell
from app.models.vocab import CaseStatus, Category
from app.services import clock
from app.services.day_stats import day_number, day_start
from app.services.settings import set_setting
from app.services.wall import clusters as wall
from app.services.wall.cells import DAY_LEVEL, FACET_LEVEL, PAIR_LEVEL, summary_facets
from app.services.wall.clusters import Viewport, answers_from_summary, view_clusters
from tests.factories import EAST, NORTH, SOUTH, WEST, make_case
from tests.helpers import (
    CITY,
    HANDLER,
    REPLY,
    ZOOMS,
    Desk,
    assert_same_clusters,
    assert_summary_current,
    onsite_body,
    put,
    random_cases,
    random_views,
    register,
    summary_rows,
    total,
    walk_to_handling,
)


def test_random_views_match_the_live_query_at_every_zoom(city):
    random_cases(250, seed=3)
    user = city.users["command"]
    views = [Viewport(CITY.west, CITY.south, CITY.east, CITY.north, zoom) for zoom in ZOOMS]
    views += random_views(5, 60)
    for view in views:
        assert_same_clusters(user, view)
    assert total(user) == db.session.scalar(select(db.func.count()).where(Case.location.isnot(None)))
    assert_summary_current()


FACET_FILTERS = [{"category": ["noise"]}, {"category": ["air", "water"]}, {"channel": ["visit"]},
                 {"flag": ["above_level"]}, {"flag": ["inspection"]}, {"flag": ["leader"]}, {"flag": ["repeat"]},
                 {"state": ["closed"]}]


def test_filtered_views_from_the_filter_rows_match_the_live_query(city):
    random_cases(200, seed=21, varied=True)
    user = city.users["command"]
    towns = [{"town_id": town.id} for town in city.grids.values() if town.level == 2]
    views = [Viewport(*CITY.box, zoom) for zoom in (8, 10, 12, 13, 14, FACET_LEVEL)]
    views += [view for view in random_views(17, 30) if view.zoom <= FACET_LEVEL]
    for filters in [*FACET_FILTERS, *towns]:
        for view in views:
            assert_same_clusters(user, view, filters=filters)
    assert_summary_current()


TWO_FILTERS = [{"category": ["noise"], "channel": ["visit"]}, {"category": ["air", "water"], "flag": ["above_level"]},
               {"channel": ["visit", "letter"], "state": ["closed"]}, {"flag": ["leader", "repeat"]},
               {"flag": ["inspection"], "state": ["closed"]}, {"category": ["noise"], "town_id": None}]


def test_two_filters_at_once_are_read_from_the_pair_rows(city):
    random_cases(250, seed=23, varied=True)
    user = city.users["command"]
    town = next(grid.id for grid in city.grids.values() if grid.level == 2)
    views = [Viewport(*CITY.box, zoom) for zoom in (8, 10, 12, 13, PAIR_LEVEL)]
    views += [view for view in random_views(24, 25) if view.zoom <= PAIR_LEVEL]
    for filters in TWO_FILTERS:
        filters = {name: town if name == "town_id" else value for name, value in filters.items()}
        for view in views:
            assert_same_clusters(user, view, filters=filters)
        assert answers_from_summary(user, Viewport(*CITY.box, PAIR_LEVEL + 1), filters) is None
    assert_summary_current()


@pytest.mark.parametrize("filters", [
    {"category": ["air", "noise"], "channel": ["visit", "letter", "phone_12369"]},  # two filters: pair rows
    {"received_from": "29 days ago", "category": ["air", "noise"]},  # whole days beside a filter
    {"received_from": "to the minute", "channel": ["visit", "letter", "phone_12369"]},  # and its ends live
])
def test_in_a_small_city_few_cases_of_two_conditions_are_counted_live_so_their_rings_split(city, filters):
    random_cases(200, seed=25, varied=True)
    user, now = city.users["command"], clock.now()
    moments = {"29 days ago": day_start(day_number(now) - 29), "to the minute": now - timedelta(days=20, minutes=7)}
    filters = {name: moments.get(value, value) if isinstance(value, str) else value for name, value in filters.items()}
    view = Viewport(*CITY.box, 12)
    answer = wall.viewport_features(user, view, now, filters)
    assert answer["total"] > 0 and all("open" not in c["states"] for c in answer["clusters"])
    with mock.patch.object(wall, "LIVE_CITY_MAX", 100):  # a large city: the rows, unsplit
        answer = wall.viewport_features(user, view, now, filters)
    assert any("open" in c["states"] for c in answer["clusters"])


def test_the_rows_a_view_adds_up_are_named_in_one_order():
    assert summary_facets({"channel": ["visit"], "category": ["noise"]}) == ["category:noise|channel:visit"]
    assert summary_facets({"flag": ["repeat", "above_level"]}) == ["flag:above_level|flag:repeat"]
    assert summary_facets({"state": ["closed"], "town_id": 7}) == ["town:7|state:closed"]
    assert summary_facets({"category": ["air", "water"], "channel": ["visit", "letter"]}) == [
        "category:air|channel:letter", "category:air|channel:visit",
        "category:water|channel:letter", "category:water|channel:visit"]
    assert summary_facets({"category": ["air"], "channel": ["visit"], "town_id": 7}) is None  # three
    assert summary_facets({"category": ["air"], "flag": ["leader", "repeat"]}) is None
    assert summary_facets({"category": ["air"], "state": ["red"]}) is None


def test_the_filter_rows_stay_current_as_cases_change(city):
    cases = random_cases(60, seed=22, varied=True)
    user = city.users["command"]
    cases[1].category = Category.WATER
    cases[2].above_level = not cases[2].above_level
    cases[3].location = from_shape(Point(EAST - 0.0004, NORTH - 0.0004), srid=4326)
    cases[4].repeat_of = cases[5]
    db.session.commit()
    for filters in FACET_FILTERS:
        assert_same_clusters(user, Viewport(*CITY.box, FACET_LEVEL), filters=filters)
    for filters in TWO_FILTERS[:-1]:
        assert_same_clusters(user, Viewport(*CITY.box, PAIR_LEVEL), filters=filters)
    assert_summary_current()


def test_a_period_of_whole_days_is_read_from_the_received_day_rows(city):
    cases = random_cases(250, seed=61, varied=True)
    user = city.users["command"]
    today = day_number(clock.now())
    periods = [(today - 30, today + 1), (today - 3, today - 1), (today - 400, None), (today, None)]
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, DAY_LEVEL + 1)]
    views += [view for view in random_views(62, 30) if view.zoom <= DAY_LEVEL]
    for first, last in periods:
        filters = {"received_from": day_start(first)} | ({"received_to": day_start(last)} if last else {})
        assert answers_from_summary(user, views[0], filters)[0] == f"day:{first}"
        for view in views:
            assert_same_clusters(user, view, filters=filters)
    # cases received, moved and closed keep the day rows current
    cases[0].received_at, cases[1].status = cases[0].received_at - timedelta(days=2), CaseStatus.CLOSED
    cases[2].location = cases[3].location
    db.session.commit()
    for view in views[:5]:
        assert_same_clusters(user, view, filters={"received_from": day_start(today - 30)})
    assert_summary_current()


def test_a_period_to_the_minute_adds_its_whole_days_rows_to_its_ends_counted_live(city):
    random_cases(250, seed=63)
    user, now = city.users["command"], clock.now()
    rng = random.Random(64)
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, DAY_LEVEL + 1)]
    views += [view for view in random_views(65, 20) if view.zoom <= DAY_LEVEL]
    for _ in range(6):
        start = now - timedelta(minutes=rng.randrange(60, 20 * 24 * 60))
        end = rng.choice([None, start + timedelta(minutes=rng.randrange(2 * 24 * 60, 12 * 24 * 60))])
        filters = {"received_from": start} | ({"received_to": end} if end else {})
        assert answers_from_summary(user, views[0], filters) is None  # not whole days
        facets, stretches = wall.answers_by_days(user, views[0], now, filters)
        assert facets and stretches and stretches[0][0] == start
        for view in views:
            with mock.patch.object(wall, "LIVE_SPLIT_MAX", -1):
                got = view_clusters(user, view, now, filters)
            want = sorted(db.session.execute(wall.cluster_query(user, view, now, filters)).all())
            assert [(g.zoom_x, g.zoom_y, g.count, g.worst, g.above_level, g.inspection, g.leader, g.case_id,
                     g.closed) for g in got] == [(w.zoom_x, w.zoom_y, w.count, w.worst, w.above_level,
                                                  w.inspection, w.leader, w.case_id, w.closed) for w in want]
    assert wall.answers_by_days(user, Viewport(*CITY.box, DAY_LEVEL + 1), now, {"received_from": now}) is None
    midnight = day_start(day_number(now) - 3)  # whole days are the summary's: the endpoint counts them live
    assert wall.answers_by_days(user, views[0], now, {"received_from": midnight}) is None
    assert view_clusters(user, views[0], now, {"received_from": midnight}) == \
           sorted(db.session.execute(wall.cluster_query(user, views[0], now, {"received_from": midnight})).all())
    assert wall.answers_by_days(user, views[0], now, {"received_from": now, "category": ["air"], "channel": ["visit"]}
                                ) is None  # two filters beside a period: live


def test_a_period_beside_one_filter_is_read_from_the_day_rows_of_that_filter(city):
    cases = random_cases(250, seed=66, varied=True)
    user, now = city.users["command"], clock.now()
    today = day_number(now)
    town = next(grid.id for grid in city.grids.values() if grid.level == 2)
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, DAY_LEVEL + 1)]
    views += [view for view in random_views(67, 12) if view.zoom <= DAY_LEVEL]
    periods = [{"received_from": day_start(today - 30)},
               {"received_from": day_start(today - 12), "received_to": day_start(today - 2)},
               {"received_from": now - timedelta(days=9, minutes=17)}]  # to the minute: ends live
    for period in periods:
        for others in [*FACET_FILTERS, {"town_id": town}]:
            filters = period | others
            facets = answers_from_summary(user, views[0], filters)
            if "received_to" in period or period["received_from"] == day_start(today - 30):
                assert facets and all(facet.startswith("day:") and "|" in facet for facet in facets)
            else:
                assert facets is None and wall.answers_by_days(user, views[0], now, filters)[0][0].count("|") == 1
            for view in views:
                with mock.patch.object(wall, "LIVE_SPLIT_MAX", -1):  # the rows, never a live recount
                    got = view_clusters(user, view, now, filters)
                want = sorted(db.session.execute(wall.cluster_query(user, view, now, filters)).all())
                assert [(g.zoom_x, g.zoom_y, g.count, g.worst, g.above_level, g.inspection, g.leader, g.case_id,
                         g.closed) for g in got] == [(w.zoom_x, w.zoom_y, w.count, w.worst, w.above_level,
                                                      w.inspection, w.leader, w.case_id, w.closed) for w in want]
    assert summary_facets({"received_from": day_start(today - 2), "category": ["air", "noise"]}) == [
        f"day:{today - 2}|category:air", f"day:{today - 2}|category:noise",
        f"day:{today - 1}|category:air", f"day:{today - 1}|category:noise",
        f"day:{today}|category:air", f"day:{today}|category:noise",
        f"day:{today + 1}|category:air", f"day:{today + 1}|category:noise"]
    assert not db.session.scalar(select(db.func.count()).where(  # kept at DAY_LEVEL only
        WallCell.level != DAY_LEVEL, WallCell.facet.like("day:%|%")))
    # a case received, moved, recategorised and closed keeps the rows current
    cases[0].received_at, cases[1].status = cases[0].received_at - timedelta(days=2), CaseStatus.CLOSED
    cases[2].location, cases[3].category = cases[4].location, Category.NOISE
    db.session.commit()
    for others in FACET_FILTERS[:3]:
        for view in views[:5]:
            assert_same_clusters(user, view, filters=periods[0] | others)
    assert_summary_current()


def test_period_open_states_and_three_filters_at_once_go_live(city):
    user = city.users["command"]
    view = Viewport(*CITY.box, 12)
    assert answers_from_summary(user, view, {"category": ["noise"], "channel": ["visit"], "flag": ["leader"]}) is None
    assert answers_from_summary(user, view, {"flag": ["above_level", "leader", "repeat"]}) is None
    assert answers_from_summary(user, view, {"state": ["red"]}) is None
    assert answers_from_summary(user, view, {"state": ["closed", "green"]}) is None
    assert answers_from_summary(user, view, {"received_from": clock.now()}) is None  # to the minute
    midnight = day_start(day_number(clock.now()))
    period = {"received_from": midnight}
    assert answers_from_summary(user, view, period | {"category": ["air"], "flag": ["leader"]}) is None
    assert answers_from_summary(user, view, {"received_from": midnight, "state": ["red"]}) is None
    assert answers_from_summary(user, Viewport(*CITY.box, DAY_LEVEL + 1),
                                {"received_from": midnight, "category": ["air"]}) is None
    assert answers_from_summary(user, view, {"received_to": midnight}) is None  # open at the start
    assert answers_from_summary(user, Viewport(*CITY.box, DAY_LEVEL + 1), {"received_from": midnight}) is None
    assert answers_from_summary(user, view, {"state": ["red"], "category": ["noise"]}) is None
    assert answers_from_summary(user, Viewport(*CITY.box, FACET_LEVEL + 1), {"category": ["noise"]}) is None
    assert answers_from_summary(user, view, {"category": ["air", "air"]}) == ["category:air"]
    assert answers_from_summary(city.users["sup_T1"], view, {}) is None  # sees one town only


@pytest.mark.parametrize("hours", [-300, 0, 30, 60, 120, 400])
def test_states_match_before_and_after_cases_turn_yellow_and_red(city, hours):
    random_cases(120, seed=hours + 500)
    user = city.users["command"]
    with clock.travel(timedelta(hours=hours)):
        for view in [CITY, *random_views(hours + 9, 8)]:
            assert_same_clusters(user, view)


@pytest.mark.parametrize("hours", [0, 60, 400])
def test_the_state_filter_finds_exactly_the_cases_of_that_colour(city, hours):
    random_cases(150, seed=hours + 31)
    with clock.travel(timedelta(hours=hours)):
        now = clock.now()
        for name, rank in wall.STATE_RANKS.items():
            by_rank = db.session.scalar(select(db.func.count()).where(wall.state_rank(now) == rank))
            by_range = db.session.scalar(select(db.func.count()).where(wall.state_is(name, now)))
            assert by_range == by_rank, name


def test_one_case_goes_green_yellow_red_on_the_summary(city):
    user = city.users["command"]
    now = clock.now()
    lone = make_case(120.5151, 32.3151, received_at=now - timedelta(days=1), due_at=now + timedelta(days=3))
    db.session.commit()
    view = Viewport(120.514, 32.314, 120.517, 32.317, 15)

    def state() -> int:
        clusters = assert_same_clusters(user, view)
        assert [c.case_id for c in clusters] == [lone.id]
        return clusters[0].worst

    assert state() == 1
    with clock.travel(timedelta(days=2, minutes=1)):  # 75 % of the 4 days used
        assert state() == 2
    with clock.travel(timedelta(days=3, minutes=1)):
        assert state() == 3


def test_moving_closing_and_deleting_cases_keep_the_summary_current(city):
    cases = random_cases(60, seed=8)
    user = city.users["command"]
    moved = cases[1]
    moved.location = from_shape(Point(EAST - 0.0003, NORTH - 0.0003), srid=4326)
    db.session.commit()
    assert_same_clusters(user, CITY)
    assert_summary_current()
    cases[2].status = CaseStatus.CLOSED
    cases[3].due_at = clock.now() - timedelta(minutes=5)
    cases[4].above_level = not cases[4].above_level
    db.session.commit()
    assert_same_clusters(user, CITY)
    assert_summary_current()
    before = total(user)
    orphan = Case(number="HJ-DEL-1", channel="phone_12369", category="air", sector="industrial", title="待删除",
                  location=from_shape(Point(WEST + 0.001, SOUTH + 0.001), srid=4326))
    db.session.add(orphan)
    db.session.commit()
    assert total(user) == before + 1
    db.session.delete(orphan)
    db.session.commit()
    assert total(user) == before
    assert_summary_current()


def test_a_rolled_back_change_leaves_the_summary_alone(city):
    user = city.users["command"]
    before = total(user)
    make_case(WEST + 0.002, SOUTH + 0.002)
    db.session.rollback()
    db.session.commit()
    assert total(user) == before
    assert_summary_current()


def test_a_new_yellow_share_rebuilds_the_summary(city):
    user = city.users["command"]
    now = clock.now()
    half = make_case(120.5351, 32.3051, received_at=now - timedelta(days=6), due_at=now + timedelta(days=4))
    db.session.commit()
    view = Viewport(120.534, 32.304, 120.537, 32.307, 15)
    assert [c.worst for c in assert_same_clusters(user, view)] == [1]  # 60 % used, yellow at 75 %
    set_setting("yellow_at", 0.5)
    db.session.commit()
    assert [c.worst for c in assert_same_clusters(user, view)] == [2]
    assert [c.case_id for c in assert_same_clusters(user, view)] == [half.id]
    assert_summary_current()


def test_the_real_lifecycle_keeps_the_wall_right(app, city):
    desk = Desk(app)
    user = city.users["command"]
    before = total(user)
    case_id = register(desk)["case"]["id"]
    assert total(user) == before + 1
    walk_to_handling(desk, case_id)
    assert_same_clusters(user, CITY)
    desk.act(HANDLER, case_id, "reply", **REPLY)
    desk.act("sup_T1", case_id, "review_pass", note="答复规范")
    desk.act("sup_T1", case_id, "follow_up", satisfaction="satisfied", note="电话回访")
    desk.act("sup_T1", case_id, "close", note="销号")
    view = Viewport(120.503, 32.310, 120.507, 32.314, 16)
    db.session.commit()
    clusters = view_clusters(user, Viewport(*CITY.box, 17), clock.now(), {})
    mine = [c for c in clusters if c.case_id == case_id and c.count == 1]
    assert [c.worst for c in mine] == [0]  # closed: grey
    assert_same_clusters(user, Viewport(*view.box, 14))
    assert_summary_current()


def merged_open(cluster: dict) -> dict:
    """A live cluster as the summary gives it: its open cases as one ``open`` count unless all are green."""
    states = cluster["states"]
    open_count = states["red"] + states["yellow"] + states["green"]
    return {**cluster, "states": {"closed": states["closed"],
                                  "green" if open_count == states["green"] else "open": open_count}}


def test_the_endpoint_answers_unfiltered_views_from_the_summary_and_filtered_ones_live(client, auth, city,
                                                                                     monkeypatch):
    random_cases(40, seed=12)
    auth.login("command")
    calls = []
    real = wall.summary_query
    monkeypatch.setattr(wall, "summary_query", lambda *args: calls.append(args) or real(*args))
    query = {"west": CITY.west, "south": CITY.south, "east": CITY.east, "north": CITY.north, "zoom": DAY_LEVEL}
    unfiltered = client.get("/api/v1/wall/viewport", query_string=query).get_json()
    assert len(calls) == 1
    monkeypatch.setattr(wall, "LIVE_SPLIT_MAX", 0)
    month_ago = day_start(day_number(clock.now()) - 30)  # before every case
    filtered = client.get("/api/v1/wall/viewport", query_string={**query, "category": "air"}).get_json()
    assert len(calls) == 2  # one category: its filter rows
    midnight = {**query, "received_from": month_ago.isoformat()}
    dated = client.get("/api/v1/wall/viewport", query_string=midnight).get_json()
    assert len(calls) == 3  # a period of whole days: its received-day rows
    minute = client.get("/api/v1/wall/viewport",
                        query_string={**midnight, "received_from": (month_ago + timedelta(minutes=1)).isoformat()})
    assert len(calls) == 4  # a period to the minute: its whole days' rows, its ends counted live
    # The summary's rows give the open cases as one count (unless all are green).
    assert minute.get_json()["clusters"] == filtered["clusters"] == dated["clusters"]
    assert unfiltered["total"] == filtered["total"] == 44  # every case is about air
    assert unfiltered["clusters"] == filtered["clusters"]
    red = client.get("/api/v1/wall/viewport", query_string={**query, "state": "red"}).get_json()
    assert len(calls) == 4 and {c["state"] for c in red["clusters"]} == {"red"}
    # A filtered view the summary answers with few cases is counted live, so its rings split.
    monkeypatch.setattr(wall, "LIVE_SPLIT_MAX", 5000)
    small = client.get("/api/v1/wall/viewport", query_string={**query, "category": "air"}).get_json()
    assert len(calls) == 5 and [merged_open(c) for c in small["clusters"]] == filtered["clusters"]
    assert any(len([n for n in c["states"].values() if n]) > 2 for c in small["clusters"])


def test_flask_wall_rebuild_cells(app, city):
    random_cases(30, seed=4)
    kept = summary_rows()
    db.session.execute(WallCell.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["wall", "rebuild-cells"])
    assert result.exit_code == 0, result.output
    assert "挂图汇总已重建" in result.output
    assert summary_rows() == kept


def meet_before_commit(threads: int):
    """Hold each of ``threads`` request threads just before its commit until all are there.

    That is the moment each notes the cells it changed; right after the commits (the suite
    runs tasks at once) their summary refreshes run together. On SQLite the requests queue at
    BEGIN IMMEDIATE and can never meet there, so nothing is held.
    """
    barrier = threading.Barrier(threads, timeout=60)
    met: set[int] = set()

    def wait(session):
        if threading.get_ident() in workers and threading.get_ident() not in met:
            met.add(threading.get_ident())
            barrier.wait()

    workers: set[int] = set()
    if db.engine.dialect.name == "postgresql":
        event.listen(db.session, "before_commit", wait, insert=True)
    return workers, lambda: event.contains(db.session, "before_commit", wait) and event.remove(
        db.session, "before_commit", wait)


def test_simultaneous_uploads_all_go_in_and_the_summary_stays_exact(app, city):
    random_cases(40, seed=31)
    desk = Desk(app)
    inspectors = ["insp_V11", "insp_V12", "insp_V21", "insp_V22"]
    bodies = {name: onsite_body(city.cases[name.removeprefix("insp_")].id) for name in inspectors}
    for name in inspectors:
        desk.client(name)
    workers, stop = meet_before_commit(len(inspectors))
    answers = {}

    def upload(name):
        workers.add(threading.get_ident())
        answers[name] = put(desk, name, f"/api/v1/inspections/{uuid.uuid4()}", bodies[name]).status_code

    threads = [threading.Thread(target=upload, args=(name,)) for name in inspectors]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop()
    assert answers == dict.fromkeys(inspectors, 201)
    assert_summary_current()
