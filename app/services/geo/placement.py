"""Where a new case belongs (落位): the deepest grid that covers its point, as the city has them.

Cities often have town boundaries only, and real town polygons leave sliver gaps along their
borders. So a point is placed, in this order:

1. in the village (level 3) that covers it, and that village's town;
2. in the town (level 2) that covers it, moved to one of that town's villages when one lies
   within the tolerance (a gap between villages);
3. in the nearest village, else the nearest town, within the tolerance (a gap between towns),
   flagged with the distance (``gap_m``);
4. in the city (level 1) but no town: kept, flagged ``outside_grid`` as before;
5. otherwise outside the city: intake refuses it unless the user confirms 「市外」.

Distances are metres on a local flat projection around the point, exact to well under a
metre at these distances. The index is built in the process from the database (like
services.geo.grid_locator), so SpatiaLite and PostGIS give the same answer.
"""

import math
import threading
from dataclasses import dataclass

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from app.extensions import db
from app.models import Grid
from app.services.geo.spatial import EARTH_RADIUS_M, bbox_around


@dataclass(frozen=True)
class Placement:
    """Where a point goes: its village (None when placed at town level), its town, how far
    outside the grid it was (None when inside one), and whether it lies in the city at all."""

    grid_id: int | None
    town_id: int | None
    gap_m: float | None
    in_city: bool

    @property
    def outside_grid(self) -> bool:
        """No town could be given: the case is flagged outside the grid."""
        return self.town_id is None


@dataclass(frozen=True)
class _Level:
    """The grids of one level: ids, parent ids, codes and a tree over their shapes."""

    ids: list[int]
    parents: list[int | None]
    codes: list[str]
    geoms: list[shapely.Geometry]
    tree: shapely.STRtree

    @classmethod
    def of(cls, rows: list) -> "_Level":
        """An index over rows of (id, parent id, code, shape), ordered by code for ties."""
        rows = sorted(rows, key=lambda r: r[2])
        geoms = [r[3] for r in rows]
        shapely.prepare(geoms)
        return cls([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], geoms, shapely.STRtree(geoms))

    def covering(self, point: shapely.Point) -> int | None:
        """Position of the grid covering the point (smallest code on a shared edge), or None."""
        hits = self.tree.query(point, predicate="covered_by")
        return int(min(hits)) if len(hits) else None

    def nearest(self, lon: float, lat: float, within_m: float, among: set[int] | None = None
                ) -> tuple[int, float] | None:
        """Position and distance (m) of the nearest grid within ``within_m``, optionally among some ids."""
        if within_m <= 0 or not self.ids:
            return None
        box = shapely.box(*bbox_around(lon, lat, within_m))
        best: tuple[float, str, int] | None = None
        for position in self.tree.query(box):
            if among is not None and self.ids[position] not in among:
                continue
            away = _metres_to(self.geoms[position], lon, lat)
            if away <= within_m and (best is None or (away, self.codes[position]) < best[:2]):
                best = (away, self.codes[position], int(position))
        return (best[2], best[0]) if best else None


def _metres_to(geom: shapely.Geometry, lon: float, lat: float) -> float:
    """Distance in metres from (lon, lat) to a WGS-84 shape, on a flat projection centred there."""
    scale = math.radians(1) * EARTH_RADIUS_M
    shrink = math.cos(math.radians(lat))

    def project(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(((coords[:, 0] - lon) * shrink * scale, (coords[:, 1] - lat) * scale))

    return float(shapely.distance(shapely.transform(geom, project), shapely.Point(0, 0)))


class PlacementIndex:
    """The city's grids at one moment, by level, for placing points."""

    def __init__(self, rows: list[tuple[int, int, int | None, str, shapely.Geometry]]):
        by_level = {level: [r[1:] for r in rows if r[0] == level] for level in (1, 2, 3)}
        self.city, self.towns, self.villages = (_Level.of(by_level[level]) for level in (1, 2, 3))
        self.villages_of: dict[int, set[int]] = {}
        for village_id, town_id in zip(self.villages.ids, self.villages.parents, strict=True):
            self.villages_of.setdefault(town_id, set()).add(village_id)
        self.empty = not rows

    def place(self, lon: float, lat: float, tolerance_m: float) -> Placement:
        """Where a WGS-84 point goes (see the module docstring for the order)."""
        point = shapely.Point(lon, lat)
        village = self.villages.covering(point)
        if village is not None:
            return Placement(self.villages.ids[village], self.villages.parents[village], None, True)
        town = self.towns.covering(point)
        if town is not None:
            town_id = self.towns.ids[town]
            near = self.villages.nearest(lon, lat, tolerance_m, self.villages_of.get(town_id, set()))
            if near is not None:
                return Placement(self.villages.ids[near[0]], town_id, near[1], True)
            return Placement(None, town_id, None, True)
        return self._snap(lon, lat, tolerance_m, point)

    def _snap(self, lon: float, lat: float, tolerance_m: float, point: shapely.Point) -> Placement:
        """A point in no town: the nearest village, else town, within the tolerance; else city or outside."""
        near = self.villages.nearest(lon, lat, tolerance_m)
        if near is not None:
            return Placement(self.villages.ids[near[0]], self.villages.parents[near[0]], near[1], True)
        near = self.towns.nearest(lon, lat, tolerance_m)
        if near is not None:
            return Placement(None, self.towns.ids[near[0]], near[1], True)
        in_city = self.empty or self.city.covering(point) is not None
        return Placement(None, None, None, in_city)


_lock = threading.Lock()
_cache: dict[tuple, PlacementIndex] = {}


def _revision() -> tuple:
    """What identifies the current set of grids: database, count, last change."""
    count, changed = db.session.execute(select(func.count(Grid.id), func.max(Grid.updated_at))).one()
    return (str(db.engine.url), count, str(changed))


def get_index() -> PlacementIndex:
    """The process's placement index, rebuilt when the grids in the database have changed."""
    key = _revision()
    with _lock:
        index = _cache.get(key)
        if index is None:
            rows = db.session.execute(select(Grid.level, Grid.id, Grid.parent_id, Grid.code, Grid.geom)).all()
            index = PlacementIndex([(r[0], r[1], r[2], r[3], to_shape(r[4])) for r in rows])
            _cache.clear()
            _cache[key] = index
        return index


def place_point(lon: float, lat: float, tolerance_m: float) -> Placement:
    """Where a new case at a WGS-84 point belongs, with gaps up to ``tolerance_m`` closed."""
    return get_index().place(lon, lat, tolerance_m)
