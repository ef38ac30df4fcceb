"""What a signed-in session may do, checked before every request.

* The session must still be live on the server (``services.admin.sessions``): a cookie
  copied before its user signed out, signed out everywhere, changed their password or was
  deactivated is answered as signed out.
* Idle time-out: a desk session ends after ``DESK_IDLE_MINUTES`` without a request; an
  inspector's after ``INSPECTOR_IDLE_DAYS``, because the field app works offline for days
  and its outbox must still be able to sync. The session cookie is permanent (it survives
  a phone restarting the browser) and carries the time of the last request; the limit is
  enforced here, on the server. An expired session answers the API with 401 JSON, so the
  field app can ask its user to sign in again and then replay its outbox; a page sends the
  person to the sign-in page with a message.
* A user whose password an administrator set must choose their own before doing anything
  else: pages redirect to the change-password page, the API answers 403.

Flask-Login's own checks (``session_version`` in the identity, deactivated accounts) are
untouched: this runs before them and only ever signs a user out.
"""

from datetime import timedelta

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy.exc import DBAPIError

from app.errors import error_response, is_transient
from app.extensions import db
from app.models.vocab import Role
from app.services import clock
from app.services.admin.sessions import end_session, note_seen, session_is_live

SEEN_KEY = "seen_at"
SESSION_TOKEN_KEY = "sid"
# The last-request time is written back at most this often, so most responses do not
# re-send the session cookie.
_SEEN_RESOLUTION_S = 60
_NEVER_CHECKED = {"static", "vendor.vendor_file", "health.healthz"}
# What a user who must change their password may still reach.
_PASSWORD_CHANGE_ALLOWED = {
    "web.login", "web.logout", "web.change_password", "auth.login", "auth.logout", "auth.get_csrf", "auth.me",
    "auth.change_password",
}
EXPIRED_MESSAGE = "长时间未操作，登录已超时，请重新登录。"
MUST_CHANGE_MESSAGE = "管理员设置的密码须先修改为您自己的密码，才能继续使用。"


def idle_limit(role: str) -> timedelta:
    """How long a session of this role may stay idle."""
    config = current_app.config
    if role == Role.INSPECTOR:
        return timedelta(days=config["INSPECTOR_IDLE_DAYS"])
    return timedelta(minutes=config["DESK_IDLE_MINUTES"])


def mark_active() -> None:
    """Note a request now (also called at sign-in, so a new session starts fresh)."""
    session.permanent = True
    session[SEEN_KEY] = clock.now().timestamp()


def init_session_policy(app: Flask) -> None:
    """Make sessions permanent for the longest idle limit and check each request."""
    app.permanent_session_lifetime = max(
        timedelta(days=app.config["INSPECTOR_IDLE_DAYS"]), timedelta(minutes=app.config["DESK_IDLE_MINUTES"])
    )

    @app.before_request
    def enforce_session_policy():
        if request.endpoint in _NEVER_CHECKED or "_user_id" not in session:
            return None
        if not current_user.is_authenticated:
            return None
        if not session_is_live(session.get(SESSION_TOKEN_KEY), current_user, g.get("session_record")):
            logout_user()  # ended on the server: from here on, answered as signed out
            session.pop(SESSION_TOKEN_KEY, None)
            return None
        expired = _expire_if_idle()
        if expired is not None:
            return expired
        if (current_user.is_authenticated and current_user.must_change_password
                and request.endpoint not in _PASSWORD_CHANGE_ALLOWED):
            return _must_change_password()
        return None


def _expire_if_idle():
    """Sign out an idle session; the response to give, or None to carry on."""
    now = clock.now().timestamp()
    seen = session.get(SEEN_KEY)
    if seen is not None and now - seen > idle_limit(current_user.role).total_seconds():
        end_session(session.pop(SESSION_TOKEN_KEY, None))
        db.session.commit()
        logout_user()
        session.pop(SEEN_KEY, None)
        if request.path.startswith("/api/"):
            if request.endpoint in _PASSWORD_CHANGE_ALLOWED:
                return None  # signing in again, or asking who is signed in: answer as signed out
            return error_response(401, EXPIRED_MESSAGE)
        flash(EXPIRED_MESSAGE, "error")
        return None
    if seen is None or now - seen >= _SEEN_RESOLUTION_S:
        mark_active()
        try:
            note_seen(session[SESSION_TOKEN_KEY])
            db.session.commit()
        except DBAPIError as exc:
            # A read (GET) that notes the time cannot wait for SQLite's write lock: when
            # the worker holds it, the note waits for a later request, and the page is served.
            if not is_transient(exc):
                raise
            db.session.rollback()
    return None


def _must_change_password():
    """Keep the user on the change-password page (or tell an API client why not)."""
    if request.path.startswith("/api/"):
        return error_response(403, MUST_CHANGE_MESSAGE, {"password": ["须先修改密码"]})
    return redirect(url_for("web.change_password"))
