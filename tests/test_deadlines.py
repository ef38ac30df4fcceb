"""The deadline engine: due dates a handler would check by hand, clocks, colours and warnings.

Every due date below is worked out from the rule and the 2026 State Council holiday
schedule; the comment beside it shows the arithmetic (start day not counted, 24:00 of the
last day, a calendar-day period ending on a day off rolls to the next working day).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Case, CaseClock, DeadlineRule, Notification
from app.models.vocab import CaseStatus, Channel, LegalTrack, Priority, Role, Stage
from app.services import clock
from app.services.cases.deadline_defaults import DEFAULT_RULES
from app.services.cases.deadlines import (
    DeadlineState,
    NoDeadlineRule,
    case_deadline_state,
    clock_for,
    clock_state,
    compute_due,
    create_rule,
    ensure_default_rules,
    extend_clock,
    open_clocks,
    resume_clock,
    rule_for,
    start_clock,
    stop_clock,
    sweep_warnings,
    update_rule,
)
from app.services.cases.workcalendar import ensure_default_calendar, set_calendar_day
from app.services.settings import set_setting
from tests.factories import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
C, T, P = Channel, LegalTrack, Priority


def bj(*args) -> datetime:
    """A Beijing-time moment."""
    return datetime(*args, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    """24:00 Beijing time of a day."""
    return bj(year, month, day) + timedelta(days=1)


@pytest.fixture
def seeded(app):
    """The default rules and the 2026 calendar, as ``flask deadlines seed`` leaves them."""
    ensure_default_rules()
    ensure_default_calendar()
    db.session.commit()


def a_case(channel=C.LETTER, legal_track=None, priority=P.NORMAL) -> Case:
    """An unsaved case: the rules only read its channel, legal track and priority."""
    return Case(channel=channel, legal_track=legal_track, priority=priority)


DUE_DATES = [
    # Sign a 12345 order within 1 working day: assigned Fri 03-06; Sat 7, Sun 8 off;
    # the 1st working day after is Mon 03-09 → 24:00 03-09.
    ("12345-sign-over-a-weekend", Stage.SIGN, dict(channel=C.TRANSFER_12345), bj(2026, 3, 6, 16, 0),
     end_of(2026, 3, 9)),
    # Accept a 12369 call within 3 working days: Thu 02-12 not counted; Fri 02-13 = 1;
    # Sat 02-14 (make-up working day) = 2; 02-15 … 02-23 Spring Festival; Tue 02-24 = 3.
    ("12369-accept-spring-festival", Stage.ACCEPT, dict(channel=C.PHONE_12369), bj(2026, 2, 12, 10, 0),
     end_of(2026, 2, 24)),
    # Return a 12345 order within 2 working days: Fri 09-18 not counted; Sat 09-19 off;
    # Sun 09-20 (make-up working day before National Day) = 1; Mon 09-21 = 2.
    ("12345-return-makeup-sunday", Stage.RETURN_WINDOW, dict(channel=C.TRANSFER_12345), bj(2026, 9, 18, 9, 0),
     end_of(2026, 9, 21)),
    # Object within 5 working days: Wed 04-01 not counted; Thu 2 = 1, Fri 3 = 2;
    # Sat 4 – Mon 6 Qingming; Tue 7 = 3, Wed 8 = 4, Thu 04-09 = 5.
    ("return-window-qingming", Stage.RETURN_WINDOW, dict(), bj(2026, 4, 1, 9, 0), end_of(2026, 4, 9)),
    # Register → accept within 15 days: 09-22 + 15 = Wed 10-07 (National Day) → Thu 10-08.
    ("letter-accept-national-day", Stage.ACCEPT, dict(), bj(2026, 9, 22, 10, 0), end_of(2026, 10, 8)),
    # Notice within 15 days: 03-06 + 15 = Sat 03-21 → Mon 03-23.
    ("petition-notice-weekend", Stage.NOTICE, dict(channel=C.VISIT, legal_track=T.PETITION), bj(2026, 3, 6, 11, 0),
     end_of(2026, 3, 23)),
    # Handle a petition within 60 days: 08-03 + 60 = Fri 10-02 (National Day); 10-03 … 10-07
    # off → Thu 10-08.
    ("petition-handle-national-day", Stage.HANDLE, dict(legal_track=T.PETITION), bj(2026, 8, 3, 9, 0),
     end_of(2026, 10, 8)),
    # A 12369 violation report closes within 30 days: 01-05 + 30 = Wed 02-04, a working day.
    ("12369-violation-handle", Stage.HANDLE, dict(channel=C.PHONE_12369, legal_track=T.VIOLATION_REPORT),
     bj(2026, 1, 5, 10, 0), end_of(2026, 2, 4)),
    # Central inspection: report within 7 days: 03-30 + 7 = Mon 04-06 (Qingming) → Tue 04-07.
    ("central-inspection-report", Stage.REPORT, dict(channel=C.CENTRAL_INSPECTION, legal_track=T.PETITION),
     bj(2026, 3, 30, 15, 0), end_of(2026, 4, 7)),
    # Provincial inspection: 06-12 + 7 = Fri 06-19 (Dragon Boat); Sat, Sun → Mon 06-22.
    ("provincial-inspection-report", Stage.REPORT, dict(channel=C.PROVINCIAL_INSPECTION), bj(2026, 6, 12, 9, 0),
     end_of(2026, 6, 22)),
    # Urgent: sign within 2 hours, holidays included: 23:30 + 2 h = 01:30 next day.
    ("urgent-sign-2h-on-holiday", Stage.SIGN, dict(priority=P.URGENT), bj(2026, 2, 16, 23, 30),
     bj(2026, 2, 17, 1, 30)),
    # Urgent: on site within 12 hours of signing, Labour Day or not: 08:00 + 12 h.
    ("urgent-onsite-12h", Stage.ONSITE, dict(priority=P.URGENT), bj(2026, 5, 1, 8, 0), bj(2026, 5, 1, 20, 0)),
    # Ordinary: sign within 24 hours, weekend included: Fri 18:00 → Sat 18:00.
    ("sign-24h-over-saturday", Stage.SIGN, dict(), bj(2026, 3, 6, 18, 0), bj(2026, 3, 7, 18, 0)),
    # Follow up the working day after the review: Wed 12-31 not counted; 01-01, 01-02 New
    # Year, Sat 01-03 off; Sun 01-04 (make-up working day) = 1.
    ("follow-up-new-year-makeup", Stage.FOLLOW_UP, dict(), bj(2025, 12, 31, 17, 0), end_of(2026, 1, 4)),
    # An urgent 12345 order: the channel rule beats the priority rule → 1 working day
    # (Fri 03-06 → Mon 03-09), not 2 hours.
    ("urgent-12345-channel-wins", Stage.SIGN, dict(channel=C.TRANSFER_12345, priority=P.URGENT),
     bj(2026, 3, 6, 16, 0), end_of(2026, 3, 9)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stage", "fields", "started", "due"), [d[1:] for d in DUE_DATES], ids=[d[0] for d in DUE_DATES]
)
def test_hand_computed_due_dates(seeded, stage, fields, started, due):
    due_at, rule = compute_due(a_case(**fields), stage, started)
    assert due_at == due
    assert due_at.tzinfo == UTC
    assert rule.stage == stage


def test_extension_adds_calendar_days_and_rolls(seeded, city):
    case = city.cases["V11"]
    case.legal_track = LegalTrack.PETITION
    start_clock(case, Stage.HANDLE, bj(2026, 8, 3, 9, 0))
    # Due 24:00 Thu 10-08 (see above); + 30 days = Sat 11-07 → Mon 11-09.
    extended = extend_clock(case, Stage.HANDLE, 30)
    assert extended.due_at == end_of(2026, 11, 9)
    assert case.handle_due_at == end_of(2026, 11, 9)


def test_extension_limits(seeded, city):
    case = city.cases["V11"]
    with pytest.raises(Conflict):
        extend_clock(case, Stage.HANDLE, 10)  # no handling clock yet
    start_clock(case, Stage.HANDLE, bj(2026, 8, 3, 9, 0))
    for days in (0, 31):
        with pytest.raises(InvalidInput) as caught:
            extend_clock(case, Stage.HANDLE, days)
        assert "days" in caught.value.errors
    stop_clock(case, Stage.HANDLE, bj(2026, 9, 1, 9, 0))
    with pytest.raises(Conflict):
        extend_clock(case, Stage.HANDLE, 10)


# --- Rules ---------------------------------------------------------------------------------


def test_specificity_channel_then_legal_track_then_priority(seeded):
    create_rule(stage=Stage.SIGN, amount=6, unit="hours", legal_track=LegalTrack.VIOLATION_REPORT)
    assert rule_for(a_case(C.TRANSFER_12345, T.VIOLATION_REPORT, P.URGENT), Stage.SIGN).channel == C.TRANSFER_12345
    assert rule_for(a_case(C.LETTER, T.VIOLATION_REPORT, P.URGENT), Stage.SIGN).amount == 6
    assert rule_for(a_case(C.LETTER, T.PETITION, P.URGENT), Stage.SIGN).amount == 2
    default = rule_for(a_case(C.LETTER, T.PETITION, P.NORMAL), Stage.SIGN)
    assert (default.amount, default.channel, default.legal_track, default.priority) == (24, None, None, None)


def test_a_rule_with_channel_and_priority_beats_the_channel_alone(seeded):
    create_rule(stage=Stage.SIGN, amount=4, unit="hours", channel=C.TRANSFER_12345, priority=P.URGENT)
    due, _ = compute_due(a_case(C.TRANSFER_12345, priority=P.URGENT), Stage.SIGN, bj(2026, 3, 6, 16, 0))
    assert due == bj(2026, 3, 6, 20, 0)


def test_inactive_rules_are_skipped(seeded):
    rule = rule_for(a_case(C.TRANSFER_12345), Stage.SIGN)
    update_rule(rule.id, active=False)
    assert rule_for(a_case(C.TRANSFER_12345), Stage.SIGN).amount == 24


def test_a_stage_without_a_rule_for_the_case_has_no_clock(seeded, city):
    case = city.cases["V11"]  # a 12369 call, not an inspection referral
    with pytest.raises(NoDeadlineRule):
        compute_due(case, Stage.REPORT, bj(2026, 3, 2, 9, 0))
    assert start_clock(case, Stage.REPORT, bj(2026, 3, 2, 9, 0)) is None
    assert open_clocks(case) == []


def test_admin_edits_change_the_next_due_date_not_running_clocks(seeded, city):
    case = city.cases["V11"]
    running = start_clock(case, Stage.SIGN, bj(2026, 3, 2, 9, 0))
    update_rule(rule_for(case, Stage.SIGN).id, amount=48)
    due, _ = compute_due(case, Stage.SIGN, bj(2026, 3, 2, 9, 0))
    assert due == bj(2026, 3, 4, 9, 0)  # Mon 09:00 + 48 h
    assert running.due_at == bj(2026, 3, 3, 9, 0)  # still the 24 h it started with
    # The city declares Mon 03-09 a day off: a 12345 order of Fri 03-06 is now due Tue 03-10.
    set_calendar_day(bj(2026, 3, 9).date(), False, "本市停工日")
    due, _ = compute_due(a_case(C.TRANSFER_12345), Stage.SIGN, bj(2026, 3, 6, 16, 0))
    assert due == end_of(2026, 3, 10)


def test_seeding_rules_is_idempotent_and_keeps_edits(seeded):
    assert db.session.scalar(select(func.count(DeadlineRule.id))) == len(DEFAULT_RULES)
    rule = rule_for(a_case(), Stage.HANDLE)
    update_rule(rule.id, amount=45, active=False)
    assert ensure_default_rules() == 0
    assert db.session.get(DeadlineRule, rule.id).amount == 45


def test_a_duplicate_rule_is_refused(seeded):
    with pytest.raises(Conflict):
        create_rule(stage=Stage.SIGN, amount=3, unit="hours", priority=P.URGENT)


# --- Clocks on a case ----------------------------------------------------------------------


def test_case_due_is_the_nearest_open_clock_and_stage_columns_mirror_clocks(seeded, city):
    case = city.cases["V11"]
    start_clock(case, Stage.SIGN, bj(2026, 3, 2, 9, 0))  # due Tue 03-03 09:00
    start_clock(case, Stage.RETURN_WINDOW, bj(2026, 3, 2, 9, 0))  # 5 working days: due 24:00 Mon 03-09
    assert case.due_at == bj(2026, 3, 3, 9, 0)
    assert case.sign_due_at == bj(2026, 3, 3, 9, 0)
    stop_clock(case, Stage.SIGN, bj(2026, 3, 2, 15, 0))
    start_clock(case, Stage.ONSITE, bj(2026, 3, 2, 15, 0))  # due Tue 03-03 15:00
    assert case.due_at == bj(2026, 3, 3, 15, 0)
    assert case.sign_due_at == bj(2026, 3, 3, 9, 0)  # kept after signing, to count on-time rates
    assert case.onsite_due_at == bj(2026, 3, 3, 15, 0)
    for open_clock in open_clocks(case):
        stop_clock(case, open_clock.stage, bj(2026, 3, 3, 10, 0))
    assert case.due_at is None


def test_stopping_a_clock_that_never_started_is_harmless(seeded, city):
    case = city.cases["V11"]
    stop_clock(case, Stage.ONSITE, bj(2026, 3, 2, 9, 0))
    assert clock_for(case, Stage.ONSITE) is None


def test_reopening_restarts_the_clock(seeded, city):
    case = city.cases["V11"]
    case.legal_track = LegalTrack.PETITION
    first = start_clock(case, Stage.HANDLE, bj(2026, 3, 2, 9, 0))
    first.warned = "red"
    stop_clock(case, Stage.HANDLE, bj(2026, 5, 20, 9, 0))
    again = start_clock(case, Stage.HANDLE, bj(2026, 6, 1, 9, 0))
    assert again.id == first.id
    assert (again.started_at, again.done_at, again.warned) == (bj(2026, 6, 1, 9, 0), None, "")
    assert again.due_at == end_of(2026, 7, 31)  # 06-01 + 60 = Fri 07-31
    assert case.due_at == again.due_at


def test_work_sent_back_resumes_the_handling_clock(seeded, city):
    case = city.cases["V11"]
    case.legal_track = LegalTrack.PETITION
    start_clock(case, Stage.HANDLE, bj(2026, 3, 2, 9, 0))  # due 24:00 Fri 05-01 → Labour Day → Wed 05-06
    stop_clock(case, Stage.HANDLE, bj(2026, 4, 1, 9, 0))
    assert case.due_at is None
    resume_clock(case, Stage.HANDLE)
    assert case.due_at == end_of(2026, 5, 6)


# --- Colours ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours_used", "state"),
    [(0, "green"), (74.9, "green"), (75, "yellow"), (99.9, "yellow"), (100, "red"), (150, "red")],
)
def test_clock_state_turns_yellow_at_75_percent_and_red_when_overdue(hours_used, state):
    start = bj(2026, 3, 2, 9, 0)
    assert clock_state(start, start + timedelta(hours=100), start + timedelta(hours=hours_used), 0.75) == state


def test_yellow_threshold_is_the_admins_setting(seeded, city):
    start = bj(2026, 3, 2, 9, 0)
    assert clock_state(start, start + timedelta(hours=100), start + timedelta(hours=60)) == "green"
    set_setting("yellow_at", 0.5)
    assert clock_state(start, start + timedelta(hours=100), start + timedelta(hours=60)) == "yellow"


def test_case_colour_comes_from_its_nearest_clock_not_from_receipt(seeded, city):
    case = city.cases["V11"]
    case.received_at = bj(2026, 2, 1, 9, 0)
    start_clock(case, Stage.SIGN, bj(2026, 3, 2, 9, 0))  # due Tue 03-03 09:00
    # 12 h of 24 used: green (measured from receipt a month ago it would be yellow).
    assert case_deadline_state(case, bj(2026, 3, 2, 21, 0)) == DeadlineState.GREEN
    assert case_deadline_state(case, bj(2026, 3, 3, 3, 0)) == DeadlineState.YELLOW
    assert case_deadline_state(case, bj(2026, 3, 3, 9, 0)) == DeadlineState.RED
    case.status = CaseStatus.CLOSED
    assert case_deadline_state(case, bj(2026, 3, 3, 9, 0)) == DeadlineState.CLOSED


def test_a_case_without_clocks_is_coloured_from_receipt(city):
    case = city.cases["V12"]
    case.received_at, case.due_at = bj(2026, 3, 1, 0, 0), bj(2026, 3, 5, 0, 0)
    assert case_deadline_state(case, bj(2026, 3, 3, 0, 0), 0.75) == DeadlineState.GREEN
    assert case_deadline_state(case, bj(2026, 3, 4, 0, 0), 0.75) == DeadlineState.YELLOW


# --- Warnings --------------------------------------------------------------------------------

SIGN_START = bj(2026, 3, 2, 9, 0)  # Monday; the 24 h sign clock is due Tue 03-03 09:00


def _notes(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).filter_by(kind=kind).order_by(Notification.user_id)))


def _sweep_at(moment: datetime) -> dict:
    with clock.frozen_at(moment):
        return sweep_warnings(clock.now())


def test_reminder_goes_once_to_the_responsible_person(seeded, city):
    case = city.cases["V11"]
    handler = make_user("officer_env2", Role.DEPARTMENT_OFFICER, department=case.department)
    case.responsible_person = handler
    start_clock(case, Stage.SIGN, SIGN_START)
    assert _sweep_at(bj(2026, 3, 3, 2, 59))["reminders"] == 0  # 17 h 59 of 24: green
    assert _sweep_at(bj(2026, 3, 3, 3, 1)) == {"reminders": 1, "escalations": 0, "notifications": 1, "no_recipient": 0}
    assert _sweep_at(bj(2026, 3, 3, 5, 0))["reminders"] == 0  # not twice
    [note] = _notes("reminder")
    assert note.user_id == handler.id and note.case_id == case.id
    assert case.number in note.message and "签收" in note.message and "2026-03-03 09:00" in note.message
    assert note.message.startswith("【催办】")


def test_without_a_responsible_person_the_departments_officers_are_reminded(seeded, city):
    case = city.cases["V11"]  # routed to the environment bureau
    start_clock(case, Stage.SIGN, SIGN_START)
    _sweep_at(bj(2026, 3, 3, 4, 0))
    assert [n.user_id for n in _notes("reminder")] == [city.users["officer_env"].id]


def test_without_a_department_the_towns_supervisors_are_reminded(seeded, city):
    case = city.cases["V11"]
    case.department = None
    start_clock(case, Stage.SIGN, SIGN_START)
    _sweep_at(bj(2026, 3, 3, 4, 0))
    assert [n.user_id for n in _notes("reminder")] == [city.users["sup_T1"].id]


def test_an_intake_clock_reminds_the_town_not_the_handling_department(seeded, city):
    """受理 is the town's work: the department the case is routed to cannot act on it yet."""
    case = city.cases["V11"]  # routed to the environment bureau
    start_clock(case, Stage.ACCEPT, SIGN_START)
    accept = clock_for(case, Stage.ACCEPT)
    _sweep_at(accept.due_at - (accept.due_at - SIGN_START) / 10)
    assert [n.user_id for n in _notes("reminder")] == [city.users["sup_T1"].id]


