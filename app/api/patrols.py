"""Grid patrols: uploads from the inspector app, today's patrol list, and the patrol queries."""

import uuid

from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.extensions import db
from app.schemas.patrols import (
    CheckinPutSchema,
    CheckinResultSchema,
    PatrolDetailSchema,
    PatrolPageSchema,
    PatrolPutSchema,
    PatrolQuerySchema,
    PatrolResultSchema,
    PatrolTodaySchema,
)
from app.services.patrols import rounds

blp = ApiBlueprint("patrols", __name__, description="网格巡查 Grid patrols")


@blp.route("/patrols/<uuid:patrol_id>", methods=["PUT"])
@login_required
@blp.arguments(PatrolPutSchema)
@blp.response(200, PatrolResultSchema)
@blp.alt_response(201, schema=PatrolResultSchema)
def put_patrol(body, patrol_id: uuid.UUID):
    """Upload a patrol, again as it grows: track points are merged, start and end never change."""
    patrol, created = rounds.put_patrol(current_user, patrol_id, body)
    db.session.commit()
    return patrol, 201 if created else 200


@blp.route("/patrol-checkins/<uuid:checkin_id>", methods=["PUT"])
@login_required
@blp.arguments(CheckinPutSchema)
@blp.response(200, CheckinResultSchema)
@blp.alt_response(201, schema=CheckinResultSchema)
def put_checkin(body, checkin_id: uuid.UUID):
    """Upload a check-in at a source; a resend of the same content changes nothing."""
    checkin, created = rounds.put_checkin(current_user, checkin_id, body)
    db.session.commit()
    return checkin, 201 if created else 200


@blp.route("/patrol/today", methods=["GET"])
@login_required
@blp.response(200, PatrolTodaySchema)
def get_today():
    """Today's patrol: every active source of my grid with its due state, overdue first."""
    return rounds.today_for(current_user)


@blp.route("/patrols", methods=["GET"])
@login_required
@blp.arguments(PatrolQuerySchema, location="query", as_kwargs=True)
@blp.response(200, PatrolPageSchema)
def get_patrols(page: int, per_page: int, **filters):
    """Patrols in the caller's scope, newest first, by date range, inspector, grid or town."""
    return rounds.list_patrols(current_user, page=page, per_page=per_page, **filters)


@blp.route("/patrols/<uuid:patrol_id>", methods=["GET"])
@login_required
@blp.response(200, PatrolDetailSchema)
def get_patrol(patrol_id: uuid.UUID):
    """One patrol with its track (GeoJSON LineString) and check-ins; 404 outside scope."""
    return rounds.patrol_detail(current_user, patrol_id)
