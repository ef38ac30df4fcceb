"""Firstline (第一线): field inspection and case resolution for environmental petitions."""

from flask import Flask

from config import BASE_DIR, Config, instance_secret


def create_app(config_object: type[Config] | object = Config) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, commands."""
    app = Flask(__name__, static_folder="../static", static_url_path="/static")
    app.config.from_object(config_object)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret()
    if not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = instance_secret("audit_key")
    register_url_converters(app)
    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_url_converters(app: Flask) -> None:
    """Ids in URLs stay within the database's integer range (out of range: 404)."""
    from app.routing import init_url_converters

    init_url_converters(app)


def register_extensions(app: Flask) -> None:
    """Bind the extension instances to this app; keep the map wall's summary current on commit;
    make the task queue (its tasks are registered by importing ``app.tasks``)."""
    from app import (
        auth_setup,
        tasks,  # noqa: F401  (registers the background tasks)
    )
    from app.api.docs import ErrorResponses
    from app.database import init_database
    from app.extensions import api, compress, csrf, db, migrate
    from app.request_checks import init_request_checks
    from app.services.background import init_background
    from app.services.day_stats import init_day_stats
    from app.services.wall.cells import init_wall_cells

    init_database(app)
    init_background(app)
    init_wall_cells()
    init_day_stats()
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    auth_setup.init_login(app)
    init_request_checks(app)
    csrf.init_app(app)
    api.init_app(app, spec_kwargs={"extra_plugins": [ErrorResponses(app)]})
    compress.init_app(app)


def register_security(app: Flask) -> None:
    """Security headers, session idle time-out, same-origin writes, API rate limit, personal
    data kept out of logs."""
    from app.log_privacy import init_log_privacy
    from app.ratelimit import init_rate_limits
    from app.same_origin import init_same_origin
    from app.security_headers import init_security_headers
    from app.session_policy import init_session_policy

    init_log_privacy(app)
    init_security_headers(app)
    init_session_policy(app)
    init_same_origin(app)
    init_rate_limits(app)


def register_blueprints(app: Flask) -> None:
    """Mount the JSON API under /api/v1 and the server-rendered pages."""
    from app.api import register_api
    from app.web import register_web

    register_api(app)
    register_web(app)


def register_errorhandlers(app: Flask) -> None:
    """One error shape for the API, a Chinese error page for people."""
    from app.errors import init_error_handlers

    init_error_handlers(app)


def register_commands(app: Flask) -> None:
    """Add the ``flask grids``, ``flask demo`` and other commands."""
    from app.cli import init_commands

    init_commands(app)
