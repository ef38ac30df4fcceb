"""Point → level-3 grid assignment with a Shapely STRtree cached in the process.

A point on an edge shared by two grids belongs to the grid with the smallest code, so the
answer never depends on insertion order. A point in no grid gets ``None`` (the caller
flags it ``outside_grid``; the point itself is kept).
"""

import threading
from dataclasses import dataclass

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from app.extensions import db
from app.models import Grid


@dataclass(frozen=True)
class GridHit:
    """The level-3 grid a point falls in, and its town (level-2 parent)."""

    grid_id: int
    town_id: int | None


class GridLocator:
    """An immutable index of the level-3 grids at one moment."""

    def __init__(self, rows: list[tuple[int, str, int | None, shapely.Geometry]]):
        rows = sorted(rows, key=lambda r: r[1])  # by code: tree index order is the tie-break
        self.grid_ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.town_ids = [r[2] for r in rows]
        geoms = [r[3] for r in rows]
        shapely.prepare(geoms)
        self.tree = shapely.STRtree(geoms)

    def locate(self, lon: float, lat: float) -> GridHit | None:
        """The grid containing one point, or None."""
        index = self.locate_many(np.array([lon]), np.array([lat]))[0]
        if index < 0:
            return None
        return GridHit(int(self.grid_ids[index]), self.town_ids[index])

    def locate_many(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Tree positions (-1 for none) of the grid containing each point, vectorised."""
        points = shapely.points(lons, lats)
        point_idx, tree_idx = self.tree.query(points, predicate="covered_by")
        result = np.full(len(points), -1, dtype=np.int64)
        if len(point_idx):
            order = np.lexsort((tree_idx, point_idx))
            point_idx, tree_idx = point_idx[order], tree_idx[order]
            first = np.unique(point_idx, return_index=True)[1]
            result[point_idx[first]] = tree_idx[first]
        return result

    def grid_id_at(self, positions: np.ndarray) -> list[int | None]:
        """Grid ids for tree positions from locate_many."""
        return [int(self.grid_ids[p]) if p >= 0 else None for p in positions]

    def town_id_at(self, positions: np.ndarray) -> list[int | None]:
        """Town ids for tree positions from locate_many."""
        return [self.town_ids[p] if p >= 0 else None for p in positions]


_lock = threading.Lock()
_cache: dict[tuple, GridLocator] = {}


def _revision() -> tuple:
    """What identifies the current set of level-3 grids: database, count, last change."""
    count, changed = db.session.execute(
        select(func.count(Grid.id), func.max(Grid.updated_at)).where(Grid.level == 3)
    ).one()
    return (str(db.engine.url), count, str(changed))


def get_locator() -> GridLocator:
    """The process's locator, rebuilt when the grids in the database have changed."""
    key = _revision()
    with _lock:
        locator = _cache.get(key)
        if locator is None:
            rows = db.session.execute(
                select(Grid.id, Grid.code, Grid.parent_id, Grid.geom).where(Grid.level == 3)
            ).all()
            locator = GridLocator([(r[0], r[1], r[2], to_shape(r[3])) for r in rows])
            _cache.clear()
            _cache[key] = locator
        return locator


def locate_point(lon: float, lat: float) -> GridHit | None:
    """The level-3 grid and town of one WGS-84 point."""
    return get_locator().locate(lon, lat)
