"""Grid scoring (网格化监管考核): the petition item per level-3 grid, rolled up to towns.

The rule's parameters are settings (services.settings): the item's full points, the
deduction per above-level petition (越级访) and per repeat above-level petition, and whether
an above-level petition during a campaign zeroes the item. Every deduction names its case.

An above-level petition is a case that came in on an above-level channel (赴京/到省越级访).
Its arrival is the grid's failure to discover, handle or resolve the matter in time, unless
the grid had done all three: the petition repeats a matter that this grid discovered first
(on the potential-problem list, found by the grid before the petition) and whose clocks
were all met when the petition arrived; such a petition is listed with no deduction.

It is a repeat above-level petition (重复越级访) when the same matter already had an earlier
above-level petition: its original came in above level, or another above-level petition
linked to the same original arrived before it.

An irregular petition (非访) is a case registered as one (``irregular_count``). During a
campaign any above-level or irregular petition zeroes the grid's item when the rule is on;
an irregular petition outside a campaign deducts nothing by itself.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Case, CaseClock, Grid
from app.models.vocab import OPEN_STATUSES, Channel
from app.services import clock, day_stats
from app.services.campaign import phases
from app.services.settings import get_setting

OPEN = [str(s) for s in OPEN_STATUSES]
ABOVE_LEVEL = [str(c) for c in Channel.above_level_channels()]


@dataclass
class Deduction:
    """Points taken from a grid for one case."""

    case_id: int
    case_number: str
    grid_id: int
    points: float
    reason: str


@dataclass
class GridScore:
    """A level-3 grid's petition item for a period."""

    grid_id: int
    grid_name: str
    town_id: int
    score: float
    zeroed: bool
    deductions: list[Deduction] = field(default_factory=list)
    zeroed_by: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class GridTotal:
    """A level-3 grid's petition item for a period, without the list of its deductions."""

    grid_id: int
    grid_name: str
    town_id: int
    score: float
    zeroed: bool
    deductions: int


@dataclass
class TownRank:
    """A town's standing: the mean of its villages' scores, and its petition figures."""

    town_id: int
    town_name: str
    score: float
    above_level: int
    overdue: int
    open_cases: int


def above_level_petitions(start: datetime, end: datetime) -> list[Case]:
    """Cases that came in on an above-level channel in [start, end), oldest first."""
    query = select(Case).where(Case.channel.in_(ABOVE_LEVEL), Case.received_at >= start, Case.received_at < end)
    return list(db.session.scalars(query.order_by(Case.received_at, Case.id)))


def irregular_petitions(start: datetime, end: datetime) -> list[Case]:
    """Cases registered as irregular petitions (非访) in [start, end), oldest first."""
    query = select(Case).where(Case.irregular_count > 0, Case.received_at >= start, Case.received_at < end)
    return list(db.session.scalars(query.order_by(Case.received_at, Case.id)))


def _petition_facts(start: datetime, end: datetime) -> Select:
    """SELECT, for every above-level petition in [start, end), what its deduction depends on.

    One statement for all of them (a campaign month at city scale holds thousands): the
    petition, its original matter (channel, arrival, discovering grid), whether another
    above-level petition on that matter came earlier (``had_earlier``), and whether any of
    the original's clocks was due before the petition and missed (``original_late``).
    """
    original, earlier = aliased(Case), aliased(Case)
    had_earlier = exists().where(earlier.repeat_of_id == Case.repeat_of_id, earlier.id != Case.id,
                                 earlier.channel.in_(ABOVE_LEVEL), earlier.received_at < Case.received_at)
    original_late = exists().where(CaseClock.case_id == Case.repeat_of_id, CaseClock.due_at < Case.received_at,
                                   or_(CaseClock.done_at.is_(None), CaseClock.done_at > CaseClock.due_at))
    return (
        select(Case.id, Case.number, Case.grid_id, Case.received_at, original.id.label("original_id"),
               original.channel.label("original_channel"), original.received_at.label("original_received_at"),
               original.discovered_by_grid_id, had_earlier.label("had_earlier"),
               original_late.label("original_late"))
        .outerjoin(original, original.id == Case.repeat_of_id)
        .where(Case.channel.in_(ABOVE_LEVEL), Case.received_at >= start, Case.received_at < end)
        .order_by(Case.received_at, Case.id)
    )


def is_repeat_above_level(facts) -> bool:
    """True when the matter had an above-level petition before this one (a ``_petition_facts`` row)."""
    if facts.original_id is None:
        return False
    if facts.original_channel in ABOVE_LEVEL and facts.original_received_at <= facts.received_at:
        return True
    return bool(facts.had_earlier)


