"""Campaign pages of the desk (专项行动): phases and submissions, scores and ranking,
first-line measures, accountability lists, early-warning alerts, exports. All printable."""

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from app.bounds import day_in_range, moment_in_range
from app.downloads import XLSX, attachment
from app.extensions import db
from app.models import Case
from app.models.vocab import Category, CheckOutcome, CheckReason, FailureKind, ReceptionKind
from app.schemas.common import Day
from app.services import clock
from app.services.access import require
from app.services.campaign import (
    accountability,
    early_warning,
    export_jobs,
    exports,
    first_line,
    receptions,
    scoring,
    special_checks,
)
from app.services.campaign import (
    phases as campaigns,
)
from app.services.campaign.periods import period, stated_period
from app.services.geo.place_names import point_names, town_names
from app.web.forms import attempt
from app.web.pdf import pdf_response

bp = Blueprint("campaign_desk", __name__, url_prefix="/desk/campaign", template_folder="templates")


class _PeriodForm(Schema):
    start = Day(load_default=None)
    end = Day(load_default=None)


def _period():
    """The period from the query string (blank fields: the running campaign or the last 30 days),
    with the words that state it on the page."""
    try:
        args = _PeriodForm().load({k: v for k, v in request.args.items() if k in ("start", "end") and v})
    except ValidationError:
        abort(400)
    return args, stated_period(args["start"], args["end"])


def _reports_only() -> None:
    require(current_user, "campaign_reports")


@bp.get("/")
@login_required
def overview():
    """The running phase, every campaign's phases, and the towns' submission board."""
    require(current_user, "campaign_overview")
    now = clock.now()
    all_campaigns = campaigns.list_campaigns()
    chosen = next((c for c in all_campaigns if c.id == request.args.get("campaign_id", type=int)), None)
    chosen = chosen or campaigns.current_campaign(now) or (all_campaigns[0] if all_campaigns else None)
    board = campaigns.submission_board(current_user, chosen, now) if chosen else []
    return render_template("campaign/overview.html", phase=campaigns.current_phase(now), campaigns=all_campaigns,
                           campaign=chosen, board=board, year=clock.beijing_date(now).year,
                           period=stated_period(None, None))


@bp.post("/create")
@login_required
def create():
    """Start a campaign with the plan's default phases and submissions."""
    year = request.form.get("year", type=int) or 0
    with attempt(f"已创建 {year} 年专项行动。"):
        campaigns.create_campaign(current_user, year)
    return redirect(url_for("campaign_desk.overview"))


@bp.post("/submissions")
@login_required
def upload():
    """A town uploads a required document."""
    upload_file = request.files.get("file")
    requirement_id = request.form.get("requirement_id", type=int) or 0
    town_id = request.form.get("town_id", type=int)
    with attempt("材料已报送。"):
        campaigns.submit(current_user, requirement_id, town_id,
                         upload_file.filename if upload_file else "",
                         upload_file.read() if upload_file else b"", request.form.get("note", ""))
    return redirect(url_for("campaign_desk.overview"))


@bp.post("/submissions/<int:submission_id>/receive")
@login_required
def receive(submission_id: int):
    """The command office marks a submission received."""
    with attempt("已签收。"):
        campaigns.mark_received(current_user, submission_id)
    return redirect(url_for("campaign_desk.overview"))


@bp.get("/scores")
@login_required
def scores():
    """Town ranking and every village's score with its deductions, each linked to its case."""
    _reports_only()
    args, stated = _period()
    start, end = stated.start, stated.end
    return render_template("campaign/scores.html", args=args, period=stated,
                           ranking=scoring.town_ranking(start, end), grids=scoring.grid_scores(start, end),
                           town_name=town_names())


@bp.get("/first-line")
@login_required
def first_line_page():
    """'First line, first time' measures per village and town."""
    _reports_only()
    args, stated = _period()
    start, end = stated.start, stated.end
    return render_template("campaign/first_line.html", args=args, period=stated,
                           measures=first_line.first_line_measures(start, end), labels=first_line.MEASURES)


@bp.get("/accountability")
@login_required
def accountability_page():
    """Towns to interview and the other accountability lists, with the failure-record form."""
    _reports_only()
    args, stated = _period()
    start, end = stated.start, stated.end
    return render_template("campaign/accountability.html", args=args, period=stated,
                           lists=accountability.accountability_lists(start, end),
                           kinds=FailureKind.labels())


@bp.post("/failure-records")
@login_required
def add_failure_record():
    """The command office records a person's failure with the case as evidence."""
    case_id = request.form.get("case_id", type=int) or 0
    with attempt("问责记录已保存。"):
        accountability.record_failure(
            current_user, case_id, request.form.get("kind", ""), request.form.get("person_name", ""),
            request.form.get("person_unit", ""), request.form.get("note", ""),
            referred=request.form.get("referred") == "true")
    return redirect(url_for("campaign_desk.accountability_page"))


@bp.get("/alerts")
@login_required
def alerts():
    """Active early-warning alerts."""
    _reports_only()
    active = early_warning.active_alerts(clock.now())
    ids = {case_id for alert in active for case_id in alert.case_ids}
    numbers = {case_id: number for case_id, number in
               db.session.execute(select(Case.id, Case.number).where(Case.id.in_(ids)))} if ids else {}
    return render_template("campaign/alerts.html", alerts=active, numbers=numbers, categories=Category.labels(),
                           places=dict(zip([alert.id for alert in active],
                                           point_names([(alert.lon, alert.lat) for alert in active]), strict=True)))


