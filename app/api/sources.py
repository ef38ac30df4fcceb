"""The source register (监管对象台账): list, read, create, edit, history, case links, import."""

from flask import Response, jsonify, request
from flask_login import current_user, login_required
from marshmallow import Schema, fields

from app.api.arguments import ApiBlueprint
from app.api.docs import GEOJSON, XLSX, file_response
from app.errors import InvalidInput, error_response
from app.extensions import db
from app.schemas.common import FeatureCollectionSchema
from app.schemas.sources import (
    SourceCreateSchema,
    SourceHistorySchema,
    SourceImportReportSchema,
    SourcePageSchema,
    SourceQuerySchema,
    SourceSchema,
    SourceWriteSchema,
)
from app.services.access import authorize_source
from app.services.patrols import source_import, sources

blp = ApiBlueprint("sources", __name__, description="监管对象台账 Source register")


class ImportFormSchema(Schema):
    """The import's options (multipart form fields beside ``file``)."""

    good_rows_only = fields.Boolean(load_default=False)
    check_only = fields.Boolean(load_default=False)
    # Read from the request's files by the view; named here so the document shows the form whole.
    file = fields.Raw(load_only=True, metadata={"type": "string", "format": "binary", "description": ".xlsx 或 .csv"})


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(SourceQuerySchema, location="query", as_kwargs=True)
@blp.response(200, SourcePageSchema)
@blp.alt_response(200, schema=FeatureCollectionSchema, content_type=GEOJSON, success=True,
                  description="format=geojson：全部匹配的监管对象（至多 5000 个）")
def get_sources(page: int, per_page: int, format: str | None = None, **filters):
    """Sources in the caller's scope by code, filtered and paged; ``format=geojson`` for the map
    gives every match (up to 5,000) as a FeatureCollection instead."""
    if format == "geojson":
        response = jsonify(sources.source_geojson(current_user, **filters))
        response.mimetype = GEOJSON
        return response
    return sources.list_sources(current_user, page=page, per_page=per_page, **filters)


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(SourceCreateSchema)
@blp.response(201, SourceSchema)
def create_source(data):
    """Add a source; grid and town come from the location, a code is made when none is given."""
    source = sources.create_source(current_user, data)
    db.session.commit()
    return source


@blp.route("/<int:source_id>", methods=["GET"])
@login_required
@blp.response(200, SourceSchema)
def get_source(source_id: int):
    """One source; 404 when it is outside the caller's scope."""
    return authorize_source(current_user, source_id)


@blp.route("/<int:source_id>", methods=["PATCH"])
@login_required
@blp.arguments(SourceWriteSchema(partial=True))
@blp.response(200, SourceSchema)
def patch_source(changes, source_id: int):
    """Change a source (``active: false`` takes it off the register); a move reassigns its grid."""
    source = sources.update_source(current_user, source_id, changes)
    db.session.commit()
    return source


@blp.route("/<int:source_id>/history", methods=["GET"])
@login_required
@blp.response(200, SourceHistorySchema)
def get_history(source_id: int):
    """The source's check-ins, newest first, and the linked cases the caller may see."""
    return sources.source_history(current_user, authorize_source(current_user, source_id))


@blp.route("/<int:source_id>/cases/<int:case_id>", methods=["POST"])
@login_required
@blp.response(200, SourceSchema)
def post_case_link(source_id: int, case_id: int):
    """Link a case (in the caller's scope) to the source."""
    source = sources.link_case(current_user, source_id, case_id)
    db.session.commit()
    return source


@blp.route("/<int:source_id>/cases/<int:case_id>", methods=["DELETE"])
@login_required
@blp.response(200, SourceSchema)
def delete_case_link(source_id: int, case_id: int):
    """Unlink a case from the source."""
    source = sources.unlink_case(current_user, source_id, case_id)
    db.session.commit()
    return source


@blp.route("/import", methods=["POST"])
@login_required
@blp.arguments(ImportFormSchema, location="form", content_type="multipart/form-data")
@blp.response(200, SourceImportReportSchema)
def post_import(options):
    """Import .xlsx/.csv (multipart ``file``): all or nothing (422 listing each bad line), or
    the good rows alone with ``good_rows_only``; ``check_only`` reports without importing."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("请上传 .xlsx 或 .csv 文件（表单字段 file）。", {"file": ["缺少文件"]})
    report = source_import.check_source_file(current_user, upload.filename, upload.read())
    rows = [{"line": r.line, "errors": r.errors} for r in report.bad]
    if options["check_only"]:
        return {"rows_read": len(report.rows), "imported": 0, "created": 0, "updated": 0, "errors": rows}
    if report.bad and not options["good_rows_only"]:
        message = f"文件中有 {len(report.bad)} 行有误，未导入任何监管对象。"
        return error_response(422, message, {"file": [message], "rows": rows})
    result = source_import.import_sources(current_user, report, good_rows_only=options["good_rows_only"])
    db.session.commit()
    return {"rows_read": result.rows_read, "imported": result.imported, "created": len(result.created),
            "updated": len(result.updated), "errors": rows}


@blp.route("/import-template", methods=["GET"])
@login_required
@blp.doc(responses=file_response("导入模板（.xlsx，附件下载）", XLSX))
def get_import_template():
    """An .xlsx with the column headings, one example row and the allowed values."""
    return Response(source_import.template_xlsx(), mimetype=source_import.XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=source-register-template.xlsx"})
