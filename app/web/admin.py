"""Administration pages (系统管理), for the admin role only.

A new city is set up here from an empty database: grids from the city's GeoJSON, the
departments and the routing table, the deadline rules and the working calendar, staff
from a spreadsheet, API keys for outside systems. Every change goes through a service
that writes the audit log, which is readable here too.
"""

import json
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models import CalendarDay, Case, DeadlineRule, Department, Grid, SectorRoute, User
from app.models.vocab import (
    AUDIT_ACTION_LABELS,
    BaseLayer,
    Channel,
    DeliveryStatus,
    LegalTrack,
    NotificationKind,
    NotifyChannel,
    PeriodUnit,
    Priority,
    Role,
    Sector,
    SmsMode,
    Stage,
)
from app.services import clock, settings
from app.services.access import require
from app.services.admin import accounts, api_keys, changes, staff_import
from app.services.admin import audit as admin_audit
from app.services.admin.throttling import recent_failures
from app.services.campaign import baselines as campaign_baselines
from app.services.cases import deadlines, departments, holiday_notice, workcalendar
from app.services.geo import basemap, grid_import
from app.services.notify import delivery, preferences, robots
from app.web.forms import attempt

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

# Never cache a page that shows a temporary password or a new API key.
NO_STORE = {"Cache-Control": "no-store"}
@bp.before_request
@login_required
def _admins_only():
    """Every page here is for administrators; others get the Chinese 403 page."""
    require(current_user, "administer")


@bp.context_processor
def _labels() -> dict:
    """Vocabularies the admin templates label things with."""
    return {"roles": Role.labels(), "sectors": Sector.labels(), "stages": Stage.labels(),
            "units": PeriodUnit.labels(), "legal_tracks": LegalTrack.labels(), "channels": Channel.labels(),
            "priorities": Priority.labels(), "action_labels": AUDIT_ACTION_LABELS}


# ----------------------------------------------------------------------------- overview


@bp.get("/")
def index():
    """Where a new city stands in its set-up, and the way to each page."""
    grid_counts = dict(db.session.execute(select(Grid.level, func.count(Grid.id)).group_by(Grid.level)).all())
    role_counts = dict(db.session.execute(
        select(User.role, func.count(User.id)).where(User.active.is_(True)).group_by(User.role)).all())
    steps = [
        ("导入网格边界（GeoJSON）", bool(grid_counts.get(3)), url_for("admin.grids"),
         f"市级 {grid_counts.get(1, 0)} · 镇街 {grid_counts.get(2, 0)} · 村社区 {grid_counts.get(3, 0)}"),
        ("职能部门与分工路由", _count(SectorRoute) >= len(Sector), url_for("admin.department_list"),
         f"部门 {_count(Department)} 个，已设路由 {_count(SectorRoute)}/{len(Sector)} 个行业"),
        ("时限规则与工作日历", _count(DeadlineRule) > 0, url_for("admin.deadline_rules"),
         f"规则 {_count(DeadlineRule)} 条，特别日期 {_count(CalendarDay)} 天"),
        ("导入人员（网格员、镇街、部门）", bool(role_counts.get(Role.INSPECTOR)), url_for("admin.staff_import_page"),
         "、".join(f"{Role(r).label} {n}" for r, n in sorted(role_counts.items())) or "尚无"),
    ]
    return render_template("admin/index.html", steps=steps,
                           missing_years=workcalendar.missing_years(clock.beijing_date(clock.now())))


