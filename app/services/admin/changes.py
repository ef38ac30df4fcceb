"""Administrative changes to the city's set-up, each written to the audit log.

The admin pages and the admin API call these, never the underlying services directly, so
no change to the routing table, the settings, the deadline rules, the working calendar,
the departments or the grids can bypass the audit log (services.admin_audit).
"""

import re
from datetime import date

from sqlalchemy import select

from app.database import get_or_404
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import CalendarDay, DeadlineRule, Department, SectorRoute, User
from app.services import clock, settings
from app.services.admin import audit as admin_audit
from app.services.cases import deadlines, departments, workcalendar
from app.services.cases.holiday_notice import ParsedNotice
from app.services.geo import basemap
from app.services.geo.grid_import import ImportReport, import_grids, load_feature_collection

RULE_FIELDS = ("stage", "legal_track", "channel", "priority", "amount", "unit", "basis", "active")
DEPARTMENT_FIELDS = ("code", "name", "duty")
DEPARTMENT_CODE = re.compile(r"[a-z0-9_\-]{1,32}")


def change_route(actor: User, sector: str, department_id: int) -> SectorRoute:
    """Send a sector's new cases to another department."""
    old = db.session.get(SectorRoute, sector)
    before = {"department_id": old.department_id} if old else None
    route = departments.set_route(sector, department_id)
    admin_audit.record(actor, "route.update", "sector_route", sector, before, {"department_id": route.department_id})
    return route


# Settings that name departments by code: each code must be a department the city has.
_DEPARTMENT_LISTS = {"reception_department_codes"}


def change_setting(actor: User, key: str, value) -> None:
    """Store a new value for one setting."""
    if key in _DEPARTMENT_LISTS and isinstance(value, list):
        known = set(db.session.scalars(select(Department.code)))
        unknown = [code for code in value if code not in known]
        if unknown:
            message = f"没有这些部门代码：{'、'.join(map(str, unknown))}（可用：{'、'.join(sorted(known))}）。"
            raise InvalidInput(message, {key: [message]})
    before = settings.get_setting(key) if key in settings.SETTINGS else None
    settings.set_setting(key, value)
    admin_audit.record(actor, "setting.update", "setting", key, {"value": before}, {"value": value})


def add_deadline_rule(actor: User, **data) -> DeadlineRule:
    """Add a deadline rule."""
    rule = deadlines.create_rule(**data)
    admin_audit.record(actor, "deadline_rule.create", "deadline_rule", rule.id, None,
                       admin_audit.snapshot(rule, RULE_FIELDS))
    return rule


def change_deadline_rule(actor: User, rule_id: int, **changes) -> DeadlineRule:
    """Change a rule's amount, unit, basis or active flag."""
    rule = db.session.get(DeadlineRule, rule_id)
    before = admin_audit.snapshot(rule, RULE_FIELDS) if rule else None
    rule = deadlines.update_rule(rule_id, **changes)
    admin_audit.record(actor, "deadline_rule.update", "deadline_rule", rule.id, before,
                       admin_audit.snapshot(rule, RULE_FIELDS))
    return rule


def set_calendar_day(actor: User, day: date, is_working_day: bool, name: str = "") -> CalendarDay:
    """Make a day a working or non-working day."""
    old = db.session.get(CalendarDay, day)
    before = {"is_working_day": old.is_working_day, "name": old.name} if old else None
    row = workcalendar.set_calendar_day(day, is_working_day, name)
    admin_audit.record(actor, "calendar_day.set", "calendar_day", day.isoformat(), before,
                       {"is_working_day": row.is_working_day, "name": row.name})
    return row


def delete_calendar_day(actor: User, day: date) -> None:
    """Return a day to the plain week."""
    old = db.session.get(CalendarDay, day)
    before = {"is_working_day": old.is_working_day, "name": old.name} if old else None
    workcalendar.delete_calendar_day(day)
    admin_audit.record(actor, "calendar_day.delete", "calendar_day", day.isoformat(), before, None)


