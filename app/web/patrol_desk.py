"""The supervisors' patrol pages (巡查考核): compliance per town, village grid and person with the
overdue sources and recent patrols, one grid's sources figure by figure, and one patrol on the
map with its track and check-ins.

Scope is the same as the API's: ``services.patrol_compliance`` for the figures and
``services.patrols`` for patrols, both through ``access.grid_scope``; a patrol or grid out of
scope is a 404.
"""

import uuid
from datetime import date

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Grid
from app.models.vocab import GRID_LEVEL_NAMES, CheckinOutcome, Role
from app.schemas.messages import first_message, labelled
from app.schemas.patrol_compliance import ComplianceQuerySchema, OverdueQuerySchema
from app.services.access import grid_scope, require
from app.services.clock import beijing_date
from app.services.patrols import compliance as patrol_compliance
from app.services.patrols import rounds

bp = Blueprint("patrol_desk", __name__, url_prefix="/desk/patrols", template_folder="templates")

RECENT_PATROLS = 20


def _query(schema, keys: tuple[str, ...]) -> dict:
    """Load some query-string fields with the API's schema; blank fields count as not given."""
    raw = {key: request.args[key] for key in keys if request.args.get(key)}
    try:
        return schema.load(raw)
    except ValidationError as exc:
        raise InvalidInput(first_message(exc.messages), labelled(exc.messages)) from exc


def _towns() -> list[Grid]:
    """Towns the user may pick (city-wide roles only; a supervisor has one)."""
    if current_user.role not in (Role.COMMAND_OFFICE, Role.ADMIN):
        return []
    return list(db.session.scalars(select(Grid).where(Grid.level == 2, grid_scope(current_user, Grid.id))
                                   .order_by(Grid.code)))


@bp.app_template_global()
def case_patrol_checkins(case_id: int) -> list:
    """For the case page: the patrol check-ins that found this case, with their patrols."""
    return patrol_compliance.case_checkins(case_id)


@bp.get("/")
@login_required
def compliance_page():
    """Patrol compliance for a period: headline figures, overdue sources, tables, recent patrols."""
    args = _query(ComplianceQuerySchema(), ("start", "end", "town_id"))
    level = _query(OverdueQuerySchema(), ("level",))["level"]
    report = patrol_compliance.compliance(current_user, args["start"], args["end"], args["town_id"])
    overdue = patrol_compliance.overdue_sources(current_user, level, town_id=args["town_id"])
    recent = rounds.list_patrols(current_user, per_page=RECENT_PATROLS, start=report["start_on"],
                                  end=report["end_on"], town_id=args["town_id"])
    return render_template("patrol_desk/compliance.html", report=report, overdue=overdue, level=level,
                           recent=recent["items"], recent_total=recent["meta"]["total"], towns=_towns(),
                           args=args, levels=GRID_LEVEL_NAMES)


@bp.get("/grids/<int:grid_id>")
@login_required
def grid_page(grid_id: int):
    """One village grid: each source's rule, days judged, required, done, patrol days and state."""
    args = _query(ComplianceQuerySchema(), ("start", "end"))
    detail = patrol_compliance.grid_detail(current_user, grid_id, args["start"], args["end"])
    return render_template("patrol_desk/grid.html", detail=detail, args=args)


@bp.get("/<uuid:patrol_id>")
@login_required
def patrol_page(patrol_id: uuid.UUID):
    """One patrol: who, when, how far, and the map with its grid, track, sources and check-ins."""
    require(current_user, "patrol_compliance")
    patrol = rounds.patrol_detail(current_user, patrol_id)
    grid_level = patrol.grid.level if patrol.grid else 3
    return render_template("patrol_desk/patrol.html", patrol=patrol, grid_level=grid_level,
                           geo=patrol_compliance.patrol_map(current_user, patrol), outcomes=CheckinOutcome.labels(),
                           duration=_minutes(patrol), day=_day(patrol))


def _minutes(patrol) -> int | None:
    """How long the patrol lasted, in whole minutes (None while it is open)."""
    if patrol.ended_at is None:
        return None
    return int((patrol.ended_at - patrol.started_at).total_seconds() // 60)


def _day(patrol) -> date:
    """The Beijing date the patrol started."""
    return beijing_date(patrol.started_at)
