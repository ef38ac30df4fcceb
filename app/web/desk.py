"""The supervisor desk (办案台): work queue, intake, case page with its actions and evidence,
on-site checks recorded at the desk, notifications."""

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy import select

from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models import Department, Inspection, User
from app.models.vocab import (
    CaseStatus,
    Category,
    Channel,
    CoordSystem,
    EnforcementKind,
    InspectionReferral,
    LegalTrack,
    NoPhotoReason,
    NoticeKind,
    NotificationKind,
    Priority,
    QueueTab,
    ReplyDecision,
    Role,
    Satisfaction,
    Sector,
    SmsMode,
    Subcategory,
)
from app.schemas.cases import CaseCreateSchema, CaseQuerySchema
from app.schemas.lifecycle import STEP_SCHEMAS
from app.schemas.messages import first_message
from app.services import clock
from app.services.access import Action, authorize, can, places_to_filter_by
from app.services.cases import notifications, saved_filters, workcalendar
from app.services.cases.attachments import Upload, attach, attachments_of, check_uploads
from app.services.cases.deadlines import deadline_states
from app.services.cases.intake import register_case, repeat_candidates
from app.services.cases.lifecycle import STEPS, close_checklist, offered_steps, take
from app.services.cases.privacy import petitioner_view
from app.services.cases.queries import PAGE_LOADS, case_numbers, list_cases, tab_counts
from app.services.cases.records import records_of, timeline_of
from app.services.field import onsite_rules
from app.services.field.desk_checks import PhotoUpload, chosen_photos
from app.services.field.evidence import evidence_of, map_points
from app.services.notify import preferences
from app.web.forms import attempt

bp = Blueprint("desk", __name__, url_prefix="/desk", template_folder="templates")
_QUEUE_FILTERS = CaseQuerySchema(unknown=EXCLUDE)

VOCABULARIES = {
    "statuses": CaseStatus, "categories": Category, "subcategories": Subcategory, "channels": Channel,
    "sectors": Sector, "priorities": Priority, "coord_systems": CoordSystem, "referrals": InspectionReferral,
    "legal_tracks": LegalTrack, "decisions": ReplyDecision, "satisfactions": Satisfaction,
    "enforcement_kinds": EnforcementKind, "notice_kinds": NoticeKind, "no_photo_reasons": NoPhotoReason,
}


@bp.context_processor
def _vocabularies() -> dict:
    """Every controlled vocabulary, for select boxes and labels."""
    return {name: enum.labels() for name, enum in VOCABULARIES.items()}


def load_form(schema: Schema, form) -> dict:
    """Load a submitted form with the API's schema; blank fields count as not given.

    ``findings.x`` fields become the ``findings`` object, as the API takes it.
    """
    raw: dict = {}
    for key, value in form.items():
        if value == "" or key == "csrf_token":
            continue
        group, dot, field = key.partition(".")
        if dot:
            raw.setdefault(group, {})[field] = True if value == "true" else value
        else:
            raw[key] = value
    return schema.load(raw, unknown="exclude")



@bp.get("/")
@login_required
def queue():
    """The work queue: tabs with their counts, search, filters, saved filters and bulk actions."""
    filters = _queue_filters()
    # The queue shows the open cases; a search looks through every status (a number typed in
    # must find its case, closed or not), and the status select says which it is.
    if filters.get("open") is None and not filters.get("status") and not (filters.get("q") or "").strip():
        filters["open"] = True
    towns, villages = places_to_filter_by(current_user)
    parent = {village.id: village.parent_id for village in villages}
    if filters.get("town_id") and filters.get("grid_id") and parent.get(filters["grid_id"]) != filters["town_id"]:
        # A kept link or a filter chosen in another order: say so rather than answer 0 cases.
        flash("所选村（社区）不属于所选镇（街道），已按镇（街道）筛选。", "warn")
        filters.pop("grid_id")
    page = list_cases(current_user, **filters)
    return render_template(
        "desk/queue.html", page=page, states=deadline_states(page["items"], clock.now()),
        filters=filters, tabs=QueueTab, counts=tab_counts(current_user, **filters),
        towns=towns, villages=villages, town_name={town.id: town.name for town in towns},
        departments=_departments(), saved=saved_filters.filters_of(current_user),
        bulk_steps=[STEPS[name] for name in BULK_STEPS if current_user.role in STEPS[name].roles],
        missing_years=workcalendar.missing_years(clock.beijing_date(clock.now())),
    )


