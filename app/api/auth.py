"""Sign in, sign out, and who am I."""

from flask import request
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from marshmallow import Schema, fields, validate

from app.api.arguments import ApiBlueprint
from app.auth_setup import sign_in, sign_out
from app.errors import error_response
from app.extensions import db
from app.models import User
from app.schemas.auth import CsrfSchema, LoginSchema, MeSchema
from app.services.admin.auth import LoginFailed, authenticate, change_own_password, sign_out_everywhere
from app.services.admin.throttling import LoginThrottled

blp = ApiBlueprint("auth", __name__, description="登录与当前用户 Sign-in and the current user")


class SignedIn:
    """The signed-in user as ``MeSchema`` shows them: the user's own fields, plus a CSRF
    token for the client's next state-changing request (made here, from the session)."""

    def __init__(self, user: User):
        self.user = user
        self.csrf_token = generate_csrf()

    def __getattr__(self, name: str):
        """Every other field is the user's own."""
        return getattr(self.user, name)


class PasswordChangeSchema(Schema):
    """The current password and the new one."""

    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


@blp.route("/auth/csrf", methods=["GET"])
@blp.response(200, CsrfSchema)
def get_csrf():
    """Get a CSRF token to send as X-CSRFToken with the login request."""
    return {"csrf_token": generate_csrf()}


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, MeSchema)
@blp.alt_response(401, description="用户名或密码错误")
@blp.alt_response(429, description="登录失败次数过多，暂时锁定；Retry-After 说明多少秒后可再试")
def login(credentials):
    """Sign in with username and password; sets the session cookie.

    After too many failures for the account or the client address the answer is 429 with
    a Chinese message saying when to try again. A user whose password an administrator set
    gets 403 on every other call until they change it (``POST /auth/password``).
    """
    try:
        user = authenticate(credentials["username"], credentials["password"], request.remote_addr or "")
    except LoginThrottled as exc:
        response, status = error_response(429, exc.message, exc.errors)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response, status
    except LoginFailed:
        db.session.commit()  # keep the failed attempt: it counts towards the lock
        raise
    sign_in(user)
    db.session.commit()
    return SignedIn(user)


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
def logout():
    """Sign out of this device; a copy of its session cookie is refused from now on."""
    sign_out()
    db.session.commit()


@blp.route("/auth/logout-everywhere", methods=["POST"])
@login_required
@blp.response(204)
def logout_everywhere():
    """Sign out of every device at once (e.g. after losing a phone)."""
    sign_out_everywhere(current_user)
    sign_out()
    db.session.commit()


@blp.route("/auth/password", methods=["POST"])
@login_required
@blp.arguments(PasswordChangeSchema)
@blp.response(200, MeSchema)
def change_password(data):
    """Change one's own password; other devices are signed out, this one stays signed in."""
    user = current_user._get_current_object()
    change_own_password(user, data["current_password"], data["new_password"])
    sign_in(user)
    db.session.commit()
    return SignedIn(user)


@blp.route("/me", methods=["GET"])
@login_required
@blp.response(200, MeSchema)
def me():
    """The signed-in user, their role and scope."""
    return SignedIn(current_user)
