"""The campaign (专项行动): phases and dates as data, and the towns' required submissions.

Dates are Beijing calendar dates; a submission is late when the Beijing date it arrived
falls after the requirement's due date.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.database import get_or_404
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import Campaign, CampaignPhase, Grid, SubmissionRequirement, TownSubmission, User
from app.models.vocab import Role
from app.services import clock
from app.services.access import require
from app.services.admin import audit
from app.services.cases.attachments import safe_name, sniff
from app.services.clock import beijing_date, day_start
from app.services.read_memo import remembered

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

# The plan's defaults (DOMAIN.md item 5): (code, Chinese name, start month-day, end month-day).
DEFAULT_PHASES = (
    ("self_inspection", "自查自纠", (9, 20), (10, 15)),
    ("tackling", "攻坚化解", (10, 16), (12, 15)),
    ("evaluation", "总结评估", (12, 16), (12, 31)),
)
# What each town submits: (code, Chinese name, due month-day).
DEFAULT_REQUIREMENTS = (
    ("work_plan", "工作方案", (10, 15)),
    ("case_plan_list", "一案一策清单", (10, 15)),
    ("stage_report", "阶段性工作报告", (12, 15)),
)
# A campaign runs for a season of its year (the plan's is about a hundred days). A phase or a
# due date may be moved into the year before or after (a December start, a January report),
# and the campaign as a whole stays within a year: its reports walk it week by week, and a
# campaign stretched over centuries took the weekly reception check 24 s.
MAX_CAMPAIGN_DAYS = 366
PHASE_FIELDS = ("code", "name", "starts_on", "ends_on")
REQUIREMENT_FIELDS = ("code", "name", "due_on")


@dataclass
class PhaseInfo:
    """The phase a campaign is in today, for the wall and the desk."""

    campaign_name: str
    phase_name: str
    starts_on: date
    ends_on: date
    days_left: int


def campaign_period(campaign: Campaign) -> tuple[datetime, datetime]:
    """The campaign as a UTC interval [first day 00:00, day after the last day 00:00)."""
    return day_start(campaign.starts_on), day_start(campaign.ends_on + timedelta(days=1))


def current_campaign(now: datetime) -> Campaign | None:
    """The campaign running on now's Beijing date (the latest-starting one if several)."""
    today = beijing_date(now)
    query = select(Campaign).where(Campaign.starts_on <= today, Campaign.ends_on >= today)
    # Asked by the period, the phase and the scores of one page: once.
    return remembered(("current_campaign", today), lambda: db.session.scalar(
        query.order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1)))


def current_phase(now: datetime) -> PhaseInfo | None:
    """The running campaign's phase today; days_left counts today and the campaign's last day."""
    campaign = current_campaign(now)
    if campaign is None:
        return None
    today = beijing_date(now)
    phase = next((p for p in campaign.phases if p.starts_on <= today <= p.ends_on), None)
    if phase is None:
        return None
    return PhaseInfo(campaign.name, phase.name, phase.starts_on, phase.ends_on, (campaign.ends_on - today).days + 1)


def campaigns_in(start: datetime, end: datetime) -> list[Campaign]:
    """Campaigns overlapping the UTC interval [start, end)."""
    query = select(Campaign).where(Campaign.starts_on <= beijing_date(end), Campaign.ends_on >= beijing_date(start))
    return list(db.session.scalars(query))


def list_campaigns() -> list[Campaign]:
    """Every campaign, newest first."""
    return list(db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())))


def get_campaign(campaign_id: int) -> Campaign:
    """One campaign or NotFound."""
    return get_or_404(Campaign, campaign_id, "专项行动不存在。")


def create_campaign(actor: User, year: int, name: str | None = None) -> Campaign:
    """A campaign for a year with the plan's default phases and submissions (editable after)."""
    require(actor, "manage_campaigns")
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份应在 2000 至 2100 之间。", {"year": ["年份不正确"]})
    if db.session.scalar(select(Campaign.id).where(Campaign.starts_on == date(year, *DEFAULT_PHASES[0][2]))):
        raise Conflict(f"{year} 年的专项行动已经存在，请修改其阶段而不是重复创建。")
    phases = [CampaignPhase(code=c, name=n, starts_on=date(year, *s), ends_on=date(year, *e))
              for c, n, s, e in DEFAULT_PHASES]
    requirements = [SubmissionRequirement(code=c, name=n, due_on=date(year, *d)) for c, n, d in DEFAULT_REQUIREMENTS]
    campaign = Campaign(name=name or f"{year}年环境信访百日攻坚行动", starts_on=phases[0].starts_on,
                        ends_on=phases[-1].ends_on, phases=phases, requirements=requirements)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, "campaign.create", "campaign", campaign.id, None,
                       {"name": campaign.name, "year": year})
    return campaign


