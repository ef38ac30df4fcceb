"""The one access mechanism: what a user's role may do, what they may see, and what they
may do to a given case.

Capability (``may``, ``require``) is a question of role only, answered from one table,
``CAPABILITIES``, by code and templates alike. Scope is the other question: every endpoint
and page that touches cases goes through ``case_scope`` (a query filter) and ``authorize``
(a check on one case). Outside a user's scope a case does not exist for them: they get
404, never 403, so its existence is not revealed.
"""

from enum import StrEnum

from sqlalchemy import Select, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Case, Exposure, Grid, SectorRoute, Source, User, source_cases
from app.models.vocab import Role
from app.services.read_memo import note, remembered


class Action(StrEnum):
    """Things a user may do to a case (each is also a capability below)."""

    VIEW = "view"
    VIEW_PERSONAL_DATA = "view_personal_data"
    VIEW_ORIGINAL_PHOTO = "view_original_photo"


# Those who handle cases read a petitioner's name, phone and ID number and the original
# photos (DOMAIN.md, Privacy). Leaders, inspectors and admins see masked data only.
_HANDLERS = frozenset({Role.SUPERVISOR, Role.DEPARTMENT_OFFICER, Role.COMMAND_OFFICE})

# What each role may do: the one table. Pages, the API, services and templates ask ``may``.
CAPABILITIES: dict[str, frozenset[Role]] = {
    Action.VIEW: frozenset(Role),
    Action.VIEW_PERSONAL_DATA: _HANDLERS,
    Action.VIEW_ORIGINAL_PHOTO: _HANDLERS,
    "register_cases": frozenset({Role.SUPERVISOR, Role.COMMAND_OFFICE}),
    "edit_sources": frozenset({Role.SUPERVISOR, Role.COMMAND_OFFICE, Role.ADMIN}),
    "patrol_compliance": frozenset({Role.INSPECTOR, Role.SUPERVISOR, Role.COMMAND_OFFICE, Role.ADMIN}),
    "wall": frozenset({Role.COMMAND_OFFICE, Role.ADMIN}),
    "administer": frozenset({Role.ADMIN}),
    # Who goes on site and so uploads field records (on-site checks, patrols, contact cards).
    "upload_field_records": frozenset({Role.INSPECTOR, Role.SUPERVISOR, Role.DEPARTMENT_OFFICER}),
    # The campaign (专项行动): the phase board, the reports, and who files or acts on what.
    "campaign_overview": frozenset({Role.COMMAND_OFFICE, Role.ADMIN, Role.SUPERVISOR}),
    "campaign_reports": frozenset({Role.COMMAND_OFFICE, Role.ADMIN, Role.LEADING_OFFICIAL}),
    "manage_campaigns": frozenset({Role.COMMAND_OFFICE, Role.ADMIN}),
    "submit_documents": frozenset({Role.SUPERVISOR, Role.COMMAND_OFFICE}),
    "receive_documents": frozenset({Role.COMMAND_OFFICE}),
    "view_receptions": frozenset(Role) - {Role.INSPECTOR},
    "record_receptions": frozenset({Role.COMMAND_OFFICE, Role.SUPERVISOR, Role.DEPARTMENT_OFFICER}),
    "record_failures": frozenset({Role.COMMAND_OFFICE}),
    "handle_alerts": frozenset({Role.COMMAND_OFFICE}),
    "run_special_checks": frozenset({Role.COMMAND_OFFICE}),
    # Media exposure (媒体曝光) of long-unresolved cases: the command office proposes, a leading
    # official decides; either may withdraw a published one. Exposures carry no personal data.
    "propose_exposure": frozenset({Role.COMMAND_OFFICE}),
    "approve_exposure": frozenset({Role.LEADING_OFFICIAL}),
    "withdraw_exposure": frozenset({Role.COMMAND_OFFICE, Role.LEADING_OFFICIAL}),
}


def may(user: User, what: str) -> bool:
    """True when the user's role may do ``what`` (a key of ``CAPABILITIES``; a typo raises).

    Anonymous visitors have no role and may nothing. Scope is not asked here.
    """
    return getattr(user, "role", None) in CAPABILITIES[what]


def require(user: User, what: str, message: str | None = None) -> None:
    """Forbidden unless ``may(user, what)``; ``message`` may say in Chinese who may."""
    if not may(user, what):
        raise Forbidden(message) if message else Forbidden()


def require_field_user(user: User) -> None:
    """Only people who go on site upload field records."""
    if not may(user, "upload_field_records"):
        raise Forbidden("只有网格员和办案人员可以上传现场记录。")


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
    return may(user, action) and _in_scope(user, case)


def cases_in_scope(user: User, case_ids: list[int]) -> set[int]:
    """Which of these cases the user may see, with one query for a whole page."""
    if not case_ids:
        return set()
    return set(db.session.scalars(select(Case.id).where(Case.id.in_(case_ids), case_scope(user))))


