"""Server-rendered pages: sign-in, the supervisor desk, API docs, vendored front-end files."""

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user
from geoalchemy2.shape import to_shape

from app.models.vocab import DeadlineState, Role
from app.schemas.messages import error_lines
from app.services import clock
from app.services.access import may
from app.services.cases import notifications
from app.services.cases.deadlines import case_deadline_state, due_label, estimated_stages
from app.services.cases.lifecycle import event_label
from app.services.settings import get_setting


def share_text(value: float | None) -> str:
    """A share as a whole percentage, but never 「100%」 or 「0%」 when it is not: then one
    decimal, toward the truth (1,036 of 1,039 patrols read 「100%」 in a red tile)."""
    if value is None:
        return "—"
    percent = value * 100
    if 99.5 <= percent < 100:
        return f"{math.floor(percent * 10) / 10:.1f}%"
    if 0 < percent < 0.5:
        return f"{math.ceil(percent * 10) / 10:.1f}%"
    return f"{percent:.0f}%"


def register_web(app: Flask) -> None:
    """Register the page blueprints and the template helpers."""
    from app.web import (
        admin,
        campaign_desk,
        desk,
        field_app,
        long_unresolved,
        pages,
        paper,
        patrol_desk,
        public,
        sources,
        vendor,
        wall,
    )
    from app.web.assets import init_assets

    init_assets(app)

    app.register_blueprint(pages.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(field_app.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(campaign_desk.bp)
    app.register_blueprint(wall.bp)
    app.register_blueprint(sources.bp)
    app.register_blueprint(patrol_desk.bp)
    app.register_blueprint(paper.bp)
    app.register_blueprint(long_unresolved.bp)
    app.jinja_env.globals.update(
        role_label=lambda role: Role(role).label,
        state_label=state_label,
        deadline_state=lambda case: case_deadline_state(case, clock.now()),
        estimated_stages=estimated_stages,
        due_label=due_label,
        may=may,
        step_label=step_label,
        unread_notifications=unread_badge,
        with_args=with_args,
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["lonlat"] = lonlat
    app.jinja_env.filters["error_lines"] = error_lines
    app.jinja_env.filters["cn_day"] = cn_day
    app.jinja_env.filters["share"] = share_text


def unread_badge() -> int:
    """The header badge's unread count: read with the signed-in user (``auth_setup.load_user``)."""
    if "unread_notifications" in g:
        return g.unread_notifications
    return notifications.unread_count(current_user)


def local_time(value: datetime | None) -> str:
    """A UTC time as people in the city read it (Asia/Shanghai), or a dash.

    A stored time at the edge of the calendar (9999-12-31 23:59 UTC is in year 10000 in the
    city) cannot be converted: it is shown as stored, so one odd record never breaks a page.
    """
    if value is None:
        return "—"
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    try:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError):
        return value.isoformat()


def cn_day(value: date) -> str:
    """A day as a notice writes it, with its weekday: 2027-02-06（周六）."""
    return f"{value.isoformat()}（周{'一二三四五六日'[value.weekday()]}）"


def lonlat(value) -> dict | None:
    """A stored point as ``{"lon", "lat"}`` for templates, or None."""
    if value is None:
        return None
    point = to_shape(value)
    return {"lon": point.x, "lat": point.y}


def with_args(**changes) -> str:
    """The current page's URL with some query arguments changed (paging keeps the filters)."""
    args = request.args.to_dict(flat=False)
    args.update({key: [value] for key, value in changes.items()})
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def state_label(state: str) -> str:
    """A deadline state in words; yellow also says the share of time used that turned it yellow
    (the ``yellow_at`` setting), so the desk never quotes a threshold the city has changed."""
    label = DeadlineState(state).label
    if state == DeadlineState.YELLOW:
        return f"{label}（已用时{float(get_setting('yellow_at')) * 100:g}%以上）"
    return label


def step_label(kind: str) -> str:
    """The Chinese name of a timeline event kind."""
    return event_label(kind)
