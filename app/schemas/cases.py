"""Cases as the API shows them. A case is dumped from a ``CaseView`` (services.cases.queries),
which brings the petitioner block as services.cases.privacy decided it for the viewer and
the deadline state."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.models.vocab import (
    CaseStatus,
    Category,
    Channel,
    CoordSystem,
    InspectionReferral,
    LegalTrack,
    ListKind,
    Priority,
    QueueTab,
    Sector,
    Subcategory,
)
from app.schemas.common import (
    PHONE_NUMBER,
    DepartmentRefSchema,
    GridRefSchema,
    LonLatField,
    Moment,
    PageMetaSchema,
    PageQuerySchema,
)


class CaseQuerySchema(PageQuerySchema):
    """Filters for the case list; every filter narrows the user's own scope."""

    status = fields.List(fields.String(validate=validate.OneOf(list(CaseStatus))), load_default=None)
    grid_id = fields.Integer(load_default=None)
    town_id = fields.Integer(load_default=None)
    department_id = fields.Integer(load_default=None)
    category = fields.String(load_default=None, validate=validate.OneOf(list(Category)))
    channel = fields.String(load_default=None, validate=validate.OneOf(list(Channel)))
    list_kind = fields.String(load_default=None, validate=validate.OneOf(list(ListKind)))
    inspection_referral = fields.String(load_default=None, validate=validate.OneOf(list(InspectionReferral)))
    above_level = fields.Boolean(load_default=None)
    irregular = fields.Boolean(load_default=None)
    repeat = fields.Boolean(load_default=None)
    dissatisfied = fields.Boolean(load_default=None)
    superior_assigned = fields.Boolean(load_default=None)
    outside_city = fields.Boolean(load_default=None)
    open = fields.Boolean(load_default=None)
    tab = fields.String(load_default=None, validate=validate.OneOf(list(QueueTab), error="没有这个分页签。"),
                        metadata={"description": "待签收 to_sign, 待办理 to_handle, 待审批 to_decide, "
                                                 "即将超期 due_soon, 已超期 overdue, 我交办的 assigned_by_me, "
                                                 "全部 all"})
    q = fields.String(load_default=None, validate=validate.Length(max=100, error="搜索内容不超过 100 字。"),
                      metadata={"description": "案件编号、工单号、地址、关键词；有权查看个人信息者还可按来电号码"})


class TabCountsSchema(Schema):
    """How many cases each queue tab holds under the same filters."""

    to_sign = fields.Integer()
    to_handle = fields.Integer()
    to_decide = fields.Integer()
    due_soon = fields.Integer()
    overdue = fields.Integer()
    assigned_by_me = fields.Integer()
    all = fields.Integer()


class PetitionerSchema(Schema):
    """The petitioner, whole or masked as the viewer's role allows."""

    anonymous = fields.Boolean()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True)
    masked = fields.Boolean()


class CaseSchema(Schema):
    """One case, from a ``CaseView``."""

    id = fields.Integer()
    number = fields.String()
    work_order_number = fields.String(allow_none=True)
    title = fields.String()
    description = fields.String()
    list_kind = fields.String()
    channel = fields.String()
    channel_label = fields.Function(lambda c: Channel(c.channel).label)
    legal_track = fields.String(allow_none=True)
    category = fields.String()
    category_label = fields.Function(lambda c: Category(c.category).label)
    subcategory = fields.String(allow_none=True)
    sector = fields.String()
    priority = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda c: CaseStatus(c.status).label)
    location = LonLatField()
    address = fields.String()
    coord_system = fields.String()
    outside_grid = fields.Boolean()
    grid_gap_m = fields.Float(allow_none=True, metadata={
        "description": "位置在网格缝隙中、按容差归入最近网格时，与该网格的距离（米）；在网格内为 null"})
    outside_city = fields.Boolean(metadata={"description": "登记时确认为市外（不在本市范围内）"})
    grid = fields.Nested(GridRefSchema, allow_none=True)
    town = fields.Nested(GridRefSchema, allow_none=True)
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    responsible_person = fields.Function(lambda c: staff_ref(c.responsible_person))
    leading_official = fields.Function(lambda c: staff_ref(c.leading_official))
    petitioner = fields.Nested(PetitionerSchema, dump_only=True)
    above_level = fields.Boolean()
    above_level_count = fields.Integer()
    irregular_count = fields.Integer()
    repeat_of_id = fields.Integer(allow_none=True)
    dissatisfied = fields.Boolean()
    superior_assigned = fields.Boolean()
    inspection_referral = fields.String(allow_none=True)
    suspected_crime = fields.Boolean()
    reopened_count = fields.Integer()
    repeat_count = fields.Integer()
    legal_track_label = fields.Function(lambda c: LegalTrack(c.legal_track).label if c.legal_track else None)
    deadline_state = fields.String(dump_only=True)
    due_estimated = fields.Boolean(dump_only=True, metadata={
        "description": "按周末估算：期限落在节假日安排尚未录入的年份，暂只扣除周末，录入后自动重新计算"})
    received_at = Moment()
    accepted_at = Moment(allow_none=True)
    assigned_at = Moment(allow_none=True)
    signed_at = Moment(allow_none=True)
    first_onsite_at = Moment(allow_none=True)
    replied_at = Moment(allow_none=True)
    closed_at = Moment(allow_none=True)
    sign_due_at = Moment(allow_none=True)
    onsite_due_at = Moment(allow_none=True)
    notice_due_at = Moment(allow_none=True)
    handle_due_at = Moment(allow_none=True)
    due_at = Moment(allow_none=True)