def test_escalation_goes_once_to_town_supervisors_and_the_command_office(seeded, city):
    case = city.cases["V11"]
    start_clock(case, Stage.SIGN, SIGN_START)
    _sweep_at(bj(2026, 3, 3, 4, 0))
    assert _sweep_at(bj(2026, 3, 3, 9, 1)) == {"reminders": 0, "escalations": 1, "notifications": 2, "no_recipient": 0}
    assert _sweep_at(bj(2026, 3, 4, 9, 0))["escalations"] == 0
    escalations = _notes("escalation")
    assert {n.user_id for n in escalations} == {city.users["sup_T1"].id, city.users["command"].id}
    assert all(n.message.startswith("【督办】") and case.number in n.message for n in escalations)
    assert len(_notes("reminder")) == 1


def test_a_clock_found_already_red_gets_only_the_escalation(seeded, city):
    case = city.cases["V11"]
    case.channel = Channel.TRANSFER_12345
    start_clock(case, Stage.SIGN, bj(2026, 3, 6, 16, 0))  # 1 working day: due 24:00 Mon 03-09
    counts = _sweep_at(bj(2026, 3, 10, 8, 0))
    assert (counts["reminders"], counts["escalations"]) == (0, 1)
    assert _notes("reminder") == []
    assert "2026-03-09 24:00" in _notes("escalation")[0].message


