"""The campaign (专项行动), its submissions, grid scores, first-line measures, accountability lists
and early-warning alerts."""

import json
from io import BytesIO

from flask import request, send_file
from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.api.docs import BINARY, GEOJSON, XLSX, file_response, upload_body
from app.downloads import as_download, attachment
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.schemas.campaign import (
    AccountabilitySchema,
    AlertSchema,
    BaselineTownSchema,
    BaselineYearSchema,
    BoardRowSchema,
    CampaignCreateSchema,
    CampaignSchema,
    CheckPlanSchema,
    CheckReportSchema,
    CheckResultSchema,
    FailureRecordSchema,
    FirstLineSchema,
    GridScoreSchema,
    PeriodSchema,
    PhaseChangeSchema,
    PhaseInfoSchema,
    PhaseSchema,
    ReceptionOutSchema,
    ReceptionSchema,
    RequirementChangeSchema,
    RequirementSchema,
    SpecialCheckSchema,
    SubmissionSchema,
    TownRankSchema,
    WeekCheckSchema,
)
from app.schemas.common import FeatureCollectionSchema
from app.services import clock
from app.services.access import require
from app.services.campaign import (
    accountability,
    baselines,
    early_warning,
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

blp = ApiBlueprint("campaign", __name__,
                   description="专项行动、考核、问责与预警 Campaign, scoring, accountability, alerts")

# Lists answered as a bare JSON array state their period in a header: first/last day, both included.
PERIOD_HEADER = {"X-Period": {"description": "统计期间（北京时间日期，两端都含），如 2026-09-20/2026-12-31",
                              "schema": {"type": "string"}}}


def _reports_only() -> None:
    require(current_user, "campaign_reports")


@blp.route("/campaigns", methods=["GET"])
@login_required
@blp.response(200, CampaignSchema(many=True))
def get_campaigns():
    """Every campaign with its phases and what towns must submit."""
    return campaigns.list_campaigns()


@blp.route("/campaigns", methods=["POST"])
@login_required
@blp.arguments(CampaignCreateSchema)
@blp.response(201, CampaignSchema)
def post_campaign(data):
    """Start a campaign for a year with the plan's default phases and submissions (command office, admin)."""
    campaign = campaigns.create_campaign(current_user, data["year"], data.get("name"))
    db.session.commit()
    return campaign


@blp.route("/campaigns/current", methods=["GET"])
@login_required
@blp.response(200, PhaseInfoSchema)
@blp.alt_response(404, description="当前没有进行中的专项行动阶段")
def get_current_phase():
    """The running campaign's phase today and the days left in the campaign (404 when none runs)."""
    info = campaigns.current_phase(clock.now())
    if info is None:
        raise NotFound("当前没有进行中的专项行动阶段。")
    return info


@blp.route("/campaigns/phases/<int:phase_id>", methods=["PUT"])
@login_required
@blp.arguments(PhaseChangeSchema)
@blp.response(200, PhaseSchema)
def put_phase(data, phase_id: int):
    """Change a phase's name or dates (command office, admin; audited)."""
    phase = campaigns.change_phase(current_user, phase_id, **data)
    db.session.commit()
    return phase


@blp.route("/campaigns/requirements/<int:requirement_id>", methods=["PUT"])
@login_required
@blp.arguments(RequirementChangeSchema)
@blp.response(200, RequirementSchema)
def put_requirement(data, requirement_id: int):
    """Change a required submission's name or due date (command office, admin; audited)."""
    requirement = campaigns.change_requirement(current_user, requirement_id, **data)
    db.session.commit()
    return requirement


@blp.route("/campaigns/<int:campaign_id>/submissions", methods=["GET"])
@login_required
@blp.response(200, BoardRowSchema(many=True))
def get_submission_board(campaign_id: int):
    """Per town and requirement: submitted, late, received or missing (a supervisor sees their town)."""
    require(current_user, "campaign_overview")
    return campaigns.submission_board(current_user, campaigns.get_campaign(campaign_id), clock.now())


@blp.route("/campaigns/submissions", methods=["POST"])
@login_required
@blp.doc(requestBody=upload_body({"requirement_id": {"type": "integer"}, "town_id": {"type": "integer"},
                                  "note": {"type": "string"}, "file": BINARY}, ["requirement_id", "file"]))
@blp.response(201, SubmissionSchema)
def post_submission():
    """Upload a town's document (multipart: requirement_id, file, note; town_id for the command office)."""
    upload = request.files.get("file")
    try:
        requirement_id = int(request.form.get("requirement_id", ""))
        town_id = int(request.form["town_id"]) if request.form.get("town_id") else None
    except ValueError as exc:
        raise InvalidInput("请选择报送要求。", {"requirement_id": ["不正确"]}) from exc
    row = campaigns.submit(current_user, requirement_id, town_id, upload.filename if upload else "",
                           upload.read() if upload else b"", request.form.get("note", ""))
    db.session.commit()
    return row


@blp.route("/campaigns/submissions/<int:submission_id>/receive", methods=["POST"])
@login_required
@blp.response(200, SubmissionSchema)
def post_receive(submission_id: int):
    """The command office marks a submission received (签收)."""
    row = campaigns.mark_received(current_user, submission_id)
    db.session.commit()
    return row


@blp.route("/campaigns/submissions/<int:submission_id>/file", methods=["GET"])
@login_required
@blp.doc(responses=file_response("报送的文件，类型为上传时的类型（附件下载）", "*/*"))
def get_submission_file(submission_id: int):
    """Download a submitted document (its town and the command office)."""
    row = campaigns.get_submission(current_user, submission_id)
    return as_download(send_file(BytesIO(row.content or b""), mimetype=row.content_type), row.filename)


@blp.route("/scores/grids", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, GridScoreSchema(many=True), headers=PERIOD_HEADER)
def get_grid_scores(query):
    """Each level-3 grid's petition item for the period, every deduction linked to its case;
    the period is stated in the X-Period header."""
    _reports_only()
    stated = stated_period(query["start"], query["end"])
    return scoring.grid_scores(stated.start, stated.end), {"X-Period": stated.iso_interval}


@blp.route("/scores/towns", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, TownRankSchema(many=True), headers=PERIOD_HEADER)
def get_town_ranking(query):
    """Towns best first: mean of their villages' scores, then above-level, overdue and open
    cases; the period is stated in the X-Period header."""
    _reports_only()
    stated = stated_period(query["start"], query["end"])
    return scoring.town_ranking(stated.start, stated.end), {"X-Period": stated.iso_interval}


@blp.route("/first-line", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, FirstLineSchema)
def get_first_line(query):
    """'First line, first time' measures per level-3 grid and per town for the period."""
    _reports_only()
    stated = stated_period(query["start"], query["end"])
    return first_line.first_line_measures(stated.start, stated.end) | {"period": stated.as_json()}


@blp.route("/accountability", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, AccountabilitySchema)
def get_accountability(query):
    """Towns to interview, unresolved repeat above-level petitions, unrectified referrals,
    towns and departments whose volume has not fallen, and failure records."""
    _reports_only()
    stated = stated_period(query["start"], query["end"])
    return accountability.accountability_lists(stated.start, stated.end) | {"period": stated}


@blp.route("/volume-baselines/<int:year>", methods=["GET"])
@login_required
@blp.response(200, BaselineTownSchema(many=True))
def get_volume_baselines(year: int):
    """Each town's petition counts per month of a past year, entered from the old records: the
    baseline of "volume not falling" where the system's own records do not reach back."""
    _reports_only()
    return baselines.year_table(year)


@blp.route("/volume-baselines/<int:year>", methods=["PUT"])
@login_required
@blp.arguments(BaselineYearSchema)
@blp.response(200, BaselineTownSchema(many=True))
def put_volume_baselines(data, year: int):
    """Enter a year's monthly counts for the towns given (admin; null clears a month; audited)."""
    table = baselines.set_year(current_user, year, data["towns"])
    db.session.commit()
    return table


@blp.route("/failure-records", methods=["POST"])
@login_required
@blp.arguments(FailureRecordSchema)
@blp.response(201, FailureRecordSchema)
def post_failure_record(data):
    """Record a person's failure with the case as evidence (command office)."""
    row = accountability.record_failure(current_user, **data)
    db.session.commit()
    return row


@blp.route("/alerts", methods=["GET"])
@login_required
@blp.response(200, AlertSchema(many=True))
def get_alerts():
    """Active early-warning alerts (clusters of one category in space and time)."""
    _reports_only()
    return early_warning.active_alerts(clock.now())


@blp.route("/alerts/scan", methods=["POST"])
@login_required
@blp.response(200, AlertSchema(many=True))
def post_alert_scan():
    """Look for new clusters now (the cron job does the same); return the alerts raised."""
    require(current_user, "handle_alerts")
    raised = early_warning.scan()
    db.session.commit()
    return raised


@blp.route("/alerts/<int:alert_id>/dismiss", methods=["POST"])
@login_required
@blp.response(200, AlertSchema)
def post_alert_dismiss(alert_id: int):
    """Mark an alert dealt with (command office)."""
    alert = early_warning.dismiss(current_user, alert_id)
    db.session.commit()
    return alert


@blp.route("/exports/ranking.xlsx", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.doc(responses=file_response("镇（街道）排名（.xlsx，附件下载）", XLSX))
def get_ranking_xlsx(query):
    """The town ranking for the period as a workbook, the period stated in it and in its name."""
    _reports_only()
    stated = stated_period(query["start"], query["end"])
    content = exports.ranking_xlsx(scoring.town_ranking(stated.start, stated.end), stated)
    return attachment(content, XLSX, *exports.file_names("ranking", stated))


@blp.route("/receptions", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, ReceptionOutSchema(many=True))
def get_receptions(query):
    """Receptions held in the period, newest first."""
    require(current_user, "view_receptions")
    return receptions.receptions_between(*period(query["start"], query["end"]))


@blp.route("/receptions", methods=["POST"])
@login_required
@blp.arguments(ReceptionSchema)
@blp.response(201, ReceptionOutSchema)
def post_reception(data):
    """Record a reception: when, where, who received, the cases taken in."""
    reception = receptions.record_reception(current_user, **data)
    db.session.commit()
    return reception


@blp.route("/receptions/weekly-check", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, WeekCheckSchema(many=True))
def get_reception_check(query):
    """Per week, per town and listed department: receptions held and whether enough."""
    _reports_only()
    return receptions.weekly_check(*period(query["start"], query["end"]))


@blp.route("/special-checks", methods=["POST"])
@login_required
@blp.arguments(CheckPlanSchema)
@blp.response(201, SpecialCheckSchema(many=True))
def post_special_checks(data):
    """Plan checks on every open difficult case and the key towns (command office)."""
    planned = special_checks.plan_checks(current_user, data["planned_on"], *period(data["start"], data["end"]))
    db.session.commit()
    return planned


@blp.route("/special-checks/<int:check_id>/result", methods=["POST"])
@login_required
@blp.arguments(CheckResultSchema)
@blp.response(200, SpecialCheckSchema)
def post_check_result(data, check_id: int):
    """Record a check's result (command office)."""
    check = special_checks.record_result(current_user, check_id, data["outcome"], data["result"])
    db.session.commit()
    return check


@blp.route("/special-checks/report", methods=["GET"])
@login_required
@blp.response(200, CheckReportSchema)
def get_check_report():
    """The special-check report for the city government."""
    _reports_only()
    return special_checks.government_report()


@blp.route("/exports/cases.geojson", methods=["GET"])
@login_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, FeatureCollectionSchema, content_type=GEOJSON)
def get_cases_geojson(query):
    """The caller's cases of the period as GeoJSON points (no personal data); the period is a
    foreign member of the collection (RFC 7946 §6.1) and in the file name."""
    stated = stated_period(query["start"], query["end"])
    body = exports.cases_geojson(current_user, stated.start, stated.end) | {"period": stated.as_json()}
    return attachment(json.dumps(body, ensure_ascii=False).encode(), "application/geo+json",
                      *exports.file_names("cases", stated))
