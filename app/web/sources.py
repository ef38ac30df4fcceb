"""The source register pages (监管对象台账): list, new/edit form, detail with patrol history and
linked cases, and the spreadsheet import.

Who sees what is ``access.source_scope``; supervisors (own town), the command office and the
administrator edit, everyone else reads. The rules live in ``services.sources`` and
``services.source_import``; these views only parse forms and show results.
"""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from geoalchemy2.shape import to_shape
from marshmallow import Schema, ValidationError
from webargs.flaskparser import parser

from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models.vocab import CheckinOutcome, CoordSystem, Sector, SourceKind
from app.schemas.messages import first_message
from app.schemas.sources import SourceCreateSchema, SourceQuerySchema, SourceWriteSchema
from app.services.access import authorize_source, may, places_to_filter_by
from app.services.patrols import source_import, sources
from app.web.forms import attempt

bp = Blueprint("source_desk", __name__, url_prefix="/desk/sources", template_folder="templates")

TEXT_FIELDS = ("code", "name", "address", "permit_number", "responsible_name", "responsible_phone", "notes")
CHOICE_FIELDS = ("kind", "sector", "lon", "lat", "coord_system")
NO_STORE = {"Cache-Control": "no-store"}


@bp.context_processor
def _vocabularies() -> dict:
    """Labels for select boxes and tables."""
    return {"source_kinds": SourceKind.labels(), "sectors": Sector.labels(), "coord_systems": CoordSystem.labels(),
            "outcomes": CheckinOutcome.labels()}


def _source_form(schema: Schema, form, checkboxes: tuple[str, ...]) -> dict:
    """A submitted source form loaded with the API's schema.

    Text fields keep a blank (so a phone or permit number can be cleared); blank choices and
    coordinates count as not given; unticked checkboxes are False.
    """
    raw = {name: form.get(name, "") for name in TEXT_FIELDS if name in form}
    raw.update({name: form[name] for name in CHOICE_FIELDS if form.get(name)})
    raw.update({name: form.get(name) == "true" for name in checkboxes})
    return schema.load(raw, unknown="exclude")



@bp.get("/")
@login_required
def register_page():
    """The register: sources in scope, filtered and paged (active ones unless asked otherwise)."""
    filters = parser.parse(SourceQuerySchema, request, location="query")
    filters.pop("format", None)
    if "active" not in request.args:
        filters["active"] = True
    page = sources.list_sources(current_user, **filters)
    towns, villages = places_to_filter_by(current_user)
    return render_template("sources/list.html", page=page, filters=filters, towns=towns, villages=villages,
                           town_name={town.id: town.name for town in towns})


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_source():
    """Add a source: typed coordinates (any system) or a click on the grid map place it."""
    if not may(current_user, "edit_sources"):
        return _refuse()
    if request.method == "GET":
        return render_template("sources/form.html", source=None, form={}, errors={}, message=None)
    try:
        source = sources.create_source(current_user, _source_form(SourceCreateSchema(), request.form, ("is_key",)))
        db.session.commit()
    except ValidationError as exc:
        return _form_again(None, exc.messages, 422)
    except DomainError as exc:
        db.session.rollback()
        return _form_again(None, exc.errors or {"_": exc.message}, exc.status, exc.message)
    flash(f"已登记监管对象 {source.code} {source.name}。", "ok")
    return redirect(url_for("source_desk.source_page", source_id=source.id))


@bp.route("/<int:source_id>/edit", methods=["GET", "POST"])
@login_required
def edit_source(source_id: int):
    """Change a source, move it, or take it off the active register."""
    source = authorize_source(current_user, source_id, edit=True)
    if request.method == "GET":
        shape = to_shape(source.location)
        form = {name: getattr(source, name) or "" for name in TEXT_FIELDS} | {
            "kind": source.kind, "sector": source.sector, "lon": f"{shape.x:.6f}", "lat": f"{shape.y:.6f}",
            "coord_system": "wgs84", "is_key": source.is_key, "active": source.active}
        return render_template("sources/form.html", source=source, form=form, errors={}, message=None)
    try:
        changes = _unmoved_dropped(source, _source_form(SourceWriteSchema(partial=True), request.form,
                                                        ("is_key", "active")))
        sources.update_source(current_user, source_id, changes)
        db.session.commit()
    except ValidationError as exc:
        return _form_again(source, exc.messages, 422)
    except DomainError as exc:
        db.session.rollback()
        return _form_again(source, exc.errors or {"_": exc.message}, exc.status, exc.message)
    flash("已保存。", "ok")
    return redirect(url_for("source_desk.source_page", source_id=source_id))


