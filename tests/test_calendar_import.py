"""Next year's holidays: the notice is read, confirmed and saved, and deadlines that reach a
year not yet entered are weekend-only estimates until it is. Every date below is counted by
hand from a printed calendar."""

import io
import zipfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.errors import InvalidInput
from app.extensions import db
from app.models import CalendarDay, CalendarYear, CaseClock
from app.models.vocab import Stage
from app.services import clock
from app.services.cases.deadline_defaults import HOLIDAY_NOTICES
from app.services.cases.deadlines import start_clock
from app.services.cases.holiday_notice import notice_text_from_upload, parse_notice
from app.services.cases.workcalendar import WorkCalendar, holiday_exceptions, missing_years
from tests.factories import NOTICE_2027
from tests.helpers import Desk
from tests.page_client import PageClient

SHANGHAI = ZoneInfo("Asia/Shanghai")


def bj(*args) -> datetime:
    """A Beijing-time moment."""
    return datetime(*args, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    """24:00 Beijing time of a day."""
    return bj(year, month, day) + timedelta(days=1)


# --- Reading a notice ------------------------------------------------------------------------


def test_the_made_up_2027_notice_reads_as_hand_counted():
    notice = parse_notice(NOTICE_2027)
    assert notice.year == 2027
    spring = notice.holidays[1]
    assert (spring.name, spring.first_day, spring.last_day) == ("春节", date(2027, 2, 5), date(2027, 2, 12))
    assert spring.makeup_working_days == (date(2027, 2, 20),)
    assert (notice.holidays[2].first_day, notice.holidays[2].last_day) == (date(2027, 4, 3), date(2027, 4, 5))
    labour = notice.holidays[3]  # a range across two months, two make-up days
    assert (labour.first_day, labour.last_day) == (date(2027, 4, 30), date(2027, 5, 4))
    assert labour.makeup_working_days == (date(2027, 4, 25), date(2027, 5, 8))
    rows = holiday_exceptions(notice.holidays)
    # Weekdays off: Jan 1; Feb 5, 8-12; Apr 5; Apr 30, May 3-4 (11). Worked: Feb 20, Apr 25, May 8.
    assert sorted(d for d, (working, _) in rows.items() if not working) == [
        date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10),
        date(2027, 2, 11), date(2027, 2, 12), date(2027, 4, 5), date(2027, 4, 30), date(2027, 5, 3),
        date(2027, 5, 4)]  # fmt: skip
    assert sorted(d for d, (working, _) in rows.items() if working) == [
        date(2027, 2, 20), date(2027, 4, 25), date(2027, 5, 8)]


def test_the_shipped_2025_notice_reads_single_days_and_lunar_notes():
    notice = parse_notice(HOLIDAY_NOTICES[2025])
    new_year, spring = notice.holidays[0], notice.holidays[1]
    assert (new_year.first_day, new_year.last_day, new_year.makeup_working_days) == (
        date(2025, 1, 1), date(2025, 1, 1), ())
    assert (spring.first_day, spring.last_day) == (date(2025, 1, 28), date(2025, 2, 4))
    assert spring.makeup_working_days == (date(2025, 1, 26), date(2025, 2, 8))
    assert notice.holidays[-1].name == "国庆节、中秋节"


def test_the_shipped_2023_notice_starts_in_2022_and_gives_18_days_off_and_7_worked():
    notice = parse_notice(HOLIDAY_NOTICES[2023])
    assert (notice.holidays[0].first_day, notice.holidays[0].last_day) == (date(2022, 12, 31), date(2023, 1, 2))
    rows = holiday_exceptions(notice.holidays)
    # Off: Jan 2; Jan 23-27; Apr 5; May 1-3; Jun 22-23; Sep 29, Oct 2-6. Worked: Jan 28-29, Apr 23,
    # May 6, Jun 25, Oct 7-8.
    assert sum(not working for working, _ in rows.values()) == 18
    assert sorted(d for d, (working, _) in rows.items() if working) == [
        date(2023, 1, 28), date(2023, 1, 29), date(2023, 4, 23), date(2023, 5, 6), date(2023, 6, 25),
        date(2023, 10, 7), date(2023, 10, 8)]  # fmt: skip


def test_a_range_across_the_new_year_with_years_written_out():
    text = "一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。"
    holiday = parse_notice(text, 2019).holidays[0]
    assert (holiday.first_day, holiday.last_day) == (date(2018, 12, 30), date(2019, 1, 1))
    assert holiday.makeup_working_days == (date(2018, 12, 29),)


def test_the_2024_notice_keeps_the_eve_suggestion_out_of_the_calendar():
    notice = parse_notice(HOLIDAY_NOTICES[2024])
    assert date(2024, 2, 9) not in holiday_exceptions(notice.holidays)
    assert notice.ignored == ["春节：鼓励各单位结合带薪年休假等制度落实,安排职工在除夕(2月9日)休息"]


@pytest.mark.parametrize(("text", "year", "says"), [
    (NOTICE_2027, 2028, "通知写的是 2027 年"),
    (NOTICE_2027.replace("2027年", ""), 2028, "周五，但 2028年01月01日 是周六"),
    ("一、元旦：1月1日（周五）至3日（周日）放假，共4天。", 2027, "写明共 4 天"),
    ("一、元旦：1月1日（周五）至3日（周日）放假，共3天。", None, "未能从通知中识别年份"),
    ("元旦放假三天", 2027, "未在文本中找到"),
    ("一、元旦：元旦当天休息。", 2027, "没有找到放假日期"),
])  # fmt: skip
def test_a_notice_that_cannot_be_trusted_is_refused_saying_why(text, year, says):
    with pytest.raises(InvalidInput) as caught:
        parse_notice(text, year)
    assert says in caught.value.message + str(caught.value.errors)