def handled_first_by_grid(facts) -> bool:
    """True when the grid discovered the matter first and had met every clock on it when the
    above-level petition arrived: then the grid did not fail, and nothing is deducted."""
    if facts.original_id is None or facts.discovered_by_grid_id is None:
        return False
    if facts.discovered_by_grid_id != facts.grid_id or facts.original_received_at >= facts.received_at:
        return False
    return not facts.original_late


def _during_campaign(case, spans: list[tuple[datetime, datetime]]) -> bool:
    """True when the case (or a row with its ``received_at``) arrived inside a campaign."""
    return any(s <= case.received_at < e for s, e in spans)


def grid_scores(start: datetime, end: datetime) -> list[GridScore]:
    """Every level-3 grid's item for the period, with its deductions (grid code order)."""
    item = float(get_setting("score_item_points"))
    single = float(get_setting("score_above_level_deduction"))
    repeat = float(get_setting("score_repeat_above_level_deduction"))
    zero_rule = get_setting("score_zero_during_campaign") == 1
    spans = [phases.campaign_period(c) for c in phases.campaigns_in(start, end)]
    grids = db.session.scalars(select(Grid).where(Grid.level == 3).order_by(Grid.code)).all()
    scores = {g.id: GridScore(g.id, g.name, g.parent_id, item, False) for g in grids}
    for facts in db.session.execute(_petition_facts(start, end)):
        score = scores.get(facts.grid_id)
        if score is None:
            continue
        score.deductions.append(_above_level_deduction(facts, single, repeat))
        if zero_rule and _during_campaign(facts, spans):
            score.zeroed = True
            score.zeroed_by.append(facts.id)
    for case in irregular_petitions(start, end):
        score = scores.get(case.grid_id)
        if score is not None and zero_rule and _during_campaign(case, spans) and case.id not in score.zeroed_by:
            score.zeroed = True
            score.zeroed_by.append(case.id)
            reason = "非访（专项行动期间发生，该项清零）"
            score.deductions.append(Deduction(case.id, case.number, case.grid_id, 0.0, reason))
    for score in scores.values():
        lost = sum(d.points for d in score.deductions)
        score.score = 0.0 if score.zeroed else max(0.0, item - lost)
    return list(scores.values())


def _above_level_deduction(facts, single: float, repeat: float) -> Deduction:
    """The deduction one above-level petition (a ``_petition_facts`` row) costs its grid, with the reason."""
    if is_repeat_above_level(facts):
        return Deduction(facts.id, facts.number, facts.grid_id, repeat, "重复越级访")
    if handled_first_by_grid(facts):
        return Deduction(facts.id, facts.number, facts.grid_id, 0.0, "越级访（网格已先行发现并按时处置，不扣分）")
    return Deduction(facts.id, facts.number, facts.grid_id, single, "越级访（未及时发现、处置或化解）")