def import_holiday_notice(actor: User, notice: ParsedNotice, source: str) -> tuple[workcalendar.YearEntered, int]:
    """Make a State Council notice the calendar of its year, then recount the running clocks
    that reach that year. Returns what changed in the calendar and how many cases' due times moved."""
    before = [(row.day, row.is_working_day, row.name) for row in workcalendar.calendar_days(notice.year)]
    entered = workcalendar.enter_year(notice.year, notice.holidays, source, actor.id, clock.now())
    moved = deadlines.recount_open_clocks(notice.year)
    after = [(row.day, row.is_working_day, row.name) for row in workcalendar.calendar_days(notice.year)]
    admin_audit.record(actor, "calendar_year.import", "calendar_year", notice.year,
                       {"days": before}, {"source": source, "days": after, "cases_recounted": moved})
    return entered, moved


def _department_fields(name: str, duty: str) -> tuple[str, str]:
    """A department's name and duty, checked."""
    name, duty = name.strip(), duty.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("部门名称必填，不超过100字。", {"name": ["部门名称必填，不超过100字"]})
    if len(duty) > 200:
        raise InvalidInput("职责不超过200字。", {"duty": ["职责不超过200字"]})
    return name, duty


def create_department(actor: User, code: str, name: str, duty: str = "") -> Department:
    """A new department; its code is the stable key used by imports and routing."""
    code = code.strip().lower()
    if not DEPARTMENT_CODE.fullmatch(code):
        raise InvalidInput("部门编码为1至32位小写字母、数字、_ 或 -。", {"code": ["部门编码格式不正确"]})
    if db.session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise Conflict(f"部门编码 {code} 已存在。")
    name, duty = _department_fields(name, duty)
    department = Department(code=code, name=name, duty=duty)
    db.session.add(department)
    db.session.flush()
    admin_audit.record(actor, "department.create", "department", department.id, None,
                       admin_audit.snapshot(department, DEPARTMENT_FIELDS))
    return department


def update_department(actor: User, department_id: int, name: str, duty: str = "") -> Department:
    """Rename a department or change its duty (its code stays)."""
    department = get_or_404(Department, department_id, "部门不存在。")
    before = admin_audit.snapshot(department, DEPARTMENT_FIELDS)
    department.name, department.duty = _department_fields(name, duty)
    db.session.flush()
    admin_audit.record(actor, "department.update", "department", department.id, before,
                       admin_audit.snapshot(department, DEPARTMENT_FIELDS))
    return department


def create_default_departments(actor: User) -> int:
    """Add the standard departments and routing table that are missing; returns how many departments."""
    existing = set(db.session.scalars(select(Department.code)))
    created = departments.ensure_default_departments()
    added = sorted(set(created) - existing)
    if added:
        admin_audit.record(actor, "department.create", "department", ",".join(added), None, {"codes": added})
    return len(added)


def import_grid_file(actor: User, text: str, filename: str = "") -> ImportReport:
    """Import a GeoJSON file of grids, all or nothing, as ``flask grids import`` does."""
    report = import_grids(load_feature_collection(text))
    admin_audit.record(actor, "grid.import", "grid", filename[:64], None,
                       {"created": report.created, "updated": report.updated, "repaired": report.repaired,
                        "levels": report.levels})
    return report


def import_basemap_file(actor: User, layer: str, data: bytes, filename: str) -> basemap.ImportReport:
    """Replace one layer of the city's base map with a file's features, and log who did it."""
    report = basemap.import_layer(layer, data, filename)
    admin_audit.record(actor, "basemap.import", "basemap", layer, None,
                       {"file": filename[:100], "imported": report.imported, "replaced": report.replaced,
                        "crs": report.source_crs, "encoding": report.encoding})
    return report


def remove_basemap_layer(actor: User, layer: str) -> int:
    """Remove one layer of the base map, and log who did it."""
    removed = basemap.remove_layer(layer)
    admin_audit.record(actor, "basemap.delete", "basemap", layer, {"features": removed}, None)
    return removed
