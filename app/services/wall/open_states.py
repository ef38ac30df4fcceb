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
  in Python; then the table is replaced. On SQLite the read runs without the write lock
  (``database.deferred_reads``), so writers wait only for the replacement.
* **When it is used** (``usable``). A view's cluster takes the snapshot's split when the
  snapshot is at most ``MAX_AGE`` old and its cell still has as many open cases as the
  summary says (a write since then leaves that cell unsplit until the next minute). The
  answer states the moment (``states_as_of``), and the legend shows it.
"""

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, insert, select

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
    """Count the open cases' states per cell at ``now`` and replace the snapshot; return its rows."""
    from app.services.wall.clusters import STATE_RANKS, state_rank  # clusters reads the snapshot

    rank = state_rank(now)
    x, y = case_cell(SNAPSHOT_LEVEL)
    counts = [func.sum(case((rank == STATE_RANKS[name], 1), else_=0)) for name in _STATES]
    db.session.commit()  # the read below begins its own transaction
    with deferred_reads():
        base = db.session.execute(
            select(x, y, *counts).where(Case.location.isnot(None), Case.status.in_(OPEN)).group_by(x, y)).all()
        db.session.commit()  # end the read: the replacement below takes the write lock
    rows = []
    level_cells = {(int(cx), int(cy)): Counter(dict(zip(_STATES, map(int, values), strict=True)))
                   for cx, cy, *values in base}
    for level in range(SNAPSHOT_LEVEL, -1, -1):
        rows += [{"level": level, "cell_x": cx, "cell_y": cy, **{s: c[s] for s in _STATES}, "taken_at": now}
                 for (cx, cy), c in level_cells.items()]
        parents: dict[tuple[int, int], Counter] = {}
        for (cx, cy), c in level_cells.items():
            parents.setdefault((cx >> 1, cy >> 1), Counter()).update(c)
        level_cells = parents
    db.session.execute(delete(WallOpenState))
    if rows:
        db.session.execute(insert(WallOpenState), rows)
    return len(rows)


def usable(taken_at: datetime | None, now: datetime) -> bool:
    """True when a snapshot taken then may be drawn now."""
    return taken_at is not None and now - MAX_AGE <= taken_at <= now + timedelta(minutes=1)
