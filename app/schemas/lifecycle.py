"""Payloads of the lifecycle transitions, one schema per step (services.lifecycle.STEPS).

Schemas check types and lengths; the state machine checks what the case needs and answers
409 listing anything missing.
"""

from marshmallow import Schema, fields, validate

from app.models.vocab import CoordSystem, EnforcementKind, LegalTrack, NoPhotoReason, ReplyDecision, Satisfaction
from app.schemas.common import Day, Moment
from app.schemas.field import FindingsSchema

TEXT = validate.Length(max=5000)
SHORT = validate.Length(max=200)


class NoteSchema(Schema):
    """A step that needs at most a note."""

    note = fields.String(load_default="", validate=TEXT)


class AcceptSchema(NoteSchema):
    """受理: fix the legal track; the written acceptance notice may follow later."""

    legal_track = fields.String(load_default=None, validate=validate.OneOf(
        [LegalTrack.VIOLATION_REPORT, LegalTrack.PETITION]))
    notice_text = fields.String(load_default="", validate=TEXT)


class NoticeSchema(NoteSchema):
    """A written notice to the petitioner."""

    notice_text = fields.String(load_default="", validate=TEXT)


class TransferSchema(NoticeSchema):
    """转其他途径: where to, and why."""

    transferred_to = fields.String(load_default="", validate=SHORT)
    transfer_reason = fields.String(load_default="", validate=TEXT)


class AssignSchema(NoteSchema):
    """交办: the department (default from the routing table), people, and why if overridden."""

    department_id = fields.Integer(load_default=None)
    responsible_person_id = fields.Integer(load_default=None)
    leading_official_id = fields.Integer(load_default=None)
    override_reason = fields.String(load_default="", validate=TEXT)


class ReasonSchema(NoteSchema):
    """A step that needs a reason (退单)."""

    reason = fields.String(load_default="", validate=TEXT)


class OnsiteSchema(NoteSchema):
    """现场核查 recorded at the desk: findings, why there is no photo, and where (the case's
    location when no point is given). The desk form adds its photo files beside these fields."""

    findings = fields.Nested(FindingsSchema, load_default=dict)
    notes = fields.String(load_default="", validate=TEXT)
    captured_at = Moment(load_default=None, error_messages={"invalid": "核查时间格式不正确。"})
    no_photo_reason = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(
        list(NoPhotoReason), error="请从列表中选择无法拍照的原因。"))
    lon = fields.Float(load_default=None, error_messages={"invalid": "经度应为数字。"},
                       validate=validate.Range(min=-180, max=180, error="经度应在 -180 至 180 之间。"))
    lat = fields.Float(load_default=None, error_messages={"invalid": "纬度应为数字。"},
                       validate=validate.Range(min=-90, max=90, error="纬度应在 -90 至 90 之间。"))
    coord_system = fields.String(load_default=CoordSystem.WGS84, validate=validate.OneOf(
        list(CoordSystem), error="坐标系应为 WGS-84、GCJ-02 或 BD-09。"))


class PlanSchema(NoteSchema):
    """一案一策: measures, responsible person, target date."""

    measures = fields.String(load_default="", validate=TEXT)
    responsible_name = fields.String(load_default="", validate=validate.Length(max=64))
    responsible_person_id = fields.Integer(load_default=None)
    target_date = Day(load_default=None)


class LeaderSchema(NoteSchema):
    """包案领导."""

    leading_official_id = fields.Integer(load_default=None)


class LeaderVisitSchema(NoteSchema):
    """A leader's own site visit."""

    visited_at = Moment(load_default=None)


class EnforcementSchema(NoteSchema):
    """An enforcement measure with its decision document."""

    kind = fields.String(required=True, validate=validate.OneOf(list(EnforcementKind)))
    document_number = fields.String(load_default="", validate=validate.Length(max=100))
    decided_on = Day(load_default=None)
    # The documented minimum is a number: apispec would write the bound as the field dumps it ("0.00").
    amount_yuan = fields.Decimal(load_default=None, places=2, validate=validate.Range(min=0), as_string=True,
                                 metadata={"minimum": 0})


class ExtensionSchema(NoteSchema):
    """申请延期."""

    days = fields.Integer(load_default=None)
    reason = fields.String(load_default="", validate=TEXT)


class ReplySchema(NoteSchema):
    """书面答复: request, facts and reasons, decision, legal basis (Art 32)."""

    request_summary = fields.String(load_default="", validate=TEXT)
    facts_and_reasons = fields.String(load_default="", validate=TEXT)
    decision = fields.String(load_default=None, validate=validate.OneOf(list(ReplyDecision)))
    legal_basis = fields.String(load_default="", validate=TEXT)


class FollowUpSchema(NoteSchema):
    """回访: satisfaction, or why no follow-up was possible."""

    satisfaction = fields.String(load_default=None, validate=validate.OneOf(list(Satisfaction)))
    not_possible_reason = fields.String(load_default="", validate=TEXT)


class RevisitSchema(NoteSchema):
    """定期回访 of a long-unresolved case: what was said, or why no follow-up was possible."""

    not_possible_reason = fields.String(load_default="", validate=TEXT)


class ReopenSchema(NoteSchema):
    """重新办理: because of dissatisfaction or a new petition."""

    reason_kind = fields.String(load_default="dissatisfied", validate=validate.OneOf(["dissatisfied", "repeat"]))


class LinkRepeatSchema(NoteSchema):
    """标记为重复件: the earlier case this one repeats."""

    repeat_of_id = fields.Integer(load_default=None)


STEP_SCHEMAS: dict[str, Schema] = {
    "link_repeat": LinkRepeatSchema(),
    "accept": AcceptSchema(),
    "decline": NoticeSchema(),
    "transfer": TransferSchema(),
    "notify": NoticeSchema(),
    "report": NoteSchema(),
    "assign": AssignSchema(),
    "sign": NoteSchema(),
    "request_return": ReasonSchema(),
    "approve_return": NoteSchema(),
    "reject_return": NoteSchema(),
    "record_onsite": OnsiteSchema(),
    "plan": PlanSchema(),
    "set_leader": LeaderSchema(),
    "leader_visit": LeaderVisitSchema(),
    "leader_sign_off": NoteSchema(),
    "enforce": EnforcementSchema(),
    "request_extension": ExtensionSchema(),
    "approve_extension": NoticeSchema(),
    "reject_extension": NoteSchema(),
    "reply": ReplySchema(),
    "review_pass": NoteSchema(),
    "review_redo": NoteSchema(),
    "follow_up": FollowUpSchema(),
    "close": NoteSchema(),
    "reopen": ReopenSchema(),
    "revisit": RevisitSchema(),
    "remind": NoteSchema(),
}


class StepInfoSchema(Schema):
    """A transition the caller may take on the case."""

    name = fields.String()
    label = fields.String()
    target = fields.String(allow_none=True)
    waiting_for = fields.List(fields.String(), metadata={
        "description": "须先完成的事项（为空时可立即办理），如「须先完成现场核查」"})


class TimelineEventSchema(Schema):
    """One timeline event."""

    seq = fields.Integer()
    kind = fields.String()
    actor = fields.Function(lambda e: e.actor_name)
    at = Moment()
    note = fields.String()
    data = fields.Dict()
    hash = fields.String()
