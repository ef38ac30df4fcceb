"""The demo city's map: a boundary, 14 towns and about 300 villages that nest exactly, and
the industrial parks (hotspots) where complaints cluster.

Towns are Voronoi cells of evenly spread seeds clipped to the city, villages the same inside
their town, so the grids cover the city with no gap or overlap, as an imported grid file
must. Names follow how a county names its parts: street offices (街道) round the centre,
towns (镇) clockwise from north, communities (社区) at a seat and villages (村) elsewhere.
"""

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

from app.demo.tables import (
    CENTRE,
    CITY_CODE,
    CITY_NAME,
    COMMUNITY_ROOTS,
    HALF_SIZE,
    HOTSPOT_COUNT,
    STREET_NAMES,
    TOWN_COUNT,
    TOWN_NAMES,
    VILLAGE_ROOTS,
    VILLAGES_PER_TOWN,
)


@dataclass
class GridSpec:
    """One grid to import: what a GeoJSON feature of the city's own file would carry."""

    code: str
    name: str
    level: int
    parent_code: str | None
    geom: Polygon | MultiPolygon


@dataclass
class Geography:
    """The demo city's grids and its industrial parks (where complaints cluster)."""

    city: GridSpec
    towns: list[GridSpec]
    villages: list[GridSpec]
    hotspots: np.ndarray  # (HOTSPOT_COUNT, 2) lon, lat

    @property
    def grids(self) -> list[GridSpec]:
        """Every grid, parents before children, as the importer wants them."""
        return [self.city, *self.towns, *self.villages]


def build_geography(rng: np.random.Generator) -> Geography:
    """The city, its towns and villages (nested exactly) and its hotspots, from one stream."""
    outline = city_outline(rng)
    city = GridSpec(CITY_CODE, CITY_NAME, 1, None, outline)
    towns = _towns(rng, outline)
    villages = [village for town in towns for village in _villages(rng, town)]
    hotspots = points_inside(rng, outline.buffer(-0.03), HOTSPOT_COUNT)
    return Geography(city, towns, villages, hotspots)


def city_outline(rng: np.random.Generator) -> Polygon:
    """An irregular boundary of about 50 km x 40 km: an ellipse whose radius wobbles with a
    few random harmonics, so it looks surveyed rather than drawn with a compass.

    The radius never falls below ~0.8, so the outline is star-shaped around the centre
    (every ray from the centre crosses it once), which ``points_beyond`` relies on.
    """
    angles = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    radius = 1 + rng.normal(0, 0.01, angles.size)
    for harmonic in (2, 3, 5, 7):
        amplitude = rng.uniform(0.02, 0.06) * 2 / harmonic
        radius += amplitude * np.sin(harmonic * angles + rng.uniform(0, 2 * np.pi))
    xy = CENTRE + np.column_stack([np.cos(angles), np.sin(angles)]) * radius[:, None] * HALF_SIZE
    return Polygon(xy)


def points_inside(rng: np.random.Generator, region, count: int) -> np.ndarray:
    """``count`` uniform random points inside a region, by rejection from its bounding box."""
    minx, miny, maxx, maxy = region.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(2 * count + 16, 2))
        found = np.vstack([found, xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]])
    return found[:count]


