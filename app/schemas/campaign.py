"""Schemas of the campaign API: periods, phases and submissions, scores and ranking,
accountability lists, alerts, receptions and special checks."""

from marshmallow import Schema, fields, validate

from app.models.vocab import CheckOutcome, FailureKind, ReceptionKind
from app.schemas.common import Day, Moment


class PeriodSchema(Schema):
    """A reporting period in Beijing dates (both inclusive); default the running campaign."""

    start = Day(load_default=None)
    end = Day(load_default=None)


class PhaseSchema(Schema):
    """A campaign phase (阶段) with its dates."""

    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=50))
    starts_on = Day()
    ends_on = Day()


class PhaseChangeSchema(Schema):
    """A change to a phase's name or dates (command office)."""

    name = fields.String(validate=validate.Length(min=1, max=50))
    starts_on = Day()
    ends_on = Day()


class RequirementChangeSchema(Schema):
    """A change to a required submission's name or due date."""

    name = fields.String(validate=validate.Length(min=1, max=100))
    due_on = Day()


class RequirementSchema(Schema):
    """A submission every town must file (报送要求), with its due date."""

    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=100))
    due_on = Day()


class CampaignSchema(Schema):
    """A campaign with its phases and required submissions."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    starts_on = Day(dump_only=True)
    ends_on = Day(dump_only=True)
    phases = fields.List(fields.Nested(PhaseSchema), dump_only=True)
    requirements = fields.List(fields.Nested(RequirementSchema), dump_only=True)


class CampaignCreateSchema(Schema):
    """A new campaign for a year, with the default phases and submissions."""

    year = fields.Integer(required=True)
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class PhaseInfoSchema(Schema):
    """The running phase and the days left in it."""

    campaign_name = fields.String()
    phase_name = fields.String()
    starts_on = Day()
    ends_on = Day()
    days_left = fields.Integer()


class BoardRowSchema(Schema):
    """One town × one required submission on the board: filed, received, late or missing."""

    town_id = fields.Integer()
    town_name = fields.String()
    requirement_id = fields.Integer()
    requirement_name = fields.String()
    due_on = Day()
    submission_id = fields.Integer(allow_none=True)
    filename = fields.String(allow_none=True)
    submitted_at = Moment(allow_none=True)
    received_at = Moment(allow_none=True)
    late = fields.Boolean()
    missing = fields.Boolean()


class SubmissionSchema(Schema):
    """A file a town submitted."""

    id = fields.Integer()
    requirement_id = fields.Integer()
    town_id = fields.Integer()
    filename = fields.String()
    size_bytes = fields.Integer()
    note = fields.String()
    submitted_at = Moment()
    received_at = Moment(allow_none=True)
    late = fields.Boolean()


class DeductionSchema(Schema):
    """Points a grid lost for one case, with the reason."""

    case_id = fields.Integer()
    case_number = fields.String()
    grid_id = fields.Integer()
    points = fields.Float()
    reason = fields.String()


class GridScoreSchema(Schema):
    """A level-3 grid's petition item for a period, with its deductions."""

    grid_id = fields.Integer()
    grid_name = fields.String()
    town_id = fields.Integer()
    score = fields.Float()
    zeroed = fields.Boolean()
    zeroed_by = fields.List(fields.Integer())
    deductions = fields.List(fields.Nested(DeductionSchema))


class TownRankSchema(Schema):
    """A town's place in the ranking."""

    town_id = fields.Integer()
    town_name = fields.String()
    score = fields.Float()
    above_level = fields.Integer()
    overdue = fields.Integer()
    open_cases = fields.Integer()


class CaseBriefSchema(Schema):
    """A case in an accountability list (no personal data)."""

    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    town_id = fields.Integer(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
    status = fields.String()
    above_level_count = fields.Integer()
    inspection_referral = fields.String(allow_none=True)
    due_at = Moment(allow_none=True, metadata={"description": "the nearest running deadline, if any"})
    handle_due_at = Moment(allow_none=True, metadata={"description": "办结期限: the handling deadline (an "
                                                                     "unrectified referral is past it)"})


class FailureRecordSchema(Schema):
    """A person recorded for a failure (问责), with the case as evidence."""

    id = fields.Integer(dump_only=True)
    case_id = fields.Integer(required=True)
    case_number = fields.Function(lambda r: r.case.number, dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(FailureKind.labels())))
    kind_label = fields.Function(lambda r: FailureKind(r.kind).label, dump_only=True)
    person_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    person_unit = fields.String(load_default="", validate=validate.Length(max=100))
    person_id = fields.Integer(load_default=None, allow_none=True)
    note = fields.String(load_default="")
    referred = fields.Boolean(load_default=False, load_only=True)
    referred_to_discipline = fields.Boolean(dump_only=True)
    recorded_at = Moment(dump_only=True)


class NotFallingRowSchema(Schema):
    """A town or department whose volume has not fallen against last year."""

    id = fields.Integer()
    name = fields.String()
    volume = fields.Integer()
    last_year = fields.Float(metadata={"description": "去年同期件数（按月录入的历史数据按天折算，可有小数）"})
    source = fields.String(metadata={"description": "records：系统记录；imported：录入的历史信访量"})


class NotFallingSchema(Schema):
    """Volume not falling: the towns and departments judged, and those without a baseline."""

    towns = fields.List(fields.Nested(NotFallingRowSchema))
    departments = fields.List(fields.Nested(NotFallingRowSchema))
    skipped_towns = fields.List(fields.String(), metadata={"description": "缺少去年同期数据、本项未评的镇（街道）"})
    departments_skipped = fields.Boolean()
    note = fields.String(metadata={"description": "未评说明；全部可评时为空"})


