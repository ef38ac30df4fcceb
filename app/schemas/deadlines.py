"""Deadline rules and working-calendar days as the admin API reads and writes them."""

from marshmallow import Schema, fields, validate

from app.models.vocab import Channel, LegalTrack, PeriodUnit, Priority, Stage
from app.schemas.common import Day


def _one_of(enum, what: str) -> validate.OneOf:
    """A OneOf validator whose message lists the allowed values, in Chinese."""
    values = list(enum)
    return validate.OneOf(values, error=f"{what}应为以下之一：{'、'.join(values)}。")


_REQUIRED = {"required": "此项必填。", "null": "此项不能为空。"}
_AMOUNT = validate.Range(min=1, max=10000, error="时限数值应为 1 至 10000 之间的整数。")


class DeadlineRuleSchema(Schema):
    """A time limit for a stage, for the cases matching its filters (empty filter: any case)."""

    id = fields.Integer(dump_only=True)
    stage = fields.String(required=True, error_messages=_REQUIRED, validate=_one_of(Stage, "阶段"))
    stage_label = fields.Function(lambda r: Stage(r.stage).label, dump_only=True)
    legal_track = fields.String(load_default=None, allow_none=True, validate=_one_of(LegalTrack, "办理途径"))
    channel = fields.String(load_default=None, allow_none=True, validate=_one_of(Channel, "来源渠道"))
    priority = fields.String(load_default=None, allow_none=True, validate=_one_of(Priority, "紧急程度"))
    amount = fields.Integer(required=True, strict=True, error_messages=_REQUIRED, validate=_AMOUNT)
    unit = fields.String(required=True, error_messages=_REQUIRED, validate=_one_of(PeriodUnit, "时限单位"))
    unit_label = fields.Function(lambda r: PeriodUnit(r.unit).label, dump_only=True)
    basis = fields.String(load_default="", validate=validate.Length(max=200, error="依据不超过200字。"))
    active = fields.Boolean(load_default=True)


class DeadlineRulePatchSchema(Schema):
    """The parts of a rule an admin may change; its stage and filters stay (add a new rule instead)."""

    amount = fields.Integer(strict=True, validate=_AMOUNT)
    unit = fields.String(validate=_one_of(PeriodUnit, "时限单位"))
    basis = fields.String(validate=validate.Length(max=200, error="依据不超过200字。"))
    active = fields.Boolean()


class CalendarQuerySchema(Schema):
    """Which year's exception days to list (default: this year in the city)."""

    year = fields.Integer(
        load_default=None, validate=validate.Range(min=2000, max=2100, error="年份应在2000至2100之间。")
    )


class CalendarDaySchema(Schema):
    """A day that differs from the plain week: a holiday on a weekday or a make-up working day."""

    day = Day(dump_only=True)
    is_working_day = fields.Boolean(required=True, error_messages=_REQUIRED)
    name = fields.String(load_default="", validate=validate.Length(max=64, error="名称不超过64字。"))
