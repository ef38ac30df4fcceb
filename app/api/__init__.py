"""The JSON API under /api/v1: one flask-smorest blueprint per resource."""

from flask import Flask

from app.extensions import api


def register_api(app: Flask) -> None:
    """Register every resource blueprint; each appears in /api/v1/openapi.json."""
    from app.api import (
        admin_config,
        attachments,
        auth,
        basemap,
        campaign,
        cases,
        deadlines,
        exports,
        field,
        grids,
        health,
        lifecycle,
        long_unresolved,
        notifications,
        open311,
        patrol_compliance,
        patrols,
        sources,
        wall,
    )

    api.register_blueprint(auth.blp, url_prefix="/api/v1")
    api.register_blueprint(cases.blp, url_prefix="/api/v1/cases")
    api.register_blueprint(lifecycle.blp, url_prefix="/api/v1/cases")
    api.register_blueprint(grids.blp, url_prefix="/api/v1/grids")
    api.register_blueprint(deadlines.blp, url_prefix="/api/v1")
    api.register_blueprint(admin_config.blp, url_prefix="/api/v1")
    api.register_blueprint(field.blp, url_prefix="/api/v1")
    api.register_blueprint(campaign.blp, url_prefix="/api/v1")
    api.register_blueprint(wall.blp, url_prefix="/api/v1/wall")
    api.register_blueprint(basemap.blp, url_prefix="/api/v1/basemap")
    api.register_blueprint(attachments.blp, url_prefix="/api/v1")
    api.register_blueprint(patrol_compliance.blp, url_prefix="/api/v1/patrol-compliance")
    api.register_blueprint(patrols.blp, url_prefix="/api/v1")
    api.register_blueprint(sources.blp, url_prefix="/api/v1/sources")
    api.register_blueprint(notifications.blp, url_prefix="/api/v1/notifications")
    api.register_blueprint(long_unresolved.blp, url_prefix="/api/v1")
    api.register_blueprint(exports.blp, url_prefix="/api/v1")
    app.register_blueprint(health.bp)
    app.register_blueprint(open311.bp)
