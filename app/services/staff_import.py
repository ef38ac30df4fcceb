"""Bulk import of staff from a spreadsheet (.xlsx) or a .csv file (批量导入人员).

The first non-empty row holds the column headings, in Chinese as an office types them
(用户名, 姓名, 角色, 网格编码, 部门编码, 电话, 单位, 初始密码; English names work too).
Every row is checked and reported with its line number in the file. Nothing is imported
from a file with errors unless the administrator asks for the good rows alone.

CSV files come as Excel saves them: UTF-8 with or without a byte-order mark, or GBK
(read as GB18030, its superset) from a Chinese Windows "CSV (逗号分隔)".
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Department, Grid, User
from app.models.vocab import Role
from app.services import accounts, admin_audit
from app.services.errors import InvalidInput
from app.services.passwords import password_problem

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


@dataclass
class StaffRow:
    """One data row of the file, with what it says and what is wrong with it."""

    line: int
    values: dict
    errors: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


@dataclass
class StaffFileReport:
    """Every row of a file, checked."""

    rows: list[StaffRow]

    @property
    def good(self) -> list[StaffRow]:
        """Rows with no error."""
        return [r for r in self.rows if not r.errors]

    @property
    def bad(self) -> list[StaffRow]:
        """Rows with at least one error."""
        return [r for r in self.rows if r.errors]


@dataclass
class ImportedUser:
    """An account the import made, with the temporary password to hand over (if generated)."""

    line: int
    user: User
    temporary_password: str | None


def read_table(filename: str, content: bytes) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-empty row of an .xlsx or .csv file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(content)
    if name.endswith(".csv"):
        return _csv_rows(content)
    raise InvalidInput("只支持 .xlsx 或 .csv 文件。", {"file": ["只支持 .xlsx 或 .csv 文件"]})


def _xlsx_rows(content: bytes) -> list[tuple[int, list[str]]]:
    """Rows of the first sheet, cells as text (a phone typed as a number keeps its digits)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged file
        raise InvalidInput("无法读取该 Excel 文件，请确认是 .xlsx 格式。", {"file": [str(exc)[:200]]}) from exc
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        rows = [(number, [_cell_text(v) for v in row]) for number, row in enumerate(cells, start=1)]
    finally:
        book.close()
    return [(n, cells) for n, cells in rows if any(cells)]


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(content: bytes) -> list[tuple[int, list[str]]]:
    """Rows of a CSV in UTF-8 (with or without BOM) or GBK, with their line numbers."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV。", {"file": ["编码无法识别"]})
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise InvalidInput(f"CSV 格式错误（第 {reader.line_num} 行）：{exc}", {"file": [str(exc)]}) from exc
    return [(n, cells) for n, cells in rows if any(cells)]


def check_staff_file(filename: str, content: bytes) -> StaffFileReport:
    """Read and check every row; InvalidInput only when the file as a whole is unusable."""
    table = read_table(filename, content)
    if not table:
        raise InvalidInput("文件是空的。", {"file": ["文件是空的"]})
    header_line, header = table[0]
    columns = _columns(header)
    rows = [StaffRow(line, {f: cells[i] if i < len(cells) else "" for f, i in columns.items()})
            for line, cells in table[1:]]
    if not rows:
        raise InvalidInput("文件只有表头，没有人员数据。", {"file": ["没有数据行"]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"一次最多导入 {MAX_ROWS} 人，请分批导入。", {"file": [f"超过 {MAX_ROWS} 行"]})
    _check_rows(rows)
    return StaffFileReport(rows)


def _columns(header: list[str]) -> dict[str, int]:
    """Field → column position from the heading row; InvalidInput when a required one is missing."""
    columns: dict[str, int] = {}
    for position, heading in enumerate(header):
        name = HEADINGS.get(heading.replace("*", "").strip().lower())
        if name and name not in columns:
            columns[name] = position
    missing = [heading for name, heading in REQUIRED.items() if name not in columns]
    if missing:
        message = f"表头缺少：{'、'.join(missing)}。第一行应为列名，如：{'，'.join(TEMPLATE_HEADINGS)}"
        raise InvalidInput(message, {"file": [message]})
    return columns


def _check_rows(rows: list[StaffRow]) -> None:
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


def _check_row(row: StaffRow, grids: dict[str, Grid], departments: dict[str, Department]) -> None:
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


def import_staff(actor: User, report: StaffFileReport, good_rows_only: bool = False) -> list[ImportedUser]:
    """Create an account for every row; refuses a file with errors unless ``good_rows_only``."""
    if report.bad and not good_rows_only:
        raise InvalidInput(f"文件中有 {len(report.bad)} 行有误，未导入任何人员。",
                           {f"第 {r.line} 行": r.errors for r in report.bad})
    imported = []
    for row in report.good:
        user, generated = accounts.create_user(actor, row.data, row.values.get("password") or None)
        imported.append(ImportedUser(row.line, user, generated))
    admin_audit.record(actor, "user.import", "user", "", None,
                       {"created": len(imported), "skipped_lines": [r.line for r in report.bad]})
    return imported


def template_csv() -> bytes:
    """An example file to fill in: headings and two sample rows, UTF-8 with BOM for Excel."""
    lines = [
        TEMPLATE_HEADINGS,
        ["g01001a", "王网格", "三级网格员", "01001", "", "13800000001", "", ""],
        ["dept_env2", "李执法", "职能部门人员", "", "env", "0513-80000000", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue().encode("utf-8-sig")
