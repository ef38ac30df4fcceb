"""Import of the source register (监管对象台账) from a spreadsheet (.xlsx) or a .csv file.

The first non-empty row holds the column headings an office types: 编号 (optional), 名称,
类型, 行业 (optional: defaults from the type), 地址, 经度, 纬度, 坐标系 (optional: WGS-84,
GCJ-02 or BD-09; WGS-84 when blank), 是否重点 (是/否), 排污许可证编号, 负责人, 联系电话,
备注; a few synonyms are accepted (单位名称, 重点监管, 经营地址 ...). Files are read by
``services.spreadsheets`` (the one reader for office spreadsheets: .xlsx, and CSV in UTF-8
with or without BOM, or GBK).

Every row is checked with the same rules as the form (``services.sources``) and reported with
its line number as the spreadsheet shows it (the heading row is line 1). A row whose code is
already in the register updates that source when the user may edit it (upsert by code);
otherwise it is an error, as is a code repeated inside the file. Nothing is imported from a
file with errors unless the user asks for the good rows alone.
"""

import io
from dataclasses import dataclass

from geoalchemy2.shape import to_shape
from openpyxl import Workbook
from openpyxl.styles import Font
from shapely import get_coordinates
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Grid, Source, User
from app.models.vocab import CoordSystem, Sector, SourceKind
from app.services.access import require, source_scope
from app.services.admin import audit as admin_audit
from app.services.geo.grid_locator import GridLocator, get_locator
from app.services.patrols import sources
from app.services.spreadsheets import FileReport, Layout, TableRow, read_rows

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 10_000
MAX_BYTES = 10 * 1024 * 1024
# Heading (as typed, without "*", case-folded) → field.
HEADINGS = {
    "编号": "code", "对象编号": "code", "台账编号": "code", "code": "code",
    "名称": "name", "单位名称": "name", "企业名称": "name", "对象名称": "name", "name": "name",
    "类型": "kind", "对象类型": "kind", "kind": "kind",
    "行业": "sector", "行业类别": "sector", "所属行业": "sector", "sector": "sector",
    "地址": "address", "经营地址": "address", "详细地址": "address", "address": "address",
    "经度": "lon", "lon": "lon", "longitude": "lon",
    "纬度": "lat", "lat": "lat", "latitude": "lat",
    "坐标系": "coord_system", "coord_system": "coord_system",
    "是否重点": "is_key", "重点监管": "is_key", "重点": "is_key", "是否重点监管": "is_key", "is_key": "is_key",
    "排污许可证编号": "permit_number", "排污许可证号": "permit_number", "许可证编号": "permit_number",
    "permit_number": "permit_number",
    "负责人": "responsible_name", "法定代表人": "responsible_name", "联系人": "responsible_name",
    "responsible_name": "responsible_name",
    "联系电话": "responsible_phone", "电话": "responsible_phone", "手机": "responsible_phone",
    "responsible_phone": "responsible_phone",
    "备注": "notes", "notes": "notes",
}
REQUIRED = {"name": "名称", "kind": "类型", "lon": "经度", "lat": "纬度"}
TEMPLATE_HEADINGS = ["编号", "名称", "类型", "行业", "地址", "经度", "纬度", "坐标系", "是否重点", "排污许可证编号",
                     "负责人", "联系电话", "备注"]
# Names offices use for a kind, besides the exact labels.
KIND_ALIASES = {
    "企业": SourceKind.FACTORY, "工厂": SourceKind.FACTORY, "工业": SourceKind.FACTORY,
    "养殖场": SourceKind.LIVESTOCK_FARM, "畜禽养殖": SourceKind.LIVESTOCK_FARM,
    "水产养殖": SourceKind.AQUACULTURE_FARM, "餐饮": SourceKind.RESTAURANT, "餐馆": SourceKind.RESTAURANT,
    "饭店": SourceKind.RESTAURANT, "工地": SourceKind.CONSTRUCTION_SITE, "码头": SourceKind.WHARF,
    "作坊": SourceKind.WORKSHOP, "小作坊": SourceKind.WORKSHOP,
}
COORD_ALIASES = {
    "": CoordSystem.WGS84, "wgs-84": CoordSystem.WGS84, "wgs84": CoordSystem.WGS84, "gps": CoordSystem.WGS84,
    "cgcs2000": CoordSystem.WGS84, "天地图": CoordSystem.WGS84,
    "gcj-02": CoordSystem.GCJ02, "gcj02": CoordSystem.GCJ02, "高德": CoordSystem.GCJ02, "腾讯": CoordSystem.GCJ02,
    "bd-09": CoordSystem.BD09, "bd09": CoordSystem.BD09, "百度": CoordSystem.BD09,
}
LAYOUT = Layout(HEADINGS, REQUIRED, TEMPLATE_HEADINGS, "监管对象", MAX_ROWS)
YES = {"是", "重点", "y", "yes", "1", "true", "√"}
NO = {"", "否", "n", "no", "0", "false", "一般"}


