"""Pages people open in a browser: sign-in, home, API docs."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, logout_user

from app.extensions import db
from app.services.auth import authenticate, sign_in
from app.services.errors import DomainError

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
        try:
            user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        except DomainError as exc:
            return render_template("login.html", error=exc.message, username=request.form.get("username", "")), 401
        sign_in(user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=None, username="")


@bp.post("/logout")
def logout():
    """Sign out and go back to the sign-in page."""
    logout_user()
    flash("您已退出登录。")
    return redirect(url_for("web.login"))


@bp.get("/")
@login_required
def home():
    """Everyone starts at the desk's work queue, which shows their own scope."""
    return redirect(url_for("desk.queue"))


@bp.get("/api/v1/docs")
def api_docs():
    """A readable page for the OpenAPI document."""
    return render_template("api_docs.html")