def test_met_clocks_and_closed_cases_are_not_warned(seeded, city):
    signed, closed = city.cases["V11"], city.cases["V21"]
    start_clock(signed, Stage.SIGN, SIGN_START)
    stop_clock(signed, Stage.SIGN, bj(2026, 3, 2, 10, 0))
    start_clock(closed, Stage.SIGN, SIGN_START)
    closed.status = CaseStatus.CLOSED
    assert _sweep_at(bj(2026, 3, 5, 0, 0))["notifications"] == 0


def test_a_reopened_clock_warns_again(seeded, city):
    case = city.cases["V11"]
    start_clock(case, Stage.SIGN, SIGN_START)
    _sweep_at(bj(2026, 3, 3, 10, 0))
    start_clock(case, Stage.SIGN, bj(2026, 3, 9, 9, 0))
    assert _sweep_at(bj(2026, 3, 10, 10, 0))["escalations"] == 1


# --- Command line ----------------------------------------------------------------------------


def test_cli_seed_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["deadlines", "seed"])
    assert first.exit_code == 0
    # Weekday holidays plus make-up days: 2023 18 + 7, 2024 19 + 8, 2025 18 + 5, 2026 19 + 6.
    assert f"时限规则新增 {len(DEFAULT_RULES)} 条，工作日历新增 100 天" in first.output
    assert "新增 0 条，工作日历新增 0 天" in runner.invoke(args=["deadlines", "seed"]).output