@dataclass
class SourceRow(TableRow):
    """A data row of the file, and the source it would update (upsert by code)."""

    existing_id: int | None = None


@dataclass
class SourceImportResult:
    """What an import did: rows read, sources created and updated, rows skipped with their errors."""

    rows_read: int
    created: list[Source]
    updated: list[Source]
    errors: list[SourceRow]

    @property
    def imported(self) -> int:
        """Rows written to the register."""
        return len(self.created) + len(self.updated)


def check_source_file(user: User, filename: str, content: bytes) -> FileReport[SourceRow]:
    """Read and check every row; InvalidInput only when the file as a whole is unusable."""
    require(user, "edit_sources", "只有二级网格管理员、指挥部办公室和系统管理员可以导入监管对象台账。")
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请分批导入。", {"file": ["文件过大"]})
    rows = read_rows(filename, content, LAYOUT, SourceRow)
    _check_rows(user, rows)
    return FileReport[SourceRow](rows)


def _check_rows(user: User, rows: list[SourceRow]) -> None:
    """Check each row against the rules, the register and the other rows of the file."""
    locator = get_locator()
    codes = {r.values.get("code", "").strip() for r in rows} - {""}
    registered = dict(db.session.execute(select(Source.code, Source.id).where(Source.code.in_(codes))).all()) \
        if codes else {}
    editable = set(db.session.scalars(select(Source.id).where(Source.id.in_(registered.values()),
                                                              source_scope(user))))
    seen: dict[str, int] = {}
    for row in rows:
        _check_row(user, row, locator)
        code = row.data.get("code")
        if not code:
            continue
        if code in seen:
            row.errors.append(f"编号 {code} 与第 {seen[code]} 行重复")
        seen.setdefault(code, row.line)
        if code in registered:
            if registered[code] in editable:
                row.existing_id = registered[code]
            else:
                row.errors.append(f"编号 {code} 已被其他监管对象使用（不在您的管辖范围内，不能更新）")


def _check_row(user: User, row: SourceRow, locator: GridLocator) -> None:
    """One row's own checks; fills ``row.data`` for sources.create_source / update_source."""
    values = row.values
    for name, heading in REQUIRED.items():
        if not values.get(name, "").strip():
            row.errors.append(f"{heading}必填")
    data = {name: values[name].strip() for name in ("code", "name", "address", "permit_number", "responsible_name",
                                                    "responsible_phone", "notes") if name in values}
    data["kind"] = _kind(values.get("kind", ""), row)
    data["sector"] = _sector(values.get("sector", ""), row)
    if "is_key" in values:
        data["is_key"] = _yes_no(values["is_key"], row)
    data["coord_system"] = _coord_system(values.get("coord_system", ""), row)
    row.data = sources.normalised(data)
    for field_name, problems in sources.check_fields(row.data).items():
        if field_name not in ("kind", "sector"):  # reported above, in the file's own words
            row.errors.extend(p for p in problems if p not in row.errors)
    if values.get("lon", "").strip() and values.get("lat", "").strip() and data["coord_system"]:
        _check_location(user, row, locator)


def _check_location(user: User, row: SourceRow, locator: GridLocator) -> None:
    """The row's point must fall in a level-3 grid (in the supervisor's own town)."""
    try:
        where = sources.place(user, row.values["lon"], row.values["lat"], row.data["coord_system"], locator)
    except InvalidInput as exc:
        row.errors.append(exc.message.rstrip("。"))
        return
    # The values as typed, in their system: the source keeps them beside the converted point.
    row.data.update(lon=where.input_lon, lat=where.input_lat, coord_system=where.coord_system)