def _count(model) -> int:
    """Rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model))


# ----------------------------------------------------------------------------- users


def _grid_choices() -> list[Grid]:
    """Grids an account can belong to, by level then code."""
    return list(db.session.scalars(select(Grid).order_by(Grid.level, Grid.code)))


def _departments() -> list[Department]:
    """Every department, by code."""
    return list(db.session.scalars(select(Department).order_by(Department.code)))


def _user_form() -> dict:
    """The submitted account fields."""
    return {name: request.form.get(name, "") for name in
            ("username", "full_name", "role", "grid_id", "department_id", "phone", "unit")}


@bp.get("/users")
def user_list():
    """Every account, filtered by role, state or a name."""
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    users = accounts.list_users(request.args.get("role") or None, request.args.get("q", ""), active)
    return render_template("admin/users.html", users=users, args=request.args)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Create one account; its temporary password is shown once."""
    form, errors = _user_form(), {}
    if request.method == "POST":
        try:
            user, password = accounts.create_user(current_user, form, request.form.get("password") or None)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            errors = exc.errors or {"_": [exc.message]}
        else:
            return render_template("admin/password_once.html", user=user, password=password, created=True), NO_STORE
    return render_template("admin/user_form.html", user=None, form=form, errors=errors, grids=_grid_choices(),
                           departments=_departments()), 422 if errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    """Edit an account's role, grid, department and contact details; its account actions."""
    user = accounts.get_user(user_id)
    form, errors = {**_user_form(), "username": user.username}, {}
    if request.method == "POST":
        try:
            accounts.update_user(current_user, user_id, form)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            errors = exc.errors or {"_": [exc.message]}
        else:
            flash(f"已保存 {user.username} 的资料。", "ok")
            return redirect(url_for("admin.user_edit", user_id=user_id))
    else:
        form = {"username": user.username, "full_name": user.full_name, "role": user.role,
                "grid_id": str(user.grid_id or ""), "department_id": str(user.department_id or ""),
                "phone": user.phone, "unit": user.unit}
    failures, locked_until = recent_failures(user.username)
    return render_template("admin/user_form.html", user=user, form=form, errors=errors, grids=_grid_choices(),
                           departments=_departments(), failures=failures, locked_until=locked_until,
                           history=accounts.history_count(user)), 422 if errors else 200


@bp.post("/users/<int:user_id>/reset-password")
def user_reset_password(user_id: int):
    """Give the user a new temporary password (shown once); they are signed out everywhere."""
    user, password = accounts.reset_password(current_user, user_id)
    db.session.commit()
    return render_template("admin/password_once.html", user=user, password=password, created=False), NO_STORE


@bp.post("/users/<int:user_id>/logout")
def user_force_logout(user_id: int):
    """Sign the user out on every device."""
    user = accounts.force_logout(current_user, user_id)
    db.session.commit()
    flash(f"{user.full_name}（{user.username}）已在所有设备上被强制下线。", "ok")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
def user_set_active(user_id: int):
    """Deactivate or reactivate an account."""
    active = request.form.get("active") == "1"
    with attempt() as done:
        user = accounts.set_active(current_user, user_id, active)
        done.message = f"已{'启用' if active else '停用'} {user.username}。"
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int):
    """Lift a sign-in lock after too many failed attempts."""
    user = accounts.unlock(current_user, user_id)
    db.session.commit()
    flash(f"已解除 {user.username} 的登录锁定。", "ok")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/delete")
def user_delete(user_id: int):
    """Delete an account made by mistake (refused for anyone with history)."""
    with attempt("已删除该账号。") as done:
        accounts.delete_user(current_user, user_id)
    if not done.ok:
        return redirect(url_for("admin.user_edit", user_id=user_id))
    return redirect(url_for("admin.user_list"))


# ----------------------------------------------------------------------------- staff import