def test_an_uploaded_docx_or_gb18030_text_reads_like_a_paste():
    paragraphs = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in NOTICE_2027.splitlines())
    xml = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f"<w:body>{paragraphs}</w:body></w:document>")
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", xml)
    assert parse_notice(notice_text_from_upload("通知.docx", docx.getvalue())).holidays[1].name == "春节"
    assert parse_notice(notice_text_from_upload("通知.TXT", NOTICE_2027.encode("gb18030"))).year == 2027
    with pytest.raises(InvalidInput):
        notice_text_from_upload("通知.doc", b"\xd0\xcf\x11\xe0")


# --- Estimates, the banner and the import ---------------------------------------------------


def test_spring_festival_2027_moves_a_deadline_once_the_notice_is_imported(app, city):
    case = city.cases["V11"]
    with clock.frozen_at(bj(2026, 12, 10, 10, 0)):
        # 60 days from 2026-12-10 end on Monday 2027-02-08, a plain working day while 2027 is unknown.
        start_clock(case, Stage.HANDLE, bj(2026, 12, 10, 10, 0))
        db.session.commit()
        handle = db.session.query(CaseClock).filter_by(case_id=case.id, stage=Stage.HANDLE).one()
        assert handle.due_at == end_of(2027, 2, 8) and handle.estimated is True
        desk, admin = Desk(app), PageClient(app)
        assert desk.get("command", f"/api/v1/cases/{case.id}").get_json()["due_estimated"] is True
        assert "按周末估算" in desk.get("command", f"/desk/cases/{case.id}").get_data(as_text=True)
        assert "2027 年节假日安排尚未录入" in desk.get("command", "/desk/").get_data(as_text=True)
        admin.login("admin")
        assert "2027 年节假日安排尚未录入" in admin.get("/admin/").get_data(as_text=True)

        unreadable = admin.post("/admin/calendar/import", {"text": "各省、自治区、直辖市人民政府：放假。", "year": ""})
        assert unreadable.status_code == 422
        errors = unreadable.get_data(as_text=True).split('id="notice-errors"')[1].split("</ul>")[0]
        assert "未能从通知中识别年份" in errors and "year" not in errors  # in Chinese, never the field's key
        preview = admin.post("/admin/calendar/import", {"text": NOTICE_2027, "year": ""})
        page = preview.get_data(as_text=True)
        assert preview.status_code == 200 and "请核对 2027 年的放假安排" in page
        assert "2027-02-08（周一）</td><td>放假</td><td>春节" in page
        assert db.session.get(CalendarYear, 2027) is None  # nothing saved before confirming

        saved = admin.post("/admin/calendar/import/confirm", {"text": NOTICE_2027, "year": "2027"})
        assert saved.status_code == 302
        # Feb 8 is now a Spring Festival day off; the next working day is Monday Feb 15
        # (Feb 13-14 are a plain weekend).
        db.session.expire_all()
        handle = db.session.get(CaseClock, handle.id)
        assert handle.due_at == end_of(2027, 2, 15) and handle.estimated is False
        assert db.session.get(type(case), case.id).handle_due_at == end_of(2027, 2, 15)
        assert desk.get("command", f"/api/v1/cases/{case.id}").get_json()["due_estimated"] is False
        assert "按周末估算" not in desk.get("command", f"/desk/cases/{case.id}").get_data(as_text=True)
        assert "节假日安排尚未录入" not in desk.get("command", "/desk/").get_data(as_text=True)
        assert db.session.get(CalendarDay, date(2027, 2, 20)).is_working_day is True
        assert "1 件案件的期限已按新日历重新计算" in admin.get("/admin/deadlines?year=2027").get_data(as_text=True)


def test_working_days_into_an_unknown_year_count_weekends_only_and_are_marked(app, city):
    calendar = WorkCalendar.load()
    # 5 working days from Wednesday 2026-12-30: Dec 31, Jan 1 (no holiday known yet), Jan 4, 5, 6.
    due = calendar.period_end(bj(2026, 12, 30, 9, 0), 5, "working_days")
    assert due == end_of(2027, 1, 6)
    assert calendar.is_estimate(bj(2026, 12, 30, 9, 0), due, "working_days") is True
    assert calendar.is_estimate(bj(2026, 12, 30, 9, 0), due, "hours") is False
    assert calendar.is_estimate(bj(2026, 12, 1, 9, 0), end_of(2026, 12, 31), "calendar_days") is False


def test_the_banner_shows_from_november_only(app, city):
    assert missing_years(date(2026, 10, 31)) == []
    assert missing_years(date(2026, 11, 1)) == [2027]
    assert missing_years(date(2028, 3, 1)) == [2028]


def test_a_wrong_notice_is_shown_back_with_its_reason_and_saves_nothing(app, city):
    admin = PageClient(app)
    admin.login("admin")
    response = admin.post("/admin/calendar/import", {"text": NOTICE_2027.replace("（周五）至3日", "（周六）至3日"),
                                                      "year": ""})
    assert response.status_code == 422
    assert "写的是周六，但 2027年01月01日 是周五" in response.get_data(as_text=True)
    refused = admin.post("/admin/calendar/import/confirm", {"text": "一、元旦：放假", "year": "2027"})
    assert refused.status_code == 302 and db.session.get(CalendarYear, 2027) is None
