"""The public status page behind a contact card (/c/<code>): progress in plain Chinese, no
personal data, no internal notes, and one satisfaction rating."""

import io

import segno
from flask import Blueprint, Response, redirect, render_template, request, url_for

from app.models.vocab import Category, Satisfaction
from app.services.field.contact_cards import PUBLIC_STEPS, public_view, rate
from app.web.forms import attempt

bp = Blueprint("public", __name__, url_prefix="/c", template_folder="templates")


@bp.get("/<code>")
def status(code: str):
    """Where the case stands, for the citizen holding the card."""
    view = public_view(code)
    return render_template("public/status.html", view=view, steps=PUBLIC_STEPS,
                           category=Category(view.case.category).label, satisfactions=Satisfaction.labels())


@bp.post("/<code>/rating")
def rating(code: str):
    """Rate the handling once (满意 / 基本满意 / 不满意)."""
    with attempt("感谢您的评价。", not_found_page=True):
        rate(code, request.form.get("satisfaction", ""), request.form.get("note", ""))
    return redirect(url_for("public.status", code=code))


@bp.get("/<code>/qr.svg")
def qr(code: str):
    """A QR code of this page's address, for the printed or on-screen card."""
    view = public_view(code)
    out = io.BytesIO()
    segno.make(url_for("public.status", code=view.card.code, _external=True), error="m").save(
        out, kind="svg", scale=6, border=2, dark="#0b3d2e")
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/<code>/print")
def printable(code: str):
    """The card laid out for printing."""
    view = public_view(code)
    return render_template("public/print.html", view=view, category=Category(view.case.category).label)
