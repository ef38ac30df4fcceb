"""Exports (导出): the case ledger (台账) and the town ranking as .xlsx.

A petitioner's name, phone and ID number go into the ledger only when the user's role may
see personal data (Action.VIEW_PERSONAL_DATA) and the user asked for them explicitly.
Every workbook states its period in a line above the headings and in its file name; times
are real date cells in Beijing time, scores real numbers.
"""

from datetime import datetime

from geoalchemy2.shape import to_shape
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Case, User
from app.models.vocab import CaseStatus, Category, Channel, ListKind, Sector
from app.services.access import Action, may, scoped_cases
from app.services.campaign.periods import StatedPeriod
from app.services.campaign.scoring import TownRank
from app.services.clock import BEIJING
from app.services.spreadsheets import DECIMAL, MOMENT, Sheet, workbook

LEDGER_HEADINGS = ["序号", "案件编号", "清单类别", "来源", "问题类别", "行业", "问题标题", "问题描述", "地址",
                   "所属镇（街道）", "所属村（社区）", "承办部门", "包案领导", "受理时间", "办理期限", "办结时间",
                   "办理状态", "越级访次数", "非访次数", "是否重复访", "是否不满意", "督察交办"]
PERSONAL_HEADINGS = ["信访人姓名", "联系电话", "身份证号"]
RANKING_HEADINGS = ["排名", "镇（街道）", "考核得分", "越级访（件）", "超期未办结（件）", "未办结（件）"]


LEDGER_FORMATS = {13: MOMENT, 14: MOMENT, 15: MOMENT}
# What each export is called: the Chinese name users see, and the ASCII one for old clients.
FILE_NAMES = {"ledger": ("案件台账", "ledger", "xlsx"), "ranking": ("镇街排名", "town-ranking", "xlsx"),
              "cases": ("案件点位", "cases", "geojson")}


def _local(moment: datetime | None) -> datetime | None:
    """A moment as Beijing wall-clock time without a zone (a spreadsheet cell has none)."""
    return moment.astimezone(BEIJING).replace(tzinfo=None, second=0, microsecond=0) if moment else None


def file_names(kind: str, period: StatedPeriod) -> tuple[str, str]:
    """(Chinese name, ASCII name) of an export for a period, e.g. 案件台账_2026-09-20至2026-12-31.xlsx."""
    name, ascii_name, extension = FILE_NAMES[kind]
    return f"{name}_{period.file_part}.{extension}", f"{ascii_name}_{period.ascii_file_part}.{extension}"


def may_export_personal(user: User) -> bool:
    """True when the user's role may see petitioners' personal data."""
    return may(user, Action.VIEW_PERSONAL_DATA)


def ledger_rows(user: User, start: datetime, end: datetime, personal: bool) -> list[list]:
    """The ledger's rows: the user's cases received in [start, end), oldest first."""
    query = scoped_cases(user).where(Case.received_at >= start, Case.received_at < end).options(
        selectinload(Case.grid), selectinload(Case.town), selectinload(Case.department),
        selectinload(Case.leading_official))
    rows = []
    for n, case in enumerate(db.session.scalars(query.order_by(Case.received_at, Case.id)), 1):
        row = [n, case.number, ListKind(case.list_kind).label, Channel(case.channel).label,
               Category(case.category).label, Sector(case.sector).label, case.title, case.description, case.address,
               case.town.name if case.town else "", case.grid.name if case.grid else "网格外",
               case.department.name if case.department else "",
               case.leading_official.full_name if case.leading_official else "", _local(case.received_at),
               _local(case.handle_due_at), _local(case.closed_at), CaseStatus(case.status).label,
               case.above_level_count, case.irregular_count, "是" if case.repeat_of_id or case.repeat_count else "否",
               "是" if case.dissatisfied else "否", case.inspection_referral and "是" or "否"]
        if personal:
            row += [case.petitioner_name or "", case.petitioner_phone or "", case.petitioner_id_number or ""]
        rows.append(row)
    return rows


def ledger_xlsx(user: User, period: StatedPeriod, personal: bool = False) -> bytes:
    """The ledger workbook for the period (stated above the headings); personal data only
    when asked for and the role allows it."""
    personal = personal and may_export_personal(user)
    headings = LEDGER_HEADINGS + (PERSONAL_HEADINGS if personal else [])
    rows = ledger_rows(user, period.start, period.end, personal)
    return workbook([Sheet("案件台账", headings, rows, f"案件台账 {period.heading}", LEDGER_FORMATS)])


def ranking_xlsx(ranking: list[TownRank], period: StatedPeriod) -> bytes:
    """The town ranking workbook for the period (no personal data)."""
    rows = [[n, r.town_name, r.score, r.above_level, r.overdue, r.open_cases] for n, r in enumerate(ranking, 1)]
    return workbook([Sheet("镇街排名", RANKING_HEADINGS, rows, f"镇（街道）考核排名 {period.heading}", {2: DECIMAL})])


def cases_geojson(user: User, start: datetime, end: datetime) -> dict:
    """The user's cases received in [start, end) as a GeoJSON FeatureCollection (no personal data)."""
    query = scoped_cases(user).where(Case.received_at >= start, Case.received_at < end, Case.location.isnot(None))
    features = []
    for case in db.session.scalars(query.order_by(Case.received_at, Case.id)):
        point = to_shape(case.location)
        geometry = {"type": "Point", "coordinates": [point.x, point.y]}
        features.append({"type": "Feature", "id": case.id, "geometry": geometry,
                         "properties": {"number": case.number, "title": case.title, "category": case.category,
                                        "status": case.status, "town_id": case.town_id, "grid_id": case.grid_id,
                                        "above_level": case.above_level, "received_at": case.received_at.isoformat()}})
    return {"type": "FeatureCollection", "features": features}
