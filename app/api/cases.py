"""Cases: the list a user may see, and one case."""

from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.schemas.cases import CasePageSchema, CaseQuerySchema, CaseSchema
from app.services.access import Action, authorize
from app.services.case_queries import list_cases

blp = Blueprint("cases", __name__, description="案件 Cases")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(CaseQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CasePageSchema)
def get_cases(page: int, per_page: int, **filters):
    """Cases in the caller's scope, nearest due time first, filtered and paged."""
    return list_cases(current_user, page=page, per_page=per_page, **filters)


@blp.route("/<int:case_id>", methods=["GET"])
@login_required
@blp.response(200, CaseSchema)
def get_case(case_id: int):
    """One case; 404 when it is outside the caller's scope."""
    return authorize(current_user, case_id, Action.VIEW)
