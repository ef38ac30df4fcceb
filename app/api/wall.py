"""The map wall (挂图作战): viewport clusters, case cards, village shading, panels, live events.

Only the command office and administrators may call these; every query still goes
through ``access.case_scope``. Nothing returned carries personal data.
"""

from flask import Response, current_app, request, stream_with_context
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.arguments import ApiBlueprint
from app.errors import InvalidInput
from app.models.vocab import Category, Channel, WallFlag
from app.schemas.common import BoxSchema, Moment
from app.schemas.wall import (
    AlertCasesSchema,
    AlertsLayerSchema,
    CaseCardSchema,
    LongUnresolvedLayerSchema,
    PanelsSchema,
    SourceCardSchema,
    SourcesLayerSchema,
    ViewportAnswerSchema,
    VillageScoresSchema,
    VillagesSchema,
)
from app.services import clock
from app.services.wall.cells import MAX_VIEW_CELLS
from app.services.wall.clusters import (
    STATE_RANKS,
    Viewport,
    case_card,
    etag_for,
    require_wall_user,
    viewport_features,
    village_measures,
)
from app.services.wall.events import event_stream, parse_cursor
from app.services.wall.layers import (
    Box,
    alert_cases,
    alert_features,
    long_unresolved_points,
    payload_etag,
    source_card,
    source_points,
    sources_etag,
    village_scores,
)
from app.services.wall.panels import wall_panels

blp = ApiBlueprint("wall", __name__, description="挂图作战 Map wall")
# Answers keyed by ETag: a client sending the ETag it holds in If-None-Match gets 304.
NOT_MODIFIED = {"description": "未变化：客户端持有的 ETag（If-None-Match）仍是最新的"}


class WallFilterSchema(Schema):
    """The wall's filters: period, category, channel, deadline state, flags, town. A value the
    wall does not know, or a period that ends before it starts, is refused (422) as the
    panels refuse it, rather than answered with an empty map."""

    received_from = Moment(load_default=None)
    received_to = Moment(load_default=None)
    category = fields.List(fields.String(validate=validate.OneOf(list(Category))), load_default=list)
    channel = fields.List(fields.String(validate=validate.OneOf(list(Channel))), load_default=list)
    state = fields.List(fields.String(validate=validate.OneOf(list(STATE_RANKS))), load_default=list)
    flag = fields.List(fields.String(validate=validate.OneOf(list(WallFlag))), load_default=list)
    town_id = fields.Integer(load_default=None)

    @validates_schema
    def _period_in_order(self, data, **kwargs):
        """Both ends given: the end after the start (the wall's date fields check it too)."""
        start, end = data.get("received_from"), data.get("received_to")
        if start is not None and end is not None and end <= start:
            raise ValidationError("统计期间无效：截止日期应晚于起始日期。", "received_to")


class ViewportSchema(WallFilterSchema, BoxSchema):
    """A viewport: the WGS-84 box and the Leaflet zoom, plus the filters."""

    zoom = fields.Integer(required=True, validate=validate.Range(0, 22))


class EventQuerySchema(Schema):
    """How long to keep the stream open (tests and proxies shorten it)."""

    max_seconds = fields.Float(load_default=None, validate=validate.Range(0, 3600))


def _cached(payload_of, query: dict) -> Response:
    """Case-data answers: keyed by the data revision, the minute, the caller and the query."""
    now = clock.now()
    return _etagged(etag_for(current_user, now, query), lambda: payload_of(now))


def _etagged(etag: str, payload_of) -> Response:
    """Answer 304 when the client holds ``etag``, else the payload with it."""
    response = Response(status=304) if etag in request.if_none_match else current_app.json.response(payload_of())
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.route("/viewport", methods=["GET"])
@login_required
@blp.arguments(ViewportSchema, location="query")
@blp.response(200, ViewportAnswerSchema)
@blp.alt_response(304, **NOT_MODIFIED)
def get_viewport(query):
    """Clusters for the cells a box touches at a zoom (exact counts, worst state, cases per state), or single cases."""
    require_wall_user(current_user)
    view = Viewport(**{k: query.pop(k) for k in ("west", "south", "east", "north", "zoom")})
    if view.too_large:
        raise InvalidInput(f"范围过大：该缩放级别下一次最多查询 {MAX_VIEW_CELLS} 格，请放大地图或缩小范围。")
    # Keyed by the cells, not the box: a pan within the same cells is the same answer.
    return _cached(lambda now: viewport_features(current_user, view, now, query),
                   {"zoom": view.zoom, "cells": view.cells, **query})


@blp.route("/villages", methods=["GET"])
@login_required
@blp.arguments(WallFilterSchema, location="query")
@blp.response(200, VillagesSchema)
@blp.alt_response(304, **NOT_MODIFIED)
def get_villages(query):
    """Open and overdue cases per village, for shading the village grids."""
    require_wall_user(current_user)
    return _cached(lambda now: {"villages": village_measures(current_user, now, query)}, {"villages": query})


