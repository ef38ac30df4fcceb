"""The demo city's own base map: the roads, rivers and places a natural-resources bureau would
hand over, generated plausibly so the wall shows a map without any tile server.

* roads: a national road (国道) across the city through the centre, provincial roads (省道)
  joining the town seats along a minimum spanning tree, and county roads (县道) from every
  village to its town seat; each bends a little, as real roads do;
* water: a river meandering across the city from west to east, a tributary joining it, a lake;
* places: the railway station, the people's park and the industrial parks by name.
"""

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, Point, Polygon

from app.demo.geography import Geography
from app.demo.tables import CENTRE, CITY_NAME, HALF_SIZE
from app.extensions import db
from app.models import BaseMapFeature
from app.models.types import SRID
from app.models.vocab import BaseLayer
from app.services.geo.basemap import min_zoom_for

Feature = tuple[str, str, str, shapely.Geometry]  # layer, kind, name, WGS-84 geometry

RIVER_NAME = "清水河"
TRIBUTARY_NAME = "小溪河"
LAKE_NAME = "东湖"
PARK_NAMES = ("人民公园", f"{CITY_NAME[:-1]}站")


def build_basemap(rng: np.random.Generator, geography: Geography) -> list[Feature]:
    """Every feature of the demo base map, from one random stream."""
    outline = geography.city.geom
    seats = [town.geom.point_on_surface() for town in geography.towns]
    return [*_roads(rng, outline, seats, geography), *_water(rng, outline), *_places(rng, geography)]


def insert_basemap(features: list[Feature], source_name: str = "示例城市底图") -> int:
    """Store the features as the three base-map layers (flushed, not committed)."""
    db.session.add_all(BaseMapFeature(layer=layer, kind=kind, name=name, min_zoom=min_zoom_for(layer, kind, geom),
                                      geom=from_shape(geom, srid=SRID), source_name=source_name)
                       for layer, kind, name, geom in features)
    db.session.flush()
    return len(features)


def _bent(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, bends: int, wobble: float) -> LineString:
    """A line from a to b through ``bends`` points pushed sideways by up to ``wobble`` of its length."""
    t = np.linspace(0, 1, bends + 2)
    points = a + np.outer(t, b - a)
    normal = np.array([-(b - a)[1], (b - a)[0]])
    offsets = rng.normal(0, wobble, bends + 2)
    offsets[[0, -1]] = 0
    return LineString(points + np.outer(offsets, normal))


def _roads(rng, outline: Polygon, seats: list[Point], geography: Geography) -> list[Feature]:
    frame = outline.buffer(0.01)
    west, east = CENTRE - [HALF_SIZE[0] * 1.1, 0.04], CENTRE + [HALF_SIZE[0] * 1.1, 0.03]
    trunk = _bent(rng, west, east, 8, 0.02).intersection(frame)
    features: list[Feature] = [(BaseLayer.ROAD, "国道", "G328 国道", trunk)]
    south, north = CENTRE - [0.02, HALF_SIZE[1] * 1.1], CENTRE + [0.03, HALF_SIZE[1] * 1.1]
    features.append((BaseLayer.ROAD, "省道", "S221 省道", _bent(rng, south, north, 6, 0.02).intersection(frame)))
    xy = np.array([[p.x, p.y] for p in seats])
    for number, (i, j) in enumerate(_spanning_tree(xy), start=301):
        features.append((BaseLayer.ROAD, "县道", f"X{number} 县道", _bent(rng, xy[i], xy[j], 3, 0.05)))
    seat_of = {town.code: seat for town, seat in zip(geography.towns, seats, strict=True)}
    for village in geography.villages:
        centre = village.geom.point_on_surface()
        seat = seat_of[village.parent_code]
        if centre.distance(seat) > 1e-6:
            features.append((BaseLayer.ROAD, "乡道", f"{village.name}路",
                             _bent(rng, np.array([centre.x, centre.y]), np.array([seat.x, seat.y]), 2, 0.08)))
    return [f for f in features if not f[3].is_empty]


def _spanning_tree(xy: np.ndarray) -> list[tuple[int, int]]:
    """Prim's minimum spanning tree over a few points: the shortest network joining them all."""
    joined, edges = {0}, []
    while len(joined) < len(xy):
        i, j = min(((i, j) for i in joined for j in range(len(xy)) if j not in joined),
                   key=lambda e: float(np.hypot(*(xy[e[0]] - xy[e[1]]))))
        joined.add(j)
        edges.append((i, j))
    return edges


def _water(rng, outline: Polygon) -> list[Feature]:
    frame = outline.buffer(0.02)
    x = np.linspace(CENTRE[0] - HALF_SIZE[0] * 1.2, CENTRE[0] + HALF_SIZE[0] * 1.2, 80)
    phase = rng.uniform(0, 2 * np.pi)
    y = CENTRE[1] + 0.06 + 0.035 * np.sin((x - x[0]) * 18 + phase) + rng.normal(0, 0.002, x.size).cumsum() * 0.3
    river = LineString(np.column_stack([x, y])).intersection(frame)
    join = np.array([x[50], y[50]])
    source = join + [0.05, -HALF_SIZE[1] * 1.1]
    tributary = _bent(rng, source, join, 10, 0.04).intersection(frame)
    lake_centre = CENTRE + [HALF_SIZE[0] * 0.45, -HALF_SIZE[1] * 0.35]
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    radius = 1 + 0.15 * np.sin(3 * angles + rng.uniform(0, 6))
    lake = Polygon(lake_centre + np.column_stack([np.cos(angles) * 0.02, np.sin(angles) * 0.012]) * radius[:, None])
    return [(BaseLayer.WATER, "河流", RIVER_NAME, river), (BaseLayer.WATER, "河流", TRIBUTARY_NAME, tributary),
            (BaseLayer.WATER, "湖泊", LAKE_NAME, lake)]


def _places(rng, geography: Geography) -> list[Feature]:
    centre = Point(*(CENTRE + rng.normal(0, 0.004, 2)))
    station = Point(*(CENTRE + [0.015, -0.03]))
    places = [(BaseLayer.PLACE, "公园", PARK_NAMES[0], centre), (BaseLayer.PLACE, "车站", PARK_NAMES[1], station)]
    for number, (lon, lat) in enumerate(geography.hotspots, start=1):
        places.append((BaseLayer.PLACE, "园区", f"第{number}工业集中区", Point(lon, lat)))
    return places
