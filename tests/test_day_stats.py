"""The daily summary (day_stats) gives exactly what the cases give, after any writes.

Random sequences of writes (seeded, so a failure repeats) go through the app: intake over
the API (every channel, repeats, irregular petitions, arrival times on and off Beijing
midnights), lifecycle steps up to closing, dissatisfied follow-ups and reopening, repeats
linked after registration, and direct ORM changes of the columns the figures read (clocks of
originals, deadlines around today, counters). After each round the panels, the village
scores and the town ranking read from the summary are compared with the same figures read
from the cases, for random periods (whole days, and ends at any minute) and moments; the
rows the writes inserted sum to what a rebuild gives, before and after the worker folds them.
"""

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, CaseClock, DayStat, Grid, Inspection, Photo
from app.models.day_stats import COUNTS
from app.models.vocab import CaseStatus, PhotoStatus, Stage
from app.services import clock, day_stats
from app.services.campaign import scoring
from app.services.campaign.periods import describe
from app.services.campaign.phases import create_campaign
from app.services.cases import long_unresolved
from app.services.cases.long_unresolved import listed_clause
from app.services.settings import set_setting
from app.services.wall import panels
from tests.factories import VILLAGE_BOXES
from tests.helpers import REPLY, Desk, plan_date

CHANNELS = ["letter", "visit", "phone_12369", "above_level_beijing", "above_level_province"]
CATEGORIES = ["air", "noise", "water", "solid_waste"]
SATISFACTION = ["satisfied", "basically_satisfied", "dissatisfied"]


def beijing_midnight(moment: datetime) -> datetime:
    """00:00 Beijing time of the day ``moment`` falls on."""
    return day_stats.day_start(day_stats.day_number(moment))


def random_moment(rng: random.Random, now: datetime, days: int) -> datetime:
    """A moment in the last ``days`` days: a third of them exactly on a Beijing midnight."""
    moment = now - timedelta(minutes=rng.randrange(1, days * 24 * 60))
    return beijing_midnight(moment) if rng.random() < 0.33 else moment


