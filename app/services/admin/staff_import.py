"""Bulk import of staff from a spreadsheet (.xlsx) or a .csv file (批量导入人员).

The first non-empty row holds the column headings, in Chinese as an office types them
(用户名, 姓名, 角色, 网格编码, 部门编码, 电话, 单位, 初始密码; English names work too).
Every row is checked and reported with its line number in the file. Nothing is imported
from a file with errors unless the administrator asks for the good rows alone.

Files are read by ``services.spreadsheets`` (.xlsx, CSV in UTF-8, UTF-8 with BOM or GBK).
"""

import csv
import io
from dataclasses import dataclass

from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Department, Grid, User
from app.models.vocab import Role
from app.services.admin import accounts, audit
from app.services.admin.passwords import password_problem
from app.services.spreadsheets import FileReport, Layout, TableRow, read_rows

MAX_ROWS = 5000
# Heading (as typed, case-folded) → field.
HEADINGS = {
    "用户名": "username", "账号": "username", "登录名": "username", "username": "username",
    "姓名": "full_name", "full_name": "full_name", "name": "full_name",
    "角色": "role", "role": "role",
    "网格编码": "grid_code", "网格代码": "grid_code", "grid_code": "grid_code",
    "部门编码": "department_code", "部门代码": "department_code", "department_code": "department_code",
    "电话": "phone", "手机": "phone", "联系电话": "phone", "phone": "phone",
    "单位": "unit", "unit": "unit",
    "初始密码": "password", "密码": "password", "password": "password",
}
REQUIRED = {"username": "用户名", "full_name": "姓名", "role": "角色"}
# Role names people write, besides the exact labels and values.
ROLE_ALIASES = {
    "网格员": Role.INSPECTOR, "三级网格": Role.INSPECTOR, "二级网格": Role.SUPERVISOR, "镇街管理员": Role.SUPERVISOR,
    "职能部门": Role.DEPARTMENT_OFFICER, "部门人员": Role.DEPARTMENT_OFFICER, "领导": Role.LEADING_OFFICIAL,
    "指挥部": Role.COMMAND_OFFICE, "管理员": Role.ADMIN,
}
TEMPLATE_HEADINGS = ["用户名", "姓名", "角色", "网格编码", "部门编码", "电话", "单位", "初始密码"]
LAYOUT = Layout(HEADINGS, REQUIRED, TEMPLATE_HEADINGS, "人员", MAX_ROWS)


@dataclass
class ImportedUser:
    """An account the import made, with the temporary password to hand over (if generated)."""

    line: int
    user: User
    temporary_password: str | None


def check_staff_file(filename: str, content: bytes) -> FileReport[TableRow]:
    """Read and check every row; InvalidInput only when the file as a whole is unusable."""
    rows = read_rows(filename, content, LAYOUT, TableRow)
    _check_rows(rows)
    return FileReport(rows)


def _check_rows(rows: list[TableRow]) -> None:
    """Check each row against the rules, the database and the other rows of the file."""
    grids = {g.code: g for g in db.session.scalars(select(Grid))}
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    taken = {name.lower() for name in db.session.scalars(select(func.lower(User.username)))}
    seen: dict[str, int] = {}
    for row in rows:
        _check_row(row, grids, departments)
        username = row.values.get("username", "").strip().lower()
        if username in taken:
            row.errors.append("用户名已存在")
        elif username and username in seen:
            row.errors.append(f"用户名与第 {seen[username]} 行重复")
        seen.setdefault(username, row.line)


def _check_row(row: TableRow, grids: dict[str, Grid], departments: dict[str, Department]) -> None:
    """One row's own checks; fills ``row.data`` for accounts.create_user."""
    values = row.values
    for name, heading in REQUIRED.items():
        if not values.get(name):
            row.errors.append(f"{heading}必填")
    username = values.get("username", "")
    if username and not accounts.USERNAME.fullmatch(username):
        row.errors.append("用户名应为2至64位字母、数字或 _ . -")
    role = _role(values.get("role", ""))
    if values.get("role") and role is None:
        row.errors.append(f"角色“{values['role']}”无效，应为：{'、'.join(Role.labels().values())}")
    grid = grids.get(values.get("grid_code", ""))
    if values.get("grid_code") and grid is None:
        row.errors.append(f"网格编码 {values['grid_code']} 不存在")
    department = departments.get(values.get("department_code", ""))
    if values.get("department_code") and department is None:
        row.errors.append(f"部门编码 {values['department_code']} 不存在")
    password = values.get("password", "")
    if password:
        problem = password_problem(password, username)
        if problem:
            row.errors.append(f"初始密码：{problem}")
    row.data = {"username": username, "full_name": values.get("full_name", ""), "role": role,
                "grid_id": grid.id if grid else None, "department_id": department.id if department else None,
                "phone": values.get("phone", ""), "unit": values.get("unit", "")}
    if role is not None and not row.errors:
        try:
            accounts.check_staff_data(row.data)
        except InvalidInput as exc:
            row.errors.extend(problem for problems in exc.errors.values() for problem in problems)


def _role(text: str) -> str | None:
    """A role from its value, its Chinese label or a common short name."""
    text = text.strip()
    for role in Role:
        if text.lower() == role.value or text == role.label:
            return role.value
    alias = ROLE_ALIASES.get(text)
    return alias.value if alias else None


def import_staff(actor: User, report: FileReport[TableRow], good_rows_only: bool = False) -> list[ImportedUser]:
    """Create an account for every row; refuses a file with errors unless ``good_rows_only``."""
    if report.bad and not good_rows_only:
        raise InvalidInput(f"文件中有 {len(report.bad)} 行有误，未导入任何人员。",
                           {f"第 {r.line} 行": r.errors for r in report.bad})
    imported = []
    for row in report.good:
        user, generated = accounts.create_user(actor, row.data, row.values.get("password") or None)
        imported.append(ImportedUser(row.line, user, generated))
    audit.record(actor, "user.import", "user", "", None,
                       {"created": len(imported), "skipped_lines": [r.line for r in report.bad]})
    return imported


def template_csv() -> bytes:
    """An example file to fill in: headings and two sample rows, UTF-8 with BOM for Excel.

    The rows name this city's first village and a department it has, and usernames nobody
    holds yet, so the file imports as downloaded (the administrator can try it, then edit).
    """
    village = db.session.scalar(select(Grid.code).where(Grid.level == 3).order_by(Grid.code).limit(1)) or ""
    department = db.session.scalar(select(Department.code).order_by(Department.id).limit(1)) or ""
    taken = set(db.session.scalars(select(User.username).where(User.username.like("example_%"))))
    names = [name for name in (f"example_{n:02d}" for n in range(1, 100)) if name not in taken][:2]
    lines = [
        TEMPLATE_HEADINGS,
        [names[0], "王网格", "三级网格员", village, "", "13800000001", "", ""],
        [names[1], "李执法", "职能部门人员", "", department, "0513-80000000", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue().encode("utf-8-sig")