def _campaign_spans(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The campaigns' days inside [start, end), overlapping campaigns merged."""
    spans = sorted((max(s, start), min(e, end)) for s, e in
                   (phases.campaign_period(c) for c in phases.campaigns_in(start, end)))
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if s >= e:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def grid_totals(start: datetime, end: datetime) -> list[GridTotal]:
    """Every level-3 grid's item for the period (grid code order): ``grid_scores``' scores and
    numbers of deductions, summed from the daily summary (``day_stats``' ``p`` rows) instead
    of read petition by petition."""
    item = float(get_setting("score_item_points"))
    single = float(get_setting("score_above_level_deduction"))
    repeat = float(get_setting("score_repeat_above_level_deduction"))
    zero_rule = get_setting("score_zero_during_campaign") == 1
    spans = _campaign_spans(start, end) if zero_rule else []
    deducting, zeroing = ("single", "repeat_above", "exempt"), ("zeroing", "irregular_only")
    if spans == [(start, end)]:
        # The campaign's own period (the wall's default): its rows read once for both.
        petitions = day_stats.tally("p", start, end, by=("grid_id",), counts=deducting + zeroing)
        during = petitions
    else:
        petitions = day_stats.tally("p", start, end, by=("grid_id",), counts=deducting)
        during = defaultdict(Counter)
        for span_start, span_end in spans:
            for key, counts in day_stats.tally("p", span_start, span_end, by=("grid_id",), counts=zeroing).items():
                during[key].update(counts)
    totals = []
    villages = select(Grid.id, Grid.name, Grid.parent_id).where(Grid.level == 3).order_by(Grid.code)
    for grid in db.session.execute(villages):
        mine, campaign = petitions.get((grid.id,), Counter()), during.get((grid.id,), Counter())
        lost = single * mine["single"] + repeat * mine["repeat_above"]
        zeroed = campaign["zeroing"] > 0
        deductions = mine["single"] + mine["repeat_above"] + mine["exempt"] + campaign["irregular_only"]
        totals.append(GridTotal(grid.id, grid.name, grid.parent_id, 0.0 if zeroed else max(0.0, item - lost),
                                zeroed, deductions))
    return totals


def town_ranking(start: datetime, end: datetime) -> list[TownRank]:
    """Towns, best first: score (mean of villages), then fewer above-level, overdue, open cases.

    Above-level petitions are those received in the period; overdue and open cases those
    received before its end that are open now, overdue by now (or by its end, if past). All
    sums of the daily summary, with the partial days and today's deadlines counted live.
    """
    by_town: dict[int, list[float]] = defaultdict(list)
    for score in grid_totals(start, end):
        by_town[score.town_id].append(score.score)
    now = min(clock.now(), end)
    today = day_stats.day_number(now)
    above = day_stats.tally("t", start, end, by=("town_id",), counts=("above_channel",))
    overdue: Counter = Counter({town: n for (town,), n in
                                day_stats.open_due_today(None, end, now, inclusive=False, by_town=True).items()})
    open_cases: Counter = Counter()
    for town_id, counts in _open_before(end, today).items():
        overdue[town_id] += counts["late"]
        open_cases[town_id] += counts["open"]
    towns = db.session.execute(select(Grid.id, Grid.name, Grid.code).where(Grid.level == 2)).all()
    ranks = [
        TownRank(t.id, t.name, round(sum(by_town[t.id]) / len(by_town[t.id]), 2) if by_town[t.id] else 0.0,
                 above.get((t.id,), Counter())["above_channel"], overdue[t.id], open_cases[t.id])
        for t in towns
    ]
    codes = {t.id: t.code for t in towns}
    return sorted(ranks, key=lambda r: (-r.score, r.above_level, r.overdue, r.open_cases, codes[r.town_id]))


def _open_before(end: datetime, today: int) -> dict[int, Counter]:
    """Open cases received before ``end`` by town: ``open`` in all, ``late`` those due on a day
    before ``today``. When every case came in before ``end`` (a period running to now or
    later), the ``w`` rows per town hold it; else the ``o`` rows of the days before ``end``."""
    latest = db.session.scalar(select(func.max(Case.received_at)))
    if latest is None or latest < end:
        return day_stats.open_by_town(today)
    rows = day_stats.tally("o", None, end, by=("town_id", day_stats.LATE), counts=("open",), today=today)
    found: dict[int, Counter] = defaultdict(Counter)
    for (town_id, late), counts in rows.items():
        found[town_id]["open"] += counts["open"]
        found[town_id]["late"] += counts["open"] if late else 0
    return found


def live_town_ranking(start: datetime, end: datetime) -> list[TownRank]:
    """``town_ranking`` read petition by petition and case by case (the check of the summary)."""
    by_town: dict[int, list[float]] = defaultdict(list)
    for score in grid_scores(start, end):
        by_town[score.town_id].append(score.score)
    now = min(clock.now(), end)
    count = select(Case.town_id, func.count(Case.id))
    above = _count_by_town(count.where(Case.channel.in_(ABOVE_LEVEL), Case.received_at >= start,
                                       Case.received_at < end))
    overdue = _count_by_town(count.where(Case.status.in_(OPEN), Case.due_at < now, Case.received_at < end))
    opened = _count_by_town(count.where(Case.status.in_(OPEN), Case.received_at < end))
    towns = db.session.scalars(select(Grid).where(Grid.level == 2)).all()
    ranks = [
        TownRank(t.id, t.name, round(sum(by_town[t.id]) / len(by_town[t.id]), 2) if by_town[t.id] else 0.0,
                 above.get(t.id, 0), overdue.get(t.id, 0), opened.get(t.id, 0))
        for t in towns
    ]
    codes = {t.id: t.code for t in towns}
    return sorted(ranks, key=lambda r: (-r.score, r.above_level, r.overdue, r.open_cases, codes[r.town_id]))


def _count_by_town(query) -> dict[int, int]:
    """Run a ``SELECT town_id, count`` grouped by town."""
    return {town_id: n for town_id, n in db.session.execute(query.group_by(Case.town_id))}
