"""Spatial query pieces that differ by backend, written once for both.

SpatiaLite only uses its R-tree when a query asks the ``SpatialIndex`` virtual table;
PostGIS uses its GiST index for ``&&`` by itself.
"""

import math

from sqlalchemy import and_, column, func, select, table
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models.types import SRID

EARTH_RADIUS_M = 6_371_008.8
# SpatiaLite's virtual table over every R-tree (VirtualSpatialIndex).
_SPATIAL_INDEX = table("SpatialIndex", column("rowid"), column("f_table_name"), column("f_geometry_column"),
                       column("search_frame"))


def in_bbox(table_name: str, column, id_column, west, south, east, north) -> ColumnElement[bool]:
    """A WHERE clause: the geometry in ``column`` intersects the box, using the spatial index.

    The edges are numbers or SQL expressions (bound parameters of a statement built once)."""
    if db.engine.dialect.name == "sqlite":
        index = _SPATIAL_INDEX.c
        frame = and_(index.f_table_name == table_name, index.f_geometry_column == column.key,
                     index.search_frame == func.BuildMbr(west, south, east, north, SRID))
        return id_column.in_(select(index.rowid).where(frame))
    return func.ST_Intersects(column, func.ST_MakeEnvelope(west, south, east, north, SRID))


def bbox_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box that contains every point within ``radius_m`` of (lon, lat)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine): within 0.5 % of the ellipsoid at city scale."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
