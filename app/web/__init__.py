"""Server-rendered pages: sign-in, the home page, API docs, vendored front-end files."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from app.models.types import utcnow
from app.models.vocab import Category, Role
from app.services.deadlines import DeadlineState, case_deadline_state

STATE_LABELS = {
    DeadlineState.GREEN: "期限内",
    DeadlineState.YELLOW: "临期（已用时75%以上）",
    DeadlineState.RED: "已超期",
    DeadlineState.CLOSED: "已办结",
    DeadlineState.NONE: "无期限",
}


def register_web(app: Flask) -> None:
    """Register the page blueprints and the template helpers."""
    from app.web import pages, vendor

    app.register_blueprint(pages.bp)
    app.register_blueprint(vendor.bp)
    app.jinja_env.globals.update(
        role_label=lambda role: Role(role).label,
        category_label=lambda category: Category(category).label,
        state_label=lambda state: STATE_LABELS[state],
        deadline_state=lambda case: case_deadline_state(case, utcnow()),
    )
    app.jinja_env.filters["local_time"] = local_time


def local_time(value: datetime | None) -> str:
    """A UTC time as people in the city read it (Asia/Shanghai), or a dash."""
    if value is None:
        return "—"
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
