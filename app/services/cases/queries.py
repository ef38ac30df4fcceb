"""Reading cases: scoped, filtered, ordered and paged lists, and a case as one user sees it."""


from sqlalchemy import nulls_last
from sqlalchemy.orm import joinedload

from app.models import Case, User
from app.models.vocab import OPEN_STATUSES
from app.services import clock
from app.services.access import scoped_cases
from app.services.cases.deadlines import case_deadline_state, deadline_states
from app.services.cases.privacy import petitioner_view, petitioner_views
from app.services.paging import page_of

_FLAG_COLUMNS = {
    "above_level": Case.above_level,
    "dissatisfied": Case.dissatisfied,
    "superior_assigned": Case.superior_assigned,
}
_EQUAL_COLUMNS = {
    "grid_id": Case.grid_id,
    "town_id": Case.town_id,
    "department_id": Case.department_id,
    "category": Case.category,
    "channel": Case.channel,
    "list_kind": Case.list_kind,
    "inspection_referral": Case.inspection_referral,
}


def filtered_cases(user: User, **filters):
    """The user's scoped SELECT narrowed by the given filters (None means no filter)."""
    query = scoped_cases(user)
    for name, column in _EQUAL_COLUMNS.items():
        if filters.get(name) is not None:
            query = query.where(column == filters[name])
    for name, column in _FLAG_COLUMNS.items():
        if filters.get(name) is not None:
            query = query.where(column.is_(filters[name]))
    if filters.get("irregular") is not None:
        query = query.where(Case.irregular_count > 0 if filters["irregular"] else Case.irregular_count == 0)
    if filters.get("repeat") is not None:
        query = query.where(Case.repeat_of_id.isnot(None) if filters["repeat"] else Case.repeat_of_id.is_(None))
    if filters.get("status"):
        query = query.where(Case.status.in_(filters["status"]))
    if filters.get("open") is not None:
        opened = Case.status.in_([str(s) for s in OPEN_STATUSES])
        query = query.where(opened if filters["open"] else ~opened)
    return query


def list_cases(user: User, page: int = 1, per_page: int = 50, **filters) -> dict:
    """A page of the user's cases, nearest due time first, then newest."""
    return page_of(
        filtered_cases(user, **filters), page, per_page,
        order_by=(nulls_last(Case.due_at.asc()), Case.received_at.desc(), Case.id.desc()),
        options=PAGE_LOADS,
    )


# What a page of cases shows beside each case, joined into the page's one SELECT (each is
# one row per case, so the join neither multiplies rows nor costs a statement of its own).
PAGE_LOADS = (
    joinedload(Case.grid),
    joinedload(Case.town),
    joinedload(Case.department),
    joinedload(Case.responsible_person),
    joinedload(Case.leading_official),
)


class CaseView:
    """A case as one user sees it now, for the API to dump: the case's own fields, plus the
    petitioner block as ``privacy`` decided it for this user and the deadline state now."""

    def __init__(self, case: Case, petitioner: dict, deadline_state: str):
        self.case = case
        self.petitioner = petitioner
        self.deadline_state = deadline_state

    def __getattr__(self, name: str):
        """Every other field is the case's own."""
        return getattr(self.case, name)


def case_view(user: User, case: Case) -> CaseView:
    """The case as this user may see it: personal data masked unless they handle it."""
    return CaseView(case, petitioner_view(case, user), str(case_deadline_state(case, clock.now())))


def case_views(user: User, cases: list[Case]) -> list[CaseView]:
    """Each case as this user may see it, the whole page's clocks and scope read at once."""
    states = deadline_states(cases, clock.now())
    petitioners = petitioner_views(cases, user)
    return [CaseView(case, petitioners[case.id], str(states[case.id])) for case in cases]
