"""Login and the signed-in user."""

from marshmallow import Schema, fields, validate

from app.models.vocab import Role
from app.schemas.common import DepartmentRefSchema, GridRefSchema


class LoginSchema(Schema):
    """Credentials for ``POST /api/v1/auth/login``."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class MeSchema(Schema):
    """The signed-in user, their role and their scope, from a ``SignedIn`` (api.auth) that
    brings the CSRF token for the client's next state-changing request."""

    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    role = fields.String()
    role_label = fields.Function(lambda u: Role(u.role).label)
    phone = fields.String()
    unit = fields.String()
    grid = fields.Nested(GridRefSchema, allow_none=True)
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    scope = fields.Function(lambda u: scope_description(u))
    csrf_token = fields.String(dump_only=True)


def scope_description(user) -> str:
    """Say in Chinese what this user can see."""
    if user.role in (Role.COMMAND_OFFICE, Role.ADMIN):
        return "全市"
    if user.role in (Role.INSPECTOR, Role.SUPERVISOR) and user.grid is not None:
        return user.grid.name
    if user.role == Role.DEPARTMENT_OFFICER and user.department is not None:
        return f"{user.department.name}承办的案件"
    if user.role == Role.LEADING_OFFICIAL:
        return "本人包案的案件"
    return "无"


class CsrfSchema(Schema):
    """A CSRF token."""

    csrf_token = fields.String()


login_schema = LoginSchema()
me_schema = MeSchema()