class Writer:
    """Random writes through the API (as the desk would) and the ORM (what the API cannot reach quickly)."""

    def __init__(self, app, city, rng: random.Random):
        self.desk, self.city, self.rng = Desk(app), city, rng
        self.done: Counter = Counter()

    def note(self, action: str, response) -> None:
        """Count the writes the app accepted."""
        if response.status_code < 300:
            self.done[action] += 1

    def case_ids(self) -> list[int]:
        """Every case's id."""
        return list(db.session.scalars(select(Case.id).order_by(Case.id)))

    def register(self) -> None:
        """Intake of a petition: any channel, maybe irregular or repeating an earlier case."""
        rng, now = self.rng, clock.now()
        west, south, east, north = VILLAGE_BOXES[rng.choice(list(VILLAGE_BOXES))]
        payload = {"channel": rng.choice(CHANNELS), "category": rng.choice(CATEGORIES), "sector": "industrial",
                   "title": "随机案件", "anonymous": True, "lon": rng.uniform(west + 1e-4, east - 1e-4),
                   "lat": rng.uniform(south + 1e-4, north - 1e-4),
                   "received_at": random_moment(rng, now, 400).isoformat(), "irregular": rng.random() < 0.15}
        if rng.random() < 0.35:
            payload["repeat_of_id"] = rng.choice(self.case_ids())
        self.note("register", self.desk.post("command", "/api/v1/cases", payload))

    def step(self) -> None:
        """The next lifecycle step of a random case, as its town's supervisor (refusals change nothing)."""
        case = db.session.get(Case, self.rng.choice(self.case_ids()))
        town = db.session.get(Grid, case.town_id).code if case.town_id else "T1"
        supervisor, case_id, status = f"sup_{town}", case.id, case.status
        db.session.commit()
        steps = {
            CaseStatus.REGISTERED: ("accept", {"legal_track": "petition", "notice_text": "已受理。"}),
            CaseStatus.ACCEPTED: ("assign", {}),
            CaseStatus.ASSIGNED: ("sign", {}),
            CaseStatus.SIGNED: ("plan", {"measures": "限期整改", "responsible_name": "王五",
                                         "target_date": plan_date()}),
            CaseStatus.HANDLING: ("reply", REPLY),
            CaseStatus.REPLIED: ("review_pass", {"note": "答复规范"}),
            CaseStatus.REVIEWED: ("follow_up", {"satisfaction": self.rng.choice(SATISFACTION), "note": "电话回访"}),
            CaseStatus.FOLLOWED_UP: ("close", {"note": "销号"}),
            CaseStatus.CLOSED: ("reopen", {"note": "群众仍不满意"}),
        }
        if status == CaseStatus.SIGNED:
            self.desk.post(supervisor, f"/api/v1/cases/{case_id}/actions/record_onsite",
                           {"notes": "现场核查", "findings": {"source_found": True}})
            self.photo(case_id, self.city.users[supervisor].id)
        if status in steps:
            name, payload = steps[status]
            actor = "command" if name == "review_pass" else supervisor  # nobody passes their own reply
            self.note(name, self.desk.post(actor, f"/api/v1/cases/{case_id}/actions/{name}", payload))

    def handled_first(self) -> None:
        """A case the grid found itself, then petitioned above level from the same place (maybe exempt)."""
        rng, now = self.rng, clock.now()
        original = db.session.get(Case, rng.choice(self.case_ids()))
        original.discovered_by_grid_id, original.list_kind = original.grid_id, "potential"
        lon, lat = db.session.execute(select(func.ST_X(Case.location), func.ST_Y(Case.location))
                                      .where(Case.id == original.id)).one()
        received = min(now, original.received_at + timedelta(minutes=rng.randrange(1, 120)))
        payload = {"channel": rng.choice(CHANNELS[3:]), "category": original.category, "sector": "industrial",
                   "title": "越级访", "anonymous": True, "lon": lon, "lat": lat, "repeat_of_id": original.id,
                   "received_at": received.isoformat()}
        db.session.commit()
        self.note("register", self.desk.post("command", "/api/v1/cases", payload))

    @staticmethod
    def photo(case_id: int, inspector_id: int) -> None:
        """The on-site check's photo the phone would have sent (销号 needs one)."""
        case = db.session.get(Case, case_id)
        inspection = Inspection(id=uuid.uuid4(), case_id=case_id, inspector_id=inspector_id, grid_id=case.grid_id,
                                notes="现场核查", content_sha256="0" * 64, captured_at=clock.now())
        db.session.add(inspection)
        db.session.add(Photo(id=uuid.uuid4(), inspection=inspection, status=PhotoStatus.RECEIVED, sha256="1" * 64))
        db.session.commit()

    def link(self) -> None:
        """Mark an open case as repeating an earlier one of its town after registration."""
        case = db.session.get(Case, self.rng.choice(self.case_ids()))
        town = db.session.get(Grid, case.town_id).code if case.town_id else "T1"
        originals = list(db.session.scalars(select(Case.id).where(Case.town_id == case.town_id, Case.id != case.id)))
        case_id = case.id
        db.session.commit()
        if originals:
            self.note("link_repeat", self.desk.post(f"sup_{town}", f"/api/v1/cases/{case_id}/actions/link_repeat",
                                                    {"repeat_of_id": self.rng.choice(originals)}))

    def tweak(self) -> None:
        """Change the columns the figures read directly: deadlines around now, clocks, counters, grids."""
        rng, now = self.rng, clock.now()
        case = db.session.get(Case, rng.choice(self.case_ids()))
        choice = rng.randrange(6)
        if choice == 0:
            case.due_at = now + timedelta(minutes=rng.randrange(-3000, 3000))
        elif choice == 1:
            case.handle_due_at = random_moment(rng, now, 60)
            case.replied_at = None if rng.random() < 0.7 else now
        elif choice == 2:
            case.reopened_count, case.above_level_count = rng.randrange(3), rng.randrange(4)
        elif choice == 3:
            case.discovered_by_grid_id = rng.choice([case.grid_id, None])
            case.list_kind = "potential"
        elif choice == 4:
            stage = rng.choice([Stage.SIGN, Stage.ONSITE, Stage.HANDLE])
            clock_row = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id,
                                                                  CaseClock.stage == stage))
            if clock_row is None:
                clock_row = CaseClock(case_id=case.id, stage=stage, started_at=case.received_at)
                db.session.add(clock_row)
            clock_row.due_at = random_moment(rng, now, 400)
            clock_row.done_at = None if rng.random() < 0.5 else clock_row.due_at + timedelta(hours=rng.randrange(-5, 5))
        else:
            # Signed or checked on site in time, late, or not yet though due (the wall's on-time rates).
            case.signed_at, case.sign_due_at = now - timedelta(hours=rng.randrange(9)), now - timedelta(hours=4)
            case.first_onsite_at, case.onsite_due_at = now - timedelta(hours=rng.randrange(9)), None
            if case.id % 3 == 0:  # (not from rng: the other writes' draws stay as they were)
                case.signed_at, case.first_onsite_at = None, None
                case.onsite_due_at = now + timedelta(hours=case.id % 96 - 48)
        db.session.commit()

    def write(self, count: int) -> None:
        """``count`` random writes."""
        actions = [self.register] * 4 + [self.step] * 9 + [self.link, self.handled_first, self.tweak, self.tweak]
        for _ in range(count):
            self.rng.choice(actions)()
            db.session.rollback()


