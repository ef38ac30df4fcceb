"""Lifecycle actions on a case: one POST per transition, the actions open now, the timeline."""

from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.extensions import db
from app.schemas.cases import CaseSchema
from app.schemas.lifecycle import STEP_SCHEMAS, StepInfoSchema, TimelineEventSchema
from app.services.access import authorize
from app.services.cases.lifecycle import STEPS, offered_steps, take
from app.services.cases.queries import case_view
from app.services.cases.records import timeline_of

blp = ApiBlueprint("lifecycle", __name__, description="案件办理流程 Case lifecycle")


@blp.route("/<int:case_id>/actions", methods=["GET"])
@login_required
@blp.response(200, StepInfoSchema(many=True))
def get_actions(case_id: int):
    """The lifecycle actions the caller may take on this case, each ready (``waiting_for`` empty) or
    waiting for something to happen on the case first (taking it now answers 409 with those reasons)."""
    return offered_steps(current_user, authorize(current_user, case_id))


@blp.route("/<int:case_id>/timeline", methods=["GET"])
@login_required
@blp.response(200, TimelineEventSchema(many=True))
def get_timeline(case_id: int):
    """The case's hash-chained timeline, oldest first."""
    return timeline_of(authorize(current_user, case_id))


def _action_view(name: str):
    """A POST handler for one transition, documented with its own payload schema."""

    def view(data, case_id: int):
        case = take(current_user, case_id, name, data)
        db.session.commit()
        return case_view(current_user, case)

    view.__name__ = f"take_{name}"
    view.__doc__ = f"{STEPS[name].label}（{name}）\n\n409 lists what is missing; 404 outside the caller's scope."
    view = blp.response(200, CaseSchema)(view)
    view = blp.arguments(type(STEP_SCHEMAS[name]))(view)
    return login_required(view)


for _name in STEP_SCHEMAS:
    blp.route(f"/<int:case_id>/actions/{_name}", methods=["POST"], endpoint=f"take_{_name}")(_action_view(_name))
