"""Staff import from .xlsx and .csv (UTF-8 with or without BOM, GBK): every row checked and
reported by line number; nothing imported from a file with errors unless asked for the good rows."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from app.services.admin.staff_import import check_staff_file
from tests.page_client import PageClient, secrets_on

HEADER = "用户名,姓名,角色,网格编码,部门编码,电话,单位,初始密码"
ROWS = [
    "zhang_v11,张网格,三级网格员,V11,,13800000011,,",
    "bad_grid,错网格,三级网格员,NOPE,,,,",          # line 3: no such grid
    "insp_V11,重名,三级网格员,V11,,,,",             # line 4: already exists
    "zhang_v11,再来,网格员,V11,,,,",               # line 5: repeats line 2
    "boss,老板,总经理,,,,,",                        # line 6: no such role
    "sup_new,镇管理员,二级网格管理员,V12,,,,",       # line 7: a village, not a town
    "weak,弱密码,包案领导,,,,,123456789012",         # line 8: common password
    "officer2,部门人员,职能部门人员,,env,0513-1,,",
]


@pytest.fixture
def admin(app, city):
    person = PageClient(app)
    person.login("admin")
    return person


def upload(admin, content: bytes, name: str, mode="import", good_rows_only=False):
    data = {"file": (io.BytesIO(content), name), "mode": mode}
    if good_rows_only:
        data["good_rows_only"] = "1"
    return admin.post("/admin/users/import", data)


def staff_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_a_file_with_errors_imports_nothing_and_lists_each_line(admin, city):
    before = staff_count()
    content = "\n".join([HEADER, *ROWS]).encode("utf-8-sig")
    page = upload(admin, content, "staff.csv")
    assert page.status_code == 422
    assert staff_count() == before
    for line, problem in [(3, "网格编码 NOPE 不存在"), (4, "用户名已存在"), (5, "用户名与第 2 行重复"),
                          (6, "角色“总经理”无效"), (7, "应属于2级网格"), (8, "初始密码：这是最常见的密码之一")]:
        row = page.text.split(f'data-line="{line}"')[1].split("</tr>")[0]
        assert problem in row, (line, row)
    assert 'data-line="2"' not in page.text and 'data-line="9"' not in page.text
    assert "共 8 行，无误 2 行，有误 6 行" in page.text


def test_the_good_rows_are_imported_when_the_admin_asks(app, admin, city):
    content = "\n".join([HEADER, *ROWS]).encode("utf-8")
    page = upload(admin, content, "staff.csv", good_rows_only=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    passwords = secrets_on(page.text)
    assert set(passwords) == {"zhang_v11", "officer2"}
    officer = db.session.scalar(select(User).where(User.username == "officer2"))
    assert officer.department.code == "env" and officer.must_change_password
    assert PageClient(app).login("zhang_v11", passwords["zhang_v11"]).status_code == 302


def test_gbk_csv_from_excel_is_read(admin, city):
    content = "\r\n".join([HEADER, "gbk_user,国标码,指挥部办公室,C,,,,"]).encode("gbk")
    page = upload(admin, content, "名单.csv")
    assert page.status_code == 200, page.text
    assert db.session.scalar(select(User).where(User.username == "gbk_user")).full_name == "国标码"


def test_xlsx_rows_are_numbered_as_in_the_spreadsheet(app, city):
    book = Workbook()
    sheet = book.active
    sheet.append(["人员名单"])  # a title row above the headings is common
    sheet.append([])
    sheet.append(["用户名", "姓名", "角色", "网格编码"])
    sheet.append(["x_v21", "甲", "三级网格员", "V21"])
    sheet.append(["y_v21", "", "三级网格员", "V21"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(Exception, match="表头缺少"):
        check_staff_file("staff.xlsx", out.getvalue())
    sheet.delete_rows(1, 2)
    out = io.BytesIO()
    book.save(out)
    report = check_staff_file("staff.xlsx", out.getvalue())
    assert [(r.line, r.errors) for r in report.rows] == [(2, []), (3, ["姓名必填"])]


def test_check_mode_imports_nothing_and_unknown_formats_are_refused(admin, city):
    before = staff_count()
    page = upload(admin, "\n".join([HEADER, ROWS[0]]).encode(), "staff.csv", mode="check")
    assert page.status_code == 200 and "检查通过" in page.text and staff_count() == before
    refused = upload(admin, b"x", "staff.xls")
    assert refused.status_code == 422 and "只支持 .xlsx 或 .csv" in refused.text
    assert "表头缺少：角色" in upload(admin, "用户名,姓名\na,b".encode(), "s.csv").text
    template = admin.get("/admin/users/import/template.csv")
    assert template.data.startswith(b"\xef\xbb\xbf") and "用户名" in template.data.decode("utf-8-sig")


def test_the_template_imports_as_downloaded(admin, city):
    """Its sample rows name this city's village and department and usernames nobody holds,
    so an administrator trying the file as it comes sees it pass, not fail on its own rows."""
    template = admin.get("/admin/users/import/template.csv").data
    assert city.grids["V11"].code.encode() in template
    checked = upload(admin, template, "staff-template.csv", mode="check")
    assert checked.status_code == 200 and "检查通过" in checked.text