def change_phase(actor: User, phase_id: int, **changes) -> CampaignPhase:
    """Change a phase's name or dates (audited); the campaign's span follows its phases."""
    require(actor, "manage_campaigns")
    phase = get_or_404(CampaignPhase, phase_id, "阶段不存在。")
    before = audit.snapshot(phase, PHASE_FIELDS)
    campaign = phase.campaign
    years = _campaign_years(campaign)
    for key in ("name", "starts_on", "ends_on"):
        if changes.get(key) is not None:
            if key != "name" and changes[key].year not in years:
                raise _outside_years(key, years)
            setattr(phase, key, changes[key])
    if phase.ends_on < phase.starts_on:
        raise InvalidInput("阶段结束日期不能早于开始日期。", {"ends_on": ["早于开始日期"]})
    _check_phase_order(campaign, phase)
    campaign.starts_on = min(p.starts_on for p in campaign.phases)
    campaign.ends_on = max(p.ends_on for p in campaign.phases)
    db.session.flush()
    audit.record(actor, "campaign_phase.update", "campaign_phase", phase.id, before,
                       audit.snapshot(phase, PHASE_FIELDS))
    return phase


def change_requirement(actor: User, requirement_id: int, **changes) -> SubmissionRequirement:
    """Change what towns must submit, or its due date (audited)."""
    require(actor, "manage_campaigns")
    requirement = get_or_404(SubmissionRequirement, requirement_id, "报送要求不存在。")
    before = audit.snapshot(requirement, REQUIREMENT_FIELDS)
    years = _campaign_years(requirement.campaign)
    if changes.get("due_on") is not None and changes["due_on"].year not in years:
        raise _outside_years("due_on", years)
    for key in ("name", "due_on"):
        if changes.get(key) is not None:
            setattr(requirement, key, changes[key])
    db.session.flush()
    audit.record(actor, "submission_requirement.update", "submission_requirement", requirement.id, before,
                       audit.snapshot(requirement, REQUIREMENT_FIELDS))
    return requirement


def submit(actor: User, requirement_id: int, town_id: int | None, filename: str, content: bytes,
           note: str = "") -> TownSubmission:
    """A town uploads its document (``document_type``: its kind from its bytes, never the
    sender's word); a new upload replaces one not yet received."""
    requirement = get_or_404(SubmissionRequirement, requirement_id, "报送要求不存在。")
    town_id = _submitting_town(actor, town_id)
    if not content:
        raise InvalidInput("请选择要上传的文件。", {"file": ["文件为空"]})
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput("文件超过 20 MB。", {"file": ["文件过大"]})
    content_type = document_type(filename, content)
    row = db.session.scalar(select(TownSubmission).where(TownSubmission.requirement_id == requirement.id,
                                                         TownSubmission.town_id == town_id))
    if row is not None and row.received_at is not None:
        raise Conflict("指挥部办公室已签收该材料，不能再替换。")
    if row is None:
        row = TownSubmission(requirement_id=requirement.id, town_id=town_id)
        db.session.add(row)
    now = clock.now()
    row.filename, row.content, row.content_type = safe_name(filename), content, content_type[:100]
    row.size_bytes, row.note, row.submitted_at, row.submitted_by_id = len(content), note, now, actor.id
    row.late = beijing_date(now) > requirement.due_on
    db.session.flush()
    return row


# What a town files (a work plan, a list, a report): a document or a scan of one, told by its
# first bytes; the name only tells apart the kinds that share a container (ZIP, OLE).
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IN_ZIP = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
           "ofd": "application/ofd"}
_IN_OLE = {"doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
           "wps": "application/vnd.ms-works", "et": "application/vnd.ms-excel"}
DOCUMENT_TYPES = "PDF、Word、Excel、PowerPoint、WPS、OFD 或图片（JPEG、PNG）"


def document_type(filename: str, content: bytes) -> str:
    """The content type of a filed document, or InvalidInput for anything else (a program, a
    script, an archive): the command office opens these files."""
    extension = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if content.startswith(_ZIP) and extension in _IN_ZIP:
        return _IN_ZIP[extension]
    if content.startswith(_OLE) and extension in _IN_OLE:
        return _IN_OLE[extension]
    try:
        return sniff(content)[0]
    except InvalidInput:
        message = f"报送材料只接受 {DOCUMENT_TYPES}文件。"
        raise InvalidInput(message, {"file": ["文件类型不支持"]}) from None


