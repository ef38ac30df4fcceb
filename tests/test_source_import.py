"""Importing the source register from .xlsx and .csv (UTF-8 with or without BOM, GBK): every
row checked and reported by its spreadsheet line; all or nothing unless asked for the good rows;
a known code updates its source (upsert) when the importer may edit it."""

import dataclasses
import io
import re
import zipfile

import pytest
from geoalchemy2.shape import to_shape
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.errors import Forbidden, InvalidInput
from app.extensions import db
from app.models import AdminAuditEntry, Source
from app.services.geo.coords import wgs84_to_gcj02
from app.services.patrols import source_import
from app.services.patrols.source_import import check_source_file, import_sources
from app.services.patrols.sources import create_source
from tests.page_client import PageClient

HEADER = ["编号", "单位名称", "类型", "行业", "地址", "经度", "纬度", "坐标系", "重点监管", "排污许可证编号", "负责人",
          "联系电话", "备注"]
GOOD = [
    ["", "西镇化工有限公司", "工业企业", "", "西镇工业园1号", "120.505", "32.31", "", "是", "91320000MA1TEST00X001P",
     "王五", "13900000001", ""],
    ["HX-01", "河西养殖场", "畜禽养殖场", "畜禽水产养殖", "V12村3组", "120.515", "32.305", "WGS-84", "否", "", "赵六",
     "0513-8000000", "春季整改"],
]
BAD = [
    ["", "", "工业企业", "", "", "120.505", "32.31", "", "", "", "", "", ""],          # line 4: no name
    ["", "城堡", "城堡", "", "", "120.505", "32.31", "", "", "", "", "", ""],          # line 5: unknown kind
    ["", "远方工厂", "工业企业", "", "", "121.9", "32.31", "", "", "", "", "", ""],     # line 6: outside the city
    ["", "错坐标", "餐饮店", "", "", "东经120度", "32.31", "火星", "也许", "", "", "abc", ""],  # line 7: four problems
    ["HX-01", "重复编号", "小作坊", "", "", "120.515", "32.31", "", "", "", "", "", ""],  # line 8: repeats line 3
]


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    """A CSV file as Excel saves it."""
    lines = [",".join(row) for row in [HEADER, *rows]]
    return "\r\n".join(lines).encode(encoding)


