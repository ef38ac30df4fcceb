"""Printable paper for the offices: the 交办单 and the 答复意见书 of a case, as A4 pages to
print from the browser and as PDF files to download, file and stamp."""

import segno
from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required

from app.models.vocab import Category, Priority
from app.services import clock
from app.services.access import authorize
from app.services.cases import paper
from app.web.pdf import pdf_response

bp = Blueprint("paper", __name__, url_prefix="/desk/cases/<int:case_id>/print", template_folder="templates")


def _qr(case_id: int) -> str:
    """A QR code (SVG data URI) that opens the case on the desk."""
    link = url_for("desk.case_page", case_id=case_id, _external=True)
    return segno.make(link, error="m").svg_data_uri(scale=3, border=1)


def _render(template: str, case_id: int, endpoint: str, pdf: bool, **context) -> str:
    return render_template(
        template, pdf=pdf, qr=_qr(case_id), printed_at=clock.now(),
        back_url=url_for("desk.case_page", case_id=case_id), pdf_url=url_for(endpoint, case_id=case_id),
        categories=Category.labels(), priorities=Priority.labels(), **context)


@bp.get("/assignment")
@login_required
def assignment(case_id: int):
    """The assignment sheet (交办单) of a case, as a printable A4 page."""
    sheet = paper.assignment_sheet(current_user, authorize(current_user, case_id))
    return _render("paper/assignment.html", case_id, "paper.assignment_pdf", False, sheet=sheet)


@bp.get("/assignment.pdf")
@login_required
def assignment_pdf(case_id: int):
    """The assignment sheet as a PDF file (A4, fonts embedded)."""
    sheet = paper.assignment_sheet(current_user, authorize(current_user, case_id))
    html = _render("paper/assignment.html", case_id, "paper.assignment_pdf", True, sheet=sheet)
    return pdf_response(html, f"交办单-{sheet.case.number}.pdf", f"assignment-{sheet.case.number}.pdf")


@bp.get("/reply")
@login_required
def reply(case_id: int):
    """The written reply (答复意见书) of a case, as a printable A4 page."""
    letter = paper.reply_letter(current_user, authorize(current_user, case_id))
    return _render("paper/reply.html", case_id, "paper.reply_pdf", False, letter=letter)


@bp.get("/reply.pdf")
@login_required
def reply_pdf(case_id: int):
    """The written reply as a PDF file (A4, fonts embedded)."""
    letter = paper.reply_letter(current_user, authorize(current_user, case_id))
    html = _render("paper/reply.html", case_id, "paper.reply_pdf", True, letter=letter)
    return pdf_response(html, f"答复意见书-{letter.case.number}.pdf", f"reply-{letter.case.number}.pdf")
