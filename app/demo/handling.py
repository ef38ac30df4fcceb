"""What handling the generated cases went through, as services.cases.lifecycle would have recorded it.

Deadlines: the clocks (case_clocks) each step started, with the general default limit of
each stage from services.cases.deadline_defaults, and the due times deadlines mirrors onto a
case. Timeline: every case's hash-chained events, as ``append_event`` writes them. Handling
records: the plans, replies and reviews, follow-ups and pending return requests the
lifecycle's next steps read, and the on-site checks with their photos (``demo.evidence``),
so every next step works on a demo case as on a real one.

The case generator places each case's receipt from its clock, so this module sits below it:
it reads cases only as the column arrays (``frame``, ``table``) it is handed.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert

from app.demo import bulk_load, evidence
from app.demo.tables import (
    ACCEPT,
    ASSIGN,
    CHAIN,
    CHANNELS,
    FOLLOW_UP,
    FULL_TIMELINE_MAX,
    ONSITE,
    PLAN,
    PLAN_MEASURES,
    PROBLEMS,
    REPLY,
    REPLY_FACTS,
    REVIEW,
    SIDE_STEPS,
    SIGN,
    STATUSES,
    STEP_NOTES,
    index_of,
)
from app.extensions import db
from app.models import CaseClock, CaseEvent, CasePlan, CaseReply, CaseReturn, ChainHead, FollowUp
from app.models.vocab import CaseStatus, LegalTrack, ReplyDecision, Satisfaction, Stage
from app.services.cases.deadline_defaults import DEFAULT_RULES, DefaultRule, PeriodUnit
from app.services.cases.lifecycle import STEPS
from app.services.cases.timeline import GENESIS_HASH, event_hash
from app.services.seals import CASE_CHAIN, head_signature

# ---------------------------------------------------------------- deadlines


def _rule_hours(rule: DefaultRule) -> int:
    """A default limit in hours on a plain calendar (the demo's clocks ignore the work
    calendar): working days count 7 days per 5, so the return window's 5 working days are a
    week and the follow-up's 1 working day is a day."""
    if rule.unit == PeriodUnit.HOURS:
        return rule.amount
    days = rule.amount if rule.unit == PeriodUnit.CALENDAR_DAYS else round(rule.amount * 7 / 5)
    return days * 24


def _default_hours(stage: Stage, legal_track: LegalTrack | None = None) -> int:
    """The general default limit of a stage in hours: the rule with no channel or priority of
    its own (the demo leaves the narrower limits for urgent cases and hotlines aside)."""
    return next(
        _rule_hours(r) for r in DEFAULT_RULES
        if r.stage == stage and r.legal_track == legal_track and r.channel is None and r.priority is None
    )  # fmt: skip


ACCEPT_HOURS, NOTICE_HOURS = _default_hours(Stage.ACCEPT), _default_hours(Stage.NOTICE, LegalTrack.PETITION)
SIGN_HOURS, RETURN_HOURS = _default_hours(Stage.SIGN), _default_hours(Stage.RETURN_WINDOW)
ONSITE_HOURS, FOLLOW_UP_HOURS = _default_hours(Stage.ONSITE), _default_hours(Stage.FOLLOW_UP)
HANDLE_HOURS = {t: _default_hours(Stage.HANDLE, t) for t in (LegalTrack.VIOLATION_REPORT, LegalTrack.PETITION)}
# The inspection report is due only on the channels that have a limit for it.
REPORT_HOURS = {r.channel: _rule_hours(r) for r in DEFAULT_RULES if r.stage == Stage.REPORT and r.priority is None}
CLOCK_STAGES = (Stage.ACCEPT, Stage.NOTICE, Stage.REPORT, Stage.SIGN, Stage.RETURN_WINDOW, Stage.ONSITE,
                Stage.HANDLE, Stage.FOLLOW_UP)  # fmt: skip


