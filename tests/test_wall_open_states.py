"""The open-state snapshot: clusters split red, yellow and green, and views of open states, as the live query counts."""

import math
from datetime import timedelta
from unittest import mock

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, WallDirtyCell, WallOpenSnapshot, WallOpenState, WallOpenTouched
from app.models.vocab import CaseStatus, Category
from app.services import background, clock
from app.services.wall import clusters as wall
from app.services.wall import open_states
from app.services.wall.cells import refresh_noted_cells
from app.services.wall.clusters import Viewport, viewport_features
from tests.helpers import CITY, live, random_cases, random_views

STATES = ("closed", "red", "yellow", "green")


def drawn(user, view: Viewport, now, filters: dict | None = None) -> tuple[list[dict], str | None]:
    """The viewport answer's clusters (states without zero counts) and its snapshot moment."""
    answer = viewport_features(user, view, now, filters or {})
    assert answer["kind"] == "clusters"
    return answer["clusters"], answer["states_as_of"]


def assert_split_as_live(user, view: Viewport, now, filters: dict | None = None) -> tuple[list[dict], str | None]:
    """Every ring of the view is split by state (nothing 未细分), cell by cell as the live query
    counts; return the clusters and the snapshot moment."""
    clusters, as_of = drawn(user, view, now, filters)
    assert all("open" not in c["states"] for c in clusters), view
    assert sorted(tuple(c["states"].get(s, 0) for s in STATES) for c in clusters) == \
           sorted(tuple(int(getattr(w, s) or 0) for s in STATES) for w in live(user, view, now, filters or {})), view
    return clusters, as_of


def test_a_fresh_snapshot_splits_every_cluster_as_the_live_query_does(city):
    random_cases(300, seed=41)
    user, now = city.users["command"], clock.now()
    assert open_states.take_snapshot(now) > 0
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, open_states.SNAPSHOT_LEVEL + 1)]
    for view in [*views, *(v for v in random_views(42, 30) if v.zoom <= open_states.SNAPSHOT_LEVEL)]:
        clusters, as_of = assert_split_as_live(user, view, now)
        if any(c["states"].get("red") or c["states"].get("yellow") for c in clusters):
            assert as_of == now.isoformat()
        for cluster in clusters:  # the fill is the worst state the ring shows
            worst = next(s for s in ("red", "yellow", "green", "closed") if cluster["states"].get(s))
            assert cluster["state"] == worst


def test_the_coarser_levels_are_sums_of_the_finest(city):
    random_cases(150, seed=43)
    open_states.take_snapshot(clock.now())
    sums = dict(db.session.execute(select(WallOpenState.level, func.sum(WallOpenState.case_count))
                                   .where(WallOpenState.facet == "").group_by(WallOpenState.level)).all())
    opened = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.location.isnot(None), Case.status.in_(open_states.OPEN)))
    assert set(sums) == set(range(open_states.SNAPSHOT_LEVEL + 1)) and set(sums.values()) == {opened}
    # and each filter value's rows, level by level, count its open cases
    by_category = db.session.execute(
        select(WallOpenState.level, WallOpenState.facet, func.sum(WallOpenState.case_count))
        .where(WallOpenState.facet.like("category:%")).group_by(WallOpenState.level, WallOpenState.facet)).all()
    opened_by_category = dict(db.session.execute(
        select(Case.category, func.count()).where(Case.location.isnot(None), Case.status.in_(open_states.OPEN))
        .group_by(Case.category)).all())
    assert {level for level, _, _ in by_category} == set(range(open_states.FACET_LEVEL + 1))
    assert all(n == opened_by_category[facet.removeprefix("category:")] for _, facet, n in by_category)


def test_writes_reach_the_snapshot_and_a_stale_one_goes_unsplit(city):
    cases = random_cases(200, seed=44)
    user, taken = city.users["command"], clock.now()
    open_states.take_snapshot(taken)
    closing = [c for c in cases if c.status != CaseStatus.CLOSED and c.location is not None][:5]
    for case in closing:
        case.status = CaseStatus.CLOSED
    cases[0].location = cases[7].location
    db.session.commit()
    refresh_noted_cells()  # the summary's refresh carries the snapshot along
    db.session.commit()
    now = clock.now()
    view = Viewport(*CITY.box, 12)
    _, as_of = assert_split_as_live(user, view, now)
    assert as_of == taken.isoformat()  # the moment every cell was last counted
    with clock.travel(open_states.MAX_AGE + timedelta(minutes=1)):
        stale, as_of = drawn(user, view, clock.now())
    assert as_of is None and any("open" in c["states"] for c in stale)


