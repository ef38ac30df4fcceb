"""Notifications as the desk badge and the phone read them."""

from marshmallow import Schema, fields, validate

from app.models.vocab import NotificationKind
from app.schemas.common import Moment

_URGENT = frozenset(k.value for k in NotificationKind if k.urgent)


class NotificationSchema(Schema):
    """One message: what kind of work, about which case, when."""

    id = fields.Integer()
    kind = fields.String()
    kind_label = fields.Function(lambda n: NotificationKind.labels().get(n.kind, n.kind))
    urgent = fields.Function(lambda n: n.kind in _URGENT)
    message = fields.String()
    case_id = fields.Integer(allow_none=True)
    created_at = Moment()
    read = fields.Function(lambda n: n.read_at is not None)


class NotificationSummarySchema(Schema):
    """The badge: how many unread, and the newest unread ones."""

    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationSchema))


summary_schema = NotificationSummarySchema()


class MarkReadSchema(Schema):
    """Which notifications to mark read; none given: all of them."""

    ids = fields.List(fields.Integer(strict=True, error_messages={"invalid": "消息编号应为整数。"}),
                      load_default=None, validate=validate.Length(max=500, error="一次最多500条。"))
