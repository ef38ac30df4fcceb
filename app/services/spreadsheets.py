"""Reading the spreadsheets offices send (.xlsx, and CSV as Excel saves it) into checked rows,
and writing the workbooks they receive (``workbook``).

One reader for every import (staff, the source register): the first non-empty row holds the
column headings as an office types them (a ``Layout`` maps each heading and its synonyms to a
field); every other non-empty row becomes a ``TableRow`` with its line number as the
spreadsheet shows it (the heading row is line 1), so a report can name the line to fix.
CSV files come as Excel saves them: UTF-8 with or without a byte-order mark, or GBK (read as
GB18030, its superset) from a Chinese Windows "CSV (逗号分隔)".
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.errors import InvalidInput


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of import: heading (case-folded, without "*") → field."""

    headings: dict[str, str]
    required: dict[str, str]  # field → the heading to ask for when it is missing
    template: list[str]       # the headings of the downloadable template, in order
    what: str                 # what a row holds, for messages: 人员, 监管对象
    max_rows: int


@dataclass
class TableRow:
    """One data row of the file: what it says, what is wrong with it, and what it will do."""

    line: int
    values: dict
    errors: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


# Number formats of exported cells: real dates, moments and numbers, shown as offices expect.
DATE = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm"
PERCENT = "0.0%"
DECIMAL = "0.00"
_WIDTHS = {DATE: 12, MOMENT: 17}


@dataclass(frozen=True)
class Sheet:
    """One sheet of an exported workbook: bold headings (frozen), then the rows; an optional
    caption line (e.g. the period) above the headings. ``formats`` gives a column (0-based)
    its number format: its cells hold real dates (naive, local time) or numbers (a share
    as 0.515 with ``PERCENT``), so they sort and sum in the spreadsheet."""

    title: str
    headings: list[str]
    rows: list[list]
    caption: str | None = None
    formats: dict[int, str] = field(default_factory=dict)


R = TypeVar("R", bound=TableRow)


@dataclass
class FileReport(Generic[R]):
    """Every row of a file, checked."""

    rows: list[R]

    @property
    def good(self) -> list[R]:
        """Rows with no error."""
        return [r for r in self.rows if not r.errors]

    @property
    def bad(self) -> list[R]:
        """Rows with at least one error."""
        return [r for r in self.rows if r.errors]


def read_rows(filename: str, content: bytes, layout: Layout, row_type: type[R]) -> list[R]:
    """The file's data rows by field; InvalidInput when the file as a whole is unusable."""
    table = read_table(filename, content)
    if not table:
        raise InvalidInput("文件是空的。", {"file": ["文件是空的"]})
    columns = _columns(table[0][1], layout)
    rows = [row_type(line, {f: cells[i] if i < len(cells) else "" for f, i in columns.items()})
            for line, cells in table[1:]]
    if not rows:
        raise InvalidInput(f"文件只有表头，没有{layout.what}数据。", {"file": ["没有数据行"]})
    if len(rows) > layout.max_rows:
        raise InvalidInput(f"一次最多导入 {layout.max_rows} 行，本文件有 {len(rows)} 行，请分批导入。",
                           {"file": [f"超过 {layout.max_rows} 行"]})
    return rows


def _columns(header: list[str], layout: Layout) -> dict[str, int]:
    """Field → column position from the heading row; InvalidInput when a required one is missing."""
    columns: dict[str, int] = {}
    for position, heading in enumerate(header):
        name = layout.headings.get(heading.replace("*", "").strip().lower())
        if name and name not in columns:
            columns[name] = position
    missing = [heading for name, heading in layout.required.items() if name not in columns]
    if missing:
        message = f"表头缺少：{'、'.join(missing)}。第一行应为列名，如：{'，'.join(layout.template)}"
        raise InvalidInput(message, {"file": [message]})
    return columns


def read_table(filename: str, content: bytes) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-empty row of an .xlsx or .csv file."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(content)
    if name.endswith(".csv"):
        return _csv_rows(content)
    raise InvalidInput("只支持 .xlsx 或 .csv 文件。", {"file": ["只支持 .xlsx 或 .csv 文件"]})


