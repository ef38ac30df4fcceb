"""Shapes shared by several resources."""

from geoalchemy2.shape import to_shape
from marshmallow import Schema, fields, validate


class PageQuerySchema(Schema):
    """Paging parameters for list endpoints."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageMetaSchema(Schema):
    """Where a page stands in the whole result."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class GridRefSchema(Schema):
    """A grid named in another record."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    level = fields.Integer()


class DepartmentRefSchema(Schema):
    """A department named in another record."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class LonLatField(fields.Field):
    """A WGS-84 point dumped as ``{"lon": .., "lat": ..}``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        point = to_shape(value)
        return {"lon": round(point.x, 7), "lat": round(point.y, 7)}