def _queue_filters() -> dict:
    """The queue form's filters; a select left at 全部 sends an empty value, which means no filter."""
    chosen = {key: request.args.getlist(key) if isinstance(_QUEUE_FILTERS.fields.get(key), fields.List) else value
              for key, value in request.args.items() if value.strip()}
    try:
        return _QUEUE_FILTERS.load(chosen)
    except ValidationError as exc:
        raise InvalidInput("筛选条件有误，请重新选择后再筛选。", exc.messages) from None


def _departments() -> list[Department]:
    """Every department, for routing choices."""
    return list(db.session.scalars(select(Department).order_by(Department.id)))


# Steps the queue takes on several ticked cases at once, each case through ``take`` alone.
BULK_STEPS = ("sign", "remind", "assign")


@bp.post("/bulk/<name>")
@login_required
def bulk_action(name: str):
    """Sign, remind or assign several cases at once; each is checked and taken like a single
    action, and the page says for each case what happened."""
    if name not in BULK_STEPS:
        abort(404)
    try:
        data = load_form(STEP_SCHEMAS[name], request.form)
    except ValidationError as exc:
        flash(f"{STEPS[name].label}失败：{first_message(exc.messages)}", "error")
        return redirect(request.referrer or url_for("desk.queue"))
    ids = request.form.getlist("case_id", type=int)
    if not ids:
        flash(f"请先勾选要{STEPS[name].label}的案件。", "error")
        return redirect(request.referrer or url_for("desk.queue"))
    numbers = case_numbers(current_user, ids)
    done = 0
    for case_id in ids:
        label = numbers.get(case_id, f"#{case_id}")
        try:
            take(current_user, case_id, name, dict(data))
            db.session.commit()
            done += 1
            flash(f"{label}：已{STEPS[name].label}。", "ok")
        except DomainError as exc:
            db.session.rollback()
            flash(f"{label}：{exc.message}", "error")
    flash(f"共 {len(ids)} 件，{STEPS[name].label}成功 {done} 件。", "ok" if done == len(ids) else "warn")
    return redirect(request.referrer or url_for("desk.queue"))


@bp.post("/filters")
@login_required
def save_queue_filter():
    """Keep the queue's current filters under a name, for this user only."""
    with attempt() as done:
        saved = saved_filters.save_filter(current_user, request.form.get("name", ""), request.form.get("query", ""))
        done.message = f"已保存常用筛选「{saved.name}」。"
    return redirect(request.referrer or url_for("desk.queue"))


@bp.post("/filters/<int:filter_id>/delete")
@login_required
def delete_queue_filter(filter_id: int):
    """Forget one of this user's saved filters."""
    with attempt() as done:
        saved_filters.delete_filter(current_user, filter_id)
        done.message = "已删除常用筛选。"
    return redirect(url_for("desk.queue"))


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new_case():
    """Register a case from any channel; the map click or typed coordinates place it."""
    if request.method == "POST":
        try:
            uploads = [Upload(f.filename or "", f.read(), f.mimetype) for f in request.files.getlist("attachments")]
            check_uploads(uploads)  # refuse a bad file before anything is saved
            case, candidates = register_case(current_user, load_form(CaseCreateSchema(), request.form))
            attach(current_user, case, uploads, optional=True)
            db.session.commit()
        except ValidationError as exc:
            return _intake_page(exc.messages), 422
        except DomainError as exc:
            db.session.rollback()
            return _intake_page(exc.errors or {"_": exc.message}, exc.message), exc.status
        repeats = f"发现 {len(candidates)} 件疑似重复件，请核对。" if candidates else ""
        flash(f"已登记案件 {case.number}。{repeats}", "ok")
        return redirect(url_for("desk.case_page", case_id=case.id))
    return _intake_page({})