def test_cli_sweep_commits_and_prints_counts(app, seeded, city):
    start_clock(city.cases["V11"], Stage.SIGN, SIGN_START)
    db.session.commit()
    with clock.frozen_at(bj(2026, 3, 3, 4, 0)):
        result = app.test_cli_runner().invoke(args=["deadlines", "sweep"])
    assert result.exit_code == 0, result.output
    assert "催办 1 件，督办 0 件，发送消息 1 条" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(CaseClock.id)).where(CaseClock.warned == "yellow")) == 1


def test_the_worker_sends_the_sweep_in_committed_batches(seeded, city, monkeypatch):
    """After a large import the first sweep has thousands of warnings: the task commits every
    batch, so on SQLite nobody waits for all of them, and the total is the same."""
    import app.tasks as tasks
    from app.services import background

    for key in ("V11", "V12", "V21"):
        start_clock(city.cases[key], Stage.SIGN, SIGN_START)
    db.session.commit()
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 1)
    commits = []
    monkeypatch.setattr(tasks.db.session, "commit", lambda real=tasks.db.session.commit: commits.append(1) or real())
    with clock.frozen_at(bj(2026, 3, 3, 4, 0)):
        result = background.run_now("deadlines.sweep")
    assert result["reminders"] == 3 and len(commits) >= 4  # the revisits, then one per warning
    assert len(_notes("reminder")) >= 3