def _unmoved_dropped(source, changes: dict) -> dict:
    """Leave the location alone when the form sends back the coordinates it showed (rounded)."""
    shape = to_shape(source.location)
    shown = (round(shape.x, 6), round(shape.y, 6))
    if changes.get("coord_system", "wgs84") == "wgs84" and (changes.get("lon"), changes.get("lat")) == shown:
        changes = {k: v for k, v in changes.items() if k not in ("lon", "lat")}
    return changes


def _form_again(source, errors: dict, status: int, message: str | None = None):
    """The form refilled with what was typed and the problems beside the fields."""
    message = message or "请检查标红的项目：" + first_message(errors)
    return render_template("sources/form.html", source=source, form=request.form, errors=errors,
                           message=message), status


def _refuse():
    """Readers who open a writer's page get the API's Chinese 403 message as a page."""
    return render_template("error.html", code=403, errors={},
                           message="只有二级网格管理员、指挥部办公室和系统管理员可以修改监管对象台账。"), 403


@bp.get("/<int:source_id>")
@login_required
def source_page(source_id: int):
    """Everything about one source: its data, map position, patrol check-ins and linked cases."""
    source = authorize_source(current_user, source_id)
    history = sources.source_history(current_user, source)
    return render_template("sources/detail.html", source=source, history=history,
                           visible_case_ids={case.id for case in history.cases})


@bp.post("/<int:source_id>/deactivate")
@login_required
def deactivate_source(source_id: int):
    """Take a source off the active register (closed down, moved away); its history stays."""
    source = sources.deactivate_source(current_user, source_id)
    db.session.commit()
    flash(f"已停用 {source.name}（可在“修改”中重新启用）。", "ok")
    return redirect(url_for("source_desk.source_page", source_id=source_id))


@bp.post("/<int:source_id>/cases")
@login_required
def link_case(source_id: int):
    """Link a case by its number (it must be in the user's scope)."""
    authorize_source(current_user, source_id)  # a source out of scope is a 404 page, not a message
    with attempt() as done:
        case = sources.case_by_number(current_user, request.form.get("number", ""))
        sources.link_case(current_user, source_id, case.id)
        done.message = f"已关联案件 {case.number}。"
    return redirect(url_for("source_desk.source_page", source_id=source_id))


@bp.post("/<int:source_id>/cases/<int:case_id>/unlink")
@login_required
def unlink_case(source_id: int, case_id: int):
    """Remove a case link from the source page."""
    authorize_source(current_user, source_id)
    with attempt("已取消关联。"):
        sources.unlink_case(current_user, source_id, case_id)
    return redirect(url_for("source_desk.source_page", source_id=source_id))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_page():
    """Upload a register (.xlsx/.csv): check every row; import all, or only the good rows if asked."""
    if not may(current_user, "edit_sources"):
        return _refuse()
    if request.method == "GET":
        return render_template("sources/import.html", report=None, result=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的 .xlsx 或 .csv 文件。", "error")
        return render_template("sources/import.html", report=None, result=None), 422
    try:
        report = source_import.check_source_file(current_user, upload.filename, upload.read())
    except InvalidInput as exc:
        flash(exc.message, "error")
        return render_template("sources/import.html", report=None, result=None), 422
    good_only = request.form.get("good_rows_only") == "1"
    if request.form.get("mode") != "import" or (report.bad and not good_only):
        page = render_template("sources/import.html", report=report, result=None, filename=upload.filename)
        return page, 422 if report.bad else 200
    result = source_import.import_sources(current_user, report, good_rows_only=good_only)
    db.session.commit()
    return render_template("sources/import.html", report=report, result=result, filename=upload.filename)


@bp.get("/import/template.xlsx")
@login_required
def import_template():
    """The import template: headings, one example row, and the allowed values."""
    return Response(source_import.template_xlsx(), mimetype=source_import.XLSX_MIMETYPE, headers={
        "Content-Disposition": "attachment; filename=source-register-template.xlsx", **NO_STORE})