def _intake_page(errors: dict, message: str | None = None) -> str:
    """The intake form, refilled with what was typed and the errors beside it."""
    if message is None and errors:
        message = "请检查标红的项目：" + first_message(errors)
    return render_template("desk/new_case.html", errors=errors, message=message, form=request.form,
                           departments=_departments())


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    """Everything about one case, its evidence, and the actions this user may take on it now."""
    return _case_page(authorize(current_user, case_id, options=PAGE_LOADS))


# States in which the page lists what 销号 still needs, so nobody meets it only at the last step.
_CHECKLIST_STATES = {CaseStatus.HANDLING, CaseStatus.REPLIED, CaseStatus.REVIEWED, CaseStatus.FOLLOWED_UP}


def _case_page(case, typed_step: str | None = None, typed=None, typed_error: str | None = None) -> str:
    """The case page; a refused action (``typed_step``) comes back open, as typed, with its error."""
    evidence, records = evidence_of(case), records_of(case)
    return render_template(
        "desk/case.html", case=case, timeline=timeline_of(case), records=records,
        steps=offered_steps(current_user, case), petitioner=petitioner_view(case, current_user),
        show_personal=can(current_user, Action.VIEW_PERSONAL_DATA, case),
        candidates=_candidates_for(case), departments=_departments(), leaders=_leaders(), people=_names_on(records),
        attachments=attachments_of(current_user, case), evidence=evidence, evidence_points=map_points(evidence),
        can_original=can(current_user, Action.VIEW_ORIGINAL_PHOTO, case),
        can_accept=current_user.role in onsite_rules.ACCEPTORS and case.status in onsite_rules.ONSITE_STATES,
        show_checklist=case.status in _CHECKLIST_STATES, close_items=close_checklist(case),
        typed_step=typed_step, typed=typed or {}, typed_error=typed_error,
    )


@bp.post("/cases/<int:case_id>/attachments")
@login_required
def upload_attachments(case_id: int):
    """Add files to a case from its page (handlers only)."""
    case = authorize(current_user, case_id, Action.VIEW_PERSONAL_DATA)
    with attempt() as done:
        stored = attach(current_user, case, [Upload(f.filename or "", f.read(), f.mimetype)
                                             for f in request.files.getlist("attachments")])
        done.message = f"已上传 {len(stored)} 个附件。"
    return redirect(url_for("desk.case_page", case_id=case_id))


def _candidates_for(case) -> list:
    """Possible earlier cases for an unlinked registered case."""
    if case.repeat_of_id or case.location is None or case.status != CaseStatus.REGISTERED:
        return []
    from geoalchemy2.shape import to_shape

    point = to_shape(case.location)
    return repeat_candidates(current_user, point.x, point.y, case.category, case.petitioner_phone, exclude_id=case.id)


def _leaders() -> list[User]:
    """Users who can lead a case (包案领导)."""
    return list(db.session.scalars(select(User).where(User.role == Role.LEADING_OFFICIAL, User.active)))


def _names_on(records: dict[str, list]) -> dict[int, str]:
    """The names of the staff the records name by id (who signed a plan off, who replied, who reviewed),
    in one read of those users only (no petitioner data here)."""
    ids = {plan.leader_signed_off_by_id for plan in records["plans"]} | {
        person for reply in records["replies"] for person in (reply.replied_by_id, reply.reviewed_by_id)}
    ids.discard(None)
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


@bp.post("/cases/<int:case_id>/actions/<name>")
@login_required
def take_action(case_id: int, name: str):
    """Take one lifecycle action from the case page's actions panel. A refusal comes back on the
    case page with the action's form open and filled in as typed: nothing typed is lost."""
    schema = STEP_SCHEMAS.get(name)
    if schema is None:
        abort(404)
    try:
        case = take(current_user, case_id, name, load_form(schema, request.form))
        db.session.commit()
    except ValidationError as exc:
        return _refused(case_id, name, f"{STEPS[name].label}失败：{first_message(exc.messages)}", 422)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        return _refused(case_id, name, exc.message, exc.status)
    flash(f"已{STEPS[name].label}，案件现为「{CaseStatus(case.status).label}」。", "ok")
    return redirect(url_for("desk.case_page", case_id=case_id))


