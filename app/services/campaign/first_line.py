"""'First line, first time' (第一线、第一次、第一时间) measures per level-3 grid and per town.

Each measure is a count over the cases received in a period, with its base:
discovered first (on the potential list before any petition), signed on time, first on-site
check on time, contact card issued, resolved first time (closed, never reopened or
repeated), and satisfaction (satisfied or basically satisfied among rated cases).
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Case, ContactCard, FollowUp, Grid
from app.models.vocab import CaseStatus, Channel, ListKind, Satisfaction
from app.services import clock

MEASURES = {
    "discovered_first": "首先发现",
    "signed_on_time": "按时签收",
    "onsite_on_time": "按时首次现场核查",
    "contact_card": "发放联系卡",
    "resolved_first_time": "一次化解",
    "satisfied": "满意（含基本满意）",
}
CONTENT = {Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED}


def _on_time(done: datetime | None, due: datetime | None, now: datetime) -> bool | None:
    """True/False once it can be judged, None while not due and not done (or no deadline)."""
    if due is None or (done is None and now <= due):
        return None
    return done is not None and done <= due


def _latest_ratings(case_ids: list[int]) -> dict[int, str]:
    """Each case's latest rated follow-up."""
    rows = db.session.scalars(select(FollowUp).where(FollowUp.case_id.in_(case_ids), FollowUp.satisfaction.isnot(None))
                              .order_by(FollowUp.recorded_at, FollowUp.id))
    return {f.case_id: f.satisfaction for f in rows}


def case_marks(case: Case, carded: set[int], ratings: dict[int, str], now: datetime) -> dict[str, bool | None]:
    """One case's result on each measure (None: does not count for that measure)."""
    first = case.list_kind == ListKind.POTENTIAL or (
        case.repeat_of is not None and case.repeat_of.list_kind == ListKind.POTENTIAL)
    return {
        "discovered_first": first,
        "signed_on_time": _on_time(case.signed_at, case.sign_due_at, now),
        "onsite_on_time": _on_time(case.first_onsite_at, case.onsite_due_at, now),
        "contact_card": None if Channel(case.channel).is_patrol else case.id in carded,
        "resolved_first_time": (case.reopened_count == 0 and case.repeat_count == 0)
        if case.status == CaseStatus.CLOSED else None,
        "satisfied": ratings[case.id] in CONTENT if case.id in ratings else None,
    }


def _empty() -> dict:
    return {key: {"label": label, "count": 0, "base": 0, "rate": None} for key, label in MEASURES.items()}


def _add(totals: dict, marks: dict) -> None:
    for key, mark in marks.items():
        if mark is not None:
            totals[key]["base"] += 1
            totals[key]["count"] += int(mark)


def _finish(totals: dict) -> dict:
    for value in totals.values():
        value["rate"] = round(value["count"] / value["base"], 4) if value["base"] else None
    return totals


def first_line_measures(start: datetime, end: datetime) -> dict:
    """``{"grids": [...], "towns": [...]}``: each row has its id, name and the six measures."""
    now = clock.now()
    cases = db.session.scalars(select(Case).options(selectinload(Case.repeat_of))
                               .where(Case.received_at >= start, Case.received_at < end)).all()
    ids = [c.id for c in cases]
    carded = set(db.session.scalars(select(ContactCard.case_id).where(ContactCard.case_id.in_(ids))))
    ratings = _latest_ratings(ids)
    by_grid: dict[int, dict] = defaultdict(_empty)
    by_town: dict[int, dict] = defaultdict(_empty)
    for case in cases:
        marks = case_marks(case, carded, ratings, now)
        if case.grid_id is not None:
            _add(by_grid[case.grid_id], marks)
        if case.town_id is not None:
            _add(by_town[case.town_id], marks)
    grids = db.session.scalars(select(Grid).where(Grid.level.in_((2, 3))).order_by(Grid.code)).all()
    return {
        "grids": [{"grid_id": g.id, "name": g.name, "town_id": g.parent_id, "measures": _finish(by_grid[g.id])}
                  for g in grids if g.level == 3],
        "towns": [{"town_id": g.id, "name": g.name, "measures": _finish(by_town[g.id])}
                  for g in grids if g.level == 2],
    }