class ScorePeriodSchema(Schema):
    """The wall's period: its received-date filter (both optional; blank means the running
    campaign, else the last 30 days, as on the campaign pages)."""

    received_from = Moment(load_default=None)
    received_to = Moment(load_default=None)


@blp.route("/panels", methods=["GET"])
@login_required
@blp.arguments(ScorePeriodSchema, location="query")
@blp.response(200, PanelsSchema)
@blp.alt_response(304, **NOT_MODIFIED)
def get_panels(query):
    """The side panels for the period, which they state: campaign phase, totals against last
    year, progress, rates, categories, town ranking."""
    require_wall_user(current_user)
    return _cached(lambda now: wall_panels(current_user, now, query), {"panels": query})


@blp.route("/cases/<int:case_id>", methods=["GET"])
@login_required
@blp.response(200, CaseCardSchema)
def get_case_card(case_id: int):
    """A case card: number, category, town, state, due time, responsible unit. No personal data."""
    require_wall_user(current_user)
    card = case_card(current_user, case_id, clock.now())
    card["due_at"] = card["due_at"].isoformat() if card["due_at"] else None
    return card


@blp.route("/events", methods=["GET"])
@login_required
@blp.arguments(EventQuerySchema, location="query")
@blp.response(200, {"type": "string"}, content_type="text/event-stream",
              description="事件流（text/event-stream）：new_case、state_change、turned_red、closed、alert；"
                          "cells（地图汇总已更新，重新读取地图）；Last-Event-ID 续传")
def get_events(query):
    """A text/event-stream of case events (new_case, state_change, turned_red, closed), alerts, and
    ``cells`` when the map's summary has caught up with changes already announced."""
    require_wall_user(current_user)
    last = request.headers.get("Last-Event-ID", "")
    config = current_app.config
    max_seconds = query["max_seconds"] if query["max_seconds"] is not None else config["WALL_SSE_MAX_SECONDS"]
    user = current_user._get_current_object()
    stream = event_stream(user, parse_cursor(last), config["WALL_SSE_POLL_SECONDS"], max_seconds)
    response = Response(stream_with_context(stream), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


# ------------------------------------------------------------------ further layers
# Watched sources by days since their last patrol, early-warning alerts, village scores
# (services.wall_layers).


@blp.route("/sources", methods=["GET"])
@login_required
@blp.arguments(BoxSchema, location="query")
@blp.response(200, SourcesLayerSchema)
@blp.alt_response(304, **NOT_MODIFIED)
def get_sources(query):
    """Watched sources in a box with days since their last patrol (Beijing dates) and bucket."""
    require_wall_user(current_user)
    now = clock.now()
    return _etagged(sources_etag(current_user, now, query), lambda: source_points(current_user, Box(**query), now))


@blp.route("/sources/<int:source_id>", methods=["GET"])
@login_required
@blp.response(200, SourceCardSchema)
def get_source_card(source_id: int):
    """A source card: name, kind, key flag, last patrol, grid, town, responsible unit."""
    require_wall_user(current_user)
    return source_card(current_user, source_id, clock.now())


@blp.route("/alerts", methods=["GET"])
@login_required
@blp.response(200, AlertsLayerSchema)
@blp.alt_response(304, **NOT_MODIFIED)
def get_alerts():
    """Active early-warning alerts: centre, radius, category and number of cases."""
    require_wall_user(current_user)
    payload = {"alerts": alert_features(clock.now())}
    return _etagged(payload_etag(payload), lambda: payload)


@blp.route("/alerts/<int:alert_id>", methods=["GET"])
@login_required
@blp.response(200, AlertCasesSchema)
def get_alert_cases(alert_id: int):
    """An alert's cases: number, category, status, deadline state, town. No personal data."""
    require_wall_user(current_user)
    return alert_cases(current_user, alert_id, clock.now())


@blp.route("/long-unresolved", methods=["GET"])
@login_required
@blp.arguments(BoxSchema, location="query")
@blp.response(200, LongUnresolvedLayerSchema)
@blp.alt_response(304, **NOT_MODIFIED)
def get_long_unresolved(query):
    """Long-unresolved cases (久拖不解) in a box: number, town, days open and overdue, reasons. No personal data."""
    require_wall_user(current_user)
    return _cached(lambda now: long_unresolved_points(current_user, Box(**query), now), {"long_unresolved": query})


@blp.route("/village-scores", methods=["GET"])
@login_required
@blp.arguments(ScorePeriodSchema, location="query")
@blp.response(200, VillageScoresSchema)
@blp.alt_response(304, **NOT_MODIFIED)
def get_village_scores(query):
    """Each village's assessment score for the period (services.scoring), for shading."""
    require_wall_user(current_user)
    return _cached(lambda now: village_scores(query), {"village_scores": query})