def _submitting_town(actor: User, town_id: int | None) -> int:
    """A supervisor submits for their own town; the command office may file for any town."""
    require(actor, "submit_documents", "只有镇（街道）和指挥部办公室可以报送材料。")
    if actor.role == Role.SUPERVISOR:
        if town_id not in (None, actor.grid_id):
            raise Forbidden("只能报送本镇（街道）的材料。")
        town_id = actor.grid_id
    town = db.session.get(Grid, town_id) if town_id is not None else None
    if town is None or town.level != 2:
        raise InvalidInput("请选择报送材料的镇（街道）。", {"town_id": ["不是镇（街道）"]})
    return town.id


def mark_received(actor: User, submission_id: int) -> TownSubmission:
    """The command office marks a submission received (签收)."""
    require(actor, "receive_documents")
    row = get_or_404(TownSubmission, submission_id, "报送材料不存在。")
    if row.received_at is not None:
        raise Conflict("该材料已签收。")
    row.received_at, row.received_by_id = clock.now(), actor.id
    db.session.flush()
    return row


def get_submission(actor: User, submission_id: int) -> TownSubmission:
    """A submission its town or the command office may read."""
    row = db.session.get(TownSubmission, submission_id)
    if row is None or not _may_see_town(actor, row.town_id):
        raise NotFound("报送材料不存在。")
    return row


def _may_see_town(actor: User, town_id: int) -> bool:
    """The command office and admin see every town; a supervisor only their own."""
    return actor.role in (Role.COMMAND_OFFICE, Role.ADMIN) or (
        actor.role == Role.SUPERVISOR and actor.grid_id == town_id)


def submission_board(actor: User, campaign: Campaign, now: datetime) -> list[dict]:
    """Per town and requirement: submitted when, late or not, received or not, overdue if missing."""
    towns = db.session.scalars(select(Grid).where(Grid.level == 2).order_by(Grid.code)).all()
    rows = {(s.requirement_id, s.town_id): s for s in db.session.scalars(
        select(TownSubmission).join(SubmissionRequirement).where(SubmissionRequirement.campaign_id == campaign.id))}
    today = beijing_date(now)
    board = []
    for town in towns:
        if not _may_see_town(actor, town.id):
            continue
        for requirement in campaign.requirements:
            row = rows.get((requirement.id, town.id))
            board.append({
                "town_id": town.id, "town_name": town.name, "requirement_id": requirement.id,
                "requirement_name": requirement.name, "due_on": requirement.due_on,
                "submission_id": row.id if row else None, "filename": row.filename if row else None,
                "submitted_at": row.submitted_at if row else None, "received_at": row.received_at if row else None,
                "late": row.late if row else today > requirement.due_on,
                "missing": row is None,
            })
    return board


def _campaign_years(campaign: Campaign) -> range:
    """The years a campaign's dates may fall in: the year it ends in as stored, and the years
    either side (read before a change, so one edit cannot carry the campaign far away)."""
    year = campaign.ends_on.year
    return range(year - 1, year + 2)


def _outside_years(key: str, years: range) -> InvalidInput:
    """422 for a date outside the campaign's years, naming the field."""
    message = f"日期应在 {years[0]} 至 {years[-1]} 年之间（专项行动所在年份及前后一年）。"
    return InvalidInput(message, {key: [message]})


def _check_phase_order(campaign: Campaign, changed: CampaignPhase) -> None:
    """The phases follow one another in the plan's order (自查自纠 → 攻坚化解 → 总结评估, i.e. the
    order they were created in) without overlapping, and the campaign lasts at most a year.

    Raises InvalidInput (422) under the changed phase's date that breaks the order.
    """
    phases = sorted(campaign.phases, key=lambda p: p.id)
    for earlier, later in zip(phases, phases[1:], strict=False):
        if later.starts_on <= earlier.ends_on:
            message = f"阶段不能重叠或颠倒：「{later.name}」须在「{earlier.name}」结束（{earlier.ends_on}）之后开始。"
            raise InvalidInput(message, {"ends_on" if changed is earlier else "starts_on": [message]})
    span = (phases[-1].ends_on - phases[0].starts_on).days + 1
    if span > MAX_CAMPAIGN_DAYS:
        message = f"专项行动从第一阶段开始到最后阶段结束不能超过 {MAX_CAMPAIGN_DAYS} 天（现为 {span} 天）。"
        raise InvalidInput(message, {"ends_on": [message]})