def stored_sums() -> dict:
    """The summary's rows summed per key, keys with nothing left out."""
    rows = db.session.execute(select(*(getattr(DayStat, k) for k in day_stats.KEYS),
                                     *(func.sum(getattr(DayStat, c)) for c in COUNTS))
                              .group_by(*(getattr(DayStat, k) for k in day_stats.KEYS))).all()
    return {tuple(r[:len(day_stats.KEYS)]): tuple(int(v) for v in r[len(day_stats.KEYS):])
            for r in rows if any(r[len(day_stats.KEYS):])}


def assert_rows_equal_a_rebuild() -> None:
    """The rows the writes left (folded or not) sum, key by key, to a recomputation."""
    kept = stored_sums()
    day_stats.rebuild_day_stats()
    assert kept == stored_sums()
    db.session.rollback()


def random_periods(rng: random.Random, now: datetime, count: int) -> list:
    """Periods of one to 200 days ending anywhere from a year ago to a month ahead, whole days or not."""
    periods = []
    for _ in range(count):
        end = now + timedelta(minutes=rng.randrange(-365 * 1440, 30 * 1440))
        end = beijing_midnight(end) if rng.random() < 0.5 else end
        start = end - timedelta(minutes=rng.randrange(60, 200 * 1440))
        start = beijing_midnight(start) if rng.random() < 0.5 else start
        periods.append(describe(start, end))
    return periods


def live_categories(period) -> list[tuple[str, int]]:
    """The top categories counted from the cases (ties in category order)."""
    rows = db.session.execute(select(Case.category, func.count()).where(
        Case.received_at >= period.start, Case.received_at < period.end).group_by(Case.category)).all()
    return sorted(((c, n) for c, n in rows), key=lambda item: (-item[1], item[0]))[:panels.TOP_CATEGORIES]


def assert_figures_match(city, rng: random.Random) -> None:
    """Panels, listed count, village scores and ranking: summary equals the cases, at random moments."""
    user = city.users["command"]
    for offset in (timedelta(0), timedelta(minutes=rng.randrange(1, 3000)), -timedelta(minutes=rng.randrange(1, 3000))):
        # The clock stands still while both ways are read (a deadline could pass in between).
        with clock.travel(offset), mock.patch.object(clock, "now", return_value=clock.now()):
            now = clock.now()
            for period in random_periods(rng, now, 4):
                assert panels.progress_counts(user, now, period) == panels.live_progress_counts(user, now, period)
                assert [(c["category"], c["count"]) for c in panels.top_categories(user, period)] == \
                    live_categories(period)
                live = {(s.grid_id, s.score, s.zeroed, len(s.deductions))
                        for s in scoring.grid_scores(period.start, period.end)}
                assert {(s.grid_id, s.score, s.zeroed, s.deductions)
                        for s in scoring.grid_totals(period.start, period.end)} == live
                assert scoring.town_ranking(period.start, period.end) == \
                    scoring.live_town_ranking(period.start, period.end)
            listed = db.session.scalar(select(func.count(Case.id)).where(listed_clause(now)))
            assert long_unresolved.listed_count(now) == listed


@pytest.fixture
def campaigns(city):
    """Last year's campaign and this year's, running now: petitions in them zero grids."""
    for year in (2025, 2026):
        create_campaign(city.users["command"], year)
    db.session.commit()
    return city


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_summary_equals_the_cases_after_random_writes(app, campaigns, seed):
    city = campaigns
    rng = random.Random(seed)
    writer = Writer(app, city, rng)
    for round_number in range(3):
        writer.write(25)
        assert_figures_match(city, rng)
        assert_rows_equal_a_rebuild()
        if round_number % 2 == 0:
            day_stats.fold()
            db.session.commit()
            assert db.session.scalar(select(func.count()).where(DayStat.delta.is_(True))) == 0
            assert_figures_match(city, rng)
    assert min(writer.done[a] for a in ("register", "accept", "assign", "sign", "plan", "reply", "follow_up")) > 0
    assert writer.done["register"] >= 10 and writer.done["link_repeat"] > 0
    repeats = db.session.scalar(select(func.count()).where(Case.repeat_of_id.isnot(None),
                                                           Case.channel.in_(day_stats.ABOVE_LEVEL)))
    assert repeats > 0


def test_folding_changes_no_sum(app, city):
    writer = Writer(app, city, random.Random(7))
    writer.write(30)
    before = stored_sums()
    rows = db.session.scalar(select(func.count(DayStat.id)))
    assert day_stats.fold() > 0
    db.session.commit()
    assert stored_sums() == before
    assert db.session.scalar(select(func.count(DayStat.id))) < rows


