"""Reading cases: scoped, filtered, ordered and paged lists, and a case as one user sees it."""


from sqlalchemy import case as when
from sqlalchemy import false, func, nulls_last, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Case, CaseExtension, CaseReply, User
from app.models.vocab import OPEN_STATUSES, CaseStatus, QueueTab, Role
from app.services import clock
from app.services.access import Action, may, scoped_cases
from app.services.cases.deadlines import (
    case_deadline_state,
    deadline_states,
    estimated_stages,
    overdue_clause,
    yellow_clause,
)
from app.services.cases.privacy import petitioner_view, petitioner_views
from app.services.paging import page_of

_FLAG_COLUMNS = {
    "above_level": Case.above_level,
    "dissatisfied": Case.dissatisfied,
    "superior_assigned": Case.superior_assigned,
    "outside_city": Case.outside_city,
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


def _tab_clause(user: User, key: str) -> ColumnElement[bool]:
    """The WHERE clause of one tab (within the user's scope and the other filters).

    待签收 is work assigned and not yet signed; 待办理 the other open cases waiting for the
    user's part (``_to_handle``: for most roles every other open case); 待审批 what waits for
    the user's decision (``_to_decide``); 即将超期 and
    已超期 the yellow and red of the deadline colours; 我交办的 what this user assigned;
    全部 every case the other filters let through.
    """
    return _TAB_CLAUSES[key](user, clock.now())


def _opened() -> ColumnElement[bool]:
    return Case.status.in_([str(s) for s in OPEN_STATUSES])


def _to_sign(user: User) -> ColumnElement[bool]:
    """待签收: work assigned and not yet signed; a leading official signs nothing."""
    return false() if user.role == Role.LEADING_OFFICIAL else Case.status == CaseStatus.ASSIGNED


def _to_handle(user: User) -> ColumnElement[bool]:
    """待办理: the open cases waiting for this user's part. A department's part is to handle
    what it signed (一案一策, 答复); intake, a return under review and the steps after its
    reply belong to others, so they are not its work (they stay under 全部)."""
    if user.role == Role.DEPARTMENT_OFFICER:
        return Case.status.in_([CaseStatus.SIGNED, CaseStatus.HANDLING])
    return _opened() & (Case.status != CaseStatus.ASSIGNED)


def _to_decide(user: User) -> ColumnElement[bool]:
    """待审批: what waits for this user's decision, as the case page offers it (lifecycle's
    ``refuse`` rules): a reply to review that is not their own, a return request of a case
    they assigned (the command office: any), an extension another asked for. Only the
    overseers (二级网格, 指挥部办公室) decide; for everyone else the tab is empty."""
    if user.role not in (Role.SUPERVISOR, Role.COMMAND_OFFICE):
        return false()
    own_reply = select(CaseReply.case_id).where(CaseReply.replied_by_id == user.id, CaseReply.review_passed.is_(None))
    others_extension = select(CaseExtension.case_id).where(CaseExtension.approved.is_(None),
                                                          CaseExtension.requested_by_id != user.id)
    returns = Case.status == CaseStatus.RETURN_REQUESTED
    if user.role != Role.COMMAND_OFFICE:
        returns = returns & (Case.assigned_by_id == user.id)
    return or_(
        (Case.status == CaseStatus.REPLIED) & Case.id.not_in(own_reply),
        returns,
        (Case.status == CaseStatus.HANDLING) & Case.id.in_(others_extension),
    )


# Each tab's clause is built only when asked for (a queue page asks for every tab once).
_TAB_CLAUSES = {
    QueueTab.TO_SIGN: lambda user, now: _to_sign(user),
    QueueTab.TO_HANDLE: lambda user, now: _to_handle(user),
    QueueTab.TO_DECIDE: lambda user, now: _to_decide(user),
    QueueTab.DUE_SOON: lambda user, now: _opened() & yellow_clause(now),
    QueueTab.OVERDUE: lambda user, now: _opened() & overdue_clause(now),
    QueueTab.ASSIGNED_BY_ME: lambda user, now: Case.assigned_by_id == user.id,
    QueueTab.ALL: lambda user, now: Case.id.isnot(None),
}


def _search_clause(user: User, text: str) -> ColumnElement[bool]:
    """Cases whose number, work-order number, address, title or description holds ``text``.

    The petitioner's phone is searched only for those who may read it: for anyone else a
    phone number finds nothing by the phone, so a search cannot tell them whose case it is.
    """
    text = text.strip()
    fields = [Case.number, Case.work_order_number, Case.address, Case.title, Case.description]
    found = [column.icontains(text, autoescape=True) for column in fields]
    digits = text.replace(" ", "").replace("-", "")
    if may(user, Action.VIEW_PERSONAL_DATA) and digits.isdigit() and len(digits) >= 4:
        found.append(Case.petitioner_phone.contains(digits, autoescape=True))
    return or_(*found)


def filtered_cases(user: User, **filters):
    """The user's scoped SELECT narrowed by the given filters (None means no filter)."""
    query = _narrowed(user, **filters)
    if filters.get("tab"):
        query = query.where(_tab_clause(user, filters["tab"]))
    return query


def tab_counts(user: User, **filters) -> dict[str, int]:
    """How many cases each queue tab holds under the other filters, in one grouped query."""
    columns = [func.coalesce(func.sum(when((_tab_clause(user, tab), 1), else_=0)), 0).label(tab.value)
               for tab in QueueTab]
    narrowed = _narrowed(user, **{k: v for k, v in filters.items() if k != "tab"})
    return {key: int(value) for key, value in db.session.execute(narrowed.with_only_columns(*columns)).one()
            ._mapping.items()}


def _narrowed(user: User, **filters):
    """The user's scoped SELECT narrowed by every filter but the tab."""
    query = scoped_cases(user)
    if filters.get("q") and filters["q"].strip():
        query = query.where(_search_clause(user, filters["q"]))
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


def case_numbers(user: User, case_ids: list[int]) -> dict[int, str]:
    """The numbers of those of these cases the user may see, by id (one query)."""
    rows = db.session.execute(scoped_cases(user).with_only_columns(Case.id, Case.number).where(Case.id.in_(case_ids)))
    return dict(rows.all())


class CaseView:
    """A case as one user sees it now, for the API to dump: the case's own fields, plus the
    petitioner block as ``privacy`` decided it for this user and the deadline state now."""

    def __init__(self, case: Case, petitioner: dict, deadline_state: str, due_estimated: bool = False):
        self.case = case
        self.petitioner = petitioner
        self.deadline_state = deadline_state
        # A running clock reaches a year whose holidays are not entered (按周末估算).
        self.due_estimated = due_estimated

    def __getattr__(self, name: str):
        """Every other field is the case's own."""
        return getattr(self.case, name)


def case_view(user: User, case: Case) -> CaseView:
    """The case as this user may see it: personal data masked unless they handle it."""
    return CaseView(case, petitioner_view(case, user), str(case_deadline_state(case, clock.now())),
                    bool(estimated_stages(case)))


def case_views(user: User, cases: list[Case]) -> list[CaseView]:
    """Each case as this user may see it, the whole page's clocks and scope read at once."""
    states = deadline_states(cases, clock.now())
    petitioners = petitioner_views(cases, user)
    return [CaseView(case, petitioners[case.id], str(states[case.id])) for case in cases]