def test_the_worker_takes_the_snapshot_every_minute(city):
    random_cases(40, seed=45)
    schedule = {item.name: item for item in background.schedules()}[open_states.REFRESH_TASK]
    assert schedule.minutes == 1
    rows = background.run_now(open_states.REFRESH_TASK)
    assert rows == db.session.scalar(select(func.count()).select_from(WallOpenState)) > 0


def snapshot_rows() -> list[tuple]:
    """The stored snapshot, row by row, sums rounded to what summation order can change."""
    t = WallOpenState
    return [(*row[:6], round(row[6], 6), round(row[7], 6), *row[8:]) for row in db.session.execute(
        select(t.level, t.cell_x, t.cell_y, t.state, t.facet, t.case_count, t.lon_sum, t.lat_sum, t.above_level,
               t.inspection, t.leader, t.min_case_id)
        .order_by(t.level, t.cell_x, t.cell_y, t.state, t.facet))]


def test_a_later_snapshot_written_as_changes_equals_one_taken_from_scratch(city):
    cases = random_cases(200, seed=46)
    open_states.take_snapshot(clock.now())
    for case in cases[:40:3]:
        case.status = CaseStatus.CLOSED
    cases[1].location = cases[2].location
    db.session.commit()
    with clock.travel(timedelta(hours=30)):  # cases turn yellow and red meanwhile
        now = clock.now()
        open_states.take_snapshot(now)
        db.session.commit()
        kept = snapshot_rows()
        db.session.execute(WallOpenState.__table__.delete())
        db.session.execute(WallOpenSnapshot.__table__.delete())  # no earlier count: every cell
        open_states.take_snapshot(now)
        db.session.commit()
        assert snapshot_rows() == kept and open_states.taken_at(db.session) == now


def test_each_minute_counts_again_only_the_cells_where_a_case_turned(city):
    cases = random_cases(200, seed=53, varied=True)
    user, start = city.users["command"], clock.now().replace(minute=1)
    opened = [c for c in cases if c.status in open_states.OPEN and c.location is not None]
    for i, case in enumerate(opened[:40]):  # due, and yellow, one after another in the next hour
        case.due_started_at, case.due_at = start - timedelta(minutes=10), start + timedelta(minutes=3 + i)
    db.session.commit()
    refresh_noted_cells()
    db.session.commit()
    open_states.take_snapshot(start)
    db.session.commit()
    views = [Viewport(*CITY.box, zoom) for zoom in (8, 11, 13, open_states.SNAPSHOT_LEVEL)]
    with mock.patch.object(open_states, "_count_all", wraps=open_states._count_all) as every_cell:
        for step in range(1, 12):
            now = start + timedelta(minutes=5 * step)
            open_states.take_snapshot(now)
            db.session.commit()
            for view in views:
                assert assert_split_as_live(user, view, now)[1] == now.isoformat()
            assert_same_states(user, views[2], now, {"state": ["red", "yellow"], "category": ["noise"]})
    assert every_cell.call_count == 0  # the same hour: only the cells where a case turned


def test_a_write_refreshed_while_the_minute_counts_is_not_overwritten_by_the_count(city):
    cases = random_cases(120, seed=54)
    user = city.users["command"]
    open_states.take_snapshot(clock.now())
    db.session.commit()
    closing = [c for c in cases if c.status in open_states.OPEN and c.location is not None][:6]
    real = open_states._count_all

    def count_then_a_write_lands(session, now):
        counted = real(session, now)  # read before the write: stale for the closed cases' cells
        session.commit()
        for case in closing:
            case.status = CaseStatus.CLOSED
        session.commit()
        refresh_noted_cells()  # the write's refresh stores fresh rows for those cells
        session.commit()
        return counted

    later = clock.now() + timedelta(hours=1)  # a new hour: the count reads every cell
    with mock.patch.object(open_states, "_count_all", count_then_a_write_lands):
        open_states.take_snapshot(later)
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(WallOpenTouched)) == 0
    for zoom in (10, 13, open_states.SNAPSHOT_LEVEL):
        view = Viewport(*CITY.box, zoom)
        assert assert_split_as_live(user, view, later)[1] == later.isoformat()
        assert_same_states(user, view, later, {"state": ["red", "yellow", "green"]})


STATE_FILTERS = [["red"], ["yellow"], ["green"], ["red", "yellow"], ["yellow", "green", "red"]]


