"""The open cases' deadline states per map cell: a snapshot the worker takes every minute.

The wall's summary (``wall_cells``) keeps a cell's open cases as one count, because their
states change with the clock and not with a write: kept per state, every minute would
recount every cell holding a case about to turn yellow or red. A city view therefore drew
a cluster's open part in its worst case's colour. This snapshot gives the split instead:

* **What.** For the unfiltered map, at every level up to ``SNAPSHOT_LEVEL``, each cell's open
  cases counted red, yellow and green at one moment (``taken_at``), by the same state rule
  as the live clusters (``clusters.state_rank``).
* **How.** One grouped read of the open cases at ``SNAPSHOT_LEVEL``; the coarser levels are
  sums of their children (a cell is exactly the union of four at the next level), added up
  in Python; then only the rows that changed are written, and every row's moment. On
  SQLite the read runs without the write lock (``database.deferred_reads``), so writers
  wait only for the write.
* **When it is used** (``usable``). A view's cluster takes the snapshot's split when the
  snapshot is at most ``MAX_AGE`` old and its cell still has as many open cases as the
  summary says (a write since then leaves that cell unsplit until the next minute). The
  answer states the moment (``states_as_of``), and the legend shows it.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, insert, select, update

from app.database import deferred_reads
from app.extensions import db
from app.models import Case, WallOpenState
from app.services.wall.cells import OPEN, case_cell

# The finest level counted: about 21,000 cells hold an open case at 1M demo cases; from
# zoom 16 on, the wall shows the cases one by one.
SNAPSHOT_LEVEL = 15
# A snapshot older than this is not drawn (the worker has stopped): clusters go unsplit.
MAX_AGE = timedelta(minutes=3)
REFRESH_TASK = "wall.open_states"
_STATES = ("red", "yellow", "green")


def take_snapshot(now: datetime) -> int:
    """Count the open cases' states per cell at ``now`` and store them as the snapshot; return its rows."""
    from app.services.wall.clusters import STATE_RANKS, state_rank, tune_aggregate_session  # they read it

    x, y = case_cell(SNAPSHOT_LEVEL)
    cases = (select(x.label("x"), y.label("y"), state_rank(now).label("rank"))
             .where(Case.location.isnot(None), Case.status.in_(OPEN)).subquery())
    counts = [func.sum(case((cases.c.rank == STATE_RANKS[name], 1), else_=0)) for name in _STATES]
    db.session.commit()  # the read below begins its own transaction
    with deferred_reads():
        tune_aggregate_session()
        base = db.session.execute(select(cases.c.x, cases.c.y, *counts).group_by(cases.c.x, cases.c.y)).all()
        db.session.commit()  # end the read: the replacement below takes the write lock
    counts_now = _roll_up({(int(cx), int(cy)): tuple(map(int, values)) for cx, cy, *values in base})
    _replace(counts_now, now)
    return len(counts_now)


def _roll_up(finest: dict[tuple[int, int], tuple[int, ...]]) -> dict[tuple[int, int, int], tuple[int, ...]]:
    """Every level's cells, (level, x, y) -> (red, yellow, green), from the finest level's."""
    cells: dict[tuple[int, int, int], tuple[int, ...]] = {}
    level_cells = finest
    for level in range(SNAPSHOT_LEVEL, -1, -1):
        cells.update({(level, cx, cy): c for (cx, cy), c in level_cells.items()})
        parents: dict[tuple[int, int], tuple[int, ...]] = {}
        for (cx, cy), c in level_cells.items():
            summed = parents.get((cx >> 1, cy >> 1))
            parents[(cx >> 1, cy >> 1)] = c if summed is None else tuple(a + b for a, b in zip(summed, c, strict=True))
        level_cells = parents
    return cells


def _replace(cells: dict[tuple[int, int, int], tuple[int, ...]], now: datetime) -> None:
    """Make the table hold ``cells`` taken at ``now``, writing only the rows that changed.

    From one minute to the next few cells change (a case turning yellow or red, a write), so
    the rows are compared with what is stored: changed ones are updated, gone ones deleted,
    new ones inserted, and every row's moment set in one statement.
    """
    table = WallOpenState.__table__
    stored = {(level, x, y): (red, yellow, green) for level, x, y, red, yellow, green in db.session.execute(
        select(table.c.level, table.c.cell_x, table.c.cell_y, table.c.red, table.c.yellow, table.c.green))}
    key = and_(table.c.level == bindparam("k_level"), table.c.cell_x == bindparam("k_x"),
               table.c.cell_y == bindparam("k_y"))

    def keyed(cell: tuple[int, int, int], counts: tuple[int, ...] = ()) -> dict:
        return {"k_level": cell[0], "k_x": cell[1], "k_y": cell[2],
                **{f"v_{name}": n for name, n in zip(_STATES, counts, strict=False)}}

    gone = [keyed(cell) for cell in stored.keys() - cells.keys()]
    changed = [keyed(cell, counts) for cell, counts in cells.items() if cell in stored and stored[cell] != counts]
    new = [{"level": cell[0], "cell_x": cell[1], "cell_y": cell[2], **dict(zip(_STATES, counts, strict=True)),
            "taken_at": now} for cell, counts in cells.items() if cell not in stored]
    if gone:
        db.session.execute(table.delete().where(key), gone)
    if changed:
        db.session.execute(table.update().where(key).values({name: bindparam(f"v_{name}") for name in _STATES}),
                           changed)
    db.session.execute(update(table).values(taken_at=now))
    if new:
        db.session.execute(insert(table), new)


def usable(taken_at: datetime | None, now: datetime) -> bool:
    """True when a snapshot taken then may be drawn now."""
    return taken_at is not None and now - MAX_AGE <= taken_at <= now + timedelta(minutes=1)