def authorize(user: User, case_id: int, action: Action = Action.VIEW, options: tuple = ()) -> Case:
    """Load a case for an action, or raise NotFound (out of scope) / Forbidden (in scope).
    ``options`` load what the caller will show with it in the same statement."""
    case = db.session.scalar(scoped_cases(user).options(*options).where(Case.id == case_id))
    if case is None:
        raise NotFound("案件不存在，或不在您的管辖范围内。")
    note(_scope_key(user, case.id), True)  # loaded through the scope filter: in scope
    require(user, action)
    return case


def _in_scope(user: User, case: Case) -> bool:
    """Ask the database with the same filter, so the scope rule is written once.

    The answer is remembered until the session writes (``read_memo``): the case page asks
    ``can`` for every action it offers, and each asked the database the same question.
    """
    return remembered(_scope_key(user, case.id), lambda: _asked_in_scope(user, case.id))


def _scope_key(user: User, case_id: int) -> tuple:
    """What the scope answer depends on: who asks (with their place) and which case."""
    return ("case_scope", user.id, user.role, user.grid_id, user.department_id, case_id)


def _asked_in_scope(user: User, case_id: int) -> bool:
    """The database's answer: does the scope filter let this case through?"""
    return db.session.scalar(select(Case.id).where(Case.id == case_id, case_scope(user))) is not None


# ---------------------------------------------------------------- sources and patrols
# The source register and patrols follow the same rule as cases: outside scope a row does
# not exist (404). Inspectors see their grid, supervisors their town, departments the
# sectors routed to them, leaders the sources of the cases they lead.

def source_scope(user: User) -> ColumnElement[bool]:
    """The WHERE clause selecting the watched sources (监管对象) this user may see."""
    role = user.role
    if role in (Role.COMMAND_OFFICE, Role.ADMIN):
        return true()
    if role == Role.INSPECTOR and user.grid_id is not None:
        return Source.grid_id == user.grid_id
    if role == Role.SUPERVISOR and user.grid_id is not None:
        return Source.town_id == user.grid_id
    if role == Role.DEPARTMENT_OFFICER and user.department_id is not None:
        routed = select(SectorRoute.sector).where(SectorRoute.department_id == user.department_id)
        return Source.sector.in_(routed)
    if role == Role.LEADING_OFFICIAL:
        led = (select(source_cases.c.source_id).join(Case, Case.id == source_cases.c.case_id)
               .where(Case.leading_official_id == user.id))
        return Source.id.in_(led)
    return false()


def authorize_source(user: User, source_id: int, edit: bool = False) -> Source:
    """Load a source for reading or editing, or raise NotFound (out of scope) / Forbidden."""
    source = db.session.scalar(select(Source).where(Source.id == source_id, source_scope(user)))
    if source is None:
        raise NotFound("监管对象不存在，或不在您的管辖范围内。")
    if edit:
        require(user, "edit_sources", "只有二级网格管理员、指挥部办公室和系统管理员可以修改监管对象台账。")
    return source


def grid_scope(user: User, grid_column) -> ColumnElement[bool]:
    """The WHERE clause for rows kept per grid (patrols, check-ins): my grid, or my town's."""
    role = user.role
    if role in (Role.COMMAND_OFFICE, Role.ADMIN):
        return true()
    if role == Role.INSPECTOR and user.grid_id is not None:
        return grid_column == user.grid_id
    if role == Role.SUPERVISOR and user.grid_id is not None:
        villages = select(Grid.id).where(Grid.parent_id == user.grid_id)
        return (grid_column == user.grid_id) | grid_column.in_(villages)
    return false()


def places_to_filter_by(user: User) -> tuple[list, list]:
    """The towns and villages a user may filter lists by, in code order: a supervisor's town
    and its villages, an inspector's own village, all of them for everyone else. Rows of id, code,
    name, parent_id and level only: a filter needs no boundary (read whole, the city's 300
    polygons were a noticeable part of every queue page)."""
    query = select(Grid.id, Grid.code, Grid.name, Grid.parent_id, Grid.level).where(
        Grid.level.in_((2, 3))).order_by(Grid.code)
    if user.role == Role.SUPERVISOR:
        query = query.where((Grid.parent_id == user.grid_id) | (Grid.id == user.grid_id))
    elif user.role == Role.INSPECTOR:
        query = query.where(Grid.id == user.grid_id)
    places = db.session.execute(query).all()
    return [p for p in places if p.level == 2], [p for p in places if p.level == 3]


# ---------------------------------------------------------------- media exposures
# An exposure's text is written for the public and carries no personal data. Those who decide
# on exposures (leading officials) see every proposal, not only those of the cases they lead:
# a leader must not be the only judge of exposing their own case. Everyone else sees the
# exposures of the cases in their scope.

def exposure_scope(user: User) -> ColumnElement[bool]:
    """The WHERE clause selecting the exposure records (媒体曝光) this user may see."""
    if may(user, "approve_exposure"):
        return true()
    return Exposure.case_id.in_(select(Case.id).where(case_scope(user)))
