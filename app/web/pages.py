"""Pages people open in a browser: sign-in, home, own password, API docs."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth_setup import sign_in, sign_out
from app.errors import DomainError
from app.extensions import db
from app.services.access import may
from app.services.admin.auth import LoginFailed, authenticate, change_own_password, sign_out_everywhere
from app.services.admin.throttling import LoginThrottled

bp = Blueprint("web", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Follow ``next`` only to a path on this site, never to another host."""
    if not target or urlsplit(target).netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page."""
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            user = authenticate(username, request.form.get("password", ""), request.remote_addr or "")
        except LoginThrottled as exc:
            page = render_template("login.html", error=exc.message, username=username)
            return page, 429, {"Retry-After": str(exc.retry_after_seconds)}
        except LoginFailed as exc:
            db.session.commit()  # keep the failed attempt: it counts towards the lock
            return render_template("login.html", error=exc.message, username=username), 401
        sign_in(user)
        db.session.commit()
        if user.must_change_password:
            return redirect(url_for("web.change_password"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=None, username="")


@bp.post("/logout")
def logout():
    """Sign out (this device's session ends on the server too) and go back to the sign-in page."""
    sign_out()
    db.session.commit()
    flash("您已退出登录。")
    return redirect(url_for("web.login"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """Sign out of every device (the phone too), then back to the sign-in page."""
    sign_out_everywhere(current_user)
    sign_out()
    db.session.commit()
    flash("已在所有设备上退出登录。")
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; required first when an administrator set it."""
    errors: dict = {}
    if request.method == "POST":
        user = current_user._get_current_object()
        new = request.form.get("new_password", "")
        if new != request.form.get("confirm_password", ""):
            errors = {"confirm_password": ["两次输入的新密码不一致"]}
        else:
            try:
                change_own_password(user, request.form.get("current_password", ""), new)
            except DomainError as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                sign_in(user)
                db.session.commit()
                flash("密码已修改，其他设备上的登录已退出。", "ok")
                return redirect(url_for("web.home"))
    status = 422 if errors else 200
    return render_template("account_password.html", errors=errors), status


@bp.get("/")
@login_required
def home():
    """Administrators start at the administration pages; everyone else at the desk's queue."""
    if may(current_user, "administer"):
        return redirect(url_for("admin.index"))
    return redirect(url_for("desk.queue"))


@bp.get("/api/v1/docs")
def api_docs():
    """A readable page for the OpenAPI document."""
    return render_template("api_docs.html")
