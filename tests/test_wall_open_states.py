"""The open-state snapshot: a city view's clusters split red, yellow and green as the live query does."""

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, WallOpenState
from app.models.vocab import CaseStatus
from app.services import background, clock
from app.services.wall import open_states
from app.services.wall.cells import refresh_noted_cells
from app.services.wall.clusters import Viewport, viewport_features
from tests.helpers import CITY, live
from tests.test_wall_cells import random_cases, random_views

STATES = ("closed", "red", "yellow", "green")


def live_states(user, view: Viewport, now) -> dict:
    """Each cell's cases by state, counted live from the cases."""
    return {(row.zoom_x, row.zoom_y): {name: int(getattr(row, name) or 0) for name in STATES}
            for row in live(user, view, now, {})}


def drawn(user, view: Viewport, now) -> tuple[list[dict], str | None]:
    """The viewport answer's clusters (states without zero counts) and its snapshot moment."""
    answer = viewport_features(user, view, now, {})
    assert answer["kind"] == "clusters"
    return answer["clusters"], answer["states_as_of"]


def test_a_fresh_snapshot_splits_every_cluster_as_the_live_query_does(city):
    random_cases(300, seed=41)
    user, now = city.users["command"], clock.now()
    assert open_states.take_snapshot(now) > 0
    views = [Viewport(*CITY.box, zoom) for zoom in range(8, open_states.SNAPSHOT_LEVEL + 1)]
    for view in [*views, *(v for v in random_views(42, 30) if v.zoom <= open_states.SNAPSHOT_LEVEL)]:
        clusters, as_of = drawn(user, view, now)
        expected = live_states(user, view, now)
        assert sorted(tuple(c["states"].get(s, 0) for s in STATES) for c in clusters) == \
               sorted(tuple(e[s] for s in STATES) for e in expected.values()), view
        assert all("open" not in c["states"] for c in clusters)
        if any(c["states"].get("red") or c["states"].get("yellow") for c in clusters):
            assert as_of == now.isoformat()
        for cluster in clusters:  # the fill is the worst state the ring shows
            worst = next(s for s in ("red", "yellow", "green", "closed") if cluster["states"].get(s))
            assert cluster["state"] == worst


def test_the_coarser_levels_are_sums_of_the_finest(city):
    random_cases(150, seed=43)
    open_states.take_snapshot(clock.now())
    sums = dict(db.session.execute(
        select(WallOpenState.level, func.sum(WallOpenState.red + WallOpenState.yellow + WallOpenState.green))
        .group_by(WallOpenState.level)).all())
    opened = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.location.isnot(None), Case.status.in_(open_states.OPEN)))
    assert set(sums) == set(range(open_states.SNAPSHOT_LEVEL + 1)) and set(sums.values()) == {opened}


def test_a_cell_written_since_the_snapshot_and_a_stale_snapshot_go_unsplit(city):
    cases = random_cases(200, seed=44)
    user, now = city.users["command"], clock.now()
    open_states.take_snapshot(now)
    view = Viewport(*CITY.box, 12)
    before, _ = drawn(user, view, now)
    closing = next(c for c in cases if c.status != CaseStatus.CLOSED and c.location is not None
                   and c.due_at is not None and c.due_at <= now)
    closing.status = CaseStatus.CLOSED
    db.session.commit()
    refresh_noted_cells()
    db.session.commit()
    after, as_of = drawn(user, view, now)
    assert as_of == now.isoformat()
    unsplit = [c for c in after if "open" in c["states"]]
    assert len(unsplit) <= 1 and sum(1 for c in before if "open" in c["states"]) == 0
    assert sum(c["count"] for c in after) == sum(c["count"] for c in before)
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
    """The stored snapshot, row by row."""
    return [tuple(row) for row in db.session.execute(
        select(WallOpenState.level, WallOpenState.cell_x, WallOpenState.cell_y, WallOpenState.red,
               WallOpenState.yellow, WallOpenState.green, WallOpenState.taken_at)
        .order_by(WallOpenState.level, WallOpenState.cell_x, WallOpenState.cell_y))]


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
        open_states.take_snapshot(now)
        db.session.commit()
        assert snapshot_rows() == kept and {row[-1] for row in kept} == {now}
