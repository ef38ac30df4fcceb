"""The long-unresolved list (久拖不解) and media exposures (媒体曝光)."""

from marshmallow import Schema, fields, validate

from app.models.vocab import ExposureStatus, LongUnresolvedReason
from app.schemas.common import Day, Moment, PageMetaSchema, PageQuerySchema


class LongUnresolvedQuerySchema(PageQuerySchema):
    """Filters of the list: town, department, one reason."""

    town_id = fields.Integer(load_default=None)
    department_id = fields.Integer(load_default=None)
    reason = fields.String(load_default=None, validate=validate.OneOf(
        list(LongUnresolvedReason), error="原因应为 open_long、overdue、reopened 或 above_level。"))


class ListingReasonSchema(Schema):
    """Why a case is listed, in Chinese with its figures."""

    code = fields.String()
    label = fields.String()
    text = fields.String()


class LongUnresolvedCaseSchema(Schema):
    """A listed case: where, who handles it, how long open and overdue, why, and its next follow-up."""

    case_id = fields.Integer()
    number = fields.String()
    title = fields.String()
    status = fields.String()
    status_label = fields.String()
    town_id = fields.Integer(allow_none=True)
    town_name = fields.String()
    department_id = fields.Integer(allow_none=True)
    department_name = fields.String()
    received_at = Moment()
    handle_due_at = Moment(allow_none=True)
    days_open = fields.Integer()
    days_overdue = fields.Integer()
    reasons = fields.List(fields.Nested(ListingReasonSchema))
    revisit_due_at = Moment(allow_none=True)
    revisit_state = fields.String()
    revisit_state_label = fields.String()


class UnitCountSchema(Schema):
    """How many listed cases one town or department has."""

    id = fields.Integer()
    name = fields.String()
    count = fields.Integer()


class CriteriaSchema(Schema):
    """The thresholds in force (settings)."""

    open_days = fields.Integer()
    overdue_days = fields.Integer()
    reopened_min = fields.Integer()
    above_level_min = fields.Integer()


class LongUnresolvedPageSchema(Schema):
    """A page of the list, with counts per town and per department and the criteria."""

    items = fields.List(fields.Nested(LongUnresolvedCaseSchema))
    meta = fields.Nested(PageMetaSchema)
    by_town = fields.List(fields.Nested(UnitCountSchema))
    by_department = fields.List(fields.Nested(UnitCountSchema))
    criteria = fields.Nested(CriteriaSchema)


class RectificationSchema(Schema):
    """How a closed exposed case was put right (public text)."""

    closed_on = Day(allow_none=True)
    decision_label = fields.String()
    summary = fields.String()
    measures = fields.List(fields.String())


class PublicExposureSchema(Schema):
    """A published exposure as the public reads it: no petitioner, no address."""

    id = fields.Integer()
    published_at = Moment(allow_none=True)
    case_number = fields.String()
    category_label = fields.String()
    town = fields.String()
    summary = fields.String()
    responsible_unit = fields.String()
    failings = fields.String()
    received_on = Day()
    days_open = fields.Integer()
    days_overdue = fields.Integer()
    progress = fields.String()
    rectification = fields.Nested(RectificationSchema, allow_none=True)


class ExposureRecordSchema(PublicExposureSchema):
    """An exposure record as staff see it, with each step's who, when and why."""

    status = fields.String()
    status_label = fields.String()
    case_id = fields.Integer()
    proposed_by = fields.String()
    proposed_at = Moment()
    decided_by = fields.String(allow_none=True)
    decided_at = Moment(allow_none=True)
    decision_note = fields.String()
    withdrawn_by = fields.String(allow_none=True)
    withdrawn_at = Moment(allow_none=True)
    withdraw_reason = fields.String()


class ExposureQuerySchema(Schema):
    """Which exposure records: by status, by case."""

    status = fields.String(load_default=None, validate=validate.OneOf(list(ExposureStatus)))
    case_id = fields.Integer(load_default=None)


class ExposureProposalSchema(Schema):
    """提议曝光: the case, the responsible unit and what it did not do (both will be public)."""

    case_id = fields.Integer(required=True)
    responsible_unit = fields.String(load_default="", validate=validate.Length(max=100))
    failings = fields.String(load_default="", validate=validate.Length(max=1000))


class ExposureDecisionSchema(Schema):
    """批准 or 不予曝光, with a note (required to reject)."""

    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ExposureWithdrawalSchema(Schema):
    """撤回曝光 with its reason."""

    reason = fields.String(load_default="", validate=validate.Length(max=2000))