@bp.route("/users/import", methods=["GET", "POST"])
def staff_import_page():
    """Upload a staff list (.xlsx/.csv): check every row; import all, or only the good rows if asked."""
    if request.method == "GET":
        return render_template("admin/staff_import.html", report=None, imported=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的 .xlsx 或 .csv 文件。", "error")
        return render_template("admin/staff_import.html", report=None, imported=None), 422
    try:
        report = staff_import.check_staff_file(upload.filename, upload.read())
    except InvalidInput as exc:
        flash(exc.message, "error")
        return render_template("admin/staff_import.html", report=None, imported=None), 422
    good_only = request.form.get("good_rows_only") == "1"
    if request.form.get("mode") != "import" or (report.bad and not good_only):
        status = 422 if report.bad else 200
        page = render_template("admin/staff_import.html", report=report, imported=None, filename=upload.filename)
        return page, status
    imported = staff_import.import_staff(current_user, report, good_rows_only=good_only)
    db.session.commit()
    return render_template("admin/staff_import.html", report=report, imported=imported,
                           filename=upload.filename), NO_STORE


@bp.get("/users/import/template.csv")
def staff_import_template():
    """An example staff file with the expected column headings."""
    return Response(staff_import.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=staff-template.csv"})


# ----------------------------------------------------------------------------- grids


@bp.route("/grids", methods=["GET", "POST"])
def grids():
    """The grids on a map, their counts, and a GeoJSON import (all or nothing)."""
    errors: dict = {}
    if request.method == "POST":
        upload = request.files.get("file")
        with attempt() as done:
            if upload is None or not upload.filename:
                raise InvalidInput("请选择 GeoJSON 文件。")
            text = _decode_text(upload.read())
            report = changes.import_grid_file(current_user, text, upload.filename)
            done.message = (f"导入完成：新增 {report.created} 个，更新 {report.updated} 个网格。"
                            f"{report.levels[0]}{report.levels[1]}")
        if done.ok:
            if report.repaired:
                flash(f"已自动修复自相交的边界：{'、'.join(report.repaired)}。", "ok")
            return redirect(url_for("admin.grids"))
        errors = done.error.errors
    towns = list(db.session.scalars(select(Grid).where(Grid.level <= 2).order_by(Grid.level, Grid.code)))
    villages = dict(db.session.execute(
        select(Grid.parent_id, func.count(Grid.id)).where(Grid.level == 3).group_by(Grid.parent_id)).all())
    return render_template("admin/grids.html", towns=towns, villages=villages, errors=errors,
                           notes=grid_import.placement_notes()), 422 if errors else 200


def _decode_text(content: bytes) -> str:
    """An uploaded text file as UTF-8 (with or without BOM), else GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("无法识别文件编码，请使用 UTF-8。")


# ----------------------------------------------------------------------------- base map


@bp.route("/basemap", methods=["GET", "POST"])
def basemap_page():
    """The city's own base map: import roads, water or place names (one layer at a time)."""
    errors: dict = {}
    if request.method == "POST":
        upload = request.files.get("file")
        with attempt() as done:
            if upload is None or not upload.filename:
                raise InvalidInput("请选择底图文件（GeoJSON、打包的 Shapefile 或 GeoPackage）。",
                                   {"file": ["未选择文件"]})
            report = changes.import_basemap_file(current_user, request.form.get("layer", ""), upload.read(),
                                                 upload.filename)
            skipped = f"，跳过 {len(report.skipped)} 个（{report.skipped[0]}）" if report.skipped else ""
            done.message = (f"{BaseLayer(report.layer).label}导入完成：{report.imported} 个要素{skipped}，"
                            f"替换原有 {report.replaced} 个；坐标系 {report.source_crs}，文字编码 {report.encoding}。")
        if done.ok:
            return redirect(url_for("admin.basemap_page"))
        errors = done.error.errors or {"file": [done.error.message]}
    return render_template("admin/basemap.html", layers=basemap.summary(), errors=errors), 422 if errors else 200


@bp.post("/basemap/<layer>/delete")
def basemap_delete(layer: str):
    """Remove one layer of the base map."""
    if layer not in BaseLayer.labels():
        abort(404)
    with attempt() as done:
        removed = changes.remove_basemap_layer(current_user, layer)
        done.message = f"已删除{BaseLayer(layer).label}图层的 {removed} 个要素。"
    return redirect(url_for("admin.basemap_page"))


# ----------------------------------------------------------------------------- departments and routing


@bp.get("/departments")
def department_list():
    """Departments, and which one each sector's cases go to by default."""
    routes = {r.sector: r.department_id for r in departments.routing_table()}
    return render_template("admin/departments.html", departments=_departments(), routes=routes)


@bp.post("/departments")
def department_create():
    """Add a department."""
    with attempt() as done:
        department = changes.create_department(current_user, request.form.get("code", ""),
                                                     request.form.get("name", ""), request.form.get("duty", ""))
        done.message = f"已新增部门 {department.name}。"
    return redirect(url_for("admin.department_list"))


@bp.post("/departments/defaults")
def department_defaults():
    """Add the standard departments and the default routing table that are missing."""
    added = changes.create_default_departments(current_user)
    db.session.commit()
    flash(f"已补充标准职能部门 {added} 个及默认分工路由。", "ok")
    return redirect(url_for("admin.department_list"))


@bp.post("/departments/<int:department_id>")
def department_update(department_id: int):
    """Rename a department or change its duty."""
    with attempt("已保存部门信息。"):
        changes.update_department(current_user, department_id, request.form.get("name", ""),
                                        request.form.get("duty", ""))
    return redirect(url_for("admin.department_list"))


@bp.post("/routes")
def routes_update():
    """Save the routing table; only the sectors that changed are written (and audited)."""
    current = {r.sector: r.department_id for r in departments.routing_table()}
    changed = 0
    with attempt() as done:
        for sector in Sector.labels():
            chosen = request.form.get(f"route-{sector}", type=int)
            if chosen and chosen != current.get(sector):
                changes.change_route(current_user, sector, chosen)
                changed += 1
        done.message = f"分工路由已保存（修改 {changed} 项），新登记的案件按新路由交办。"
    return redirect(url_for("admin.department_list"))


# ----------------------------------------------------------------------------- deadlines and calendar


@bp.get("/deadlines")
def deadline_rules():
    """The deadline rules and the working-day calendar of a year."""
    year = request.args.get("year", type=int) or clock.now().year
    return render_template("admin/deadlines.html", rules=deadlines.list_rules(), year=year,
                           days=workcalendar.calendar_days(year), years=workcalendar.entered_years())


@bp.post("/deadlines/defaults")
def deadline_defaults():
    """Insert the statutory default rules and the holiday calendar that are missing."""
    rules = deadlines.ensure_default_rules()
    days = workcalendar.ensure_default_calendar()
    admin_audit.record(current_user, "deadline_rule.create", "deadline_rule", "defaults", None,
                       {"rules_added": rules, "calendar_days_added": days})
    db.session.commit()
    flash(f"已载入默认时限规则 {rules} 条、节假日 {days} 天（已修改过的不会被覆盖）。", "ok")
    return redirect(url_for("admin.deadline_rules"))


@bp.post("/deadlines/rules")
def deadline_rule_create():
    """Add a rule for a stage and optional filters."""
    form = request.form
    with attempt("已新增时限规则。"):
        changes.add_deadline_rule(
            current_user, stage=_choice(form.get("stage"), Stage, "阶段"), amount=_amount(form.get("amount")),
            unit=_choice(form.get("unit"), PeriodUnit, "单位"), basis=form.get("basis", "").strip()[:200],
            legal_track=form.get("legal_track") or None, channel=form.get("channel") or None,
            priority=form.get("priority") or None,
        )
    return redirect(url_for("admin.deadline_rules"))


@bp.post("/deadlines/rules/<int:rule_id>")
def deadline_rule_update(rule_id: int):
    """Change a rule's amount, unit, basis or whether it is in force."""
    form = request.form
    with attempt("已保存时限规则；已在计时的案件保持原期限。"):
        changes.change_deadline_rule(
            current_user, rule_id, amount=_amount(form.get("amount")),
            unit=_choice(form.get("unit"), PeriodUnit, "单位"), basis=form.get("basis", "").strip()[:200],
            active=form.get("active") == "1",
        )
    return redirect(url_for("admin.deadline_rules"))


def _amount(text: str | None) -> int:
    """A rule's amount from a form, 1-10000."""
    if not (text or "").strip().isdigit() or not 1 <= int(text) <= 10000:
        raise InvalidInput("时限数值应为 1 至 10000 之间的整数。")
    return int(text)


def _choice(value: str | None, enum, what: str) -> str:
    """A value that must be one of an enum's."""
    if value not in enum.labels():
        raise InvalidInput(f"{what}无效。")
    return value


@bp.post("/calendar")
def calendar_set():
    """Make a day a holiday or a make-up working day."""
    with attempt() as done:
        day = workcalendar.parse_day(request.form.get("day", ""))
        changes.set_calendar_day(current_user, day, request.form.get("is_working_day") == "1",
                                       request.form.get("name", "").strip()[:64])
        done.message = f"已设置 {day.isoformat()}。"
    return redirect(url_for("admin.deadline_rules", year=(day if done.ok else clock.now()).year))


@bp.post("/calendar/<day>/delete")
def calendar_delete(day: str):
    """Return a day to the plain week."""
    with attempt(f"{day} 已恢复为普通日期。"):
        parsed: date = workcalendar.parse_day(day)
        changes.delete_calendar_day(current_user, parsed)
    return redirect(url_for("admin.deadline_rules", year=day[:4] if day[:4].isdigit() else None))


@bp.route("/calendar/import", methods=["GET", "POST"])
def calendar_import():
    """Read a pasted or uploaded State Council holiday notice and show what it would enter.

    Nothing is saved here: the administrator checks the days and confirms on the next step.
    """
    form = {"text": request.form.get("text", ""), "year": request.form.get("year", "")}
    if request.method == "GET":
        return render_template("admin/calendar_import.html", form=form, notice=None, errors={},
                               years=workcalendar.entered_years())
    try:
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            form["text"] = holiday_notice.notice_text_from_upload(upload.filename, upload.read())
        notice = holiday_notice.parse_notice(form["text"], _notice_year(form["year"]))
    except InvalidInput as exc:
        flash(exc.message, "error")
        return render_template("admin/calendar_import.html", form=form, notice=None, errors=exc.errors,
                               years=workcalendar.entered_years()), 422
    return render_template("admin/calendar_import.html", form=form, notice=notice, errors={},
                           days=sorted(workcalendar.holiday_exceptions(notice.holidays).items()),
                           stored=workcalendar.calendar_days(notice.year), years=workcalendar.entered_years())


@bp.post("/calendar/import/confirm")
def calendar_import_confirm():
    """Save the confirmed notice as its year's calendar and recount the running clocks it reaches."""
    text = request.form.get("text", "")
    with attempt() as done:
        notice = holiday_notice.parse_notice(text, _notice_year(request.form.get("year", "")))
        entered, moved = changes.import_holiday_notice(current_user, notice, holiday_notice.notice_title(text))
        done.message = (f"已录入 {entered.year} 年节假日安排：新增 {entered.added} 天、修改 {entered.changed} 天、"
                        f"删除 {entered.removed} 天；{moved} 件案件的期限已按新日历重新计算。")
    if not done.ok:
        return redirect(url_for("admin.calendar_import"))
    return redirect(url_for("admin.deadline_rules", year=entered.year))


def _notice_year(text: str | None) -> int | None:
    """The year chosen on the import form (empty: take it from the notice)."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise InvalidInput("年份应在2000至2100之间。", {"year": ["年份应在2000至2100之间。"]})
    return int(text)


# ----------------------------------------------------------------------------- settings


@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    """System settings with their current values; each change is checked and audited."""
    if request.method == "POST":
        changed = 0
        with attempt() as done:
            for key in settings.SETTINGS:
                raw = request.form.get(key)
                if raw is None or raw.strip() == "":
                    continue
                value = _form_value(raw, key)
                if value != settings.get_setting(key):
                    changes.change_setting(current_user, key, value)
                    changed += 1
            done.message = f"已保存（修改 {changed} 项）。"
        if done.ok:
            return redirect(url_for("admin.settings_page"))
    shown = {key: _shown(value) for key, value in settings.all_settings().items()}
    if request.method == "POST":
        # Refused: nothing was saved, and the form comes back as typed, to be corrected.
        shown |= {key: request.form[key] for key in settings.SETTINGS if request.form.get(key, "").strip()}
    return render_template("admin/settings.html", rows=settings.SETTINGS.values(), values=shown,
                           shown_default=_shown), 422 if request.method == "POST" else 200


def _shown(value) -> str:
    """A setting as typed into the form: JSON for lists and objects, else the plain value."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return str(value)


def _form_value(raw: str, key: str):
    """A setting typed into the form: JSON for a list or object setting, else a number."""
    if not settings.SETTINGS[key].structured:
        return _number(raw, key)
    try:
        return json.loads(raw)
    except ValueError:
        label = settings.SETTINGS[key].label
        raise InvalidInput(f"参数 {label} 应为 JSON 格式（可参照默认值）。", {key: ["JSON 格式有误"]}) from None


def _number(raw: str, key: str) -> int | float:
    """A setting typed into a form: an integer when it has no decimal point."""
    try:
        return int(raw) if raw.strip().lstrip("-").isdigit() else float(raw)
    except ValueError:
        raise InvalidInput(f"参数 {settings.SETTINGS[key].label} 应为数字。", {key: ["应为数字"]}) from None


# ----------------------------------------------------------------------------- API keys


@bp.route("/api-keys", methods=["GET", "POST"])
def api_key_list():
    """Keys of outside systems; a new key is shown once."""
    if request.method == "POST":
        with attempt() as done:
            key, raw = api_keys.create_api_key(current_user, request.form.get("name", ""))
        if done.ok:
            return render_template("admin/api_keys.html", keys=api_keys.list_api_keys(), new_key=raw,
                                   new_name=key.name), NO_STORE
    return render_template("admin/api_keys.html", keys=api_keys.list_api_keys(), new_key=None)


@bp.post("/api-keys/<int:key_id>/revoke")
def api_key_revoke(key_id: int):
    """Stop a key from working."""
    with attempt() as done:
        key = api_keys.revoke_api_key(current_user, key_id)
        done.message = f"已吊销“{key.name}”的密钥。"
    return redirect(url_for("admin.api_key_list"))


# ----------------------------------------------------------------------------- audit log


@bp.get("/audit")
def audit_log():
    """Every administrative change: who, when, what, before and after."""
    page = max(1, request.args.get("page", 1, type=int))
    entity = request.args.get("entity") or None
    result = admin_audit.list_entries(entity=entity, page=page)
    names = dict(db.session.execute(select(User.id, User.full_name)).all())
    return render_template("admin/audit.html", result=result, names=names, entity=entity,
                           changed_fields=admin_audit.changed_fields)


# ----------------------------------------------------------------------------- notifications


@bp.get("/notifications")
def notifications_page():
    """Outgoing messages (SMS, group robots) with every attempt and error; the group robots; the roles' SMS choices."""
    status = request.args.get("status") or None
    items = delivery.recent_deliveries(status=status)
    return render_template(
        "admin/notifications.html", deliveries=items, attempts=delivery.attempts_of([d.id for d in items]),
        counts=delivery.status_counts(), status=status, robots=robots.list_robots(), masked_url=robots.masked_url,
        towns=_towns(), departments=_departments(), role_modes={r: preferences.modes_for(role=r) for r in Role},
        kinds=NotificationKind.labels(), modes=SmsMode.labels(), statuses=DeliveryStatus.labels(),
        notify_channels=NotifyChannel.labels(), names=dict(db.session.execute(select(User.id, User.full_name)).all()),
        numbers=_case_numbers({d.case_id for d in items if d.case_id}),
        sms_provider=current_app.config.get("SMS_PROVIDER") or "",
    )


@bp.post("/notifications/robots")
def robot_create():
    """Add a 企业微信 or 钉钉 group robot for a town, a department or the command office."""
    form = request.form
    with attempt() as done:
        robot = robots.add_robot(current_user, form.get("platform", ""), form.get("name", ""), form.get("unit", ""),
                                 form.get("url", ""), form.get("secret", ""))
        done.message = f"已新增群机器人“{robot.name}”。"
    return redirect(url_for("admin.notifications_page"))


@bp.post("/notifications/robots/<int:robot_id>/active")
def robot_active(robot_id: int):
    """Stop or resume posting to a group robot."""
    with attempt("已保存。"):
        robots.set_robot_active(current_user, robot_id, request.form.get("active") == "1")
    return redirect(url_for("admin.notifications_page"))


@bp.post("/notifications/roles")
def role_modes():
    """Save one role's SMS choice per kind of notification (each person may still choose their own)."""
    with attempt("已保存该角色的短信方式。"):
        robots.set_role_modes(current_user, request.form.get("role", ""), request.form)
    return redirect(url_for("admin.notifications_page"))


def _towns() -> list[Grid]:
    return list(db.session.scalars(select(Grid).where(Grid.level == 2).order_by(Grid.code)))


def _case_numbers(case_ids: set[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    return dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids))).all())


# ------------------------------------------------------------------ historical volumes


@bp.route("/baselines", methods=["GET", "POST"])
def baselines_page():
    """Each town's petition counts per month of a past year (历史信访量), entered from the old
    records, so "volume not falling" has last year's figure in the system's first year."""
    year = request.values.get("year", type=int) or clock.beijing_date(clock.now()).year - 1
    if request.method == "POST":
        with attempt(f"已保存 {year} 年历史信访量。"):
            rows = [{"town_id": town["town_id"],
                     "months": [_month_count(request.form.get(f"m-{town['town_id']}-{m}"), m) for m in range(1, 13)]}
                    for town in campaign_baselines.year_table(year)]
            campaign_baselines.set_year(current_user, year, rows)
        return redirect(url_for("admin.baselines_page", year=year))
    return render_template("admin/baselines.html", year=year, table=campaign_baselines.year_table(year))


def _month_count(raw: str | None, month: int) -> int | None:
    """A month's count typed into the form: blank for unknown, else a whole number."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{month} 月的件数应为整数（不知道就留空）。", {"months": [f"{month} 月不正确"]})
    return int(text)