@bp.post("/alerts/scan")
@login_required
def alerts_scan():
    """Look for new clusters now."""
    with attempt("已完成预警扫描。"):
        require(current_user, "handle_alerts")
        early_warning.scan()
    return redirect(url_for("campaign_desk.alerts"))


@bp.post("/alerts/<int:alert_id>/dismiss")
@login_required
def alerts_dismiss(alert_id: int):
    """Mark an alert dealt with."""
    with attempt("预警已处理。"):
        early_warning.dismiss(current_user, alert_id)
    return redirect(url_for("campaign_desk.alerts"))


@bp.post("/ledger")
@login_required
def ledger():
    """Ask for the case ledger (personal data only when asked and the role may see it); the
    worker makes it, and the export's page shows 「正在生成」 until the file is ready."""
    _, stated = _period()
    job = export_jobs.request_ledger(current_user, stated, request.form.get("personal") == "true")
    db.session.commit()
    return redirect(url_for("campaign_desk.export", job_id=job.id))


@bp.get("/exports/<uuid:job_id>")
@login_required
def export(job_id):
    """One export of mine: 「正在生成」 (the page looks again by itself), the download, or why it failed."""
    return render_template("campaign/export.html", job=export_jobs.job_for(current_user, job_id))


@bp.get("/exports/<uuid:job_id>/file")
@login_required
def export_file(job_id):
    """The finished file of one of my exports."""
    job, path = export_jobs.ready_file(current_user, job_id)
    return attachment(path.read_bytes(), XLSX, *export_jobs.download_names(job))


@bp.get("/ranking.xlsx")
@login_required
def ranking_xlsx():
    """The town ranking as a workbook."""
    _reports_only()
    _, stated = _period()
    content = exports.ranking_xlsx(scoring.town_ranking(stated.start, stated.end), stated)
    return attachment(content, XLSX, *exports.file_names("ranking", stated))


@bp.get("/receptions")
@login_required
def receptions_page():
    """Receptions in the period, the weekly check, and the form to record one."""
    require(current_user, "view_receptions")
    args, stated = _period()
    start, end = stated.start, stated.end
    return render_template("campaign/receptions.html", args=args, period=stated,
                           items=receptions.receptions_between(start, end),
                           weeks=receptions.weekly_check(start, end), week_states=receptions.WEEK_STATES,
                           kinds=ReceptionKind.labels())


@bp.post("/receptions")
@login_required
def add_reception():
    """Record a reception from the form (held_at is Beijing time)."""
    try:
        held_at = datetime.fromisoformat(request.form.get("held_at", "")).replace(tzinfo=clock.BEIJING)
        if not moment_in_range(held_at):  # a year 1 would overflow on its way to UTC
            raise ValueError(held_at)
    except ValueError:
        flash("请填写接访时间。", "error")
        return redirect(url_for("campaign_desk.receptions_page"))
    case_ids = [int(n) for n in request.form.get("case_ids", "").replace("，", ",").split(",") if n.strip().isdigit()]
    with attempt("接访已记录。"):
        receptions.record_reception(
            current_user, request.form.get("kind", ""), held_at, request.form.get("place", ""),
            request.form.get("receivers", ""), request.form.get("town_id", type=int),
            request.form.get("department_id", type=int), case_ids, request.form.get("note", ""))
    return redirect(url_for("campaign_desk.receptions_page"))


@bp.get("/special-checks")
@login_required
def checks_page():
    """Special checks and the report for the city government (printable)."""
    _reports_only()
    return render_template("campaign/checks.html", report=special_checks.government_report(),
                           reasons=CheckReason.labels(), outcomes=CheckOutcome.labels(),
                           today=clock.beijing_date(clock.now()))


@bp.post("/special-checks")
@login_required
def plan_checks():
    """Plan checks on every open difficult case and the key towns of the running period."""
    try:
        planned_on = date.fromisoformat(request.form.get("planned_on", ""))
        if not day_in_range(planned_on):
            raise ValueError(planned_on)
    except ValueError:
        planned_on = clock.beijing_date(clock.now())
    with attempt("督查任务已生成。"):
        special_checks.plan_checks(current_user, planned_on, *period(None, None))
    return redirect(url_for("campaign_desk.checks_page"))


@bp.post("/special-checks/<int:check_id>/result")
@login_required
def check_result(check_id: int):
    """Record a check's result."""
    with attempt("督查结果已记录。"):
        special_checks.record_result(current_user, check_id, request.form.get("outcome", ""),
                                     request.form.get("result", ""))
    return redirect(url_for("campaign_desk.checks_page"))


@bp.get("/stage-report")
@login_required
def stage_report():
    """The stage report (阶段性工作报告): ranking, first-line measures, lists and checks on one printable page."""
    _reports_only()
    return _stage_report_html(pdf=False)


@bp.get("/stage-report.pdf")
@login_required
def stage_report_pdf():
    """The same stage report as an A4 PDF (no menu, no filters, page numbers, fonts embedded)."""
    _reports_only()
    _, stated = _period()
    return pdf_response(_stage_report_html(pdf=True), f"阶段性工作报告_{stated.file_part}.pdf",
                        f"stage-report_{stated.ascii_file_part}.pdf")


def _stage_report_html(pdf: bool) -> str:
    args, stated = _period()
    start, end = stated.start, stated.end
    lists = accountability.accountability_lists(start, end)
    return render_template("campaign/stage_report.html", args=args, period=stated, pdf=pdf,
                           phase=campaigns.current_phase(clock.now()), ranking=scoring.town_ranking(start, end),
                           towns=first_line.first_line_measures(start, end)["towns"], labels=first_line.MEASURES,
                           lists=lists, checks=special_checks.government_report(),
                           alerts=early_warning.active_alerts(clock.now()))
