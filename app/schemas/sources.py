"""The source register (监管对象台账) as the API shows and takes it."""

from marshmallow import Schema, fields, validate

from app.models.vocab import CheckinOutcome, CoordSystem, Sector, SourceKind
from app.schemas.common import GridRefSchema, LonLatField, Moment, PageMetaSchema, PageQuerySchema

PHONE = validate.Regexp(r"^[0-9+\-() ]{0,32}$", error="联系电话格式不正确")
CODE = validate.Regexp(r"^[A-Za-z0-9_\-]{0,32}$", error="编号只能由字母、数字、- 和 _ 组成，不超过32位")
PERMIT = validate.Regexp(r"^[A-Za-z0-9\-]{0,64}$", error="排污许可证编号只能由字母、数字和 - 组成")


class SourceQuerySchema(PageQuerySchema):
    """Filters for the register; every filter narrows the user's own scope."""

    town_id = fields.Integer(load_default=None)
    grid_id = fields.Integer(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(list(SourceKind)))
    sector = fields.String(load_default=None, validate=validate.OneOf(list(Sector)))
    key_only = fields.Boolean(load_default=None)
    active = fields.Boolean(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    stale_days = fields.Integer(load_default=None, validate=validate.Range(min=0, max=3650))
    never_patrolled = fields.Boolean(load_default=None)
    case_id = fields.Integer(load_default=None)
    format = fields.String(load_default=None, validate=validate.OneOf(["geojson"]))


class SourceSchema(Schema):
    """One watched source."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.Function(lambda s: SourceKind(s.kind).label)
    sector = fields.String()
    sector_label = fields.Function(lambda s: Sector(s.sector).label)
    address = fields.String()
    location = LonLatField()
    # What was typed, in its system (None for sources registered before it was kept).
    coord_system = fields.String(allow_none=True)
    input_location = fields.Function(
        lambda s: {"lon": s.input_lon, "lat": s.input_lat} if s.input_lon is not None else None)
    grid = fields.Nested(GridRefSchema, allow_none=True)
    town = fields.Nested(GridRefSchema, allow_none=True)
    is_key = fields.Boolean()
    permit_number = fields.String(allow_none=True)
    responsible_name = fields.String()
    responsible_phone = fields.String()
    notes = fields.String()
    active = fields.Boolean()
    last_patrol_at = Moment(allow_none=True)
    created_at = Moment()
    updated_at = Moment()
    case_ids = fields.Function(lambda s: [c.id for c in s.cases])


class SourcePageSchema(Schema):
    """A page of the register."""

    items = fields.List(fields.Nested(SourceSchema))
    meta = fields.Nested(PageMetaSchema)


class SourceWriteSchema(Schema):
    """A new source, or (partial) changes to one. Grid and town come from the location."""

    code = fields.String(load_default=None, validate=CODE)
    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(list(SourceKind)))
    sector = fields.String(load_default=None, validate=validate.OneOf(list(Sector)))
    address = fields.String(validate=validate.Length(max=300))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    coord_system = fields.String(load_default=CoordSystem.WGS84, validate=validate.OneOf(list(CoordSystem)))
    is_key = fields.Boolean()
    permit_number = fields.String(allow_none=True, validate=PERMIT)
    responsible_name = fields.String(validate=validate.Length(max=64))
    responsible_phone = fields.String(validate=PHONE)
    notes = fields.String(validate=validate.Length(max=2000))
    active = fields.Boolean()


class SourceCreateSchema(SourceWriteSchema):
    """A new source: name, kind and location are required."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(list(SourceKind)))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))


class CheckinHistorySchema(Schema):
    """One check-in at the source, as its history lists it."""

    id = fields.UUID()
    patrol_id = fields.UUID(allow_none=True)
    captured_at = Moment()
    inspector = fields.Function(lambda c: c.inspector.full_name if c.inspector else None)
    level = fields.Integer()
    outcome = fields.String()
    outcome_label = fields.Function(lambda c: CheckinOutcome(c.outcome).label)
    distance_m = fields.Float(allow_none=True)
    radius_m = fields.Float()
    outside_radius = fields.Boolean()
    location = LonLatField()
    notes = fields.String()
    case = fields.Function(lambda c: {"id": c.case.id, "number": c.case.number} if c.case else None)


class LinkedCaseSchema(Schema):
    """A case linked to the source (only those the viewer may see)."""

    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    status = fields.String()
    received_at = Moment()


class SourceHistorySchema(Schema):
    """A source's check-ins (newest first) and linked cases."""

    checkins = fields.List(fields.Nested(CheckinHistorySchema))
    cases = fields.List(fields.Nested(LinkedCaseSchema))


class ImportRowErrorSchema(Schema):
    """A row that was not imported, with the line number the spreadsheet shows."""

    line = fields.Integer()
    errors = fields.List(fields.String())


class SourceImportReportSchema(Schema):
    """What an import did, or would have done."""

    rows_read = fields.Integer()
    imported = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(ImportRowErrorSchema))