# What a person can do about a file openpyxl cannot read. Its own messages are English and
# name its internals ("File contains no valid workbook part"), so none reaches the person.
_NOT_XLSX = ("无法读取该文件：不是有效的 Excel（.xlsx）文件。若是 .xls 或 WPS 文件，"
             "请在 Excel 或 WPS 中另存为 .xlsx 后重试。")
_DAMAGED_XLSX = "无法读取该文件：Excel（.xlsx）文件已损坏或缺少工作表，请在 Excel 或 WPS 中打开并另存为 .xlsx 后重试。"


def _xlsx_rows(content: bytes) -> list[tuple[int, list[str]]]:
    """Rows of the first sheet, cells as text (a phone typed as a number keeps its digits)."""
    if not zipfile.is_zipfile(io.BytesIO(content)):  # an .xlsx is a zip; an .xls or a renamed file is not
        raise InvalidInput(_NOT_XLSX, {"file": [_NOT_XLSX]})
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged file
        raise InvalidInput(_DAMAGED_XLSX, {"file": [_DAMAGED_XLSX]}) from exc
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        rows = [(number, [_cell_text(v) for v in row]) for number, row in enumerate(cells, start=1)]
    except Exception as exc:  # noqa: BLE001 - a sheet's XML can be damaged past the workbook part
        raise InvalidInput(_DAMAGED_XLSX, {"file": [_DAMAGED_XLSX]}) from exc
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
        message = _csv_problem(str(exc), reader.line_num)
        raise InvalidInput(message, {"file": [message]}) from exc
    return [(n, cells) for n, cells in rows if any(cells)]


def _csv_problem(error: str, line: int) -> str:
    """The csv module's English complaint said in Chinese, with what to do about it."""
    if "field larger than field limit" in error:
        what = f"有一格内容过长（超过 {csv.field_size_limit()} 个字符），多半是引号没有成对"
    elif "new-line character" in error or "unexpected end of data" in error:
        what = "引号没有成对，或一格中的换行未加引号"
    else:
        what = "格式不正确"
    return f"CSV 格式错误（第 {line} 行）：{what}。请用 Excel 或 WPS 打开后另存为 CSV 再导入。"


def workbook(sheets: list[Sheet]) -> bytes:
    """An .xlsx file of the given sheets, in order."""
    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.title)
        if spec.caption is not None:
            sheet.append([cell_value(sheet, spec.caption)])
        sheet.append([cell_value(sheet, heading) for heading in spec.headings])
        heading_row = sheet.max_row
        for cell in sheet[heading_row]:
            cell.font = Font(bold=True)
        for row in spec.rows:
            sheet.append([cell_value(sheet, value) for value in row])
        _apply_formats(sheet, spec.formats, heading_row + 1)
        sheet.freeze_panes = f"A{heading_row + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# What XML 1.0 (and so .xlsx) cannot hold, or Excel refuses to open: C0 controls but tab,
# newline and carriage return; DEL and the C1 controls; lone surrogates; U+FFFE and U+FFFF.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def cell_value(sheet, value):
    """A value as a cell can hold it, so stored text can never break an export.

    Characters a workbook cannot hold are dropped (openpyxl refuses them outright, which
    answered 500 for everyone whose ledger held such a case title). Text starting with "="
    stays text: openpyxl would write it as a formula, which a typed title must never become.
    """
    if not isinstance(value, str):
        return value
    text = _UNWRITABLE.sub("", value)
    if text.startswith("="):
        cell = Cell(sheet, value=text)
        cell.data_type = "s"
        return cell
    return text


def _apply_formats(sheet, formats: dict[int, str], first_row: int) -> None:
    """Give each formatted column its number format (data rows only) and room for a date."""
    for column, number_format in formats.items():
        letter = get_column_letter(column + 1)
        for (cell,) in sheet.iter_rows(min_row=first_row, min_col=column + 1, max_col=column + 1):
            cell.number_format = number_format
        if number_format in _WIDTHS:
            sheet.column_dimensions[letter].width = _WIDTHS[number_format]
