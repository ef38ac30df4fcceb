"""The map wall's summary is refreshed by the worker after a write commits, not inside the write.

A transaction that changes cases only notes the cells it touched (``wall_dirty_cells``); the
task it sends after its commit refreshes them. Elsewhere in the suite the queue runs each
task right after the commit, so the summary looks current at once; here the task is held
back, as a busy worker would, to see each step.
"""

import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import WallCell, WallDirtyCell
from app.services import background, clock
from app.services.day_stats import day_number, day_start
from app.services.wall import cells as wall_cells
from app.services.wall.clusters import Viewport, answers_from_summary, cluster_query, view_clusters
from app.services.wall.events import poll, resume_from
from tests.factories import make_case
from tests.helpers import CITY, INSPECTOR, Desk, assert_summary_current, onsite_body, put, summary_rows, total

BOX = {"west": CITY.west, "south": CITY.south, "east": CITY.east, "north": CITY.north, "zoom": 12}


@pytest.fixture
def held(monkeypatch):
    """The names of the tasks sent after each commit, kept instead of run."""
    sent: list[str] = []
    monkeypatch.setattr(background.Queue, "send", lambda queue, name, kwargs: sent.append(name))
    return sent


def noted() -> int:
    return db.session.scalar(select(func.count()).select_from(WallDirtyCell))


def refresh() -> int:
    """What the worker does with the task; then this session reads past its snapshot (SQLite)."""
    db.session.rollback()
    refreshed = background.run_now(wall_cells.REFRESH_TASK)
    db.session.rollback()
    return refreshed


def test_an_upload_notes_its_cells_and_the_worker_refreshes_them_after_the_commit(app, city, held):
    before, statements = summary_rows(), []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        answer = put(Desk(app), INSPECTOR, f"/api/v1/inspections/{uuid.uuid4()}", onsite_body(city.cases["V11"].id))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert answer.status_code == 201
    # The upload wrote no summary row and waited for no lock: it only noted its cells.
    assert not any("wall_cells" in s or "pg_advisory" in s for s in statements)
    assert any(s.startswith("INSERT INTO wall_dirty_cells") for s in statements)
    assert held == [wall_cells.REFRESH_TASK] and noted() >= 1
    assert summary_rows() == before
    assert refresh() >= 1
    assert noted() == 0
    assert_summary_current()


def test_the_cells_of_many_commits_are_refreshed_in_one_go(city, held):
    for n in range(3):
        make_case(120.505 + n * 0.01, 32.31)
        db.session.commit()
    assert held == [wall_cells.REFRESH_TASK] * 3 and noted() == 3
    assert refresh() == 3
    assert refresh() == 0  # the other two tasks find nothing left
    assert_summary_current()


def test_a_lost_task_leaves_nothing_stale_for_long(city, held):
    make_case(120.505, 32.31)
    db.session.commit()
    held.clear()  # the worker never got it
    assert [p.minutes for p in background.schedules() if p.name == wall_cells.REFRESH_TASK] == [1]
    refresh()  # what the periodic run does
    assert noted() == 0
    assert_summary_current()


def test_a_rolled_back_write_notes_nothing_and_sends_nothing(city, held):
    make_case(120.505, 32.31)
    db.session.flush()
    db.session.rollback()
    assert held == [] and noted() == 0


def test_a_full_rebuild_takes_the_noted_cells_with_it(app, city, held):
    make_case(120.505, 32.31)
    db.session.commit()
    db.session.execute(WallCell.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["wall", "rebuild-cells"])
    assert result.exit_code == 0, result.output
    assert noted() == 0
    assert_summary_current()


def test_the_wall_hears_when_the_summary_has_caught_up(app, city, held):
    """The event comes with the commit; the map's counts a moment later, with a ``cells`` message."""
    desk, user = Desk(app), city.users["command"]
    url = "/api/v1/wall/viewport?" + "&".join(f"{k}={v}" for k, v in BOX.items())
    cases_before = total(user)
    cursor = resume_from(None, clock.now())
    make_case(120.505, 32.31)
    db.session.commit()
    early = desk.get("command", url)
    assert early.get_json()["total"] == cases_before  # the summary lags its cases by a moment
    messages, cursor = poll(user, cursor, clock.now())
    assert any("event: new_case" in m for m in messages)
    assert not any("event: cells" in m for m in messages)
    refresh()
    messages, cursor = poll(user, cursor, clock.now())
    assert any("event: cells" in m for m in messages)
    late = desk.get("command", url)
    assert late.headers["ETag"] != early.headers["ETag"]
    assert late.get_json()["total"] == cases_before + 1
    messages, _ = poll(user, cursor, clock.now())
    assert not any("event: cells" in m for m in messages)  # said once


def test_a_huge_set_of_noted_cells_is_taken_by_one_rebuild(city, held, monkeypatch):
    """After an upgrade that notes every cell with an open case, one pass over the cases
    beats a statement per cell: the worker rebuilds instead, with the same result."""
    for n in range(3):
        make_case(120.505 + n * 0.01, 32.31)
    db.session.commit()
    assert noted() == 3
    rebuild, rebuilt = wall_cells.rebuild_wall_cells, []
    monkeypatch.setattr(wall_cells, "REBUILD_ABOVE_CELLS", 2)
    monkeypatch.setattr(wall_cells, "rebuild_wall_cells", lambda session: rebuilt.append(1) or rebuild(session))
    assert refresh() == 3
    assert rebuilt == [1] and noted() == 0
    assert_summary_current()


def test_after_the_upgrade_a_period_beside_a_filter_is_counted_live_until_the_worker_wrote_its_rows(
        app, city, held):
    """Migration 0028 adds no rows itself: it notes every cell, and such views stay live until
    the worker's refresh has written them (cells.awaits_catch_up)."""
    user, view = city.users["command"], Viewport(*CITY.box, 10)
    filters = {"received_from": day_start(day_number(clock.now()) - 30),
               "category": [str(city.cases["V11"].category)]}
    assert answers_from_summary(user, view, filters)
    db.session.remove()
    downgrade(revision="0027_open_rows_by_due_hour")
    assert not db.session.scalar(select(func.count()).where(WallCell.facet.like("day:%|%")))
    db.session.remove()  # no read of before the upgrade held open (SQLite's snapshot)
    upgrade()
    assert noted() > 0
    assert answers_from_summary(user, view, filters) is None  # counted live meanwhile
    now = clock.now()
    expected = sorted(db.session.execute(cluster_query(user, view, now, filters)).all())
    assert view_clusters(user, view, now, filters) == expected and expected
    refresh()
    assert answers_from_summary(user, view, filters)
    assert_summary_current()