def staff_ref(user) -> dict | None:
    """A staff member as named on a case: name, unit and work phone."""
    if user is None:
        return None
    return {"id": user.id, "name": user.full_name, "unit": user.unit, "phone": user.phone}


class CasePageSchema(Schema):
    """A page of cases."""

    items = fields.List(fields.Nested(CaseSchema))
    meta = fields.Nested(PageMetaSchema)


case_schema = CaseSchema()
case_page_schema = CasePageSchema()


class CaseCreateSchema(Schema):
    """Intake (登记) of a case from any channel."""

    channel = fields.String(required=True, validate=validate.OneOf(list(Channel)))
    category = fields.String(required=True, validate=validate.OneOf(list(Category)))
    subcategory = fields.String(load_default=None, validate=validate.OneOf(list(Subcategory)))
    sector = fields.String(required=True, validate=validate.OneOf(list(Sector)))
    priority = fields.String(load_default=Priority.NORMAL, validate=validate.OneOf(list(Priority)))
    title = fields.String(required=True, validate=validate.Length(min=2, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    coord_system = fields.String(load_default=CoordSystem.WGS84, validate=validate.OneOf(list(CoordSystem)))
    received_at = Moment(load_default=None)
    anonymous = fields.Boolean(load_default=False)
    petitioner_name = fields.String(load_default="", validate=validate.Length(max=64))
    petitioner_phone = fields.String(load_default="", validate=validate.Regexp(
        rf"^(|{PHONE_NUMBER})$", error="电话号码格式不正确，应为至少 5 位数字"))
    petitioner_id_number = fields.String(load_default="", validate=validate.Regexp(
        r"^(|[0-9]{17}[0-9Xx])$", error="身份证号应为18位"))
    department_id = fields.Integer(load_default=None)
    override_reason = fields.String(load_default="", validate=validate.Length(max=2000))
    repeat_of_id = fields.Integer(load_default=None)
    inspection_referral = fields.String(load_default=None, validate=validate.OneOf(list(InspectionReferral)))
    superior_assigned = fields.Boolean(load_default=False)
    suspected_crime = fields.Boolean(load_default=False)
    # An irregular petition (非访): a petition made outside the lawful channels and places.
    irregular = fields.Boolean(load_default=False)
    # The user confirms a point outside the city (市外); without it such a point is refused.
    outside_city = fields.Boolean(load_default=False)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    # The 12345 / 12369 hotline's work-order number (工单号), as the hotline wrote it.
    work_order_number = fields.String(load_default=None, validate=validate.Regexp(
        r"^[0-9A-Za-z-]{1,40}$", error="工单号只能包含字母、数字和“-”，不超过 40 位"))

    @validates_schema
    def _petitioner_or_anonymous(self, data, **kwargs):
        """A named report needs at least a name or a phone to reply to."""
        if not data.get("anonymous") and not (data.get("petitioner_name") or data.get("petitioner_phone")):
            raise ValidationError("请填写信访人姓名或电话，或勾选匿名。", "petitioner_name")


class RepeatCandidateSchema(Schema):
    """An earlier case the new one may repeat."""

    id = fields.Function(lambda c: c.case.id)
    number = fields.Function(lambda c: c.case.number)
    title = fields.Function(lambda c: c.case.title)
    status = fields.Function(lambda c: c.case.status)
    received_at = fields.Function(lambda c: c.case.received_at.isoformat())
    reason = fields.String()
    distance_m = fields.Float(allow_none=True)


class RepeatQuerySchema(Schema):
    """Where and what, to look for earlier cases before registering."""

    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    coord_system = fields.String(load_default=CoordSystem.WGS84, validate=validate.OneOf(list(CoordSystem)))
    category = fields.String(required=True, validate=validate.OneOf(list(Category)))
    phone = fields.String(load_default=None, validate=validate.Length(max=32))


class CaseCreatedSchema(Schema):
    """The registered case and the earlier cases it may repeat."""

    case = fields.Nested(CaseSchema)
    repeat_candidates = fields.List(fields.Nested(RepeatCandidateSchema))
