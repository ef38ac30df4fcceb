"""Reading the State Council's annual holiday notice (国务院办公厅关于某年部分节假日安排的通知).

Each numbered line of a notice names one holiday, its days off and the weekend days worked
instead (调休上班), in wording that has varied over the years:

    一、元旦：1月1日（周三）放假1天，不调休。
    二、春节：2月10日至17日放假调休，共8天。2月4日（星期日）、2月18日（星期日）上班。
    五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
    一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。

The sentence with 放假 gives a day or a range (至, 到, or a dash; the second day may omit its
month and year); every day of a sentence with 上班 is a make-up working day. A weekday
written in parentheses and the "共N天" count are checked against the dates, so a notice
pasted under the wrong year, or a misread line, is refused rather than saved.
"""

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from xml.etree import ElementTree

from app.errors import InvalidInput
from app.services.cases.deadline_defaults import Holiday

_ITEM = re.compile(r"(?:^|(?<=[\s。]))([一二三四五六七八九十]{1,3})、\s*([^:\s。,]{1,30}?)\s*:")
_DAY = re.compile(r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日(?:\s*\(([^)]*)\))?")
_RANGE = re.compile(r"\s*(?:至|到|-|–|—|~)\s*")
_TITLE_YEAR = re.compile(r"(?:关于|现将)\s*(\d{4})\s*年")
_COUNT = re.compile(r"(?:共|放假)\s*(\d{1,2})\s*天")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_WEEKDAYS = "一二三四五六日"
_MAX_UPLOAD = 2 * 1024 * 1024


@dataclass
class ParsedNotice:
    """What a notice says for one year: its holidays, and the sentences that were not used."""

    year: int
    holidays: list[Holiday]
    ignored: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Mention:
    """A date found in a sentence, and where it was written."""

    day: date
    start: int
    end: int


def parse_notice(text: str, year: int | None = None) -> ParsedNotice:
    """The holidays of a notice; InvalidInput naming every line that cannot be trusted.

    ``year`` is the year the administrator chose; when the notice names its own year the
    two must agree.
    """
    text = unicodedata.normalize("NFKC", text or "")
    year = _notice_year(text, year)
    items = list(_ITEM.finditer(text))
    if not items:
        raise InvalidInput("未在文本中找到“一、元旦：……”这样的放假安排条目，请粘贴通知正文。",
                           {"text": ["未找到放假安排条目"]})
    parsed, errors = ParsedNotice(year, []), {}
    for position, item in enumerate(items):
        end = items[position + 1].start() if position + 1 < len(items) else len(text)
        body = text[item.end():end].split("\n", 1)[0]
        label = f"{item.group(1)}、{item.group(2)}"
        try:
            parsed.holidays.append(_holiday(item.group(2), body, year, parsed.ignored))
        except ValueError as exc:
            errors[label] = [str(exc)]
    if errors:
        raise InvalidInput(f"通知中有 {len(errors)} 条无法识别或与日期不符，未保存。", errors)
    return parsed


def notice_title(text: str) -> str:
    """The notice's title line (what the calendar records as its source), or a plain description."""
    for line in (text or "").splitlines():
        if "节假日安排" in line and "通知" in line:
            return line.strip()[:200]
    return "管理员导入的节假日安排通知"


def _notice_year(text: str, chosen: int | None) -> int:
    """The notice's year: the one its title names, which must agree with the chosen year."""
    found = _TITLE_YEAR.search(text)
    named = int(found.group(1)) if found else None
    if named and chosen and named != chosen:
        message = f"通知写的是 {named} 年，与所选的 {chosen} 年不一致。"
        raise InvalidInput(message, {"year": [message]})
    if not (named or chosen):
        message = "未能从通知中识别年份，请选择年份。"
        raise InvalidInput(message, {"year": [message]})
    return named or chosen


