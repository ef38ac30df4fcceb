"""Staff accounts as an administrator manages them: create, edit, deactivate, reset, sign out.

Every change goes on the audit log (services.admin_audit) with the record before and after.
A person with any history (a case they registered, an event they signed, a message they
received...) is never deleted, only deactivated, so the record of who did what stays whole.
"""

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.security import generate_password_hash

from app.database import get_or_404
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Department, Grid, User
from app.models.vocab import Role
from app.services.admin import audit as admin_audit
from app.services.admin.passwords import check_password_policy
from app.services.admin.throttling import unlock_account

USER_FIELDS = ("username", "full_name", "role", "grid_id", "department_id", "phone", "unit", "active",
               "must_change_password")
USERNAME = re.compile(r"[A-Za-z0-9_.\-]{2,64}")
PHONE = re.compile(r"[0-9+\-() ]{0,32}")
# The grid level each role is attached to; None: the role has no grid.
ROLE_GRID_LEVEL = {Role.INSPECTOR: 3, Role.SUPERVISOR: 2, Role.COMMAND_OFFICE: 1}
GRID_REQUIRED = {Role.INSPECTOR, Role.SUPERVISOR}
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand


def temporary_password() -> str:
    """A random password to hand over once, like ``k7mp-3xqa-9hde`` (about 59 bits)."""
    groups = ("".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def hash_temporary_password(password: str) -> str:
    """A hash for a generated temporary password.

    A random 59-bit secret cannot be guessed whatever the hash's cost, so a cheaper hash is
    safe here and keeps a 500-row staff import inside one request; the person's own password,
    chosen at first sign-in, gets the full-cost default hash.
    """
    return generate_password_hash(password, method="pbkdf2:sha256:20000")


@dataclass
class StaffData:
    """The editable facts of an account, checked and resolved to rows."""

    full_name: str
    role: str
    grid: Grid | None
    department: Department | None
    phone: str
    unit: str


def check_staff_data(data: dict) -> StaffData:
    """Validate name, role, grid and department together; InvalidInput lists every problem."""
    errors: dict[str, list[str]] = {}
    full_name = str(data.get("full_name") or "").strip()
    if not 1 <= len(full_name) <= 64:
        errors["full_name"] = ["姓名必填，不超过64字"]
    role = str(data.get("role") or "")
    if role not in Role.labels():
        errors["role"] = ["角色无效"]
    phone = str(data.get("phone") or "").strip()
    if not PHONE.fullmatch(phone):
        errors["phone"] = ["电话只能含数字、空格和 + - ( )，不超过32位"]
    unit = str(data.get("unit") or "").strip()
    if len(unit) > 100:
        errors["unit"] = ["单位不超过100字"]
    grid = _grid_for(role, data.get("grid_id"), errors)
    department = _department_for(role, data.get("department_id"), errors)
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(f"请检查：{first}。", errors)
    unit = unit or (department.name if department else grid.name if grid else "")
    return StaffData(full_name, role, grid, department, phone, unit)


def _grid_for(role: str, grid_id, errors: dict) -> Grid | None:
    """The grid a role is attached to (ignored for roles without one)."""
    level = ROLE_GRID_LEVEL.get(role)
    if level is None:
        return None
    grid = db.session.get(Grid, int(grid_id)) if str(grid_id or "").isdigit() else None
    if grid is None:
        if role in GRID_REQUIRED:
            errors["grid_id"] = [f"{Role(role).label}须选择所属{'村（社区）' if level == 3 else '镇（街道）'}网格"]
        return None
    if grid.level != level:
        errors["grid_id"] = [f"{Role(role).label}应属于{level}级网格，{grid.name}是{grid.level}级"]
    return grid


def _department_for(role: str, department_id, errors: dict) -> Department | None:
    """The department of a department officer (ignored for other roles)."""
    if role != Role.DEPARTMENT_OFFICER:
        return None
    department = db.session.get(Department, int(department_id)) if str(department_id or "").isdigit() else None
    if department is None:
        errors["department_id"] = ["职能部门人员须选择所属部门"]
    return department


def check_username(username: str) -> str:
    """A new user name: its form, and that nobody has it yet."""
    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise InvalidInput("用户名为2至64位字母、数字或 _ . -。", {"username": ["用户名为2至64位字母、数字或 _ . -"]})
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise InvalidInput(f"用户名 {username} 已存在。", {"username": ["用户名已存在"]})
    return username


def _apply(user: User, staff: StaffData) -> None:
    """Copy checked facts onto the account."""
    user.full_name, user.role, user.phone, user.unit = staff.full_name, staff.role, staff.phone, staff.unit
    user.grid, user.department = staff.grid, staff.department


def create_user(actor: User, data: dict, password: str | None = None) -> tuple[User, str | None]:
    """A new account that must change its password at first sign-in.

    With no password given, a temporary one is made and returned (show it once); a given
    password must pass the password rules.
    """
    username = check_username(str(data.get("username") or ""))
    staff = check_staff_data(data)
    user = User(username=username, active=True, must_change_password=True, session_version=1)
    _apply(user, staff)
    generated = None
    if password:
        check_password_policy(password, username)
        user.set_password(password)
    else:
        generated = temporary_password()
        user.password_hash = hash_temporary_password(generated)
    db.session.add(user)
    db.session.flush()
    admin_audit.record(actor, "user.create", "user", user.id, None, admin_audit.snapshot(user, USER_FIELDS))
    return user, generated


def get_user(user_id: int) -> User:
    """One account, or NotFound."""
    return get_or_404(User, user_id, "用户不存在。")


def update_user(actor: User, user_id: int, data: dict) -> User:
    """Change name, role, grid, department, phone or unit (the user name never changes)."""
    user = get_user(user_id)
    before = admin_audit.snapshot(user, USER_FIELDS)
    staff = check_staff_data(data)
    if user.role == Role.ADMIN and staff.role != Role.ADMIN:
        _keep_an_admin(user)
    _apply(user, staff)
    db.session.flush()
    admin_audit.record(actor, "user.update", "user", user.id, before, admin_audit.snapshot(user, USER_FIELDS))
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Deactivate (every session ends at once) or reactivate an account."""
    user = get_user(user_id)
    if not active and user.id == actor.id:
        raise Conflict("不能停用自己的账号。")
    if not active and user.role == Role.ADMIN:
        _keep_an_admin(user)
    before = admin_audit.snapshot(user, USER_FIELDS)
    user.active = active
    if not active:
        user.session_version += 1
    db.session.flush()
    action = "user.activate" if active else "user.deactivate"
    admin_audit.record(actor, action, "user", user.id, before, admin_audit.snapshot(user, USER_FIELDS))
    return user


def _keep_an_admin(user: User) -> None:
    """Refuse to remove the last active administrator."""
    others = db.session.scalar(
        select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict("这是最后一个在用的系统管理员账号，不能停用或改为其他角色。")


def reset_password(actor: User, user_id: int) -> tuple[User, str]:
    """A new temporary password (returned, to show once); the user must change it and is signed out."""
    user = get_user(user_id)
    password = temporary_password()
    user.password_hash = hash_temporary_password(password)
    user.must_change_password = True
    user.session_version += 1
    unlock_account(user.username)
    db.session.flush()
    admin_audit.record(actor, "user.reset_password", "user", user.id, None,
                       {"must_change_password": True, "sessions_ended": True})
    return user, password


def force_logout(actor: User, user_id: int) -> User:
    """End every session of the user on every device."""
    user = get_user(user_id)
    before = {"session_version": user.session_version}
    user.session_version += 1
    db.session.flush()
    admin_audit.record(actor, "user.force_logout", "user", user.id, before, {"session_version": user.session_version})
    return user


def unlock(actor: User, user_id: int) -> User:
    """Lift a sign-in lock after too many failures."""
    user = get_user(user_id)
    unlock_account(user.username)
    admin_audit.record(actor, "user.unlock", "user", user.id, None, {"unlocked": True})
    return user


def history_count(user: User) -> int:
    """How many records anywhere point at this user (cases, events, messages, plans...)."""
    total = 0
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "users" and fk.parent.table.name != "users":
                total += db.session.scalar(select(func.count()).select_from(table).where(fk.parent == user.id))
    return total


def delete_user(actor: User, user_id: int) -> None:
    """Delete an account made by mistake; anyone with history can only be deactivated."""
    user = get_user(user_id)
    if user.id == actor.id:
        raise Conflict("不能删除自己的账号。")
    if history_count(user):
        raise Conflict("该用户已有办理记录等历史数据，不能删除，只能停用。")
    if user.role == Role.ADMIN:
        _keep_an_admin(user)
    before = admin_audit.snapshot(user, USER_FIELDS)
    db.session.delete(user)
    db.session.flush()
    admin_audit.record(actor, "user.delete", "user", user_id, before, None)


def list_users(role: str | None = None, q: str = "", active: bool | None = None) -> list[User]:
    """Accounts for the admin list, by role then user name, each with its grid and department."""
    query = (select(User).options(joinedload(User.grid), joinedload(User.department))
             .order_by(User.role, User.username))
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    if q.strip():
        like = f"%{q.strip()}%"
        query = query.where(or_(User.username.ilike(like), User.full_name.ilike(like), User.unit.ilike(like)))
    return list(db.session.scalars(query))