def xlsx_bytes(rows, blank_rows_after_header: int = 0) -> bytes:
    """An .xlsx file, numbers as numbers (as a person types them in Excel)."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for _ in range(blank_rows_after_header):
        sheet.append([])
    for row in rows:
        sheet.append([float(v) if i in (5, 6) and v.replace(".", "").isdigit() else v for i, v in enumerate(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count_sources() -> int:
    """Rows in the register."""
    return db.session.scalar(select(func.count(Source.id)))


def run_import(city, content: bytes, name: str, username="command", good_rows_only=False):
    """Check and import a file as the named user."""
    user = city.users[username]
    result = import_sources(user, check_source_file(user, name, content), good_rows_only=good_rows_only)
    db.session.commit()
    return result


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_a_good_csv_is_imported_in_any_office_encoding(city, encoding):
    result = run_import(city, csv_bytes(GOOD, encoding), "台账.csv")
    assert (result.rows_read, result.imported, len(result.created), len(result.updated)) == (2, 2, 2, 0)
    farm = db.session.scalar(select(Source).where(Source.code == "HX-01"))
    assert farm.name == "河西养殖场" and farm.kind == "livestock_farm" and farm.grid.code == "V12"
    assert farm.responsible_phone == "0513-8000000" and farm.notes == "春季整改" and not farm.is_key
    factory = db.session.scalar(select(Source).where(Source.name == "西镇化工有限公司"))
    assert factory.code == "JGT1-0001" and factory.sector == "industrial" and factory.is_key
    assert factory.permit_number == "91320000MA1TEST00X001P" and factory.grid.code == "V11"
    audit = db.session.scalars(select(AdminAuditEntry.action)).all()
    assert audit == ["source.import"]


def test_a_good_xlsx_is_imported_with_spreadsheet_line_numbers(city):
    content = xlsx_bytes([*GOOD, BAD[0]], blank_rows_after_header=2)
    report = check_source_file(city.users["command"], "台账.xlsx", content)
    assert [r.line for r in report.good] == [4, 5] and [r.line for r in report.bad] == [6]
    result = run_import(city, xlsx_bytes(GOOD), "台账.xlsx")
    assert result.imported == 2 and count_sources() == 2


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_line(city):
    content = csv_bytes([*GOOD, *BAD])
    report = check_source_file(city.users["command"], "台账.csv", content)
    problems = {row.line: row.errors for row in report.bad}
    assert sorted(problems) == [4, 5, 6, 7, 8]
    assert problems[4] == ["名称必填"]
    assert problems[5] == ["类型“城堡”无效，应为：工业企业、畜禽养殖场、水产养殖场、餐饮店、建筑工地、沿河码头、"
                           "小作坊、其他"]
    assert problems[6] == ["该位置不在本市任何三级网格（村、社区）内，请核对经纬度和坐标系"]
    assert problems[7] == ["是否重点应填“是”或“否”，不是“也许”", "坐标系“火星”无效，应为 WGS-84、GCJ-02 或 BD-09",
                           "联系电话格式不正确"]
    assert problems[8] == ["编号 HX-01 与第 3 行重复"]
    with pytest.raises(InvalidInput, match="文件中有 5 行有误，未导入任何监管对象"):
        import_sources(city.users["command"], report)
    db.session.rollback()
    assert count_sources() == 0
    result = run_import(city, content, "台账.csv", good_rows_only=True)
    assert result.imported == 2 and [r.line for r in result.errors] == [4, 5, 6, 7, 8]
    assert set(db.session.scalars(select(Source.name))) == {"西镇化工有限公司", "河西养殖场"}


def test_a_non_numeric_coordinate_is_reported(city):
    rows = [["", "坏经度", "工业企业", "", "", "东经120度", "32.31", "", "", "", "", "", ""]]
    report = check_source_file(city.users["command"], "a.csv", csv_bytes(rows))
    assert report.bad[0].errors == ["经度、纬度须为数字"]


def test_known_codes_update_their_source_within_scope_only(city):
    east = create_source(city.users["command"], {"code": "E-1", "name": "东镇码头", "kind": "wharf",
                                                 "lon": 120.525, "lat": 32.31})
    west = create_source(city.users["command"], {"code": "W-1", "name": "西镇旧名", "kind": "factory",
                                                 "lon": 120.505, "lat": 32.31, "notes": "旧备注"})
    db.session.commit()
    rows = [["W-1", "西镇新名", "工业企业", "", "新地址", "120.515", "32.31", "", "是", "", "", "", ""],
            ["E-1", "东镇码头改", "沿河码头", "", "", "120.525", "32.31", "", "", "", "", "", ""]]
    report = check_source_file(city.users["sup_T1"], "a.csv", csv_bytes(rows))
    assert report.rows[0].existing_id == west.id and not report.rows[0].errors
    assert report.rows[1].errors == ["该位置不在您管辖的镇（街道）范围内",
                                     "编号 E-1 已被其他监管对象使用（不在您的管辖范围内，不能更新）"]
    result = run_import(city, csv_bytes(rows[:1]), "a.csv", username="sup_T1")
    assert (len(result.created), len(result.updated)) == (0, 1)
    db.session.refresh(west)
    assert (west.name, west.address, west.is_key, west.notes, west.grid.code) == ("西镇新名", "新地址", True, "", "V12")
    assert db.session.get(Source, east.id).name == "东镇码头"


def test_gcj02_rows_are_converted(city):
    lon, lat = wgs84_to_gcj02(120.5152, 32.3101)
    rows = [["", "高德取点", "餐饮店", "", "", f"{lon:.9f}", f"{lat:.9f}", "GCJ-02（高德/腾讯）", "", "", "", "", ""]]
    run_import(city, csv_bytes(rows), "a.csv")
    point = to_shape(db.session.scalar(select(Source.location)))
    assert abs(point.x - 120.5152) < 1e-6 and abs(point.y - 32.3101) < 1e-6
    source = db.session.scalar(select(Source))
    assert source.coord_system == "gcj02" and abs(source.input_lon - lon) < 1e-9 and abs(source.input_lat - lat) < 1e-9


def test_whole_file_problems_are_clear(city, monkeypatch):
    command = city.users["command"]
    with pytest.raises(InvalidInput, match="表头缺少：类型、经度、纬度"):
        check_source_file(command, "a.csv", "名称,地址\r\n甲,乙".encode())
    with pytest.raises(InvalidInput, match="只支持 .xlsx 或 .csv"):
        check_source_file(command, "a.xls", b"whatever")
    with pytest.raises(InvalidInput, match=r"不是有效的 Excel（\.xlsx）文件"):
        check_source_file(command, "a.xlsx", b"not a zip")
    with pytest.raises(InvalidInput, match="没有监管对象数据"):
        check_source_file(command, "a.csv", csv_bytes([]))
    monkeypatch.setattr(source_import, "LAYOUT", dataclasses.replace(source_import.LAYOUT, max_rows=1))
    with pytest.raises(InvalidInput, match="一次最多导入 1 行，本文件有 2 行"):
        check_source_file(command, "a.csv", csv_bytes(GOOD))
    with pytest.raises(Forbidden):
        check_source_file(city.users["officer_env"], "a.csv", csv_bytes(GOOD))


def test_the_template_round_trips(app, city):
    person = PageClient(app)
    person.login("sup_T1")
    download = person.get("/api/v1/sources/import-template")
    assert download.status_code == 200 and "spreadsheetml" in download.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert [c.value for c in sheet[1]][:3] == ["编号", "名称", "类型"]
    result = run_import(city, download.data, "template.xlsx", username="sup_T1")
    assert result.imported == 1
    assert db.session.scalar(select(Source)).grid.code == "V11"


def test_api_import_all_or_nothing_then_good_rows_only(app, city):
    person = PageClient(app)
    person.login("command")
    content = csv_bytes([*GOOD, *BAD])

    def post(**form):
        data = {"file": (io.BytesIO(content), "台账.csv"), **form}
        return person.client.post("/api/v1/sources/import", data=data, content_type="multipart/form-data",
                                  headers={"X-CSRFToken": person.token()})

    checked = post(check_only="true")
    assert checked.status_code == 200 and checked.get_json()["rows_read"] == 7 and count_sources() == 0
    refused = post()
    body = refused.get_json()
    assert refused.status_code == 422 and "未导入任何监管对象" in body["message"]
    assert [row["line"] for row in body["errors"]["rows"]] == [4, 5, 6, 7, 8] and count_sources() == 0
    done = post(good_rows_only="true")
    assert done.status_code == 200
    assert {k: v for k, v in done.get_json().items() if k != "errors"} == {
        "rows_read": 7, "imported": 2, "created": 2, "updated": 0}
    assert [row["line"] for row in done.get_json()["errors"]] == [4, 5, 6, 7, 8] and count_sources() == 2
    no_file = person.client.post("/api/v1/sources/import", data={}, headers={"X-CSRFToken": person.token()})
    assert no_file.status_code == 422 and "请上传" in no_file.get_json()["message"]


def _zip_without_workbook() -> bytes:
    """A zip named .xlsx that holds no workbook (what openpyxl calls "no valid workbook part")."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("台账.xlsx", b"not a zip at all", "不是有效的 Excel（.xlsx）文件"),
    ("台账.xlsx", _zip_without_workbook(), "已损坏或缺少工作表"),
    ("台账.csv", b'\xef\xbb\xbf\xe5\x90\x8d\xe7\xa7\xb0\r\n"' + b"x" * 140_000 + b"\r\n", "有一格内容过长"),
])
def test_unreadable_files_are_explained_in_chinese(app, city, name, content, expected):
    """The reader libraries' English ("File is not a zip file", "field larger than field limit
    (131072)") never reaches errors.file: the person reads what is wrong and what to do."""
    person = PageClient(app)
    person.login("command")
    response = person.client.post("/api/v1/sources/import", data={"file": (io.BytesIO(content), name)},
                                  content_type="multipart/form-data", headers={"X-CSRFToken": person.token()})
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]["file"]
    assert expected in errors[0] and not re.search(r"[A-Za-z]{4,} [a-z]{2,}", errors[0]), errors