def _kind(text: str, row: SourceRow) -> str | None:
    """A kind from its label, value or a common short name; records an error otherwise."""
    text = text.strip()
    for kind in SourceKind:
        if text in (kind.label, kind.value):
            return kind.value
    if text in KIND_ALIASES:
        return KIND_ALIASES[text].value
    if text:
        row.errors.append(f"类型“{text}”无效，应为：{'、'.join(SourceKind.labels().values())}")
    return None


def _sector(text: str, row: SourceRow) -> str | None:
    """A sector from its label or value; blank means "from the kind"."""
    text = text.strip()
    for sector in Sector:
        if text in (sector.label, sector.value):
            return sector.value
    if text:
        row.errors.append(f"行业“{text}”无效，应为：{'、'.join(Sector.labels().values())}")
    return None


def _yes_no(text: str, row: SourceRow) -> bool:
    """是/否 (and the usual variants); records an error for anything else."""
    folded = text.strip().lower()
    if folded in YES:
        return True
    if folded not in NO:
        row.errors.append(f"是否重点应填“是”或“否”，不是“{text.strip()}”")
    return False


def _coord_system(text: str, row: SourceRow) -> str | None:
    """A coordinate system from its common names; records an error for anything else."""
    folded = text.strip().lower().replace("（", "(").split("(")[0].strip()
    system = COORD_ALIASES.get(folded)
    if system is None:
        row.errors.append(f"坐标系“{text.strip()}”无效，应为 WGS-84、GCJ-02 或 BD-09")
        return None
    return system.value


def import_sources(user: User, report: FileReport[SourceRow], good_rows_only: bool = False) -> SourceImportResult:
    """Write every good row (new codes created, known codes updated); refuses a file with errors
    unless ``good_rows_only``. One audit entry records the whole import."""
    if report.bad and not good_rows_only:
        raise InvalidInput(f"文件中有 {len(report.bad)} 行有误，未导入任何监管对象。",
                           {f"第 {r.line} 行": r.errors for r in report.bad})
    typed_codes = {r.data["code"] for r in report.rows if r.data.get("code")}
    locator, codes = get_locator(), sources.CodeMaker(reserved=typed_codes)
    created, updated = [], []
    for row in report.good:
        if row.existing_id is not None:
            updated.append(sources.update_source(user, row.existing_id, row.data, locator=locator, audit=False))
        else:
            created.append(sources.create_source(user, row.data, codes=codes, locator=locator, audit=False))
    admin_audit.record(user, "source.import", "source", "", None, {
        "created": [s.code for s in created], "updated": [s.code for s in updated],
        "skipped_lines": [r.line for r in report.bad]})
    return SourceImportResult(len(report.rows), created, updated, report.bad)


def template_xlsx() -> bytes:
    """An example workbook to fill in: the headings, one example row, and the allowed values."""
    book = Workbook()
    sheet = book.active
    sheet.title = "监管对象台账"
    sheet.append(TEMPLATE_HEADINGS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    lon, lat = _example_point()
    sheet.append(["", "示例化工有限公司", SourceKind.FACTORY.label, Sector.INDUSTRIAL.label, "某镇某村工业园区8号",
                  lon, lat, "WGS-84", "是", "91320000000000000X001P", "张三", "13900000000", "编号留空则自动生成"])
    for column, width in zip("ABCDEFGHIJKLM", (14, 26, 12, 12, 30, 12, 12, 10, 10, 26, 10, 14, 20), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    notes.append(["列", "可填的值"])
    notes.append(["类型（必填）", "、".join(SourceKind.labels().values())])
    notes.append(["行业（选填，默认按类型）", "、".join(Sector.labels().values())])
    notes.append(["坐标系（选填，默认 WGS-84）", "WGS-84（GPS/天地图）、GCJ-02（高德/腾讯）、BD-09（百度）"])
    notes.append(["是否重点", "是、否"])
    notes.append(["编号（选填）", "已有编号的行将更新该监管对象；留空则自动编号"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _example_point() -> tuple[float, float]:
    """A point inside this city's first village, so the example row imports as it is."""
    geom = db.session.scalar(select(Grid.geom).where(Grid.level == 3).order_by(Grid.code).limit(1))
    if geom is None:
        return 120.57, 32.39
    x, y = get_coordinates(to_shape(geom).representative_point())[0]
    return round(float(x), 6), round(float(y), 6)
