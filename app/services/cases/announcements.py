"""Who is told when a step gives them work: each lifecycle step's notification.

``announce`` is called by ``lifecycle.take`` after every step and by intake after a case is
registered; it picks the people and the words, and ``notify.outbox.notify`` does the rest.
Messages name the case by its number, category and town, never by the petitioner's details.
"""

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseExtension, CaseReply, CaseReturn, Grid, User
from app.models.vocab import Category, NotificationKind, Role
from app.services.notify.outbox import notify

K = NotificationKind


def announce_registered(case: Case, actor: User, now: datetime) -> None:
    """A new case in a town: its supervisors sign for the work; with no town, the command office."""
    people = users_of(Role.SUPERVISOR, grid_id=case.town_id) if case.town_id else users_of(Role.COMMAND_OFFICE)
    notify(K.NEW_CASE, people, f"{_about(case)}已登记，请及时受理。", case, now, exclude=actor)


def announce_step(case: Case, step: str, actor: User, now: datetime) -> None:
    """The notification a lifecycle step sends, if it gives someone work."""
    handler = _STEPS.get(step)
    if handler is not None:
        handler(case, actor, now)


def _assigned(case: Case, actor: User, now: datetime) -> None:
    """交办: the department (its officers, and the responsible person) signs for it; the
    village's inspectors get the on-site check unless one was already made."""
    people = [case.responsible_person, *users_of(Role.DEPARTMENT_OFFICER, department_id=case.department_id)]
    notify(K.ASSIGNED, people, f"{_about(case)}已交办，请及时签收办理。", case, now, exclude=actor)
    if case.first_onsite_at is None and case.grid_id is not None:
        notify(K.FIELD_TASK, users_of(Role.INSPECTOR, grid_id=case.grid_id),
               f"{_about(case)}需现场核查，请尽快到现场。", case, now, exclude=actor)


def _return_requested(case: Case, actor: User, now: datetime) -> None:
    """退单 asked for: the assigner (else the town's supervisors) decides."""
    people = [case.assigned_by] if case.assigned_by is not None else users_of(Role.SUPERVISOR, grid_id=case.town_id)
    notify(K.RETURN_REQUESTED, people, f"{_about(case)}申请退单，请审批。", case, now, exclude=actor)


def _return_decided(case: Case, actor: User, now: datetime) -> None:
    """退单 decided: the officer who asked learns the answer."""
    decided = db.session.scalar(select(CaseReturn).where(CaseReturn.case_id == case.id,
                                                         CaseReturn.approved.is_not(None))
                                .order_by(CaseReturn.id.desc()).limit(1))
    answer = "已同意退单" if decided.approved else "不同意退单，请签收办理"
    notify(K.RETURN_DECIDED, [db.session.get(User, decided.requested_by_id)], f"{_about(case)}{answer}。", case, now,
           exclude=actor)


def _review_redo(case: Case, actor: User, now: datetime) -> None:
    """退回重办: whoever wrote the reply, and the responsible person, do it again."""
    reply = db.session.scalar(select(CaseReply).where(CaseReply.case_id == case.id)
                              .order_by(CaseReply.id.desc()).limit(1))
    people = [db.session.get(User, reply.replied_by_id), case.responsible_person]
    notify(K.REVIEW_REDO, people, f"{_about(case)}的答复被退回重办，请重新办理。", case, now, exclude=actor)


def _approvers(case: Case, actor: User) -> list[User]:
    """Who decides what ``actor`` asked for or wrote: the town's supervisors other than the actor
    (nobody approves their own request or passes their own reply), else the command office.
    A town supervisor who handles a case himself is thus answered by the command office."""
    return [u for u in users_of(Role.SUPERVISOR, grid_id=case.town_id) if u.id != actor.id] or \
        users_of(Role.COMMAND_OFFICE)


def _extension_requested(case: Case, actor: User, now: datetime) -> None:
    """延期 asked for: the town's other supervisors approve, else the command office."""
    notify(K.EXTENSION_REQUESTED, _approvers(case, actor), f"{_about(case)}申请延期，请审批。", case, now,
           exclude=actor)


def _replied(case: Case, actor: User, now: datetime) -> None:
    """答复 written: it is reviewed before the petitioner reads it, by the same approvers."""
    notify(K.REVIEW_REQUESTED, _approvers(case, actor), f"{_about(case)}已答复，请审核答复。", case, now,
           exclude=actor)


def _extension_decided(case: Case, actor: User, now: datetime) -> None:
    """延期 decided: the person who asked learns the answer."""
    decided = db.session.scalar(select(CaseExtension).where(CaseExtension.case_id == case.id,
                                                            CaseExtension.approved.is_not(None))
                                .order_by(CaseExtension.id.desc()).limit(1))
    answer = f"延期{decided.days}天已批准" if decided.approved else "延期申请未获批准，请按原时限办理"
    notify(K.EXTENSION_DECIDED, [db.session.get(User, decided.requested_by_id)], f"{_about(case)}{answer}。", case,
           now, exclude=actor)


_STEPS = {
    "assign": _assigned,
    "request_return": _return_requested,
    "approve_return": _return_decided,
    "reject_return": _return_decided,
    "review_redo": _review_redo,
    "request_extension": _extension_requested,
    "reply": _replied,
    "approve_extension": _extension_decided,
    "reject_extension": _extension_decided,
}


def _about(case: Case) -> str:
    """How a message names a case: number, category and town; nothing about the petitioner."""
    town = db.session.get(Grid, case.town_id) if case.town_id else None
    where = f"，{town.name}" if town is not None else ""
    return f"案件{case.number}（{Category(case.category).label}{where}）"


def users_of(role: Role, **where) -> list[User]:
    """Active users of one role, filtered by equal columns; none when a filter value is missing."""
    if any(value is None for value in where.values()):
        return []
    query = select(User).filter_by(role=role, active=True, **where).order_by(User.id)
    return list(db.session.scalars(query))