def _stage_clocks(frame: dict, times: dict) -> list[tuple]:
    """Every clock services.lifecycle would have started on each case, in CLOCK_STAGES order,
    as hours from receipt: (started, start, due, met — NaN while it runs). The acceptance
    notice is taken as sent with the acceptance, the inspection report as filed at assignment."""
    chain, depth, count = times["chain_hours"], frame["depth"], len(frame["depth"])
    track, status = frame["legal_track"], frame["status"]

    def met(step: int) -> np.ndarray:
        """When the case took that step (NaN if it has not)."""
        return np.where(depth > step, chain[:, step], np.nan)

    decided = np.isin(status, index_of(STATUSES, [CaseStatus.DECLINED, CaseStatus.TRANSFERRED]))
    handle_hours = np.where(track == str(LegalTrack.PETITION), HANDLE_HOURS[LegalTrack.PETITION],
                            HANDLE_HOURS[LegalTrack.VIOLATION_REPORT])  # fmt: skip
    handle_from = np.where(frame["reopened"], chain[:, FOLLOW_UP], chain[:, ACCEPT])
    accepted = depth > ACCEPT
    reports = accepted & np.isin(frame["channel"], index_of(CHANNELS, list(REPORT_HOURS)))
    report_hours = np.array([REPORT_HOURS.get(c, 0) for c in CHANNELS])[frame["channel"]]
    return [
        (np.ones(count, bool), np.zeros(count), np.full(count, float(ACCEPT_HOURS)),
         np.where(decided, times["side_hours"], met(ACCEPT))),
        (accepted & (track == str(LegalTrack.PETITION)), chain[:, ACCEPT], chain[:, ACCEPT] + NOTICE_HOURS,
         chain[:, ACCEPT]),
        (reports, chain[:, ACCEPT], chain[:, ACCEPT] + report_hours, met(ASSIGN)),
        (depth > ASSIGN, chain[:, ASSIGN], chain[:, ASSIGN] + SIGN_HOURS, met(SIGN)),
        (depth > ASSIGN, chain[:, ASSIGN], chain[:, ASSIGN] + RETURN_HOURS, met(SIGN)),
        (depth > SIGN, chain[:, SIGN], chain[:, SIGN] + ONSITE_HOURS, met(ONSITE)),
        (accepted, handle_from, handle_from + handle_hours, np.where(frame["reopened"], np.nan, met(REPLY))),
        (depth > REVIEW, chain[:, REVIEW], chain[:, REVIEW] + FOLLOW_UP_HOURS, met(FOLLOW_UP)),
    ]  # fmt: skip


def clock_arrays(frame: dict, times: dict) -> dict:
    """The clocks as (cases x stages) arrays, and each case's nearest running clock: its
    start and due time (``due_at``; NaN when none runs, as for finished cases and replied or
    followed-up ones waiting for the next step)."""
    clocks = _stage_clocks(frame, times)
    started, start, due, done = (np.column_stack(parts) for parts in zip(*clocks, strict=True))
    due[~started] = np.nan
    running = started & np.isnan(done)
    nearest = np.argmin(np.where(running, due, np.inf), axis=1)
    rows = np.arange(len(due))
    has_running = running.any(axis=1)
    return {
        "clock_started": started, "clock_start": start, "clock_due": due, "clock_done": done,
        "due_hours": np.where(has_running, due[rows, nearest], np.nan),
        "running_start_hours": np.where(has_running, start[rows, nearest], np.nan),
    }  # fmt: skip


