"""The city's own base map (底图) as GeoJSON for a map view: roads, water and place names."""

from flask import Response, current_app, request
from flask_login import login_required
from marshmallow import fields, validate

from app.api.arguments import ApiBlueprint
from app.api.docs import GEOJSON
from app.schemas.common import BoxSchema, FeatureCollectionSchema
from app.services.geo import basemap

blp = ApiBlueprint("basemap", __name__, description="底图 Base map")


class BasemapQuerySchema(BoxSchema):
    """A map view: the WGS-84 box and the Leaflet zoom."""

    zoom = fields.Integer(required=True, validate=validate.Range(0, 22))


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(BasemapQuerySchema, location="query", as_kwargs=True)
@blp.response(200, FeatureCollectionSchema, content_type=GEOJSON)
@blp.alt_response(304, description="底图未变（客户端持有的 ETag 仍然有效）")
def get_basemap(west: float, south: float, east: float, north: float, zoom: int):
    """Roads, water and place names drawn at this zoom within the box (RFC 7946), simplified
    to the zoom's pixel; unchanged data answers 304 to the browser's ETag."""
    etag = f"basemap-{basemap.revision()}-{zoom}-{west:.3f},{south:.3f},{east:.3f},{north:.3f}"
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        body = {"type": "FeatureCollection", "features": basemap.features_in_view(west, south, east, north, zoom)}
        response = current_app.json.response(body)
        response.mimetype = "application/geo+json"
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
