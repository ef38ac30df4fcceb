"""Exports made by the worker: ask for one (202), look at where it stands, fetch the file."""

import uuid

from flask_login import current_user, login_required
from marshmallow import Schema, fields

from app.api.arguments import ApiBlueprint
from app.api.docs import XLSX, file_response
from app.downloads import attachment
from app.extensions import db
from app.models.vocab import ExportStatus
from app.schemas.campaign import LedgerQuerySchema
from app.schemas.common import Moment
from app.services.campaign import export_jobs
from app.services.campaign.periods import stated_period

blp = ApiBlueprint("exports", __name__, description="后台导出 Exports made in the background")


class ExportJobSchema(Schema):
    """An export asked for: ``status`` queued (正在生成), done or failed; ``file_url`` once done."""

    id = fields.UUID()
    kind = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda j: ExportStatus(j.status).label)
    file_name = fields.String()
    error = fields.String()
    created_at = Moment()
    finished_at = Moment(allow_none=True)
    file_url = fields.Function(
        lambda j: f"/api/v1/exports/{j.id}/file" if j.status == ExportStatus.DONE else None, allow_none=True)


@blp.route("/exports/ledger", methods=["POST"])
@login_required
@blp.arguments(LedgerQuerySchema)
@blp.response(202, ExportJobSchema)
def post_ledger(body):
    """Ask for the case ledger (台账) of the caller's cases for the period; poll the job, then fetch its file.

    Personal data only when ``personal`` is true and the role may see it.
    """
    job = export_jobs.request_ledger(current_user, stated_period(body["start"], body["end"]), body["personal"])
    db.session.commit()
    return job


@blp.route("/exports/<uuid:job_id>", methods=["GET"])
@login_required
@blp.response(200, ExportJobSchema)
def get_export(job_id: uuid.UUID):
    """Where the caller's export stands (another user's is 404)."""
    return export_jobs.job_for(current_user, job_id)


@blp.route("/exports/<uuid:job_id>/file", methods=["GET"])
@login_required
@blp.doc(responses=file_response("导出的工作簿（.xlsx，附件下载）", XLSX))
@blp.alt_response(503, description="仍在生成；Retry-After 说明几秒后再试")
@blp.alt_response(409, description="生成失败，请重新导出")
def get_export_file(job_id: uuid.UUID):
    """The finished workbook of the caller's export."""
    job, path = export_jobs.ready_file(current_user, job_id)
    return attachment(path.read_bytes(), XLSX, *export_jobs.download_names(job))
