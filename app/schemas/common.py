"""Shapes shared by several resources."""

from collections.abc import Callable
from typing import Any

from geoalchemy2.shape import to_shape
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.bounds import DAY_OUT_OF_RANGE, MOMENT_OUT_OF_RANGE, day_in_range, moment_in_range

# A number someone can call back: digits with the usual separators, at least five of them
# (12369 is the shortest, the environment hotline). A petitioner's may be left blank.
PHONE_NUMBER = r"(?=(?:\D*\d){5})[0-9+\-() ]{5,32}"


class _WithinAppYears:
    """A field whose parsed value must fall in the years the app handles (``app.bounds``);
    ``in_range`` says whether it does, ``default_error_messages["out_of_range"]`` what to say."""

    in_range: Callable[[Any], bool]

    def _deserialize(self, value, attr, data, **kwargs):
        """The parsed value, or a 422 naming the field when it is out of range."""
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not self.in_range(parsed):
            raise self.make_error("out_of_range")
        return parsed


class Moment(_WithinAppYears, fields.AwareDateTime):
    """A time with its zone, within the years the app handles (``EARLIEST_YEAR``–``LATEST_YEAR``).

    Every time a request carries goes through this field (``fields.AwareDateTime`` and
    ``fields.DateTime`` are not used in schemas): a year 1 or 9999 would otherwise overflow
    when shifted to UTC or a year back, deep in a service or in the database driver (500).
    """

    default_error_messages = {"out_of_range": MOMENT_OUT_OF_RANGE}
    in_range = staticmethod(moment_in_range)


class Day(_WithinAppYears, fields.Date):
    """A calendar date within the years the app handles; every date a request carries goes
    through this field (``fields.Date`` is not used in schemas), for the same reason as ``Moment``."""

    default_error_messages = {"out_of_range": DAY_OUT_OF_RANGE}
    in_range = staticmethod(day_in_range)


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


class ErrorSchema(Schema):
    """The one error body every API refusal has (``app.errors.error_response``).

    Documented so that clients (and the conformance test) can rely on it: ``message`` is the
    Chinese sentence to show, ``description`` the status's general meaning, and ``errors``
    names what went wrong per field (e.g. ``{"title": ["..."]}``, ``{"csrf": ["invalid"]}``,
    ``{"retry": ["transient"]}``).
    """

    code = fields.Integer(required=True, metadata={"description": "HTTP 状态码"})
    message = fields.String(required=True, metadata={"description": "可直接显示给用户的中文说明"})
    description = fields.String(required=True, metadata={"description": "该状态码的一般含义（中文）"})
    errors = fields.Dict(required=True, metadata={"description": "按字段列出的原因，如 {\"title\": [\"不能为空\"]}"})


class FeatureSchema(Schema):
    """An RFC 7946 Feature: a geometry (or none) and the record's properties."""

    type = fields.String(metadata={"description": "Feature"})
    id = fields.Integer()
    geometry = fields.Dict(allow_none=True)
    properties = fields.Dict()


class FeatureCollectionSchema(Schema):
    """An RFC 7946 FeatureCollection (``truncated`` when a limit cut it short; ``period``, a
    foreign member, when the collection covers a period)."""

    type = fields.String(metadata={"description": "FeatureCollection"})
    features = fields.List(fields.Nested(FeatureSchema))
    truncated = fields.Boolean()
    period = fields.Dict(metadata={"description": "统计期间（first_day、last_day、name、label 等）"})


class BoxSchema(Schema):
    """A WGS-84 box: west < east, south < north."""

    west = fields.Float(required=True, validate=validate.Range(-180, 180))
    south = fields.Float(required=True, validate=validate.Range(-90, 90))
    east = fields.Float(required=True, validate=validate.Range(-180, 180))
    north = fields.Float(required=True, validate=validate.Range(-90, 90))

    @validates_schema
    def _box_not_empty(self, data, **kwargs):
        """West must be west of east and south south of north."""
        if data["west"] >= data["east"] or data["south"] >= data["north"]:
            raise ValidationError("范围无效：应 west < east 且 south < north。")
