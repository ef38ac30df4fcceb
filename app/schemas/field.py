"""Payloads of the inspector app's sync API (see services.field_sync)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.models.vocab import (
    CaseStatus,
    Category,
    InspectionKind,
    LocationSource,
    NoPhotoReason,
    PhotoOrigin,
    Sector,
    Subcategory,
)
from app.schemas.cases import PetitionerSchema, staff_ref
from app.schemas.common import PHONE_NUMBER, DepartmentRefSchema, LonLatField, Moment

TEXT = validate.Length(max=5000)


class LocationSchema(Schema):
    """Where the phone was, and how sure it was."""

    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))
    altitude_m = fields.Float(load_default=None, allow_none=True)
    fix_at = Moment(load_default=None, allow_none=True)
    source = fields.String(load_default=LocationSource.GPS, validate=validate.OneOf(list(LocationSource)))
    mock = fields.Boolean(load_default=False)


class FindingsSchema(Schema):
    """What the inspector found and did on site.

    The two conclusions have no default: a key that is absent means "not chosen", which
    makes the check incomplete (services.field.onsite_rules).
    """

    source_found = fields.Boolean()
    violation_found = fields.Boolean()
    measures = fields.String(load_default="", validate=TEXT)
    outcome = fields.String(load_default="", validate=TEXT)


class AnnouncedPhotoSchema(Schema):
    """A photo the record will send: when and where the phone got it, and what the camera says.

    A phone that shrinks photos before upload loses their EXIF; it reads the camera's own
    time, position and orientation first and sends them here (``exif_*``), with whether the
    photo was taken with the camera or picked from the gallery (``origin``).
    """

    id = fields.UUID(required=True)
    captured_at = Moment(load_default=None, allow_none=True)
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    exif_taken_at = Moment(load_default=None, allow_none=True)
    exif_lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))
    exif_lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    # No load_default, so a record queued on an older phone hashes as it always did.
    origin = fields.String(allow_none=True, validate=validate.OneOf([PhotoOrigin.CAMERA, PhotoOrigin.GALLERY]))
    exif_orientation = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=8))


class DiscoverySchema(Schema):
    """A new problem found on patrol."""

    category = fields.String(required=True, validate=validate.OneOf(list(Category)))
    subcategory = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(Subcategory)))
    sector = fields.String(required=True, validate=validate.OneOf(list(Sector)))
    title = fields.String(required=True, validate=validate.Length(min=2, max=200))
    description = fields.String(load_default="", validate=TEXT)
    address = fields.String(load_default="", validate=validate.Length(max=300))
    # Found on patrol at a watched source: the source and the check-in (see services.patrols).
    # No load_default, so a discovery without them hashes as it always did.
    source_id = fields.Integer(allow_none=True)
    patrol_checkin_id = fields.UUID(allow_none=True)


class InspectionPutSchema(Schema):
    """An on-site check or patrol discovery as the phone recorded it."""

    kind = fields.String(required=True, validate=validate.OneOf(list(InspectionKind)))
    case_id = fields.Integer(load_default=None, allow_none=True)
    captured_at = Moment(required=True)
    location = fields.Nested(LocationSchema, required=True)
    findings = fields.Nested(FindingsSchema, load_default=dict)
    notes = fields.String(load_default="", validate=TEXT)
    photos = fields.List(fields.Nested(AnnouncedPhotoSchema), load_default=list, validate=validate.Length(max=20))
    # Why there is no photo; no default, so an old phone's body hashes as it always did.
    no_photo_reason = fields.String(allow_none=True, validate=validate.OneOf(list(NoPhotoReason)))
    discovery = fields.Nested(DiscoverySchema, load_default=None, allow_none=True)


class PhotoStateSchema(Schema):
    """Whether one announced photo has arrived, and whether its derived images are still being made."""

    id = fields.UUID()
    status = fields.String()
    processing = fields.Boolean()


class InspectionResultSchema(Schema):
    """The stored record as the server holds it."""

    id = fields.UUID()
    case_id = fields.Integer(allow_none=True)
    case_number = fields.Function(lambda i: i.case_number)
    captured_at = Moment()
    received_at = Moment()
    outside_own_grid = fields.Boolean()
    manual_location = fields.Boolean()
    photos = fields.List(fields.Nested(PhotoStateSchema))
    missing_photos = fields.Function(lambda i: [str(p.id) for p in i.photos if p.status != "received"])
    distance_to_case_m = fields.Float(allow_none=True)
    far_from_case = fields.Boolean()
    poor_accuracy = fields.Boolean()
    incomplete = fields.Boolean()
    missing = fields.List(fields.String())  # what the on-site rule says the check lacks
    counts_as_onsite = fields.Boolean()


class PhotoResultSchema(Schema):
    """A received photo."""

    id = fields.UUID()
    status = fields.String()
    sha256 = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    origin = fields.String(allow_none=True)
    exif_far_from_checkin = fields.Boolean()
    taken_before_visit = fields.Boolean()
    # True until the worker has made the thumbnail and display copy (their URLs answer 503 meanwhile).
    processing = fields.Boolean()
    original_received = fields.Function(lambda p: p.original_sha256 is not None)
    missing_photos = fields.Function(
        lambda p: [str(x.id) for x in p.inspection.photos if x.status != "received"])


class CardCodesRequestSchema(Schema):
    """Reserve card codes for one device."""

    device_id = fields.String(required=True, validate=validate.Length(min=4, max=64))
    count = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class CardCodesSchema(Schema):
    """Codes reserved for a device."""

    device_id = fields.String()
    codes = fields.List(fields.String())


class CardPutSchema(Schema):
    """A contact card as issued on the phone."""

    case_id = fields.Integer(required=True)
    handler_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # The number the citizen calls.
    handler_phone = fields.String(required=True, validate=validate.Regexp(
        rf"^{PHONE_NUMBER}$", error="联系电话应为数字号码，如 0513-86123456"))
    handler_unit = fields.String(required=True, validate=validate.Length(min=1, max=100))
    expected_reply_at = Moment(load_default=None, allow_none=True)
    issued_at = Moment(required=True)
    location = fields.Nested(LocationSchema, load_default=None, allow_none=True)
    device_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))

    @validates_schema
    def _reply_after_issue(self, data, **kwargs):
        """The citizen reads the card: a reply promised before it was handed over is a slip."""
        reply, issued = data.get("expected_reply_at"), data.get("issued_at")
        if reply is not None and issued is not None and reply < issued:
            raise ValidationError("预计答复时间不能早于发卡时间。", "expected_reply_at")


class CardResultSchema(Schema):
    """A stored card and where the citizen can follow the case."""

    code = fields.String()
    case_id = fields.Integer()
    case_number = fields.Function(lambda c: c.case_number)
    status_url = fields.Function(lambda c: f"/c/{c.code}")
    qr_svg_url = fields.Function(lambda c: f"/c/{c.code}/qr.svg")


class BootstrapSchema(Schema):
    """What the inspector app keeps for offline work (documentation: the view shapes it).

    ``user`` is the ``Me`` shape, ``cases`` the ``Case`` shape, ``patrol`` the ``PatrolToday`` shape.
    """

    user = fields.Dict(metadata={"description": "当前用户（同 /me）"})
    grid = fields.Dict(allow_none=True, metadata={"description": "本人网格（GeoJSON Feature）"})
    cases = fields.List(fields.Dict(), metadata={"description": "本网格未办结案件（同 Case）"})
    patrol = fields.Dict(metadata={"description": "今日巡查（同 /patrol/today）"})
    settings = fields.Dict(metadata={"description": "手机端使用的参数"})
    labels = fields.Dict(metadata={"description": "期限状态、巡查状态的中文名"})
    no_photo_reasons = fields.Dict(metadata={"description": "无法拍照的原因及中文名"})
    onsite_states = fields.List(fields.String(), metadata={"description": "可做现场核查的案件状态"})
    server_time = fields.String(metadata={"description": "服务器时间（ISO 8601）"})
    news = fields.Dict(metadata={"description": "未读消息数与最新未读消息（新任务）"})
    full = fields.Boolean(metadata={"description": "增量同步：手机应先清空已存案件"})
    removed = fields.List(fields.Integer(), metadata={"description": "增量同步：应删除的案件编号"})
    next = fields.String(allow_none=True, metadata={"description": "增量同步：还有下一页时用它再次请求"})
    sync_token = fields.String(allow_none=True, metadata={"description": "增量同步：最后一页时保存，下次同步带上"})


class BootstrapQuerySchema(Schema):
    """The phone's sync token: absent for an app from before delta sync (all open cases, whole),
    empty for a first sync, else the ``sync_token`` or ``next`` of the last answer."""

    since = fields.String(load_default=None, validate=validate.Length(max=500, error="同步标记无效。"))


class PhoneCaseSchema(Schema):
    """A case as the inspector app keeps it: what its task list, check form and contact card
    show, and the time it turns yellow, so the phone colours it on time while offline."""

    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    address = fields.String()
    category_label = fields.Function(lambda c: Category(c.category).label)
    status = fields.String()
    status_label = fields.Function(lambda c: CaseStatus(c.status).label)
    deadline_state = fields.String()
    due_at = Moment(allow_none=True)
    yellow_from = Moment(allow_none=True)
    location = LonLatField()
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    responsible_person = fields.Function(lambda c: staff_ref(c.responsible_person))
    petitioner = fields.Nested(PetitionerSchema)
