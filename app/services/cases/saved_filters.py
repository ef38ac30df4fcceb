"""Saved queue filters (常用筛选): each desk user's named searches of the work queue."""

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import SavedFilter, User

MAX_PER_USER = 20
# The page number is where the user was, not what they were looking for.
_NOT_KEPT = {"page", "csrf_token", "name"}


def filters_of(user: User) -> list[SavedFilter]:
    """The user's saved filters, by name."""
    return list(db.session.scalars(select(SavedFilter).where(SavedFilter.user_id == user.id)
                                   .order_by(SavedFilter.name)))


def save_filter(user: User, name: str, query_string: str) -> SavedFilter:
    """Keep the queue's current filters under a name; the same name again replaces them."""
    name = name.strip()
    if not 1 <= len(name) <= 40:
        message = "请填写 1 至 40 字的名称。"
        raise InvalidInput(message, {"name": [message]})
    kept = urlencode([(k, v) for k, v in parse_qsl(query_string) if k not in _NOT_KEPT and v.strip()])
    if not kept:
        raise InvalidInput("当前没有筛选条件可保存。", {"query": ["当前没有筛选条件可保存。"]})
    saved = db.session.scalar(select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name))
    if saved is None:
        count = db.session.scalar(select(func.count(SavedFilter.id)).where(SavedFilter.user_id == user.id))
        if count >= MAX_PER_USER:
            raise InvalidInput(f"最多保存 {MAX_PER_USER} 个常用筛选，请先删除不用的。")
        saved = SavedFilter(user_id=user.id, name=name, query=kept)
        db.session.add(saved)
    saved.query = kept[:1000]
    db.session.flush()
    return saved


def delete_filter(user: User, filter_id: int) -> None:
    """Forget one of the user's saved filters (another user's does not exist for them)."""
    saved = db.session.scalar(select(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.user_id == user.id))
    if saved is None:
        raise NotFound("该常用筛选不存在。")
    db.session.delete(saved)
    db.session.flush()