def test_views_of_open_states_are_read_from_the_snapshot_as_the_live_query_counts(city):
    random_cases(300, seed=47)
    user, now = city.users["command"], clock.now()
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, open_states.SNAPSHOT_LEVEL + 1)]
    views += [v for v in random_views(48, 30) if v.zoom <= open_states.SNAPSHOT_LEVEL]
    assert all(wall.answers_from_snapshot(user, views[0], now, {"state": s}) is None for s in STATE_FILTERS)
    open_states.take_snapshot(now)
    assert wall.answers_from_snapshot(user, views[0], now, {"state": ["closed"]}) is None  # the summary's
    two = {"state": ["red"], "category": ["air"], "channel": ["visit"]}
    assert wall.answers_from_snapshot(user, views[0], now, two) is None  # two filters beside the state
    assert wall.answers_from_snapshot(city.users["sup_T1"], views[0], now, {"state": ["red"]}) is None
    for states in STATE_FILTERS:
        filters = {"state": states}
        for view in views:
            assert wall.answers_from_snapshot(user, view, now, filters) == ([s for s in STATES if s in states], [""])
            assert_same_states(user, view, now, filters)
        assert viewport_features(user, views[2], now, filters)["states_as_of"] == now.isoformat()


def assert_same_states(user, view: Viewport, now, filters: dict) -> None:
    """The view's clusters, read from the snapshot, are the live query's, state by state."""
    got, want = wall.view_clusters(user, view, now, filters), live(user, view, now, filters)
    assert [(g.zoom_x, g.zoom_y) for g in got] == [(w.zoom_x, w.zoom_y) for w in want]
    for g, w in zip(got, want, strict=True):
        assert (g.count, g.worst, g.above_level, g.inspection, g.leader, g.case_id, g.red, g.yellow,
                g.green) == (w.count, w.worst, w.above_level, w.inspection, w.leader, w.case_id, w.red,
                             w.yellow, w.green)
        assert math.isclose(g.lon_sum / g.count, w.lon_sum / w.count, abs_tol=1e-9)


BESIDE = [{"category": ["noise"]}, {"category": ["air", "water"]}, {"channel": ["visit"]}, {"flag": ["above_level"]},
          {"flag": ["repeat"]}]


def test_an_open_state_beside_one_filter_is_read_from_the_snapshot(city):
    cases = random_cases(300, seed=50, varied=True)
    user, now = city.users["command"], clock.now()
    town = next(grid.id for grid in city.grids.values() if grid.level == 2)
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, open_states.FACET_LEVEL + 1)]
    views += [v for v in random_views(51, 30) if v.zoom <= open_states.FACET_LEVEL]
    open_states.take_snapshot(now)
    for beside in [*BESIDE, {"town_id": town}]:
        for states in (["red"], ["yellow", "green"]):
            filters = {"state": states, **beside}
            for view in views:
                assert wall.answers_from_snapshot(user, view, now, filters) is not None, filters
                assert_same_states(user, view, now, filters)
            deeper = Viewport(*CITY.box, open_states.FACET_LEVEL + 1)
            assert wall.answers_from_snapshot(user, deeper, now, filters) is None  # few cases: live
    # writes reach the filter values' rows through the summary's refresh
    for case in cases[:60:4]:
        case.status, case.category = CaseStatus.CLOSED, Category.WATER
    for case in cases[1:60:5]:
        case.category = Category.NOISE
    cases[2].location = cases[9].location
    db.session.commit()
    refresh_noted_cells()
    db.session.commit()
    for beside in BESIDE:
        for view in views[:4]:
            assert_same_states(user, view, now, {"state": ["red", "yellow", "green"], **beside})


def test_a_view_with_one_filter_splits_its_rings_from_the_snapshot(city):
    random_cases(300, seed=52, varied=True)
    user, now = city.users["command"], clock.now()
    open_states.take_snapshot(now)
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, open_states.FACET_LEVEL + 1)]
    for beside in BESIDE:
        for view in views:
            with mock.patch.object(wall, "LIVE_SPLIT_MAX", -1):  # the summary's rows, however few the cases
                assert_split_as_live(user, view, now, beside)


def test_a_view_of_open_states_goes_live_while_the_summary_is_behind_or_the_snapshot_stale(city):
    random_cases(60, seed=49)
    user, now = city.users["command"], clock.now()
    open_states.take_snapshot(now)
    view = Viewport(*CITY.box, 12)
    assert wall.answers_from_snapshot(user, view, now, {"state": ["red"]}) == (["red"], [""])
    db.session.add(WallDirtyCell(cell_x=1, cell_y=1))  # a write the worker has not refreshed yet
    db.session.flush()
    assert wall.answers_from_snapshot(user, view, now, {"state": ["red"]}) is None
    db.session.rollback()
    assert wall.answers_from_snapshot(user, view, now + open_states.MAX_AGE + timedelta(seconds=1),
                                      {"state": ["red"]}) is None