def _polygonal(geom) -> MultiPolygon:
    """Only the polygon parts of a clipping result (clipping can leave stray lines or points)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    nested = [p for g in shapely.get_parts(geom) if isinstance(g, MultiPolygon) for p in g.geoms]
    return MultiPolygon(parts + nested)


def _cells(seeds: np.ndarray, region) -> list[MultiPolygon]:
    """Voronoi cells of the seeds clipped to the region, in seed order.

    Together they cover the region with no gap or overlap, and each lies inside it, which
    is exactly how a town's villages must nest.
    """
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    return [_polygonal(cell.intersection(region)) for cell in shapely.get_parts(diagram)]


def _relaxed_seeds(rng: np.random.Generator, region, count: int, rounds: int = 2) -> np.ndarray:
    """Seeds spread evenly over the region (Lloyd relaxation), so cells have similar sizes as
    real administrative areas do, instead of the slivers that raw random seeds give."""
    seeds = points_inside(rng, region, count)
    for _ in range(rounds):
        centres = []
        for cell in _cells(seeds, region):
            centre = cell.centroid
            centres.append(centre if cell.contains(centre) else cell.point_on_surface())
        seeds = shapely.get_coordinates(centres)
    return seeds


def _towns(rng: np.random.Generator, outline: Polygon) -> list[GridSpec]:
    """The 14 level-2 grids: four street offices round the centre, then towns clockwise."""
    seeds = _relaxed_seeds(rng, outline, TOWN_COUNT)
    cells = _cells(seeds, outline)
    return [
        GridSpec(f"{CITY_CODE}{number:02d}", name, 2, CITY_CODE, cells[index])
        for number, (index, name) in enumerate(_town_names(seeds), start=1)
    ]


def _town_names(seeds: np.ndarray) -> list[tuple[int, str]]:
    """Pair seeds with names: the four nearest the centre are the street offices named by
    their side (城东/城西/城北/城南), the rest are towns named clockwise from north."""
    dx, dy = ((seeds - CENTRE) / HALF_SIZE).T
    near = list(np.argsort(np.hypot(dx, dy))[:4])
    sides = (-dx, dx, -dy, dy)  # most east, most west, most north, most south
    pairs = []
    for name, side in zip(STREET_NAMES, sides, strict=True):
        index = min(near, key=lambda k, side=side: side[k])
        near.remove(index)
        pairs.append((int(index), name))
    taken = {index for index, _ in pairs}
    rest = sorted(set(range(len(seeds))) - taken, key=lambda k: np.arctan2(dx[k], dy[k]) % (2 * np.pi))
    return pairs + list(zip(rest, TOWN_NAMES, strict=True))


def _villages(rng: np.random.Generator, town: GridSpec) -> list[GridSpec]:
    """About 21 level-3 grids per town, numbered north to south, clipped to the town."""
    count = VILLAGES_PER_TOWN + int(rng.integers(-2, 3))
    seeds = _relaxed_seeds(rng, town.geom, count)
    seeds = seeds[np.lexsort((seeds[:, 0], -seeds[:, 1]))]
    names = _village_names(rng, seeds, town)
    return [
        GridSpec(f"{town.code}-{number:03d}", names[number - 1], 3, town.code, cell)
        for number, cell in enumerate(_cells(seeds, town.geom), start=1)
    ]


def _village_names(rng: np.random.Generator, seeds: np.ndarray, town: GridSpec) -> list[str]:
    """Unique names within the town: a street office has only communities (社区); a town has
    two communities at its seat (nearest its centre) and villages (村) elsewhere."""
    count = len(seeds)
    centre = shapely.get_coordinates(town.geom.centroid)[0]
    is_street = town.name.endswith("街道")
    seat = set(np.argsort(np.hypot(*(seeds - centre).T))[: count if is_street else 2].tolist())
    communities = iter(rng.permutation(len(COMMUNITY_ROOTS))[: len(seat)].tolist())
    villages = iter(rng.permutation(len(VILLAGE_ROOTS))[: count - len(seat)].tolist())
    return [
        f"{COMMUNITY_ROOTS[next(communities)]}社区" if k in seat else f"{VILLAGE_ROOTS[next(villages)]}村"
        for k in range(count)
    ]


def grid_features(grids: list[GridSpec]) -> list[dict]:
    """The grids as GeoJSON features, so they go through the same import as a city's file."""
    return [
        {
            "type": "Feature",
            "properties": {"code": g.code, "name": g.name, "level": g.level, "parent_code": g.parent_code},
            "geometry": mapping(g.geom),
        }
        for g in grids
    ]


def points_beyond(rng: np.random.Generator, outline: Polygon, count: int) -> np.ndarray:
    """Points 0.4-2 km outside the city, pushed out from random spots on its boundary along
    the ray from the centre (the outline is star-shaped, so that ray leaves the city)."""
    anchors = shapely.line_interpolate_point(outline.exterior, rng.random(count), normalized=True)
    xy = shapely.get_coordinates(anchors)
    outward = (xy - CENTRE) / np.hypot(*(xy - CENTRE).T)[:, None]
    return xy + outward * rng.uniform(0.004, 0.02, (count, 1))
