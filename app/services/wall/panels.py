"""The wall's side panels: sums of the daily summary (``day_stats``) for the whole city, SQL
aggregates over the cases for a narrower scope (no per-case Python either way).

The campaign phase comes from ``campaign.phases`` (none outside a campaign: the wall reads
"未配置攻坚行动") and the town ranking from ``campaign.scoring``, the assessment's own rules.
Every panel covers one period, the same as the campaign pages' (``campaign.periods``: the
running campaign, else the last 30 days, or the dates picked on the wall), and says so:
the cases received in it, their state now, and how many came in so far against the same
dates a year earlier.
"""

from datetime import UTC, datetime

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.sql.elements import True_

from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, FollowUp, User
from app.models.types import UTCDateTime
from app.models.vocab import OPEN_STATUSES, CaseStatus, Category, Satisfaction
from app.services import day_stats
from app.services.access import case_scope
from app.services.campaign import phases, scoring
from app.services.campaign.periods import StatedPeriod, describe, stated_period, year_before
from app.services.cases import long_unresolved
from app.services.cases.long_unresolved import listed_clause

_OPEN = sorted(str(s) for s in OPEN_STATUSES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TOP_CATEGORIES = 5
# What the progress panel reads from the summary's ``r`` rows.
_PANEL_COUNTS = ("total", "open", "closed", "above_channel", "repeat", "signed", "signed_on_time", "onsite",
                 "onsite_on_time", "first_time", "rated", "satisfied")


def _count(condition) -> object:
    """SUM(1 when condition) as an integer-valued SQL aggregate."""
    return func.sum(case((condition, 1), else_=0))


def _rate(done: int, total: int) -> float | None:
    """A share rounded to 0.1 %, or None when there is nothing to measure."""
    return round(100.0 * done / total, 1) if total else None


def wall_period(filters: dict) -> StatedPeriod:
    """The wall's period: its received-date filter when set (either end may default), else the
    common default period."""
    default = stated_period(None, None)
    start, end = filters.get("received_from"), filters.get("received_to")
    if start is None and end is None:
        return default
    start, end = start or default.start, end or default.end
    if end <= start:
        raise InvalidInput("统计期间无效：截止日期应晚于起始日期。", {"received_to": ["应晚于起始日期"]})
    return describe(start, end)


def _received_in(start: datetime, end: datetime):
    """Cases received in [start, end)."""
    return and_(Case.received_at >= start, Case.received_at < end)


def progress_counts(user: User, now: datetime, period: StatedPeriod) -> dict:
    """For the cases received in the period: how many (and as many days last year), open vs
    closed, overdue now, above-level petitions, repeat and on-time rates.

    ``above_level`` counts the petitions that came in on an above-level channel, as the town
    ranking and the assessment do (``scoring.above_level_petitions``), so the headline is the
    sum of the ranking's column; the map's 越级 mark is a matter's (``Case.above_level``).

    The city-wide figures (the wall's, whose users see every case) are sums of the daily
    summary (``day_stats``); a narrower scope counts its own cases (``live_progress_counts``).
    """
    if not _whole_city(user):
        return live_progress_counts(user, now, period)
    so_far = min(now, period.end)
    last_start, last_end = year_before(period.start, so_far)
    this = day_stats.tally("r", period.start, period.end, counts=_PANEL_COUNTS)[()]
    last = day_stats.tally("r", last_start, last_end, counts=("total",))[()]
    today = day_stats.day_number(now)
    overdue = day_stats.tally("o", period.start, period.end, counts=("open",), due_before=today)[()]["open"]
    overdue += day_stats.open_due_today(period.start, period.end, now, inclusive=True).get((), 0)
    counts = {"this_period": this["total"], "last_period": last["total"],
              "open": this["open"], "closed": this["closed"], "overdue": overdue}
    counts |= {name: this[name] for name in ("repeat", "signed", "signed_on_time", "onsite", "onsite_on_time",
                                              "first_time")}
    counts["above_level"] = this["above_channel"]
    counts |= late_undone(user, now, period)
    counts["long_unresolved"] = long_unresolved.listed_count(now)
    counts["rates"] = _rates(counts, _rate(this["satisfied"], this["rated"]))
    return counts


def _whole_city(user: User) -> bool:
    """True when the user's scope is every case (the command office, administrators)."""
    return isinstance(case_scope(user), True_)


# A step still waiting past its deadline: (the count's name, its deadline, the moment it is done).
_WAITING = (("unsigned_late", Case.sign_due_at, Case.signed_at),
            ("unchecked_late", Case.onsite_due_at, Case.first_onsite_at))


def late_undone(user: User, now: datetime, period: StatedPeriod) -> dict[str, int]:
    """The period's cases still not signed (``unsigned_late``) or not checked on site
    (``unchecked_late``) after their deadline: late all the same, as the campaign pages count
    them (``campaign.first_line``). A state of now, read from the cases through partial
    indexes that hold only the cases still waiting (migration 0026)."""
    moment = literal(now, UTCDateTime())
    # Every deadline is after 1970: a lower bound that holds for all lets SQLite, which keeps
    # no statistics, see the range on the small partial index as narrow as the one on arrival.
    return {name: int(db.session.scalar(
        select(func.count()).select_from(Case).where(
            done.is_(None), due < moment, due > _EPOCH, _received_in(period.start, period.end),
            case_scope(user))) or 0)
        for name, due, done in _WAITING}


def _rates(counts: dict, satisfaction: float | None) -> dict:
    """The panel's shares, from its counts: a step done in time among those done or overdue."""
    return {
        "sign_on_time": _rate(counts["signed_on_time"], counts["signed"] + counts["unsigned_late"]),
        "onsite_on_time": _rate(counts["onsite_on_time"], counts["onsite"] + counts["unchecked_late"]),
        "first_time_resolution": _rate(counts["first_time"], counts["closed"]),
        "satisfaction": satisfaction,
    }


def live_progress_counts(user: User, now: datetime, period: StatedPeriod) -> dict:
    """``progress_counts`` read from the cases in the user's scope, in one scan (the check of the summary)."""
    so_far = min(now, period.end)
    last_start, last_end = year_before(period.start, so_far)
    moment = literal(now, UTCDateTime())
    opened = Case.status.in_(_OPEN)
    inside = _received_in(period.start, period.end)

    def count(condition=None):
        return _count(inside if condition is None else and_(inside, condition))

    row = db.session.execute(
        select(
            count().label("this_period"),
            _count(_received_in(last_start, last_end)).label("last_period"),
            count(opened).label("open"),
            count(Case.status == CaseStatus.CLOSED).label("closed"),
            count(and_(opened, Case.due_at <= moment)).label("overdue"),
            count(Case.channel.in_(scoring.ABOVE_LEVEL)).label("above_level"),
            count(Case.repeat_of_id.isnot(None)).label("repeat"),
            count(Case.signed_at.isnot(None) & Case.sign_due_at.isnot(None)).label("signed"),
            count(Case.signed_at <= Case.sign_due_at).label("signed_on_time"),
            count(Case.first_onsite_at.isnot(None) & Case.onsite_due_at.isnot(None)).label("onsite"),
            count(Case.first_onsite_at <= Case.onsite_due_at).label("onsite_on_time"),
            *(count(and_(done.is_(None), due < moment)).label(name) for name, due, done in _WAITING),
            count(and_(Case.status == CaseStatus.CLOSED, Case.reopened_count == 0,
                       Case.repeat_count == 0)).label("first_time"),
        ).where(case_scope(user), inside | _received_in(last_start, last_end))
    ).one()
    counts = {key: int(value or 0) for key, value in row._mapping.items()}
    # The backlog (久拖不解) is a state of now, whenever its cases came in: not bound to the period.
    counts["long_unresolved"] = db.session.scalar(
        select(func.count()).select_from(Case).where(case_scope(user), listed_clause(now)))
    counts["rates"] = _rates(counts, satisfaction_rate(user, period))
    return counts


def satisfaction_rate(user: User, period: StatedPeriod) -> float | None:
    """Satisfied or basically satisfied among rated follow-ups of the period's cases, in scope."""
    content = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)
    row = db.session.execute(
        select(func.count(FollowUp.id), _count(FollowUp.satisfaction.in_([str(s) for s in content])))
        .join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.satisfaction.isnot(None), case_scope(user), _received_in(period.start, period.end))
    ).one()
    return _rate(int(row[1] or 0), int(row[0] or 0))