def _refused(case_id: int, name: str, message: str, status: int):
    """The case page again, the refused action's form open with what was typed and why it was
    refused (at the top too: the action may no longer be offered)."""
    flash(message, "error")
    return _case_page(authorize(current_user, case_id, options=PAGE_LOADS), name, request.form, message), status


@bp.post("/cases/<int:case_id>/onsite")
@login_required
def record_onsite(case_id: int):
    """Record an on-site check from the desk, with photos, under the same rule as the phone's."""
    case = authorize(current_user, case_id)
    try:
        data = load_form(STEP_SCHEMAS["record_onsite"], request.form)
        data["photos"] = [PhotoUpload(f.filename or "", f.read(), f.mimetype) for f in request.files.getlist("photos")]
        # As the phone's form does, the desk's refuses to save a check that lacks evidence; the
        # API step keeps such a check, flagged, so nothing sent from elsewhere is lost.
        missing = onsite_rules.missing_from(len(chosen_photos(data["photos"])), data.get("no_photo_reason"),
                                            data.get("findings"))
        if missing:
            return _case_page(case, "record_onsite", request.form, f"现场核查未保存：{'；'.join(missing)}。"), 422
        take(current_user, case_id, "record_onsite", data)
        db.session.commit()
    except ValidationError as exc:
        return _case_page(case, "record_onsite", request.form, f"现场核查未保存：{first_message(exc.messages)}"), 422
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        return _case_page(authorize(current_user, case_id), "record_onsite", request.form, exc.message), exc.status
    _flash_check(db.session.get(Inspection, uuid.UUID(data["inspection_id"])))
    return redirect(url_for("desk.case_page", case_id=case_id, _anchor="evidence"))


def _flash_check(inspection: Inspection) -> None:
    """Say whether the check just recorded counts, and if not, what holds it back."""
    if onsite_rules.counts_as_onsite(inspection):
        flash("已记录现场核查，计入现场核查。", "ok")
        return
    flags = "、".join(onsite_rules.flag_labels(inspection))
    flash(f"已记录现场核查，但暂不计入现场核查：{flags}。可补充后重新记录，或请其他二级网格管理员、"
          "指挥部办公室确认（本人记录的核查须由他人确认）。", "warn")


@bp.post("/cases/<int:case_id>/inspections/<uuid:inspection_id>/accept")
@login_required
def accept_onsite(case_id: int, inspection_id: uuid.UUID):
    """Accept a flagged on-site check with a note (supervisor, command office); it then counts."""
    try:
        onsite_rules.accept_check(current_user, case_id, inspection_id, request.form.get("note", ""))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash("已确认该核查有效，计入现场核查。", "ok")
    return redirect(url_for("desk.case_page", case_id=case_id, _anchor="evidence"))


@bp.get("/notifications")
@login_required
def notification_list():
    """The user's notifications, unread first then newest, and their own SMS choices."""
    return render_template("desk/notifications.html", items=notifications.for_user(current_user),
                           kinds=NotificationKind.labels(), modes=SmsMode.labels(),
                           my_modes=preferences.modes_for(user=current_user))


@bp.post("/notifications/preferences")
@login_required
def notification_preferences():
    """Save which kinds of notification this user also wants by SMS, at once or in the daily digest."""
    chosen = {kind: request.form.get(kind) for kind in NotificationKind.labels()}
    with attempt("已保存您的短信提醒方式。"):
        preferences.set_modes({k: v for k, v in chosen.items() if v in SmsMode.labels()}, user=current_user)
    return redirect(url_for("desk.notification_list"))


@bp.post("/notifications/read")
@login_required
def notifications_read():
    """Mark one notification, or all, as read."""
    notifications.mark_read(current_user, request.form.get("id", type=int))
    db.session.commit()
    return redirect(url_for("desk.notification_list"))
