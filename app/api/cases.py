"""Cases: the list a user may see, and one case."""

from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.extensions import db
from app.schemas.cases import (
    CaseCreatedSchema,
    CaseCreateSchema,
    CasePageSchema,
    CaseQuerySchema,
    CaseSchema,
    RepeatCandidateSchema,
    RepeatQuerySchema,
    TabCountsSchema,
)
from app.services.access import Action, authorize
from app.services.cases.intake import register_case, repeat_candidates
from app.services.cases.queries import case_view, case_views, list_cases, tab_counts
from app.services.geo.coords import to_wgs84

blp = ApiBlueprint("cases", __name__, description="案件 Cases")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(CaseQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CasePageSchema)
def get_cases(page: int, per_page: int, **filters):
    """Cases in the caller's scope, nearest due time first, filtered and paged."""
    cases = list_cases(current_user, page=page, per_page=per_page, **filters)
    return cases | {"items": case_views(current_user, cases["items"])}


@blp.route("/tab-counts", methods=["GET"])
@login_required
@blp.arguments(CaseQuerySchema, location="query", as_kwargs=True)
@blp.response(200, TabCountsSchema)
def get_tab_counts(page: int, per_page: int, **filters):
    """How many cases each queue tab (待签收, 待办理, 即将超期, 已超期, 我交办的, 全部) holds
    under the same filters as the list; ``tab`` itself is ignored."""
    return tab_counts(current_user, **filters)


@blp.route("/<int:case_id>", methods=["GET"])
@login_required
@blp.response(200, CaseSchema)
def get_case(case_id: int):
    """One case; 404 when it is outside the caller's scope."""
    return case_view(current_user, authorize(current_user, case_id, Action.VIEW))


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(CaseCreateSchema)
@blp.response(201, CaseCreatedSchema)
def create_case(data):
    """Register a case: grid, town, department and number are assigned; repeats are offered."""
    case, candidates = register_case(current_user, data)
    db.session.commit()
    return {"case": case_view(current_user, case), "repeat_candidates": candidates}


@blp.route("/repeat-candidates", methods=["GET"])
@login_required
@blp.arguments(RepeatQuerySchema, location="query")
@blp.response(200, RepeatCandidateSchema(many=True))
def get_repeat_candidates(query):
    """Earlier cases in scope from the same phone, or of the same category nearby."""
    lon, lat = to_wgs84(query["lon"], query["lat"], query["coord_system"])
    return repeat_candidates(current_user, lon, lat, query["category"], query.get("phone"))
