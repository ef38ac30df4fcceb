"""Sign in, sign out, and who am I."""

from flask_login import current_user, login_required, logout_user
from flask_smorest import Blueprint

from app.extensions import db
from app.schemas.auth import CsrfSchema, LoginSchema, MeSchema
from app.services.auth import authenticate, sign_in

blp = Blueprint("auth", __name__, description="登录与当前用户 Sign-in and the current user")


@blp.route("/auth/csrf", methods=["GET"])
@blp.response(200, CsrfSchema)
def get_csrf():
    """Get a CSRF token to send as X-CSRFToken with the login request."""
    from flask_wtf.csrf import generate_csrf

    return {"csrf_token": generate_csrf()}


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, MeSchema)
def login(credentials):
    """Sign in with username and password; sets the session cookie."""
    user = authenticate(credentials["username"], credentials["password"])
    sign_in(user)
    db.session.commit()
    return user


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
def logout():
    """Sign out of this device."""
    logout_user()


@blp.route("/me", methods=["GET"])
@login_required
@blp.response(200, MeSchema)
def me():
    """The signed-in user, their role and scope."""
    return current_user
