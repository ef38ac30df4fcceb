"""Grid boundaries as GeoJSON."""

from flask import jsonify
from flask_login import login_required
from marshmallow import Schema, fields, validate

from app.api.arguments import ApiBlueprint
from app.api.docs import GEOJSON
from app.schemas.common import FeatureCollectionSchema
from app.services.geo.grid_geojson import grids_feature_collection

blp = ApiBlueprint("grids", __name__, description="网格 Grids")


class GridQuerySchema(Schema):
    """Which grids to return."""

    level = fields.Integer(load_default=None, validate=validate.OneOf([1, 2, 3]))
    parent_id = fields.Integer(load_default=None)


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(GridQuerySchema, location="query", as_kwargs=True)
@blp.response(200, FeatureCollectionSchema, content_type=GEOJSON)
def get_grids(level: int | None, parent_id: int | None):
    """Grid boundaries as an RFC 7946 FeatureCollection, optionally one level or one parent."""
    response = jsonify(grids_feature_collection(level=level, parent_id=parent_id))
    response.mimetype = GEOJSON
    return response