def to_times(received: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Times ``hours`` after receipt, to the microsecond; NaT where hours is NaN."""
    micros = np.nan_to_num(hours * 3.6e9).astype(np.int64).astype("timedelta64[us]")
    times = received[..., None] + micros if hours.ndim == 2 else received + micros
    times[np.isnan(hours)] = np.datetime64("NaT")
    return times


def due_columns(frame: dict) -> dict:
    """The per-stage due times services.deadlines mirrors onto a case from its clocks (kept
    once met, as the clocks are), ``due_at``, the nearest running one, and its start
    (``due_started_at``), all as times."""
    received, due = frame["received_at"], frame["clock_due"]
    mirrored = {"sign_due_at": Stage.SIGN, "onsite_due_at": Stage.ONSITE, "notice_due_at": Stage.NOTICE,
                "handle_due_at": Stage.HANDLE}  # fmt: skip
    columns = {name: to_times(received, due[:, CLOCK_STAGES.index(stage)]) for name, stage in mirrored.items()}
    columns["due_at"] = to_times(received, frame["due_hours"])
    columns["due_started_at"] = to_times(received, frame["running_start_hours"])
    return columns


def clock_table(frame: dict, case_ids: np.ndarray, now: datetime, full: bool) -> dict:
    """One row per clock (case_clocks) in flat arrays: every clock with full histories,
    only the running ones (what colours the map and drives reminders) otherwise."""
    keep = frame["clock_started"] & (full | np.isnan(frame["clock_done"]))
    cases, stages = np.nonzero(keep)
    received = frame["received_at"][cases]
    return {
        "case_id": case_ids[cases],
        "stage": np.array([str(s) for s in CLOCK_STAGES], dtype=object)[stages],
        "started_at": to_times(received, frame["clock_start"][keep]),
        "due_at": to_times(received, frame["clock_due"][keep]),
        "done_at": to_times(received, frame["clock_done"][keep]),
        "warned": np.full(len(cases), "", dtype=object),
        "updated_at": np.full(len(cases), np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")),
    }


def insert_clocks(clocks: dict, sqlite: bool) -> None:
    """Write the clocks in batches with ids assigned here."""
    columns = ("id", *clocks)
    clocks = {"id": bulk_load.next_id(CaseClock) + np.arange(len(clocks["case_id"])), **clocks}
    with bulk_load.bulk_load(CaseClock.__table__):
        for rows in bulk_load.batches(len(clocks["id"])):
            values = [bulk_load.stored_values(clocks[name][rows], sqlite) for name in columns]
            bulk_load.bulk_insert(CaseClock.__table__, columns, list(zip(*values, strict=True)))
    bulk_load.advance_sequence(CaseClock.__table__)


# ---------------------------------------------------------------- timeline

EVENT_COLUMNS = ("id", "case_id", "seq", "kind", "actor_id", "at", "note", "data", "prev_hash", "hash")
HEAD_COLUMNS = ("id", "chain", "subject_id", "length", "last_hash", "signature")


def _states_along_chain() -> list[CaseStatus]:
    """The state a case is in before each step of CHAIN, then after the last, walked along the
    lifecycle's own transitions (a step that moves no state, as the on-site check, keeps it)."""
    states = [CaseStatus.REGISTERED]
    for name, *_ in CHAIN:
        states.append(STEPS[name].target or states[-1])
    return states


STATES = _states_along_chain()


@dataclass
class _EventContent:
    """The fields ``timeline.event_hash`` reads, without the cost of an ORM object each."""

    case_id: int
    seq: int
    kind: str
    actor_id: int | None
    at: datetime
    note: str
    data: dict
    prev_hash: str


def _chain(case_id: int, steps: list[tuple]) -> list[tuple]:
    """Hash-link one case's steps (kind, note, actor, at, data) into event rows without ids,
    exactly as ``append_event`` would have: seq from 1, the first prev_hash GENESIS_HASH."""
    rows, prev_hash = [], GENESIS_HASH
    for seq, (kind, note, actor, at, data) in enumerate(steps, start=1):
        content = _EventContent(case_id, seq, kind, actor, at, note, data, prev_hash)
        digest = event_hash(content)
        rows.append((case_id, seq, kind, actor, at, note, data, prev_hash, digest))
        prev_hash = digest
    return rows


def _register_step(case: dict) -> tuple:
    """The registration event, with the data intake records."""
    data = {"to": str(CaseStatus.REGISTERED), "channel": case["channel"], "repeat_of_id": case["repeat_of_id"]}
    return ("register", "", case["created_by"], case["registered_at"], data)


def _step_data(index: int, case: dict) -> dict:
    """What services.lifecycle keeps of a step: the move and its structured fields."""
    after = STATES[index + 1]
    fields = {}
    if index == ACCEPT:
        fields = {"legal_track": case["legal_track"]}
    elif index == ASSIGN:
        fields = {k: case[k] for k in ("department_id", "responsible_person_id", "leading_official_id")}
    elif index == REPLY:
        fields = {"decision": case["decision"]}
    elif index == FOLLOW_UP:
        fields = {"satisfaction": case["satisfaction"]}
        after = CaseStatus.HANDLING if case["reopened"] else after
    kept = {k: v for k, v in fields.items() if v is not None}
    return {"from": str(STATES[index]), "to": str(after), **kept}


def _case_steps(case: dict) -> list[tuple]:
    """The timeline a case's history implies, as the lifecycle would have written it:
    register, each step taken, then its side step (decline, transfer, return request)."""
    actors = {"desk": case["command"], "handler": case["handler"], "field": case["field"]}
    steps = [_register_step(case)]
    for index, ((name, actor, *_), at) in enumerate(zip(CHAIN, case["milestones"], strict=True)):
        if at is None:
            break
        steps.append((name, STEP_NOTES.get(name, ""), actors[actor], at, _step_data(index, case)))
    side = SIDE_STEPS.get(case["status"])
    if side:
        data = {"from": str(STATES[len(steps) - 1]), "to": case["status"]}
        if case["transferred_to"]:
            data["transferred_to"] = case["transferred_to"]
        steps.append((side[0], "", actors[side[1]], case["side_at"], data))
    return steps


def _satisfaction(frame: dict, rows: slice, columns: dict) -> list[str | None]:
    """The rating each follow-up recorded: dissatisfied for the reopened cases, mostly
    satisfied otherwise; none where nobody could be asked (anonymous or patrol-found)."""
    basically = (frame["template"][rows] % 4 == 0).tolist()
    return [
        str(Satisfaction.DISSATISFIED) if reopened
        else str(Satisfaction.BASICALLY_SATISFIED if rough else Satisfaction.SATISFIED) if asked
        else None
        for reopened, rough, asked in zip(columns["reopened"], basically, columns["has_petitioner"], strict=True)
    ]


def _register_columns(table: dict, frame: dict, rows: slice) -> dict:
    """Per case of the batch, what its registration event is made of."""
    return {
        "id": table["id"][rows].tolist(),
        "registered_at": bulk_load.python_values(frame["registered_at"][rows]),
        "created_by": table["created_by_id"][rows].tolist(),
        "channel": table["channel"][rows].tolist(),
        "repeat_of_id": bulk_load.python_values(table["repeat_of_id"][rows]),
    }


def _history_columns(table: dict, frame: dict, rows: slice) -> dict:
    """Per case of the batch, what its whole timeline and handling records are made of."""
    milestones = zip(*(bulk_load.python_values(frame["milestone_at"][rows, j]) for j in range(len(CHAIN))), strict=True)
    columns = _register_columns(table, frame, rows)
    columns.update(
        milestones=list(milestones),
        side_at=bulk_load.python_values(frame["side_at"][rows]),
        handle_due_at=bulk_load.python_values(table["handle_due_at"][rows]),
        grid_id=bulk_load.python_values(table["grid_id"][rows]),
        lon=table["input_lon"][rows].tolist(),
        lat=table["input_lat"][rows].tolist(),
        handler=frame["handler_id"][rows].tolist(),
        field=frame["field_id"][rows].tolist(),
        reopened=frame["reopened"][rows].tolist(),
        has_petitioner=(table["petitioner_name"][rows] != None).tolist(),  # noqa: E711
        decision=np.where(frame["template"][rows] % 5 == 0, str(ReplyDecision.EXPLAIN),
                          str(ReplyDecision.SUPPORT)).tolist(),
    )
    for name in ("status", "legal_track", "transferred_to", "category"):
        columns[name] = table[name][rows].tolist()
    for name in ("department_id", "responsible_person_id", "leading_official_id"):
        columns[name] = bulk_load.python_values(table[name][rows])
    columns["satisfaction"] = _satisfaction(frame, rows, columns)
    return columns


def _as_cases(columns: dict, command_id: int) -> list[dict]:
    """Column lists turned into one dict per case."""
    names = list(columns)
    return [dict(zip(names, values, strict=True), command=command_id) for values in zip(*columns.values(),
                                                                                         strict=True)]  # fmt: skip


def _timeline_rows(cases: list[dict], full: bool, sqlite: bool) -> list[tuple]:
    """Hash-chained event rows (without ids) for a batch of cases, times and JSON as stored
    (json.dumps, as SQLAlchemy's JSON type would)."""
    return [
        (case_id, seq, kind, actor, bulk_load.stored_time(at, sqlite), note, json.dumps(data), prev_hash, digest)
        for case in cases
        for case_id, seq, kind, actor, at, note, data, prev_hash, digest in _chain(
            case["id"], _case_steps(case) if full else [_register_step(case)]
        )
    ]


def insert_timelines(table: dict, frame: dict, command_id: int, user_names: dict[int, str], sqlite: bool) -> int:
    """Write every case's hash-chained timeline in bulk; return how many events.

    Up to FULL_TIMELINE_MAX cases each get their whole history (register, accept, assign,
    sign, …) and the handling records the lifecycle's next steps read; above that only the
    "register" event, because a full history for a million cases would be millions more
    hashed rows for little demo value.
    """
    count = len(table["id"])
    full = count <= FULL_TIMELINE_MAX
    scenes = evidence.store_photos() if full else {}
    next_id, written = bulk_load.next_id(CaseEvent), 0
    next_head_id = bulk_load.next_id(ChainHead)
    with bulk_load.bulk_load(CaseEvent.__table__):
        for rows in bulk_load.batches(count):
            columns = _history_columns(table, frame, rows) if full else _register_columns(table, frame, rows)
            cases = _as_cases(columns, command_id)
            events = _timeline_rows(cases, full, sqlite)
            bulk_load.bulk_insert(CaseEvent.__table__, EVENT_COLUMNS, [(next_id + k, *e) for k, e in enumerate(events)])
            heads = _head_rows(events, next_head_id)
            bulk_load.bulk_insert(ChainHead.__table__, HEAD_COLUMNS, heads)
            next_id, written, next_head_id = next_id + len(events), written + len(events), next_head_id + len(heads)
            if full:
                insert_handling_records(cases, user_names)
                evidence.insert_onsite_checks(cases, scenes, sqlite)
    bulk_load.advance_sequence(CaseEvent.__table__)
    bulk_load.advance_sequence(ChainHead.__table__)
    return written


def _head_rows(events: list[tuple], first_id: int) -> list[tuple]:
    """Each case's signed chain head (its last event), as ``timeline.append_event`` leaves it."""
    last = {case_id: (seq, digest) for case_id, seq, *_, digest in events}
    return [(first_id + k, CASE_CHAIN, case_id, seq, digest, head_signature(CASE_CHAIN, case_id, seq, digest))
            for k, (case_id, (seq, digest)) in enumerate(last.items())]


# ---------------------------------------------------------------- handling records


def _plan_row(case: dict, names: dict[int, str]) -> dict:
    """The one-case-one-plan (一案一策) a case in handling or beyond was given."""
    due = case["handle_due_at"]
    return {
        "case_id": case["id"], "measures": PLAN_MEASURES, "department_id": case["department_id"],
        "responsible_person_id": case["handler"], "responsible_name": names[case["handler"]],
        "target_date": (due + timedelta(hours=8)).date(), "created_by_id": case["handler"],
        "created_at": case["milestones"][PLAN],
    }  # fmt: skip


def _reply_row(case: dict) -> dict:
    """The written reply (书面答复) and, once reviewed, its passed review."""
    problem, law = PROBLEMS[case["category"]]
    reviewed = case["milestones"][REVIEW]
    return {
        "case_id": case["id"], "request_summary": f"反映{problem}问题，请求依法查处。",
        "facts_and_reasons": REPLY_FACTS, "decision": case["decision"],
        "legal_basis": f"{law}；《信访工作条例》第三十二条", "replied_by_id": case["handler"],
        "replied_at": case["milestones"][REPLY], "review_passed": True if reviewed else None,
        "reviewed_by_id": case["command"] if reviewed else None, "reviewed_at": reviewed,
    }  # fmt: skip


def _follow_up_row(case: dict) -> dict:
    """The follow-up (回访): the petitioner's rating, or why nobody could be asked."""
    return {
        "case_id": case["id"], "satisfaction": case["satisfaction"], "source": "desk",
        "not_possible_reason": "" if case["satisfaction"] else "无信访人联系方式（匿名或巡查发现），无法回访",
        "recorded_by_id": case["command"], "recorded_at": case["milestones"][FOLLOW_UP],
    }  # fmt: skip


def _return_row(case: dict) -> dict:
    """The pending return request (退单) of a case waiting for the assigner's decision."""
    return {
        "case_id": case["id"], "reason": "反映事项不属于本单位职责范围，请改派相关部门。",
        "requested_by_id": case["handler"], "requested_at": case["side_at"],
    }  # fmt: skip


def insert_handling_records(cases: list[dict], names: dict[int, str]) -> None:
    """The records the lifecycle's next steps read, so every action on a demo case works as
    on a real one: plans, replies and reviews, follow-ups, and pending return requests."""
    tables = {CasePlan: [], CaseReply: [], FollowUp: [], CaseReturn: []}
    for case in cases:
        taken = sum(at is not None for at in case["milestones"])
        if taken > PLAN:
            tables[CasePlan].append(_plan_row(case, names))
        if taken > REPLY:
            tables[CaseReply].append(_reply_row(case))
        if taken > FOLLOW_UP:
            tables[FollowUp].append(_follow_up_row(case))
        if case["status"] == CaseStatus.RETURN_REQUESTED:
            tables[CaseReturn].append(_return_row(case))
    for model, rows in tables.items():
        if rows:
            db.session.execute(insert(model.__table__), rows)
