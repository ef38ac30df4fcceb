"""Flask-Login wiring: how a session cookie becomes a user, starting and ending that session
(with its record on the server, ``services.admin.sessions``), and what the unauthenticated see."""

from flask import Flask, g, redirect, request, session, url_for
from flask_login import login_user, logout_user

from app.errors import error_response
from app.extensions import login_manager
from app.models import User
from app.models.types import utcnow
from app.services.admin.sessions import end_session, load_signed_in, start_session
from app.services.cases import notifications
from app.session_policy import SESSION_TOKEN_KEY, idle_limit, mark_active

_CSRF_KEY = "csrf_token"  # where Flask-WTF keeps the session's CSRF secret (and caches it in g)


def init_login(app: Flask) -> None:
    """Bind Flask-Login and its loader."""
    login_manager.init_app(app)
    # Flask-Login's own protection only marks a session "not fresh" when the address or browser
    # changes, and nothing here asks for a fresh login; sessions are checked on the server
    # instead (session_policy.py). Left on, it wrote the anonymous session back on every page,
    # so a page fetched while a phone was signing in (the service worker caches /m/) could
    # land after the sign-in and overwrite its cookie: the first sync then answered 401.
    login_manager.session_protection = None


def sign_in(user: User) -> None:
    """Start a session for the user: a new server-side record, a new CSRF token (one seen
    before signing in is worthless after), and the idle clock starting now."""
    end_session(session.get(SESSION_TOKEN_KEY))
    session.pop(_CSRF_KEY, None)
    g.pop(_CSRF_KEY, None)
    login_user(user)
    session[SESSION_TOKEN_KEY] = start_session(user, idle_limit(user.role))
    mark_active()
    user.last_login_at = utcnow()


def sign_out() -> None:
    """End this device's session: its record on the server (the caller commits), and the cookie."""
    end_session(session.pop(SESSION_TOKEN_KEY, None))
    logout_user()


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user named by ``id:session_version``; a stale version is logged out."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # Pages show the unread count in the header's badge: it comes in the same statement.
    badge = None if request.path.startswith("/api/") else notifications.unread_count_of(User.id)
    user, record, unread = load_signed_in(int(user_id), session.get(SESSION_TOKEN_KEY), badge)
    if user is None or user.session_version != int(version):
        return None
    g.session_record = record  # the session policy checks it (session_policy.py)
    if badge is not None:
        g.unread_notifications = unread
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """API callers get 401 JSON; people are sent to the login page."""
    if request.path.startswith("/api/"):
        return error_response(401, "请先登录。")
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
