"""Cases as the API shows them; the petitioner block is shaped by services.privacy."""

from flask_login import current_user
from marshmallow import Schema, fields, validate

from app.models.vocab import CaseStatus, Category, Channel, InspectionReferral, ListKind
from app.schemas.common import DepartmentRefSchema, GridRefSchema, LonLatField, PageMetaSchema, PageQuerySchema
from app.services.privacy import petitioner_view


class CaseQuerySchema(PageQuerySchema):
    """Filters for the case list; every filter narrows the user's own scope."""

    status = fields.List(fields.String(validate=validate.OneOf(list(CaseStatus))), load_default=None)
    grid_id = fields.Integer(load_default=None)
    town_id = fields.Integer(load_default=None)
    category = fields.String(load_default=None, validate=validate.OneOf(list(Category)))
    channel = fields.String(load_default=None, validate=validate.OneOf(list(Channel)))
    list_kind = fields.String(load_default=None, validate=validate.OneOf(list(ListKind)))
    inspection_referral = fields.String(load_default=None, validate=validate.OneOf(list(InspectionReferral)))
    above_level = fields.Boolean(load_default=None)
    repeat = fields.Boolean(load_default=None)
    dissatisfied = fields.Boolean(load_default=None)
    superior_assigned = fields.Boolean(load_default=None)
    open = fields.Boolean(load_default=None)


class PetitionerSchema(Schema):
    """The petitioner, whole or masked as the viewer's role allows."""

    anonymous = fields.Boolean()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True)
    masked = fields.Boolean()


class CaseSchema(Schema):
    """One case."""

    id = fields.Integer()
    number = fields.String()
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
    grid = fields.Nested(GridRefSchema, allow_none=True)
    town = fields.Nested(GridRefSchema, allow_none=True)
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    responsible_person = fields.Function(lambda c: _person(c.responsible_person))
    leading_official = fields.Function(lambda c: _person(c.leading_official))
    petitioner = fields.Method("get_petitioner")
    above_level = fields.Boolean()
    above_level_count = fields.Integer()
    repeat_of_id = fields.Integer(allow_none=True)
    dissatisfied = fields.Boolean()
    superior_assigned = fields.Boolean()
    inspection_referral = fields.String(allow_none=True)
    suspected_crime = fields.Boolean()
    received_at = fields.AwareDateTime()
    accepted_at = fields.AwareDateTime(allow_none=True)
    assigned_at = fields.AwareDateTime(allow_none=True)
    signed_at = fields.AwareDateTime(allow_none=True)
    first_onsite_at = fields.AwareDateTime(allow_none=True)
    replied_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    sign_due_at = fields.AwareDateTime(allow_none=True)
    onsite_due_at = fields.AwareDateTime(allow_none=True)
    notice_due_at = fields.AwareDateTime(allow_none=True)
    handle_due_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)

    def get_petitioner(self, case) -> dict:
        """Whole for those who handle the case, masked for everyone else."""
        return PetitionerSchema().dump(petitioner_view(case, current_user))


def _person(user) -> dict | None:
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
