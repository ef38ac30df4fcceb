"""Pages for long-unresolved cases (久拖不解) and media exposure (媒体曝光): the desk's list with
the exposures to decide, the exposure steps, the case page's exposure section, and the public
page of published exposures with its printable media release."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, Department, Grid
from app.models.vocab import ExposureStatus, LongUnresolvedReason, Role
from app.schemas.long_unresolved import LongUnresolvedQuerySchema
from app.services import clock
from app.services.campaign import exposures
from app.services.cases import long_unresolved
from app.services.geo.place_names import city_name
from app.services.settings import get_setting
from app.web.forms import attempt

bp = Blueprint("long_unresolved_pages", __name__, template_folder="templates")
_FILTERS = LongUnresolvedQuerySchema(unknown=EXCLUDE)


@bp.app_context_processor
def _case_page_helpers() -> dict:
    """What the case page asks about a case: why it is listed, and its exposure records."""
    return {"listing_reasons": _listing_reasons, "case_exposures": _case_exposures,
            "exposure_statuses": ExposureStatus.labels()}


def _listing_reasons(case: Case) -> list[dict]:
    """The reasons a case is on the long-unresolved list now (none when it is not)."""
    now = clock.now()
    if not long_unresolved.is_listed(case, now):
        return []
    return long_unresolved.reasons(case, now, long_unresolved.criteria())


def _case_exposures(case: Case) -> list[dict]:
    """The case's exposure records the user may see, newest first."""
    now = clock.now()
    return [exposures.record_view(row, now) for row in exposures.exposure_records(current_user, case_id=case.id)]


@bp.get("/desk/long-unresolved")
@login_required
def list_page():
    """The 久拖不解 list in the user's scope, per town and department, with the exposures to act on."""
    try:
        filters = _FILTERS.load({k: v for k, v in request.args.items() if v.strip()})
    except ValidationError as exc:
        raise InvalidInput("筛选条件有误，请重新选择后再筛选。", exc.messages) from None
    now = clock.now()
    page = long_unresolved.long_unresolved_page(current_user, now, **filters)
    records = [exposures.record_view(row, now) for row in exposures.exposure_records(current_user)]
    return render_template(
        "long_unresolved/list.html", page=page, filters=filters, records=records,
        towns=_towns(), departments=list(db.session.scalars(select(Department).order_by(Department.id))),
        reasons=LongUnresolvedReason.labels(), revisit_days=get_setting("revisit_interval_days"),
    )


def _towns() -> list[Grid]:
    """Towns the user may filter by: their own for a supervisor, all for city-wide roles."""
    query = select(Grid).where(Grid.level == 2).order_by(Grid.code)
    if current_user.role == Role.SUPERVISOR:
        query = query.where(Grid.id == current_user.grid_id)
    return list(db.session.scalars(query))


@bp.post("/desk/cases/<int:case_id>/exposure")
@login_required
def propose(case_id: int):
    """Propose a case for media exposure from its page (command office)."""
    with attempt("已提议媒体曝光，等待领导审批。", not_found_page=True):
        exposures.propose(current_user, case_id, request.form.get("responsible_unit", ""),
                          request.form.get("failings", ""), clock.now())
    return redirect(url_for("desk.case_page", case_id=case_id, _anchor="exposures"))


@bp.post("/desk/exposures/<int:exposure_id>/<decision>")
@login_required
def decide(exposure_id: int, decision: str):
    """Approve, reject or withdraw an exposure from the list page."""
    now, note = clock.now(), request.form.get("note", "")
    steps = {
        "approve": ("已批准，曝光已公开发布。", lambda: exposures.decide(current_user, exposure_id, True, note, now)),
        "reject": ("已决定不予曝光。", lambda: exposures.decide(current_user, exposure_id, False, note, now)),
        "withdraw": ("已撤回曝光，公开页面不再显示，记录保留。",
                     lambda: exposures.withdraw(current_user, exposure_id, note, now)),
    }
    if decision not in steps:
        abort(404)
    message, run = steps[decision]
    with attempt(message, not_found_page=True):
        run()
    return redirect(url_for("long_unresolved_pages.list_page", _anchor="exposures"))


@bp.get("/exposures")
def public_page():
    """Published exposures for the public (no sign-in): no petitioner data, no address."""
    return render_template("long_unresolved/public.html", items=exposures.published(clock.now()), now=clock.now(),
                           city=city_name())


@bp.get("/exposures/print")
def print_page():
    """The published exposures laid out on paper for a media release."""
    return render_template("long_unresolved/print.html", items=exposures.published(clock.now()), now=clock.now(),
                           city=city_name())
