"""The wall's side panels, each a SQL aggregate over the case table (no per-case Python).

The campaign phase comes from ``campaign.phases`` (none outside a campaign: the wall reads
"未配置攻坚行动") and the town ranking from ``campaign.scoring``, the assessment's own rules.
The period compared is the running campaign so far (or, with none, the year to date) against
the same dates last year.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, literal, select

from app.extensions import db
from app.models import Case, FollowUp, User
from app.models.types import UTCDateTime
from app.models.vocab import OPEN_STATUSES, CaseStatus, Category, Satisfaction
from app.services.access import case_scope
from app.services.campaign import phases, scoring
from app.services.cases.long_unresolved import listed_clause

_OPEN = sorted(str(s) for s in OPEN_STATUSES)
TOP_CATEGORIES = 5


def _count(condition) -> object:
    """SUM(1 when condition) as an integer-valued SQL aggregate."""
    return func.sum(case((condition, 1), else_=0))


def _rate(done: int, total: int) -> float | None:
    """A share rounded to 0.1 %, or None when there is nothing to measure."""
    return round(100.0 * done / total, 1) if total else None


def period_bounds(now: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    """(start, now) of the running campaign, or of the year to date, and the same dates last year."""
    start = _campaign_start(now)
    if start is None:
        local = now.astimezone(ZoneInfo(current_app.config["TIME_ZONE"]))
        start = datetime.combine(local.date().replace(month=1, day=1), time(), local.tzinfo)
    return start, now, _year_before(start), _year_before(now)


def _year_before(moment: datetime) -> datetime:
    """The same moment a year earlier (29 February becomes the 28th)."""
    day = 28 if (moment.month, moment.day) == (2, 29) else moment.day
    return moment.replace(year=moment.year - 1, day=day)


def _campaign_start(now: datetime) -> datetime | None:
    """When the running campaign began, or None outside a campaign."""
    campaign = phases.current_campaign(now)
    return phases.campaign_period(campaign)[0] if campaign else None


def progress_counts(user: User, now: datetime) -> dict:
    """Totals, open vs closed, overdue, above-level, repeat and on-time rates in one scan."""
    start, _, last_start, last_now = period_bounds(now)
    moment = literal(now, UTCDateTime())
    opened = Case.status.in_(_OPEN)
    row = db.session.execute(
        select(
            _count(Case.received_at >= start).label("this_period"),
            _count(and_(Case.received_at >= last_start, Case.received_at < last_now)).label("last_period"),
            _count(opened).label("open"),
            _count(Case.status == CaseStatus.CLOSED).label("closed"),
            _count(and_(opened, Case.due_at <= moment)).label("overdue"),
            _count(Case.above_level.is_(True)).label("above_level"),
            _count(Case.repeat_of_id.isnot(None)).label("repeat"),
            _count(Case.signed_at.isnot(None) & Case.sign_due_at.isnot(None)).label("signed"),
            _count(Case.signed_at <= Case.sign_due_at).label("signed_on_time"),
            _count(Case.first_onsite_at.isnot(None) & Case.onsite_due_at.isnot(None)).label("onsite"),
            _count(Case.first_onsite_at <= Case.onsite_due_at).label("onsite_on_time"),
            _count(and_(Case.status == CaseStatus.CLOSED, Case.reopened_count == 0,
                        Case.repeat_count == 0)).label("first_time"),
            _count(listed_clause(now)).label("long_unresolved"),
        ).where(case_scope(user))
    ).one()
    counts = {key: int(value or 0) for key, value in row._mapping.items()}
    counts["rates"] = {
        "sign_on_time": _rate(counts["signed_on_time"], counts["signed"]),
        "onsite_on_time": _rate(counts["onsite_on_time"], counts["onsite"]),
        "first_time_resolution": _rate(counts["first_time"], counts["closed"]),
        "satisfaction": satisfaction_rate(user),
    }
    return counts


def satisfaction_rate(user: User) -> float | None:
    """Satisfied or basically satisfied among follow-ups with a rating, in scope."""
    content = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)
    row = db.session.execute(
        select(func.count(FollowUp.id), _count(FollowUp.satisfaction.in_([str(s) for s in content])))
        .join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.satisfaction.isnot(None), case_scope(user))
    ).one()
    return _rate(int(row[1] or 0), int(row[0] or 0))


def top_categories(user: User, since: datetime) -> list[dict]:
    """The most frequent pollution types this period."""
    rows = db.session.execute(
        select(Case.category, func.count().label("n"))
        .where(Case.received_at >= since, case_scope(user))
        .group_by(Case.category)
        .order_by(func.count().desc())
        .limit(TOP_CATEGORIES)
    ).all()
    return [{"category": r.category, "label": Category(r.category).label, "count": r.n} for r in rows]


def town_ranking(now: datetime) -> list[dict]:
    """The towns, best first, as the assessment (``scoring.town_ranking``) ranks them this period."""
    start, *_ = period_bounds(now)
    return [{"town_id": r.town_id, "town_name": r.town_name, "score": r.score, "above_level": r.above_level,
             "overdue": r.overdue, "open_cases": r.open_cases} for r in scoring.town_ranking(start, now)]


def campaign_phase(now: datetime) -> dict | None:
    """The current campaign phase, or None outside a campaign."""
    phase = phases.current_phase(now)
    if phase is None:
        return None
    return {"campaign_name": phase.campaign_name, "phase_name": phase.phase_name,
            "starts_on": phase.starts_on.isoformat(), "ends_on": phase.ends_on.isoformat(),
            "days_left": phase.days_left}


def wall_panels(user: User, now: datetime) -> dict:
    """Everything the side panels show, as one JSON document."""
    start, *_ = period_bounds(now)
    return {
        "as_of": now.isoformat(),
        "period_start": start.isoformat(),
        "period_kind": "year" if _campaign_start(now) is None else "campaign",
        "phase": campaign_phase(now),
        "counts": progress_counts(user, now),
        "top_categories": top_categories(user, start),
        "towns": town_ranking(now),
    }
