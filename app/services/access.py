"""The one access mechanism: what a user may see, and what they may do to a given case.

Every endpoint and page that touches cases goes through ``case_scope`` (a query filter)
and ``authorize`` (a check on one case). Outside a user's scope a case does not exist for
them: they get 404, never 403, so its existence is not revealed.
"""

from enum import StrEnum

from sqlalchemy import Select, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Case, User
from app.models.vocab import Role
from app.services.errors import Forbidden, NotFound


class Action(StrEnum):
    """Things a user may do to a case. Later rules add their actions here."""

    VIEW = "view"
    VIEW_PERSONAL_DATA = "view_personal_data"
    VIEW_ORIGINAL_PHOTO = "view_original_photo"


# Who may read a petitioner's name, phone and ID number (DOMAIN.md, Privacy): those who
# handle the case. Leaders, inspectors and admins see masked data only.
PERSONAL_DATA_ROLES = frozenset({Role.SUPERVISOR, Role.DEPARTMENT_OFFICER, Role.COMMAND_OFFICE})

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.INSPECTOR: frozenset({Action.VIEW}),
    Role.SUPERVISOR: frozenset({Action.VIEW, Action.VIEW_PERSONAL_DATA, Action.VIEW_ORIGINAL_PHOTO}),
    Role.DEPARTMENT_OFFICER: frozenset({Action.VIEW, Action.VIEW_PERSONAL_DATA, Action.VIEW_ORIGINAL_PHOTO}),
    Role.LEADING_OFFICIAL: frozenset({Action.VIEW}),
    Role.COMMAND_OFFICE: frozenset({Action.VIEW, Action.VIEW_PERSONAL_DATA, Action.VIEW_ORIGINAL_PHOTO}),
    Role.ADMIN: frozenset({Action.VIEW}),
}


def require_role(user: User, *roles: str) -> None:
    """For actions that are not about one case (editing rules, settings): role or Forbidden."""
    if user.role not in roles:
        raise Forbidden()


def case_scope(user: User) -> ColumnElement[bool]:
    """The WHERE clause selecting the cases this user may see."""
    role = user.role
    if role in (Role.COMMAND_OFFICE, Role.ADMIN):
        return true()
    if role == Role.INSPECTOR and user.grid_id is not None:
        return Case.grid_id == user.grid_id
    if role == Role.SUPERVISOR and user.grid_id is not None:
        return Case.town_id == user.grid_id
    if role == Role.DEPARTMENT_OFFICER and user.department_id is not None:
        return Case.department_id == user.department_id
    if role == Role.LEADING_OFFICIAL:
        return Case.leading_official_id == user.id
    return false()


def scoped_cases(user: User) -> Select:
    """A SELECT of the cases this user may see, ready for more filters."""
    return select(Case).where(case_scope(user))


def can(user: User, action: Action, case: Case) -> bool:
    """True when the user may take this action on this case (scope included)."""
    return action in ROLE_ACTIONS.get(user.role, frozenset()) and _in_scope(user, case)


def authorize(user: User, case_id: int, action: Action = Action.VIEW) -> Case:
    """Load a case for an action, or raise NotFound (out of scope) / Forbidden (in scope)."""
    case = db.session.scalar(scoped_cases(user).where(Case.id == case_id))
    if case is None:
        raise NotFound("案件不存在，或不在您的管辖范围内。")
    if action not in ROLE_ACTIONS.get(user.role, frozenset()):
        raise Forbidden()
    return case


def _in_scope(user: User, case: Case) -> bool:
    """Ask the database with the same filter, so the scope rule is written once."""
    query = select(Case.id).where(Case.id == case.id, case_scope(user))
    return db.session.scalar(query) is not None