def top_categories(user: User, period: StatedPeriod) -> list[dict]:
    """The most frequent pollution types of the period (ties in category order)."""
    if _whole_city(user):
        tallied = day_stats.tally("c", period.start, period.end, by=("category",), counts=("total",))
        counts = [(category, c["total"]) for (category,), c in tallied.items() if c["total"]]
    else:
        counts = list(db.session.execute(
            select(Case.category, func.count()).where(_received_in(period.start, period.end), case_scope(user))
            .group_by(Case.category)))
    top = sorted(counts, key=lambda item: (-item[1], item[0]))[:TOP_CATEGORIES]
    return [{"category": category, "label": Category(category).label, "count": n} for category, n in top]


def town_ranking(period: StatedPeriod) -> list[dict]:
    """The towns, best first, as the assessment (``scoring.town_ranking``) ranks them for the period."""
    return [{"town_id": r.town_id, "town_name": r.town_name, "score": r.score, "above_level": r.above_level,
             "overdue": r.overdue, "open_cases": r.open_cases}
            for r in scoring.town_ranking(period.start, period.end)]


def campaign_phase(now: datetime) -> dict | None:
    """The current campaign phase, or None outside a campaign."""
    phase = phases.current_phase(now)
    if phase is None:
        return None
    return {"campaign_name": phase.campaign_name, "phase_name": phase.phase_name,
            "starts_on": phase.starts_on.isoformat(), "ends_on": phase.ends_on.isoformat(),
            "days_left": phase.days_left}


def wall_panels(user: User, now: datetime, filters: dict) -> dict:
    """Everything the side panels show for the period, as one JSON document."""
    period = wall_period(filters)
    return {
        "as_of": now.isoformat(),
        "period": period.as_json(),
        "phase": campaign_phase(now),
        "counts": progress_counts(user, now, period),
        "top_categories": top_categories(user, period),
        "towns": town_ranking(period),
    }