def test_a_rolled_back_write_leaves_the_summary_alone(app, city):
    before = stored_sums()
    case = city.cases["V11"]
    case.status = CaseStatus.CLOSED
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert stored_sums() == before


def test_counts_of_today_read_from_either_end_of_the_day(app, campaigns):
    """Overdue today comes from today's hour rows and the current hour, newly listed from
    midnight in the morning and from the rest of the day after noon: the same figures as the
    cases at any hour, with deadlines and thresholds on both sides of the moment (and on it)."""
    city = campaigns
    Writer(app, city, random.Random(4)).write(60)
    offsets = [timedelta(minutes=m) for m in (-29, -1, 0, 1, 29, 120, -120)]
    c = long_unresolved.criteria()
    for hour in (0, 5, 11, 12, 18, 23):
        moment = beijing_midnight(clock.now()) + timedelta(hours=hour, minutes=30)
        open_cases = db.session.scalars(select(Case).where(Case.status.in_(day_stats.OPEN)).order_by(Case.id)).all()
        assert len(open_cases) >= 2 * len(offsets)
        for number, (case, offset) in enumerate(zip(open_cases, offsets * 3, strict=False)):
            # Due around the moment, and reaching the list's age or overdue threshold around it.
            case.due_at = moment + offset
            if number < len(offsets):
                case.received_at = moment + offset - c.open_days * timedelta(days=1)
            elif number < 2 * len(offsets):
                case.replied_at, case.handle_due_at = None, moment + offset - c.overdue_days * timedelta(days=1)
        db.session.commit()
        with mock.patch.object(clock, "now", return_value=moment):
            for period in (stated_default(), describe(moment - timedelta(days=400), moment + timedelta(days=1))):
                user = city.users["command"]
                assert panels.progress_counts(user, moment, period) == panels.live_progress_counts(user, moment, period)
                start, end = period.start, period.end
                assert scoring.town_ranking(start, end) == scoring.live_town_ranking(start, end)
                totals, scores = scoring.grid_totals(start, end), scoring.grid_scores(start, end)
                assert {(s.grid_id, s.score, s.zeroed, s.deductions) for s in totals} == \
                    {(s.grid_id, s.score, s.zeroed, len(s.deductions)) for s in scores}
            assert long_unresolved.listed_count(moment) == db.session.scalar(
                select(func.count(Case.id)).where(listed_clause(moment))), hour


def test_the_migration_fills_the_hour_rows_as_the_app_counts_them(app, city):
    """Migration 0027 writes the ``h`` rows out in each backend's SQL: the same rows as the app's."""
    Writer(app, city, random.Random(5)).write(30)
    day_stats.rebuild_day_stats()
    db.session.commit()
    expected = {key: counts for key, counts in stored_sums().items() if key[0] == "h"}
    assert expected
    db.session.remove()
    downgrade(revision="0026_late_undone")
    assert not [key for key in stored_sums() if key[0] == "h"]
    db.session.remove()
    upgrade()
    assert {key: counts for key, counts in stored_sums().items() if key[0] == "h"} == expected


def stated_default():
    """The common default period as the wall reads it (the running campaign)."""
    return panels.wall_period({})


def test_changing_the_list_thresholds_rebuilds_the_listed_rows(app, city):
    writer = Writer(app, city, random.Random(11))
    writer.write(30)
    set_setting("long_unresolved_open_days", 20)
    db.session.commit()
    now = clock.now()
    assert long_unresolved.listed_count(now) == db.session.scalar(
        select(func.count(Case.id)).where(listed_clause(now)))
    assert_rows_equal_a_rebuild()


def test_day_numbers_turn_at_beijing_midnight():
    midnight = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # 2026-12-07 00:00 in Beijing
    assert day_stats.day_number(midnight) == day_stats.day_number(midnight - timedelta(microseconds=1)) + 1
    assert day_stats.day_start(day_stats.day_number(midnight)) == midnight
    assert day_stats.whole_days(midnight, midnight + timedelta(days=2)) == (day_stats.day_number(midnight),
                                                                           day_stats.day_number(midnight) + 2)


def test_flask_wall_rebuild_stats(app, city):
    Writer(app, city, random.Random(5)).write(10)
    before = stored_sums()
    db.session.execute(DayStat.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["wall", "rebuild-stats"])
    assert result.exit_code == 0, result.output
    assert "每日统计汇总已重建" in result.output
    assert stored_sums() == before
    assert Counter(k[0] for k in before)["r"] > 0

