"""Schemas of the routing table and the settings API."""

from marshmallow import Schema, fields

from app.models.vocab import Sector


class RouteSchema(Schema):
    """One row of the routing table."""

    sector = fields.String(dump_only=True)
    sector_label = fields.Function(lambda r: Sector(r.sector).label, dump_only=True)
    department_id = fields.Integer(required=True)
    department_name = fields.Function(lambda r: r.department.name, dump_only=True)


class SettingValueSchema(Schema):
    """A new value for one setting."""

    value = fields.Raw(required=True)
