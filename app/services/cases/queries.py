"""Reading cases: scoped, filtered, ordered and paged lists."""


from sqlalchemy import nulls_last
from sqlalchemy.orm import selectinload

from app.models import Case, User
from app.models.vocab import OPEN_STATUSES
from app.services.access import scoped_cases
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
        options=(
            selectinload(Case.grid),
            selectinload(Case.town),
            selectinload(Case.department),
            selectinload(Case.responsible_person),
            selectinload(Case.leading_official),
        ),
    )
