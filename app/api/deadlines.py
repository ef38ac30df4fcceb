"""Deadline rules and the working-day calendar: everyone signed in reads, the admin edits."""

from zoneinfo import ZoneInfo

from flask import current_app
from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.api.decorators import admin_only
from app.extensions import db
from app.schemas.deadlines import CalendarDaySchema, CalendarQuerySchema, DeadlineRulePatchSchema, DeadlineRuleSchema
from app.services import clock
from app.services.admin import changes as admin_changes
from app.services.cases.deadlines import list_rules
from app.services.cases.workcalendar import calendar_days, parse_day

blp = ApiBlueprint("deadlines", __name__, description="时限规则与工作日历 Deadline rules and working calendar")


@blp.route("/deadline-rules", methods=["GET"])
@login_required
@blp.response(200, DeadlineRuleSchema(many=True))
def get_rules():
    """Every deadline rule, active or not, grouped by stage."""
    return list_rules()


@blp.route("/deadline-rules", methods=["POST"])
@login_required
@admin_only
@blp.arguments(DeadlineRuleSchema)
@blp.response(201, DeadlineRuleSchema)
def post_rule(data):
    """Add a rule (admin); 409 when one with the same stage and filters exists."""
    rule = admin_changes.add_deadline_rule(current_user, **data)
    db.session.commit()
    return rule


@blp.route("/deadline-rules/<int:rule_id>", methods=["PATCH"])
@login_required
@admin_only
@blp.arguments(DeadlineRulePatchSchema)
@blp.response(200, DeadlineRuleSchema)
def patch_rule(changes, rule_id: int):
    """Change a rule's amount, unit, basis or active flag (admin); clocks already running keep theirs."""
    rule = admin_changes.change_deadline_rule(current_user, rule_id, **changes)
    db.session.commit()
    return rule


@blp.route("/calendar", methods=["GET"])
@login_required
@blp.arguments(CalendarQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CalendarDaySchema(many=True))
def get_calendar(year: int | None):
    """The days of a year that differ from the plain week (holidays, make-up working days)."""
    if year is None:
        year = clock.now().astimezone(ZoneInfo(current_app.config["TIME_ZONE"])).year
    return calendar_days(year)


@blp.route("/calendar/<day>", methods=["PUT"])
@login_required
@admin_only
@blp.arguments(CalendarDaySchema)
@blp.response(200, CalendarDaySchema)
def put_calendar_day(data, day: str):
    """Make a day (YYYY-MM-DD) a working or non-working day (admin); running clocks keep their due time."""
    row = admin_changes.set_calendar_day(current_user, parse_day(day), data["is_working_day"], data["name"])
    db.session.commit()
    return row


@blp.route("/calendar/<day>", methods=["DELETE"])
@login_required
@admin_only
@blp.response(204)
def delete_calendar(day: str):
    """Return a day (YYYY-MM-DD) to the plain week (admin); ``flask deadlines seed`` restores a notice's day."""
    admin_changes.delete_calendar_day(current_user, parse_day(day))
    db.session.commit()
