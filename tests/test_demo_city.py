"""``flask demo seed``: the demo city a new user logs in to must be complete and believable.

Seeding takes a second or two, and the database is emptied after every test, so each test
seeds once and checks many things.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select, text

from app.demo.tables import CHANNEL_WEIGHTS
from app.extensions import db
from app.models import Campaign, Case, CaseEvent, Grid, Inspection, PatrolCheckin, Photo, User
from app.models.vocab import CaseStatus, Category, Channel, ListKind, Role
from app.services import clock
from app.services.campaign.accountability import accountability_lists
from app.services.campaign.periods import period
from app.services.campaign.phases import current_phase
from app.services.cases.deadlines import DeadlineState, case_deadline_state
from app.services.cases.lifecycle import close_checklist, take
from app.services.cases.timeline import verify_chain
from app.services.field.onsite_rules import counts_as_onsite
from tests.conftest import empty_all_tables
from tests.helpers import SHORT_PATROLS

CASES = 400
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def seed(app, *args: str):
    """Run ``flask demo seed`` with a small case count."""
    return app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(CASES), *SHORT_PATROLS, *args])


def count(model) -> int:
    """Rows of a model."""
    return db.session.scalar(select(func.count()).select_from(model))


def has_valid_check_digit(id_number: str) -> bool:
    """GB 11643: the 18th character is fixed by the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(id_number[:17], ID_WEIGHTS, strict=True))
    return id_number[17] == "10X98765432"[total % 11]


def test_seed_builds_a_complete_city(app, client, auth):
    result = seed(app)
    assert result.exit_code == 0, result.output
    assert "演示城市已生成" in result.output
    # --patrol-days bounds the patrol history (the default covers the campaign's 100 days).
    oldest = db.session.scalar(select(func.min(PatrolCheckin.captured_at)))
    assert clock.now() - timedelta(days=15) < oldest < clock.now() - timedelta(days=12)

    grids = db.session.scalars(select(Grid)).all()
    levels = Counter(g.level for g in grids)
    assert levels[1] == 1 and levels[2] == 14
    assert 280 <= levels[3] <= 320
    by_id = {g.id: g for g in grids}
    for village in (g for g in grids if g.level == 3):
        shape, town = to_shape(village.geom), to_shape(by_id[village.parent_id].geom)
        assert shape.difference(town).area < 1e-9 * shape.area, village.code
    assert len({g.code for g in grids}) == len(grids)

    inspectors = Counter(db.session.scalars(select(User.grid_id).where(User.role == Role.INSPECTOR)))
    assert all(inspectors[g.id] >= 2 for g in grids if g.level == 3)
    for username in ("admin", "command", "town01", "town14", "g01001a", "g01001b", "dept_env", "dept_police",
                     "leader1"):  # fmt: skip
        assert auth.login(username, "firstline2026").status_code == 200, username
        auth.logout()
    assert {u.role for u in db.session.scalars(select(User))} == {str(r) for r in Role}

    cases = db.session.scalars(select(Case)).all()
    assert len(cases) == CASES
    assert {c.channel for c in cases} == {str(c) for c in Channel}
    assert {c.category for c in cases} == {str(c) for c in Category}
    assert {c.status for c in cases} == {str(s) for s in CaseStatus}
    assert all((c.list_kind == ListKind.POTENTIAL) == (c.channel == Channel.GRID_PATROL) for c in cases)
    assert len({c.number for c in cases}) == CASES


def test_cases_agree_with_the_map_and_keep_privacy(app):
    assert seed(app).exit_code == 0

    rows = db.session.execute(
        text(
            "SELECT c.id, c.grid_id, c.outside_grid,"
            " (SELECT g.id FROM grids g WHERE g.level = 3 AND ST_Covers(g.geom, c.location)"
            "  ORDER BY g.code LIMIT 1)"
            " FROM cases c WHERE c.outside_grid OR c.id % 8 = 0"
        )
    ).all()
    assert len(rows) >= 50
    assert all(grid_id == covering for _, grid_id, _, covering in rows)
    outside = [r for r in rows if r.outside_grid]
    assert outside and all(r.grid_id is None for r in outside)
    assert db.session.scalar(select(func.count()).where(Case.outside_grid, Case.town_id.isnot(None))) == 0

    cases = db.session.scalars(select(Case)).all()
    anonymous = [c for c in cases if c.anonymous]
    assert anonymous
    assert all(c.petitioner_name is None and c.petitioner_phone is None and c.petitioner_id_number is None
               for c in anonymous)  # fmt: skip
    named = [c for c in cases if c.petitioner_id_number]
    assert named and all(len(c.petitioner_phone) == 11 and has_valid_check_digit(c.petitioner_id_number)
                         for c in named)  # fmt: skip

    closed = next(c for c in cases if c.status == CaseStatus.CLOSED)
    times = [closed.received_at, closed.accepted_at, closed.assigned_at, closed.signed_at,
             closed.first_onsite_at, closed.replied_at, closed.closed_at]  # fmt: skip
    assert None not in times and times == sorted(times) and closed.due_at is None
    registered = next(c for c in cases if c.status == CaseStatus.REGISTERED)
    assert registered.accepted_at is None and registered.legal_track is None and registered.due_at is not None
    dissatisfied = [c for c in cases if c.dissatisfied]
    assert dissatisfied and all(c.status == CaseStatus.HANDLING and c.reopened_count == 1 and c.replied_at is None
                                for c in dissatisfied)  # fmt: skip
    repeat = next(c for c in cases if c.repeat_of_id)
    assert repeat.repeat_of.category == repeat.category and repeat.repeat_of.received_at < repeat.received_at
    assert verify_chain(closed.id) == []
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == closed.id).order_by(CaseEvent.seq))
    assert list(kinds) == ["register", "accept", "assign", "sign", "record_onsite", "plan", "reply", "review_pass",
                           "follow_up", "close"]  # fmt: skip


