"""The map wall (挂图作战): viewport clusters, case cards, village shading, panels, live events.

Only the command office and administrators may call these; every query still goes
through ``access.case_scope``. Nothing returned carries personal data.
"""

from flask import Response, current_app, request, stream_with_context
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from app.services import clock
from app.services.wall import (
    STATE_RANKS,
    Viewport,
    case_card,
    etag_for,
    require_wall_user,
    viewport_features,
    village_measures,
)
from app.services.wall_events import event_stream
from app.services.wall_panels import wall_panels

blp = Blueprint("wall", __name__, description="挂图作战 Map wall")

FLAGS = ("above_level", "inspection", "leader", "repeat")


class WallFilterSchema(Schema):
    """The wall's filters: period, category, channel, deadline state, flags, town."""

    received_from = fields.AwareDateTime(load_default=None)
    received_to = fields.AwareDateTime(load_default=None)
    category = fields.List(fields.String(), load_default=list)
    channel = fields.List(fields.String(), load_default=list)
    state = fields.List(fields.String(validate=validate.OneOf(list(STATE_RANKS))), load_default=list)
    flag = fields.List(fields.String(validate=validate.OneOf(FLAGS)), load_default=list)
    town_id = fields.Integer(load_default=None)


class ViewportSchema(WallFilterSchema):
    """A viewport: the WGS-84 box and the Leaflet zoom, plus the filters."""

    west = fields.Float(required=True, validate=validate.Range(-180, 180))
    south = fields.Float(required=True, validate=validate.Range(-90, 90))
    east = fields.Float(required=True, validate=validate.Range(-180, 180))
    north = fields.Float(required=True, validate=validate.Range(-90, 90))
    zoom = fields.Integer(required=True, validate=validate.Range(0, 22))

    @validates_schema
    def _box_not_empty(self, data, **kwargs):
        """West must be west of east and south south of north."""
        if data["west"] >= data["east"] or data["south"] >= data["north"]:
            raise ValidationError("范围无效：应 west < east 且 south < north。")


class EventQuerySchema(Schema):
    """How long to keep the stream open (tests and proxies shorten it)."""

    max_seconds = fields.Float(load_default=None, validate=validate.Range(0, 3600))


def _cached(payload_of, query: dict) -> Response:
    """Answer 304 when the client's ETag is current, else the payload with its ETag."""
    now = clock.now()
    etag = etag_for(current_user, now, query)
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = current_app.json.response(payload_of(now))
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.route("/viewport", methods=["GET"])
@login_required
@blp.arguments(ViewportSchema, location="query")
def get_viewport(query):
    """Clusters for a box and zoom (exact counts, worst state), or single cases at high zoom."""
    require_wall_user(current_user)
    box = {k: query.pop(k) for k in ("west", "south", "east", "north", "zoom")}
    view = Viewport(**box)
    return _cached(lambda now: viewport_features(current_user, view, now, query), {**box, **query})


@blp.route("/villages", methods=["GET"])
@login_required
@blp.arguments(WallFilterSchema, location="query")
def get_villages(query):
    """Open, overdue and score per village, for shading the village grids."""
    require_wall_user(current_user)
    return _cached(lambda now: {"villages": village_measures(current_user, now, query)}, {"villages": query})


@blp.route("/panels", methods=["GET"])
@login_required
def get_panels():
    """The side panels: campaign phase, totals, progress, rates, categories, town ranking."""
    require_wall_user(current_user)
    return _cached(lambda now: wall_panels(current_user, now), {"panels": True})


@blp.route("/cases/<int:case_id>", methods=["GET"])
@login_required
def get_case_card(case_id: int):
    """A case card: number, category, town, state, due time, responsible unit. No personal data."""
    require_wall_user(current_user)
    card = case_card(current_user, case_id, clock.now())
    card["due_at"] = card["due_at"].isoformat() if card["due_at"] else None
    return card


@blp.route("/events", methods=["GET"])
@login_required
@blp.arguments(EventQuerySchema, location="query")
def get_events(query):
    """A text/event-stream of case events (new_case, state_change, turned_red, closed)."""
    require_wall_user(current_user)
    last = request.headers.get("Last-Event-ID", "")
    config = current_app.config
    max_seconds = query["max_seconds"] if query["max_seconds"] is not None else config["WALL_SSE_MAX_SECONDS"]
    user = current_user._get_current_object()
    stream = event_stream(user, int(last) if last.isdigit() else None, config["WALL_SSE_POLL_SECONDS"], max_seconds)
    response = Response(stream_with_context(stream), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
