"""Patrol compliance (巡查考核) as the API reads and returns it; see services.patrol_compliance."""

from marshmallow import Schema, fields, validate

from app.schemas.common import Day, Moment

_DATE = {"invalid": "日期格式应为 YYYY-MM-DD。"}
# Row ids are 32-bit integers on every backend.
_ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="编号超出范围。")


class CompliancePeriodSchema(Schema):
    """A period in Beijing dates (both inclusive); blank: the running campaign or the last 30 days."""

    start = Day(load_default=None, error_messages=_DATE)
    end = Day(load_default=None, error_messages=_DATE)


class ComplianceQuerySchema(CompliancePeriodSchema):
    """The period and, optionally, one town."""

    town_id = fields.Integer(load_default=None, error_messages={"invalid": "镇（街道）编号应为整数。"},
                             validate=_ID_RANGE)


class OverdueQuerySchema(Schema):
    """Which overdue sources: a level's duty, optionally within a town or a village grid."""

    level = fields.Integer(load_default=3, validate=validate.OneOf([1, 2, 3], error="网格级别应为 1、2 或 3。"))
    town_id = fields.Integer(load_default=None, error_messages={"invalid": "镇（街道）编号应为整数。"},
                             validate=_ID_RANGE)
    grid_id = fields.Integer(load_default=None, error_messages={"invalid": "网格编号应为整数。"}, validate=_ID_RANGE)


class TracksQuerySchema(Schema):
    """How many of a source's latest patrols to draw."""

    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20, error="轨迹条数应为 1 至 20。"))


class DutyFiguresSchema(Schema):
    """Sources with a duty, patrols required and done, the rate, and sources overdue today."""

    sources = fields.Integer()
    required = fields.Integer()
    done = fields.Integer()
    rate = fields.Float(allow_none=True)
    overdue = fields.Integer()


class ActivityFiguresSchema(Schema):
    """What people recorded in the period."""

    checkins = fields.Integer()
    flagged = fields.Integer(metadata={"description": "check-ins farther from the source than the radius"})
    problems = fields.Integer(metadata={"description": "check-ins that found a problem"})
    patrols = fields.Integer()
    km = fields.Float(metadata={"description": "kilometres of track recorded"})
    active_days = fields.Integer()


class GridRowSchema(DutyFiguresSchema, ActivityFiguresSchema):
    """A village grid (三级网格) on its level-3 duty."""

    grid_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    town_id = fields.Integer(allow_none=True)
    town_name = fields.String()


class TownRowSchema(DutyFiguresSchema, ActivityFiguresSchema):
    """A town (二级网格): its villages added up, and its own level-2 duty."""

    town_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    level2 = fields.Nested(DutyFiguresSchema)


class PersonRowSchema(ActivityFiguresSchema):
    """One person's activity (no "required": several people share a grid)."""

    user_id = fields.Integer()
    name = fields.String()
    role = fields.String()
    role_label = fields.String()
    grid_id = fields.Integer(allow_none=True)
    grid_name = fields.String()


class TotalsSchema(DutyFiguresSchema, ActivityFiguresSchema):
    """Everything in the user's scope added up."""

    level2 = fields.Nested(DutyFiguresSchema)


class ComplianceSchema(Schema):
    """The compliance tables for a period."""

    start_on = Day()
    end_on = Day()
    today = Day()
    town_id = fields.Integer(allow_none=True)
    towns = fields.List(fields.Nested(TownRowSchema))
    grids = fields.List(fields.Nested(GridRowSchema))
    inspectors = fields.List(fields.Nested(PersonRowSchema))
    totals = fields.Nested(TotalsSchema)


class SourceDutySchema(Schema):
    """One source's line in a grid's detail: why the grid's figures are what they are."""

    source_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    is_key = fields.Boolean()
    source_class = fields.String()
    class_label = fields.String()
    rule_label = fields.String()
    days = fields.Integer(metadata={"description": "days of the period judged (from registration, up to today)"})
    required = fields.Integer()
    done = fields.Integer()
    patrol_days = fields.List(Day())
    last_on = Day(allow_none=True)
    due_on = Day(allow_none=True)
    state = fields.String()
    state_label = fields.String()
    days_overdue = fields.Integer()


class GridDetailSchema(Schema):
    """A village grid's row and each of its sources."""

    start_on = Day()
    end_on = Day()
    today = Day()
    grid = fields.Nested(GridRowSchema)
    sources = fields.List(fields.Nested(SourceDutySchema))


class OverdueSourceSchema(Schema):
    """A source overdue today at one level."""

    source_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind_label = fields.String()
    is_key = fields.Boolean()
    class_label = fields.String()
    rule_label = fields.String()
    level = fields.Integer()
    due_on = Day()
    days_overdue = fields.Integer()
    last_on = Day(allow_none=True)
    last_patrol_at = Moment(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    grid_name = fields.String()
    town_id = fields.Integer(allow_none=True)
    town_name = fields.String()
