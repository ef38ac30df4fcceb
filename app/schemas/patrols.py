"""Payloads of the patrol API: uploads from the inspector app and the patrol queries
(see services.patrols)."""

from geoalchemy2.shape import to_shape
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from shapely.geometry import mapping

from app.models.patrols import MAX_TRACK_POINTS, Patrol
from app.models.vocab import CheckinOutcome, LocationSource
from app.schemas.common import Day, GridRefSchema, LonLatField, Moment, PageMetaSchema, PageQuerySchema

TEXT = validate.Length(max=5000)


class TrackPointSchema(Schema):
    """One position the app sampled while the patrol was open."""

    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    at = Moment(required=True)
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))


class PatrolPutSchema(Schema):
    """A patrol as the phone holds it; sent again, with more track, while it is open."""

    started_at = Moment(required=True)
    ended_at = Moment(load_default=None, allow_none=True)
    track = fields.List(fields.Nested(TrackPointSchema), load_default=list,
                        validate=validate.Length(max=MAX_TRACK_POINTS))
    notes = fields.String(load_default="", validate=TEXT)

    @validates_schema
    def end_after_start(self, data, **kwargs):
        """A patrol cannot end before it started."""
        if data.get("ended_at") is not None and data["ended_at"] < data["started_at"]:
            raise ValidationError("巡查结束时间早于开始时间。", "ended_at")


class CheckinLocationSchema(Schema):
    """Where the phone was at the check-in, and how sure it was."""

    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))
    source = fields.String(load_default=LocationSource.GPS, validate=validate.OneOf(list(LocationSource)))
    mock = fields.Boolean(load_default=False)
    fix_at = Moment(load_default=None, allow_none=True)


class CheckinPutSchema(Schema):
    """A check-in at a source as the phone recorded it."""

    patrol_id = fields.UUID(load_default=None, allow_none=True)
    source_id = fields.Integer(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(list(CheckinOutcome)))
    captured_at = Moment(required=True)
    location = fields.Nested(CheckinLocationSchema, required=True)
    notes = fields.String(load_default="", validate=TEXT)
    inspection_id = fields.UUID(load_default=None, allow_none=True)


class PatrolResultSchema(Schema):
    """A stored patrol as the app needs to know it arrived."""

    id = fields.UUID()
    started_at = Moment()
    ended_at = Moment(allow_none=True)
    level = fields.Integer()
    track_point_count = fields.Function(lambda p: len(p.track_points or []))
    distance_m = fields.Float()
    received_at = Moment()


class CheckinResultSchema(Schema):
    """A stored check-in, with what the server measured."""

    id = fields.UUID()
    patrol_id = fields.UUID(allow_none=True)
    source_id = fields.Integer()
    outcome = fields.String()
    outcome_label = fields.Function(lambda c: CheckinOutcome(c.outcome).label)
    level = fields.Integer()
    captured_at = Moment()
    received_at = Moment()
    distance_m = fields.Float(allow_none=True)
    radius_m = fields.Float()
    outside_radius = fields.Boolean()
    inspection_id = fields.UUID(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    case_number = fields.Function(lambda c: c.case.number if c.case else None)


class PatrolQuerySchema(PageQuerySchema):
    """Filters for the patrol list; dates are Beijing calendar days, both ends included."""

    start = Day(load_default=None)
    end = Day(load_default=None)
    inspector_id = fields.Integer(load_default=None)
    grid_id = fields.Integer(load_default=None)
    town_id = fields.Integer(load_default=None)


class PersonRefSchema(Schema):
    """The inspector who made a patrol."""

    id = fields.Integer()
    name = fields.String(attribute="full_name")


class CheckinRowSchema(Schema):
    """A check-in as listed under its patrol."""

    id = fields.UUID()
    source_id = fields.Integer()
    source_code = fields.Function(lambda c: c.source.code)
    source_name = fields.Function(lambda c: c.source.name)
    outcome = fields.String()
    outcome_label = fields.Function(lambda c: CheckinOutcome(c.outcome).label)
    captured_at = Moment()
    location = LonLatField()
    accuracy_m = fields.Float(allow_none=True)
    mock_location = fields.Boolean()
    distance_m = fields.Float(allow_none=True)
    radius_m = fields.Float()
    outside_radius = fields.Boolean()
    case_id = fields.Integer(allow_none=True)
    case_number = fields.Function(lambda c: c.case.number if c.case else None)
    notes = fields.String()


class PatrolSummarySchema(Schema):
    """A patrol as listed: who, where, when, how far, and what the check-ins found."""

    id = fields.UUID()
    inspector = fields.Nested(PersonRefSchema)
    grid = fields.Nested(GridRefSchema, allow_none=True)
    level = fields.Integer()
    started_at = Moment()
    ended_at = Moment(allow_none=True)
    distance_m = fields.Float()
    track_point_count = fields.Function(lambda p: len(p.track_points or []))
    checkin_count = fields.Function(lambda p: len(p.checkins))
    outside_radius_count = fields.Function(lambda p: sum(c.outside_radius for c in p.checkins))
    problem_count = fields.Function(lambda p: sum(c.outcome == CheckinOutcome.PROBLEM_FOUND for c in p.checkins))
    notes = fields.String()


def track_geojson(patrol: Patrol) -> dict | None:
    """The patrol's track as a GeoJSON LineString (None below two points)."""
    if patrol.track is None:
        return None
    return mapping(to_shape(patrol.track))


class PatrolDetailSchema(PatrolSummarySchema):
    """One patrol with its track as a GeoJSON LineString and its check-ins."""

    track = fields.Function(track_geojson)
    track_points = fields.Raw()
    checkins = fields.List(fields.Nested(CheckinRowSchema))


class PatrolPageSchema(Schema):
    """A page of patrols."""

    items = fields.List(fields.Nested(PatrolSummarySchema))
    meta = fields.Nested(PageMetaSchema)


class PatrolTodaySchema(Schema):
    """Today's patrol (documentation: ``rounds.today_for`` shapes it): my level, the rules and
    settings the phone applies, and each source of my grid with its due state, overdue first."""

    level = fields.Integer(metadata={"description": "网格层级 1–3"})
    level_label = fields.String()
    today = fields.String(metadata={"description": "北京日期 YYYY-MM-DD"})
    settings = fields.Dict(metadata={"description": "巡查半径、轨迹间隔等参数"})
    rules = fields.Dict(metadata={"description": "本层级的巡查频次规则"})
    items = fields.List(fields.Dict(), metadata={"description": "每个监管对象：source 与 due（到期状态）"})
