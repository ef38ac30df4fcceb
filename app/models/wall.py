"""The map wall's summary (挂图作战汇总): cases counted per square cell, at every cluster zoom.

A row holds what the wall's clusters need from the cases in one cell, so a city view reads a
few hundred rows instead of a million cases. The cells of level ``L`` are the wall's cluster
cells at Leaflet zoom ``L`` (``services.wall_cells.cell_degrees``); their sides are powers of
two of one another, so a cell is exactly the union of its four children and every count
stays exact. services.wall_cells keeps the rows current from the cases; nothing else writes
them.

Each cell has a row for all its cases (``facet`` empty) and, at the coarser levels (up to
``services.wall.cells.FACET_LEVEL``), one row per value of each filter the wall offers
(category, channel, town, flag, 销号), so a filtered city view is as cheap as an unfiltered
one; up to ``PAIR_LEVEL``, one row per pair of two filters' values
("category:noise|channel:visit"), so a view with two filters is too; up to ``DAY_LEVEL``,
also one row per day its cases were received on ("day:20429"), so a period of whole days
is the sum of its days' rows.
"""

from datetime import datetime

from sqlalchemy import Float, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class WallCell(db.Model):
    """The cases in one cell of the map wall's grid at one level: counts, sums, earliest times, flags."""

    __tablename__ = "wall_cells"
    # The primary key serves the refresh (a cell's rows at every facet); this index a view
    # (one level, the facets asked for, a run of columns, a range of rows in each).
    __table_args__ = (Index("ix_wall_cells_level_facet_x_y", "level", "facet", "cell_x", "cell_y"),)

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    cell_x: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cell_y: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # "" for all the cell's cases, else the filter value the row counts: "category:noise",
    # "channel:hotline_12345", "town:7", "flag:above_level", "day:20429", or two filters'
    # values joined by "|": "category:noise|flag:above_level" (services.wall.cells).
    facet: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    open_count: Mapped[int] = mapped_column(Integer)
    closed_count: Mapped[int] = mapped_column(Integer)
    # Sums of the WGS-84 coordinates: the cluster's centroid is the sum over the count.
    lon_sum: Mapped[float] = mapped_column(Float)
    lat_sum: Mapped[float] = mapped_column(Float)
    # Among open cases: the earliest due time (red from then on) and the earliest moment one
    # turns yellow, in seconds since 1970 (services.wall_cells.yellow_epoch).
    earliest_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    earliest_yellow: Mapped[float | None] = mapped_column(Float)
    above_level: Mapped[int] = mapped_column(Integer)
    inspection: Mapped[int] = mapped_column(Integer)
    leader: Mapped[int] = mapped_column(Integer)
    # The lowest case id, which is the case itself when the cell holds one.
    min_case_id: Mapped[int] = mapped_column(Integer)


class WallDirtyCell(db.Model):
    """A base cell (level ``BASE_LEVEL``) whose cases a committed transaction changed, not yet refreshed.

    A transaction that writes cases only inserts these rows (no lock, no row another writer
    touches); the worker refreshes the named cells after the commit and deletes the rows it
    refreshed. A cell may be named several times; the refresh does it once. Ids only grow
    (``sqlite_autoincrement``: SQLite would otherwise reuse the ids of deleted rows), so the
    highest id still pending tells a reader whether the summary has caught up.
    """

    __tablename__ = "wall_dirty_cells"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_x: Mapped[int] = mapped_column(Integer)
    cell_y: Mapped[int] = mapped_column(Integer)


class WallOpenTouched(db.Model):
    """A base cell whose open-state snapshot rows a write's refresh counted again, since the
    worker's last count of the minute began (``services.wall.open_states``).

    The minute's count reads without a lock and stores afterwards: a refresh that stored
    fresher rows in between would be overwritten, so the count recounts the cells named
    here after storing, under the lock, and deletes the rows.
    """

    __tablename__ = "wall_open_touched"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_x: Mapped[int] = mapped_column(Integer)
    cell_y: Mapped[int] = mapped_column(Integer)


class WallOpenState(db.Model):
    """The open cases of one map cell that were in one deadline state (red, yellow, green) at one moment.

    The summary above keeps a cell's open cases as one count: their states change with the
    clock, not with a write. The worker counts them again every minute, and for the cells a
    write changed when it refreshes the summary (``services.wall.open_states``), up to
    ``SNAPSHOT_LEVEL``, with what a cluster needs (count, coordinate sums, flags, lowest id):
    so a city view splits every cluster's ring by state, and a view of one state's cases
    ("已超期") is read like an unfiltered one, each stating the moment. Up to
    ``FACET_LEVEL`` each cell also has rows per value of one filter (``facet``, as in the
    summary: "category:noise"), so a view with one filter splits its rings, and "已超期 +
    噪声" is read the same way.
    """

    __tablename__ = "wall_open_states"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    cell_x: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cell_y: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(8), primary_key=True)
    # "" for all the cell's open cases in that state, else the filter value they carry.
    facet: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    case_count: Mapped[int] = mapped_column(Integer)
    lon_sum: Mapped[float] = mapped_column(Float)
    lat_sum: Mapped[float] = mapped_column(Float)
    above_level: Mapped[int] = mapped_column(Integer)
    inspection: Mapped[int] = mapped_column(Integer)
    leader: Mapped[int] = mapped_column(Integer)
    min_case_id: Mapped[int] = mapped_column(Integer)


class WallOpenSnapshot(db.Model):
    """When the open-state snapshot last counted every cell (one row; none before the first count).

    A write's refresh counts its cells again later, so the snapshot is at least this recent."""

    __tablename__ = "wall_open_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
