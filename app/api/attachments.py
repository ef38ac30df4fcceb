"""Case attachments: upload, list and download, for those who handle the case."""

from flask import request, send_file
from flask_login import current_user, login_required
from marshmallow import Schema, fields

from app.api.arguments import ApiBlueprint
from app.api.docs import BINARY, file_response, upload_body
from app.downloads import as_download
from app.extensions import db
from app.schemas.common import Moment
from app.services.access import Action, authorize
from app.services.cases.attachments import Upload, attach, attachment_file, attachments_of, download_name

blp = ApiBlueprint("attachments", __name__, description="案件附件 Case attachments")


class AttachmentSchema(Schema):
    """One attached file."""

    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    byte_size = fields.Integer()
    uploaded_at = Moment()
    url = fields.Function(lambda a: f"/api/v1/attachments/{a.id}")


def uploads_from_request() -> list[Upload]:
    """The files of a multipart request (form field ``files``, several allowed)."""
    return [Upload(f.filename or "", f.read(), f.mimetype) for f in request.files.getlist("files")]


@blp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@login_required
@blp.doc(requestBody=upload_body({"files": {"type": "array", "items": BINARY}}, ["files"]))
@blp.response(201, AttachmentSchema(many=True))
def post_attachments(case_id: int):
    """Attach PDF/JPEG/PNG/HEIC files (multipart field ``files``); all or nothing."""
    case = authorize(current_user, case_id, Action.VIEW_PERSONAL_DATA)
    stored = attach(current_user, case, uploads_from_request())
    db.session.commit()
    return stored


@blp.route("/cases/<int:case_id>/attachments", methods=["GET"])
@login_required
@blp.response(200, AttachmentSchema(many=True))
def get_attachments(case_id: int):
    """A case's attachments (handlers only: they may hold personal data)."""
    return attachments_of(current_user, authorize(current_user, case_id, Action.VIEW_PERSONAL_DATA))


@blp.route("/attachments/<int:attachment_id>", methods=["GET"])
@login_required
@blp.doc(responses=file_response("附件文件（附件下载）", "application/pdf", "image/jpeg", "image/png", "image/heic"))
def get_attachment(attachment_id: int):
    """Download one attachment, always as a file (never shown inline), named for its real type."""
    path, attachment = attachment_file(current_user, attachment_id)
    response = as_download(send_file(path, mimetype=attachment.content_type), download_name(attachment))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
