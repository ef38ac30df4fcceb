"""Grids as GeoJSON (RFC 7946: WGS-84 lon/lat, counter-clockwise outer rings)."""

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import Grid


def grids_feature_collection(level: int | None = None, parent_id: int | None = None) -> dict:
    """Every grid matching the filters as one FeatureCollection."""
    query = select(Grid).options(undefer(Grid.geom)).order_by(Grid.level, Grid.code)
    if level is not None:
        query = query.where(Grid.level == level)
    if parent_id is not None:
        query = query.where(Grid.parent_id == parent_id)
    features = [grid_feature(grid) for grid in db.session.scalars(query)]
    return {"type": "FeatureCollection", "features": features}


def grid_feature(grid: Grid) -> dict:
    """One grid as a Feature with code, name, level and parent in its properties."""
    geom = shapely.orient_polygons(to_shape(grid.geom), exterior_cw=False)
    return {
        "type": "Feature",
        "id": grid.id,
        "geometry": shapely.geometry.mapping(geom),
        "properties": {
            "id": grid.id,
            "code": grid.code,
            "name": grid.name,
            "level": grid.level,
            "parent_id": grid.parent_id,
        },
    }