def _holiday(name: str, body: str, year: int, ignored: list[str]) -> Holiday:
    """One numbered line: the days off from its 放假 sentence, the days worked from its 上班 sentences."""
    days_off: tuple[date, date] | None = None
    worked: list[date] = []
    for sentence in filter(None, (s.strip() for s in re.split(r"[。;]", body))):
        if "放假" in sentence and days_off is None:
            days_off = _days_off(sentence, year)
        elif "上班" in sentence:
            worked += [m.day for m in _mentions(sentence, year)]
        elif _DAY.search(sentence):
            ignored.append(f"{name}：{sentence}")
    if days_off is None:
        raise ValueError("没有找到放假日期（应有“……放假”）")
    return Holiday(name, days_off[0], days_off[1], tuple(worked))


def _days_off(sentence: str, year: int) -> tuple[date, date]:
    """The first and last day off of a 放假 sentence, checked against its "共N天"."""
    mentions = _mentions(sentence, year)
    if not mentions:
        raise ValueError(f"“{sentence}”中没有可识别的日期")
    first = last = mentions[0].day
    if len(mentions) > 1 and _RANGE.fullmatch(sentence[mentions[0].end:mentions[1].start]):
        last = mentions[1].day
    if last < first:
        raise ValueError(f"放假结束日 {last:%Y-%m-%d} 早于开始日 {first:%Y-%m-%d}")
    count = _COUNT.search(sentence)
    span = (last - first).days + 1
    if count and int(count.group(1)) != span:
        raise ValueError(f"写明共 {count.group(1)} 天，但 {first:%m月%d日} 至 {last:%m月%d日} 是 {span} 天")
    return first, last


def _mentions(sentence: str, year: int) -> list[_Mention]:
    """Every date of a sentence; a date without year or month takes them from the date before it."""
    found: list[_Mention] = []
    current_year, current_month = year, None
    for match in _DAY.finditer(sentence):
        explicit_year, month, day, note = match.groups()
        if month is None and current_month is None:
            raise ValueError(f"“{match.group(0)}”没有写月份")
        month = int(month) if month else current_month
        if explicit_year:
            current_year = int(explicit_year)
        elif found and month < found[-1].day.month:
            current_year += 1  # 12月31日至1月2日: the range runs into the next year
        try:
            moment = date(current_year, month, int(day))
        except ValueError:
            raise ValueError(f"“{match.group(0)}”不是有效日期") from None
        _check_weekday(moment, note or "", match.group(0))
        found.append(_Mention(moment, match.start(), match.end()))
        current_month = month
    return found


def _check_weekday(day: date, note: str, written: str) -> None:
    """A weekday written in parentheses must be the date's own (else the year is wrong)."""
    weekday = _WEEKDAY.search(note)
    if weekday is None:
        return
    said = "日" if weekday.group(1) == "天" else weekday.group(1)
    if _WEEKDAYS.index(said) != day.weekday():
        raise ValueError(f"“{written}”写的是周{said}，但 {day:%Y年%m月%d日} 是周{_WEEKDAYS[day.weekday()]}，"
                         f"请核对年份")


def notice_text_from_upload(filename: str, data: bytes) -> str:
    """The text of an uploaded notice: a .txt (UTF-8 or GB18030) or the paragraphs of a .docx."""
    if len(data) > _MAX_UPLOAD:
        raise InvalidInput("文件超过 2 MB，请只上传通知正文。", {"file": ["文件过大"]})
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "txt":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise InvalidInput("文本文件编码无法识别，请另存为 UTF-8。", {"file": ["编码无法识别"]})
    if suffix == "docx":
        return _docx_text(data)
    raise InvalidInput("请上传 .txt 或 .docx 文件（.doc 请先另存为 .docx）。", {"file": ["文件类型不支持"]})


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_text(data: bytes) -> str:
    """The paragraphs of a Word document, one a line (no formatting is needed to read a notice)."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            xml = archive.read("word/document.xml")
        if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
            raise ValueError("DTD")
        root = ElementTree.fromstring(xml)
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError):
        raise InvalidInput("无法读取该 .docx 文件，请改为粘贴通知正文。", {"file": ["无法读取"]}) from None
    lines = ("".join(t.text or "" for t in p.iter(f"{_W}t")) for p in root.iter(f"{_W}p"))
    return "\n".join(lines)