class StatedPeriodSchema(Schema):
    """The period a list or score covers, as it is stated on pages and in files."""

    first_day = Day()
    last_day = Day()
    name = fields.String()
    label = fields.String()


class InterviewTownSchema(Schema):
    """A town to be interviewed (约谈) and why."""

    town_id = fields.Integer()
    town_name = fields.String()
    above_level = fields.Integer()
    reasons = fields.List(fields.String())


class TownCountSchema(Schema):
    """A town and how many long-unresolved cases it has."""

    id = fields.Integer()
    name = fields.String()
    count = fields.Integer()


class ExposureBriefSchema(Schema):
    """A media exposure in an accountability list (public text only)."""

    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.Function(lambda e: e.case.number)
    town_id = fields.Function(lambda e: e.case.town_id)
    responsible_unit = fields.String()
    failings = fields.String()
    decided_at = Moment()


class AccountabilitySchema(Schema):
    """Every accountability list at once."""

    interview_towns = fields.List(fields.Nested(InterviewTownSchema))
    unresolved_above_level = fields.List(fields.Nested(CaseBriefSchema))
    unrectified_referrals = fields.List(fields.Nested(CaseBriefSchema))
    not_falling = fields.Nested(NotFallingSchema)
    failure_records = fields.List(fields.Nested(FailureRecordSchema))
    long_unresolved_towns = fields.List(fields.Nested(TownCountSchema))
    exposures = fields.List(fields.Nested(ExposureBriefSchema))
    period = fields.Nested(StatedPeriodSchema)


class AlertSchema(Schema):
    """An early-warning alert (预警) and the cases in its cluster."""

    id = fields.Integer()
    category = fields.String()
    lon = fields.Float()
    lat = fields.Float()
    radius_m = fields.Float()
    case_ids = fields.List(fields.Integer())
    raised_at = Moment()
    last_case_at = Moment()
    dismissed_at = Moment(allow_none=True)


class LedgerQuerySchema(PeriodSchema):
    """The ledger's period; ``personal=true`` asks for petitioners' personal data (roles allowing)."""

    personal = fields.Boolean(load_default=False)


class ReceptionSchema(Schema):
    """A reception event (接访)."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(ReceptionKind.labels())))
    held_at = Moment(required=True, default_timezone=None)
    place = fields.String(required=True, validate=validate.Length(min=1, max=200))
    receivers = fields.String(required=True, validate=validate.Length(min=1, max=300))
    town_id = fields.Integer(load_default=None, allow_none=True)
    department_id = fields.Integer(load_default=None, allow_none=True)
    case_ids = fields.List(fields.Integer(), load_default=list)
    note = fields.String(load_default="")


class ReceptionOutSchema(ReceptionSchema):
    """A reception event as stored, with its cases."""

    case_ids = fields.Function(lambda r: [c.id for c in r.cases])


class WeekCheckSchema(Schema):
    """Whether a town or department held its receptions in one week."""

    week_of = Day()
    host_kind = fields.String()
    host_id = fields.Integer()
    host_name = fields.String()
    held = fields.Integer()
    ok = fields.Boolean(metadata={"description": "enough receptions held that week"})
    state = fields.String(metadata={"description": "met, missed (a week that is over), in_progress "
                                                   "(this week, not enough yet) or upcoming"})


class CheckPlanSchema(PeriodSchema):
    """When the checks are planned for; the period decides the key towns."""

    planned_on = Day(required=True)


class CheckResultSchema(Schema):
    """The result of a special enforcement check."""

    outcome = fields.String(required=True, validate=validate.OneOf(list(CheckOutcome.labels())))
    result = fields.String(required=True, validate=validate.Length(min=1))


class SpecialCheckSchema(Schema):
    """A special enforcement check (专项督查) on a case or a key town."""

    id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    town_id = fields.Integer(allow_none=True)
    reason = fields.String()
    planned_on = Day()
    checked_at = Moment(allow_none=True)
    outcome = fields.String(allow_none=True)
    result = fields.String()


class CheckReportSchema(Schema):
    """The special checks report for the city government."""

    total = fields.Integer()
    by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_outcome = fields.Dict(keys=fields.String(), values=fields.Integer())
    checks = fields.List(fields.Nested(SpecialCheckSchema))


class FirstLineGridSchema(Schema):
    """One level-3 grid's 'first line, first time' measures (each: count, base, rate)."""

    grid_id = fields.Integer()
    name = fields.String()
    town_id = fields.Integer(allow_none=True)
    measures = fields.Dict(metadata={"description": "六项指标，每项 {count, base, rate}"})


class FirstLineTownSchema(Schema):
    """One town's 'first line, first time' measures."""

    town_id = fields.Integer()
    name = fields.String()
    measures = fields.Dict(metadata={"description": "六项指标，每项 {count, base, rate}"})


class FirstLineSchema(Schema):
    """The measures per level-3 grid and per town."""

    grids = fields.List(fields.Nested(FirstLineGridSchema))
    towns = fields.List(fields.Nested(FirstLineTownSchema))


class BaselineTownSchema(Schema):
    """A town's petition counts in each month of a past year (历史信访量), null where unknown."""

    town_id = fields.Integer(required=True)
    town_name = fields.String(dump_only=True)
    year = fields.Integer(dump_only=True)
    months = fields.List(fields.Integer(allow_none=True, validate=validate.Range(0, 1_000_000)), required=True,
                         validate=validate.Length(equal=12), metadata={"description": "1 至 12 月的件数，未知为 null"})


class BaselineYearSchema(Schema):
    """A year's counts for the towns given (others unchanged)."""

    towns = fields.List(fields.Nested(BaselineTownSchema), required=True)
