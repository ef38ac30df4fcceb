"""Paper the offices print and stamp: the 交办单 and 答复意见书 of a case and the stage report,
as A4 pages for the browser's print and as PDFs with the Chinese fonts embedded. The PDFs
are rendered to images here, so a blank or mis-sized page fails."""

import io

import pypdfium2 as pdfium
import pytest

from tests.helpers import HANDLER, REPLY, Desk, register, sign_in, walk_to_handling

A4_POINTS = (595.3, 841.9)


@pytest.fixture
def desk(app, city):
    return Desk(app)


@pytest.fixture
def replied(desk):
    """A case walked to handling, with its written reply."""
    case = register(desk)["case"]
    walk_to_handling(desk, case["id"])
    desk.act(HANDLER, case["id"], "reply", **REPLY)
    return case


def pdf_pages(response, artifacts_dir, name):
    """The PDF's pages as (width, height, text, share of non-white pixels); page 1 saved as PNG."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    pages = []
    document = pdfium.PdfDocument(io.BytesIO(response.get_data()))
    for index, page in enumerate(document):
        assert embedded_fonts(page) == {True}  # every glyph's font travels inside the file
        width, height = page.get_size()
        text = page.get_textpage().get_text_range()
        image = page.render(scale=1).to_pil().convert("L")
        if index == 0:
            image.save(artifacts_dir / f"paper-{name}.png")
        inked = sum(image.histogram()[:200]) / (image.width * image.height)
        pages.append((width, height, text, inked))
        page.close()
    document.close()
    return pages


def embedded_fonts(page) -> set[bool]:
    """For each text object on the page: is its font embedded in the PDF?"""
    return {bool(pdfium.raw.FPDFFont_GetIsEmbedded(pdfium.raw.FPDFTextObj_GetFont(obj.raw)))
            for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_TEXT])}


def test_assignment_sheet_prints_what_the_department_must_do_by_when(desk, replied, artifacts_dir):
    page = desk.get(HANDLER, f"/desk/cases/{replied['id']}/print/assignment")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in (replied["number"], "环境信访案件交办单", "市生态环境局", "承办单位签收人", "data:image/svg+xml"):
        assert text in html, text
    pdf = desk.get(HANDLER, f"/desk/cases/{replied['id']}/print/assignment.pdf")
    pages = pdf_pages(pdf, artifacts_dir, "assignment")
    width, height, text, inked = pages[0]
    assert (round(width, 1), round(height, 1)) == A4_POINTS
    assert "交办单" in text and replied["number"] in text and "第 1 页" in text
    assert 0.01 < inked < 0.5


def test_reply_letter_is_the_stored_reply_addressed_as_the_reader_may_see_it(desk, replied, artifacts_dir):
    handler_view = desk.get(HANDLER, f"/desk/cases/{replied['id']}/print/reply").get_data(as_text=True)
    assert "李四：" in handler_view and REPLY["facts_and_reasons"] in handler_view and "支持" in handler_view
    assert "草稿" in handler_view  # not yet reviewed
    inspector_view = desk.get("insp_V11", f"/desk/cases/{replied['id']}/print/reply").get_data(as_text=True)
    assert "李四" not in inspector_view and "13900001111" not in inspector_view
    assert "已按打印人权限脱敏" in inspector_view
    pages = pdf_pages(desk.get(HANDLER, f"/desk/cases/{replied['id']}/print/reply.pdf"), artifacts_dir, "reply")
    width, height, text, _ = pages[0]
    assert (round(width, 1), round(height, 1)) == A4_POINTS
    assert "信访事项答复意见书" in text and "30 日内" in text


def test_paper_that_does_not_exist_yet_is_a_clear_404(desk):
    case = register(desk)["case"]
    for kind, message in (("assignment", "尚未交办"), ("reply", "尚无书面答复")):
        response = desk.get("command", f"/desk/cases/{case['id']}/print/{kind}")
        assert response.status_code == 404
        assert message in response.get_data(as_text=True)
    assert desk.get("sup_T2", f"/desk/cases/{case['id']}/print/assignment").status_code == 404  # out of scope


def test_stage_report_pdf_has_no_menu_or_filters_and_states_its_period(desk, artifacts_dir):
    response = desk.get("command", "/desk/campaign/stage-report.pdf?start=2026-11-01&end=2026-11-30")
    assert "20261101-20261130" in response.headers["Content-Disposition"]
    pages = pdf_pages(response, artifacts_dir, "stage-report")
    width, height, text, _ = pages[0]
    assert (round(width, 1), round(height, 1)) == A4_POINTS
    assert "阶段性工作报告" in text and "2026-11-01" in text and "第 1 页" in text
    for chrome in ("办案台", "退出", "统计\n", "阶段与报送", "下载 PDF"):
        assert chrome not in text, chrome


@pytest.mark.browser
def test_the_case_page_leads_to_a_sheet_that_prints_without_its_toolbar(desk, replied, live_server, page,
                                                                        artifacts_dir):
    sign_in(page, live_server, HANDLER)
    page.goto(f"{live_server}/desk/cases/{replied['id']}")
    page.get_by_role("link", name="交办单").click()
    page.wait_for_url("**/print/assignment")
    assert page.get_by_role("button", name="打印").is_visible()
    page.screenshot(path=artifacts_dir / "paper-assignment-screen.png", full_page=True)
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="打印").is_visible()
    page.screenshot(path=artifacts_dir / "paper-assignment-print.png", full_page=True)
    page.goto(f"{live_server}/desk/cases/{replied['id']}")
    assert not page.locator(".topbar").is_visible()  # still print media: no menu on any desk page