def test_demo_cases_show_every_colour_and_take_every_next_step(app):
    assert seed(app).exit_code == 0
    now = clock.now()
    colours = Counter(case_deadline_state(c, now) for c in db.session.scalars(select(Case)))
    assert colours[DeadlineState.GREEN] > colours[DeadlineState.YELLOW] > 0 and colours[DeadlineState.RED] > 0

    command = db.session.scalar(select(User).where(User.username == "command"))
    replied = db.session.scalar(select(Case).where(Case.status == CaseStatus.REPLIED).limit(1))
    assert take(command, replied.id, "review_pass", {}).status == CaseStatus.REVIEWED
    returned = db.session.scalar(select(Case).where(Case.status == CaseStatus.RETURN_REQUESTED).limit(1))
    assert take(command, returned.id, "approve_return", {"note": "同意改派"}).status == CaseStatus.ACCEPTED
    assigned = db.session.scalar(select(Case).where(Case.status == CaseStatus.ASSIGNED).limit(1))
    signed = take(assigned.responsible_person, assigned.id, "sign", {})
    assert signed.status == CaseStatus.SIGNED and signed.due_at > now
    assert verify_chain(signed.id) == []


def test_demo_cases_past_their_on_site_step_show_that_check_and_its_photo(app, client, auth):
    # The timeline's 「现场核查」 names a check the desk shows, with a photo, so 销号's evidence
    # requirement is met; before, the timeline said 现场核查 and the evidence card said none.
    assert seed(app).exit_code == 0
    checked = db.session.scalars(select(Case).where(Case.first_onsite_at.isnot(None))).all()
    onsite_events = db.session.scalar(select(func.count()).select_from(CaseEvent)
                                      .where(CaseEvent.kind == "record_onsite"))
    assert checked and len(checked) == onsite_events == count(Inspection) == count(Photo)
    for case in checked[:40]:
        (check,) = db.session.scalars(select(Inspection).where(Inspection.case_id == case.id)).all()
        assert check.captured_at == case.first_onsite_at and counts_as_onsite(check)
        assert next(r for r in close_checklist(case) if "现场核查" in r.label).met
    assert auth.login("command", "firstline2026").status_code == 200
    page = client.get(f"/desk/cases/{checked[0].id}").text
    assert "尚无现场核查或巡查记录" not in page and "计入现场核查" in page
    (photo,) = db.session.scalars(select(Photo).where(Photo.inspection_id == check.id)).all()
    thumb = client.get(f"/api/v1/photos/{photo.id}/thumb")
    assert thumb.status_code == 200 and thumb.content_type == "image/jpeg"
    thumb.close()


def test_seed_never_duplicates_and_repeats_itself(app):
    assert seed(app).exit_code == 0
    first = db.session.execute(select(Case.number, Case.title, func.ST_AsText(Case.location)).order_by(Case.id)).first()
    counts = (count(Grid), count(User), count(Case))

    refused = seed(app)
    assert refused.exit_code == 1 and "拒绝" in refused.output
    skipped = seed(app, "--if-empty")
    assert skipped.exit_code == 0 and "跳过" in skipped.output
    assert (count(Grid), count(User), count(Case)) == counts

    db.session.remove()
    empty_all_tables()
    assert seed(app).exit_code == 0
    again = db.session.execute(select(Case.number, Case.title, func.ST_AsText(Case.location)).order_by(Case.id)).first()
    assert tuple(again) == tuple(first)


def test_a_channel_the_demo_has_no_weight_for_still_gets_cases(app, monkeypatch):
    # As when a channel is added to the vocabulary before the demo learns its share.
    monkeypatch.delitem(CHANNEL_WEIGHTS, Channel.SPECIAL_INSPECTION)
    result = seed(app)
    assert result.exit_code == 0, result.output
    special = select(func.count(Case.id)).where(Case.channel == Channel.SPECIAL_INSPECTION)
    assert db.session.scalar(special) >= 1


