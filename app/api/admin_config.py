"""The routing table (sector → department) and system settings: everyone reads, the admin edits."""

from flask_login import current_user, login_required
from marshmallow import Schema, fields

from app.api.arguments import ApiBlueprint
from app.api.decorators import admin_only
from app.extensions import db
from app.schemas.config import RouteSchema, SettingValueSchema
from app.services.admin.changes import change_route, change_setting
from app.services.cases.departments import routing_table
from app.services.settings import SETTINGS, all_settings

blp = ApiBlueprint("config", __name__, description="分工路由与系统参数 Routing table and settings")
# Every setting with its current value: one field per row of the settings table, so a new
# setting is documented (with its Chinese label) the moment it is added there.
SettingsSchema = Schema.from_dict(
    {key: fields.Raw(metadata={"description": row.label}) for key, row in SETTINGS.items()}, name="Settings")


@blp.route("/routes", methods=["GET"])
@login_required
@blp.response(200, RouteSchema(many=True))
def get_routes():
    """Which department each sector's cases go to by default (DOMAIN.md item 9)."""
    return routing_table()


@blp.route("/routes/<sector>", methods=["PUT"])
@login_required
@admin_only
@blp.arguments(RouteSchema)
@blp.response(200, RouteSchema)
def put_route(data, sector: str):
    """Send a sector's new cases to another department (admin)."""
    route = change_route(current_user, sector, data["department_id"])
    db.session.commit()
    return route


@blp.route("/settings", methods=["GET"])
@login_required
@blp.response(200, SettingsSchema)
def get_settings():
    """Every system setting with its current value."""
    return all_settings()


@blp.route("/settings/<key>", methods=["PUT"])
@login_required
@admin_only
@blp.arguments(SettingValueSchema)
@blp.response(200, SettingsSchema)
def put_setting(data, key: str):
    """Change one setting (admin), e.g. the repeat-detection radius."""
    change_setting(current_user, key, data["value"])
    db.session.commit()
    return all_settings()
