"""Flask-Login wiring: how a session cookie becomes a user, starting that session at sign-in,
and what the unauthenticated see."""

from flask import Flask, redirect, request, url_for
from flask_login import login_user

from app.errors import error_response
from app.extensions import db, login_manager
from app.models import User
from app.models.types import utcnow
from app.session_policy import mark_active


def init_login(app: Flask) -> None:
    """Bind Flask-Login and its loader."""
    login_manager.init_app(app)
    login_manager.session_protection = "basic"


def sign_in(user: User) -> None:
    """Start a session for the user and note the time (the idle clock starts now)."""
    login_user(user)
    mark_active()
    user.last_login_at = utcnow()


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user named by ``id:session_version``; a stale version is logged out."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """API callers get 401 JSON; people are sent to the login page."""
    if request.path.startswith("/api/"):
        return error_response(401, "请先登录。")
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