def test_the_demo_runs_this_years_campaign_with_today_in_a_phase(app, client, auth):
    assert seed(app).exit_code == 0
    phase = current_phase(clock.now())
    assert phase is not None and phase.days_left >= 0
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.starts_on <= clock.beijing_date(clock.now()) <= campaign.ends_on
    auth.login("command", "firstline2026")
    assert "未配置攻坚行动" not in client.get("/api/v1/wall/panels").get_data(as_text=True)


def test_seeded_in_spring_the_campaign_moves_so_that_today_is_in_the_tackling_phase(app):
    with clock.frozen_at(datetime(2027, 4, 10, 2, tzinfo=UTC)):
        assert seed(app, "--cases", "0").exit_code == 0
        assert current_phase(clock.now()).phase_name == "攻坚化解"
        campaign = db.session.scalars(select(Campaign)).one()
        assert (campaign.ends_on - campaign.starts_on).days == 102  # the plan's 20 September to 31 December


def test_a_first_year_demo_names_no_town_for_a_missing_baseline(app):
    """The demo's cases start on 2026-01-01: nothing reaches back to last year's period, and no
    historical counts are entered, so "volume not falling" is skipped for all 14 towns (it
    named 11 of them against a zero nobody recorded) and the lists say so."""
    assert seed(app).exit_code == 0
    for with_campaign in (True, False):  # the demo runs this year's campaign; then without one
        if not with_campaign:
            for campaign in db.session.scalars(select(Campaign)):
                db.session.delete(campaign)
            db.session.flush()
        lists = accountability_lists(*period(None, None))
        assert not any("去年同期" in reason for town in lists["interview_towns"] for reason in town["reasons"])
        # the top towns by above-level petitions and those with a backlog (久拖不解), nothing else
        assert all(reason.startswith(("越级访", "久拖不解")) for town in lists["interview_towns"]
                   for reason in town["reasons"])
        assert lists["not_falling"]["towns"] == [] and len(lists["not_falling"]["skipped_towns"]) == 14
        assert lists["not_falling"]["note"].startswith("「信访量未较去年同期下降」一项未评：各镇（街道）及各部门")


def test_the_demo_walls_numbers_agree_with_each_other(app, client, auth):
    """Panels, town ranking and village scores tell one story: every above-level petition is
    one 越级 visit on its case and one deduction in its village and town; a repeated matter is
    not resolved first time."""
    assert seed(app, "--cases", "2000").exit_code == 0
    auth.login("command", "firstline2026")
    panels = client.get("/api/v1/wall/panels").get_json()
    scores = client.get("/api/v1/wall/village-scores").get_json()
    period = panels["period"]
    assert panels["phase"] is not None and period["kind"] == "campaign"
    assert scores["period"] == period

    cases = db.session.scalars(select(Case)).all()
    above_channels = {str(c) for c in Channel.above_level_channels()}
    repeats_of, above_repeats_of = Counter(), Counter()
    for case in cases:
        if case.repeat_of_id:
            repeats_of[case.repeat_of_id] += 1
            above_repeats_of[case.repeat_of_id] += case.channel in above_channels
    for case in cases:
        visits = (case.channel in above_channels) + above_repeats_of[case.id]
        assert case.above_level_count == visits and case.above_level == (visits > 0), case.number
        assert case.repeat_count == repeats_of[case.id], case.number
    assert sum(above_repeats_of.values()) > 0  # some visits were counted on the matter they repeat

    start, end = datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])
    inside = [c for c in cases if start <= c.received_at < end]  # the panels count the period's cases
    petitions = Counter(c.town_id for c in inside if c.channel in above_channels)
    town_of = {g.id: g.parent_id for g in db.session.scalars(select(Grid).where(Grid.level == 3))}
    deductions, village_scores = Counter(), {}
    for village in scores["villages"]:
        deductions[town_of[village["grid_id"]]] += village["deductions"]
        village_scores.setdefault(town_of[village["grid_id"]], []).append(village["score"])
        assert village["lost"] == round(scores["item_points"] - village["score"], 2)
    for town in panels["towns"]:
        mine = village_scores[town["town_id"]]
        assert town["score"] == round(sum(mine) / len(mine), 2)
        assert town["above_level"] == petitions[town["town_id"]] == deductions[town["town_id"]], town["town_name"]

    counts = panels["counts"]
    closed = [c for c in inside if c.status == CaseStatus.CLOSED]
    first_time = [c for c in closed if not c.reopened_count and not repeats_of[c.id]]
    # the headline counts above-level petitions, as the ranking does: it is the column's sum
    assert counts["above_level"] == sum(petitions.values()) == sum(t["above_level"] for t in panels["towns"]) > 0
    assert counts["repeat"] == sum(1 for c in inside if c.repeat_of_id) > 0
    assert counts["closed"] == len(closed) and counts["first_time"] == len(first_time) < len(closed)
    assert counts["rates"]["first_time_resolution"] < 100
