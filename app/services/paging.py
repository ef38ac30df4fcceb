"""One page of a list: its rows and the paging figures every list endpoint answers with."""

from math import ceil

from sqlalchemy import Select, func, select

from app.extensions import db


def page_of(query: Select, page: int, per_page: int, order_by: tuple, options: tuple = ()) -> dict:
    """``{"items", "meta": {page, per_page, total, pages}}`` for one page of ``query``.

    The total is counted on the filtered query before ordering and eager loads, which only
    the page's rows need.
    """
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.options(*options).order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {"items": items, "meta": {"page": page, "per_page": per_page, "total": total,
                                     "pages": ceil(total / per_page)}}
