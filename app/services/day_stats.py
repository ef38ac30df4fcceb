"""The daily summary of cases (``day_stats``): the wall's panels, the village scores and the town
ranking add up a few thousand rows per Beijing day instead of reading a million cases.

Kinds of row (``DayStat.kind``), each the count of the cases of one key:

* ``r`` **received**: per received day, how many cases, open, closed, above-level, repeat,
  signed and on site (and on time), resolved the first time, and their follow-ups rated and
  satisfied; ``c`` per received day and category, how many; ``t`` per received day and town,
  how many came in above level;
* ``o`` **open**: per received day, town and due day, the open cases, so "overdue at a
  moment" is a sum over due days before that day, plus today's whole hours from ``h``, the
  same per due *hour* (``due_day`` holds an hour number), plus a live count of the hour
  itself; ``w`` the same per town and due day whenever received (the ranking's open and
  overdue now);
* ``p`` **petitions**: per received day and level-3 grid, the above-level petitions by the
  deduction their arrival costs (``scoring``'s rules: single, repeat, exempt because the grid
  handled the matter first), the irregular ones that are not above level, and both together
  (what zeroes a grid during a campaign);
* ``l`` **listed**: per day from which an open case is on the long-unresolved list
  (久拖不解) by the clock (received + ``long_unresolved_open_days``, unreplied past its
  handling deadline + ``long_unresolved_overdue_days``; day 0 when it is listed whatever the
  time: reopened or petitioned above level often enough).

Rules:

* **One definition** (``contributions``): the SELECT that counts rows from cases. A rebuild
  runs it over every case; a write over the cases it touched, before and after; a period
  whose ends are not Beijing midnights over the cases of its partial first and last days
  (``tally``), so every answer is exact for any period.
* **Writes insert, never update.** The session hook notes the cases a transaction touches
  (cases, their follow-ups and clocks, and the above-level petitions whose deduction depends
  on them: those linked to the same original, or to a touched case), reads their rows before
  its first flush touches them, and just before commit inserts the difference between their
  rows after and before. No summary row is locked by two writers: fifty phones syncing into
  the same town and day never queue on it. On PostgreSQL the touched cases are locked
  (``FOR UPDATE``, id order) before their "before" is read, so two writers of one case take
  turns and each difference starts from what the other committed.
* The worker folds the differences into one row per key every minute (``fold``); an answer
  is the same before and after.
* Moments, not writes, move "overdue now" and the time criteria of the list: those are a sum
  of whole days before today and of today's whole hours, plus a count of the current hour's
  cases through an index (never more than an hour of deadlines, whatever the time of day).
* The ``l`` rows follow the list's thresholds (settings): saving one rebuilds them in the
  same transaction. Bulk loads outside the ORM (the demo) call ``rebuild_day_stats``, as do
  ``flask wall rebuild-stats`` and migration 0019.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from app.database import unindexed
from app.extensions import db
from app.models import Case, CaseClock, DayStat, FollowUp, Setting
from app.models.day_stats import COUNTS
from app.models.types import UTCDateTime
from app.models.vocab import OPEN_STATUSES, CaseStatus, Channel, Satisfaction
from app.services.settings import get_setting

OPEN = sorted(str(s) for s in OPEN_STATUSES)
ABOVE_LEVEL = sorted(str(c) for c in Channel.above_level_channels())
CONTENT = sorted(str(s) for s in (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED))
KEYS = ("kind", "day", "town_id", "grid_id", "category", "due_day")
KINDS = ("r", "c", "t", "o", "w", "h", "p", "l")
LISTED_SETTINGS = frozenset({"long_unresolved_open_days", "long_unresolved_overdue_days",
                             "long_unresolved_reopened_min", "unresolved_above_level_min"})
# The ``l`` day of a case listed whatever the time.
LISTED_ALWAYS = 0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BEIJING = timedelta(hours=8)
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
_EPOCH_DATE = date(1970, 1, 1)
# Session.info keys of the hook's work in progress.
_SEEN, _BEFORE, _RELIST = "day_stats_seen", "day_stats_before", "day_stats_relist"
# Ids per statement (SQLite allows 32,766 parameters).
_CHUNK = 2000
# The advisory lock that lets one fold run at a time (PostgreSQL).
_FOLD_LOCK = 0xDA75_7A75


def day_number(moment: datetime) -> int:
    """The Beijing day a moment falls on, as days since 1970-01-01."""
    return (moment - _EPOCH + _BEIJING) // _DAY


def day_date(day: int) -> date:
    """The Beijing calendar date of a day number."""
    return _EPOCH_DATE + timedelta(days=day)


def day_start(day: int) -> datetime:
    """00:00 Beijing time of a day number, in UTC."""
    return _EPOCH + day * _DAY - _BEIJING


def hour_number(moment: datetime) -> int:
    """The hour a moment falls in, as hours since 1970-01-01 00:00 UTC (Beijing days start on one)."""
    return (moment - _EPOCH) // _HOUR


def hour_start(hour: int) -> datetime:
    """The start of an hour number, in UTC."""
    return _EPOCH + hour * _HOUR


def hour_of(moment) -> ColumnElement[int]:
    """The hour number of a timestamp column, in SQL."""
    if db.engine.dialect.name == "sqlite":
        return cast(func.strftime("%s", moment), Integer) // 3600
    return cast(func.floor(func.extract("epoch", moment) / 3600), Integer)


def day_of(moment) -> ColumnElement[int]:
    """The Beijing day number of a timestamp column, in SQL (exact at midnight on both backends)."""
    if db.engine.dialect.name == "sqlite":
        return (cast(func.strftime("%s", moment), Integer) + 28800) // 86400
    return cast(func.floor((func.extract("epoch", moment) + 28800) / 86400), Integer)


def _is_open() -> ColumnElement[bool]:
    """The case is open (through no index: the rows wanted are those of a few days or a few ids,
    never every open case through ``ix_cases_status_due``)."""
    return unindexed(Case.status).in_(OPEN)


def _count(condition) -> ColumnElement[int]:
    """SUM(1 when condition)."""
    return func.sum(case((condition, 1), else_=0))


def _row(kind: str, keys: dict, counts: dict, wanted: Iterable[str] = COUNTS) -> list:
    """The SELECT list of one kind: every key (NULL where it has none), then every count (0 where
    none, or where not ``wanted``)."""
    typed = {"day": Integer(), "town_id": Integer(), "grid_id": Integer(), "category": String(), "due_day": Integer()}
    columns = [literal(kind, String()).label("kind")]
    columns += [keys.get(name, cast(null(), typed[name])).label(name) for name in KEYS[1:]]
    zero = literal(0, Integer())
    return columns + [(counts.get(name, zero) if name in wanted else zero).label(name) for name in COUNTS]


def _received(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``r`` rows of the cases matching ``where``."""
    opened, closed = Case.status.in_(OPEN), Case.status == CaseStatus.CLOSED
    rated = select(func.count(FollowUp.id)).where(FollowUp.case_id == Case.id, FollowUp.satisfaction.isnot(None))
    satisfied = select(func.count(FollowUp.id)).where(FollowUp.case_id == Case.id, FollowUp.satisfaction.in_(CONTENT))
    day = day_of(Case.received_at)
    counts = {
        "total": func.count(Case.id), "open": _count(opened), "closed": _count(closed),
        "above_level": _count(Case.above_level.is_(True)), "above_channel": _count(Case.channel.in_(ABOVE_LEVEL)),
        "repeat": _count(Case.repeat_of_id.isnot(None)),
        "signed": _count(Case.signed_at.isnot(None) & Case.sign_due_at.isnot(None)),
        "signed_on_time": _count(Case.signed_at <= Case.sign_due_at),
        "onsite": _count(Case.first_onsite_at.isnot(None) & Case.onsite_due_at.isnot(None)),
        "onsite_on_time": _count(Case.first_onsite_at <= Case.onsite_due_at),
        "first_time": _count(and_(closed, Case.reopened_count == 0, Case.repeat_count == 0)),
        "rated": func.sum(rated.scalar_subquery()), "satisfied": func.sum(satisfied.scalar_subquery()),
    }
    return select(*_row("r", {"day": day}, counts, wanted)).where(*where).group_by(day)


def _categories(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``c`` rows: cases by received day and category."""
    day = day_of(Case.received_at)
    return (select(*_row("c", {"day": day, "category": Case.category}, {"total": func.count(Case.id)}, wanted))
            .where(*where).group_by(day, Case.category))


def _towns(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``t`` rows: above-level petitions by received day and town (the ranking's column)."""
    day = day_of(Case.received_at)
    counts = {"above_channel": func.count(Case.id)}
    return (select(*_row("t", {"day": day, "town_id": Case.town_id}, counts, wanted))
            .where(unindexed(Case.channel).in_(ABOVE_LEVEL), *where).group_by(day, Case.town_id))


def _open(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``o`` rows: open cases by received day, town and due day."""
    day, due = day_of(Case.received_at), day_of(Case.due_at)
    return (select(*_row("o", {"day": day, "town_id": Case.town_id, "due_day": due}, {"open": func.count(Case.id)},
                         wanted))
            .where(_is_open(), *where).group_by(day, Case.town_id, due))


def _open_hours(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``h`` rows: open cases by received day, town and due hour (in ``due_day``)."""
    day, due = day_of(Case.received_at), hour_of(Case.due_at)
    return (select(*_row("h", {"day": day, "town_id": Case.town_id, "due_day": due}, {"open": func.count(Case.id)},
                         wanted))
            .where(_is_open(), *where).group_by(day, Case.town_id, due))


def _open_towns(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``w`` rows: open cases by town and due day, whenever received (day 0)."""
    due, counts = day_of(Case.due_at), {"open": func.count(Case.id)}
    return (select(*_row("w", {"day": literal(0, Integer()), "town_id": Case.town_id, "due_day": due}, counts,
                         wanted))
            .where(_is_open(), *where).group_by(Case.town_id, due))


def deduction_kind() -> ColumnElement[str]:
    """What an above-level petition's arrival costs its grid, in SQL: 'repeat', 'exempt' or 'single'.

    The same rules as ``scoring.is_repeat_above_level`` and ``scoring.handled_first_by_grid``
    (which read one petition's facts in Python); the tests hold the two equal.
    """
    original, earlier = aliased(Case), aliased(Case)
    had_earlier = exists().where(earlier.repeat_of_id == Case.repeat_of_id, earlier.id != Case.id,
                                 earlier.channel.in_(ABOVE_LEVEL), earlier.received_at < Case.received_at)
    original_late = exists().where(CaseClock.case_id == Case.repeat_of_id, CaseClock.due_at < Case.received_at,
                                   or_(CaseClock.done_at.is_(None), CaseClock.done_at > CaseClock.due_at))
    found = select(original.channel, original.received_at, original.discovered_by_grid_id).where(
        original.id == Case.repeat_of_id)
    repeat = or_(exists(found.where(original.channel.in_(ABOVE_LEVEL), original.received_at <= Case.received_at)),
                 and_(Case.repeat_of_id.isnot(None), had_earlier))
    first = and_(exists(found.where(original.discovered_by_grid_id == Case.grid_id,
                                    original.received_at < Case.received_at)), not_(original_late))
    return case((repeat, "repeat"), (first, "exempt"), else_="single")


def _petitions(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``p`` rows: above-level and irregular petitions by received day and grid."""
    day, above = day_of(Case.received_at), Case.channel.in_(ABOVE_LEVEL)
    kind = deduction_kind()
    counts = {"single": _count(and_(above, kind == "single")), "repeat_above": _count(and_(above, kind == "repeat")),
              "exempt": _count(and_(above, kind == "exempt")),
              "irregular_only": _count(and_(Case.irregular_count > 0, not_(above))), "zeroing": func.count(Case.id)}
    return (select(*_row("p", {"day": day, "grid_id": Case.grid_id}, counts, wanted))
            .where(or_(above, Case.irregular_count > 0), *where).group_by(day, Case.grid_id))


def _listed(where: list, wanted: Iterable[str] = COUNTS) -> Select:
    """``l`` rows: open cases by the day from which the clock puts them on the long-unresolved list."""
    open_days = int(get_setting("long_unresolved_open_days"))
    overdue_days = int(get_setting("long_unresolved_overdue_days"))
    by_age = day_of(Case.received_at) + open_days
    by_deadline = day_of(Case.handle_due_at) + overdue_days
    always = or_(Case.reopened_count >= int(get_setting("long_unresolved_reopened_min")),
                 Case.above_level_count >= int(get_setting("unresolved_above_level_min")))
    day = case((always, LISTED_ALWAYS),
               (and_(Case.replied_at.is_(None), Case.handle_due_at.isnot(None), by_deadline < by_age), by_deadline),
               else_=by_age)
    return (select(*_row("l", {"day": day}, {"open": func.count(Case.id)}, wanted))
            .where(_is_open(), *where).group_by(day))


_BUILDERS = {"r": _received, "c": _categories, "t": _towns, "o": _open, "w": _open_towns, "h": _open_hours,
             "p": _petitions, "l": _listed}


def contributions(where: list, kinds: Iterable[str] = KINDS):
    """SELECT the summary rows of the cases matching ``where`` (one per key of each kind)."""
    return union_all(*(_BUILDERS[kind](where) for kind in kinds))


# Reading: whole days from the summary, partial days from the cases.


def whole_days(start: datetime | None, end: datetime | None) -> tuple[int | None, int | None]:
    """The day numbers [first, last) lying wholly inside [start, end) (None: unbounded)."""
    first = None if start is None else day_number(start) + (day_start(day_number(start)) != start)
    return first, None if end is None else day_number(end)


def _edges(start: datetime | None, end: datetime | None) -> list[tuple[datetime | None, datetime | None]]:
    """The parts of [start, end) outside its whole days, to be counted live."""
    first, last = whole_days(start, end)
    if first is not None and last is not None and first >= last:
        return [(start, end)] if start < end else []
    parts = []
    if start is not None and day_start(first) > start:
        parts.append((start, day_start(first)))
    if end is not None and day_start(last) < end:
        parts.append((day_start(last), end))
    return parts


# A grouping: a key column's name, or "late": whether the due day is before ``today``.
LATE = "late"


def tally(kind: str, start: datetime | None, end: datetime | None, by: tuple[str, ...] = (),
          counts: Iterable[str] = COUNTS, today: int | None = None, due_from: int | None = None,
          due_before: int | None = None) -> dict[tuple, Counter]:
    """The ``counts`` of ``kind`` for cases received in [start, end), grouped by ``by``.

    ``due_from``, ``due_before``: only rows whose due key (a day, or an hour for ``h`` rows)
    lies in [due_from, due_before). ``LATE`` in ``by`` groups on whether the due day is before
    ``today``. Whole days come from the summary, partial first and last days from the cases.
    Each statement is built once per shape, with parameters (a million-case answer should not
    spend its time building SQL).
    """
    counts, dialect = tuple(counts), db.engine.dialect.name
    due = {name: value for name, value in (("today", today), ("due_from", due_from), ("due_before", due_before))
           if value is not None}
    shape = (due_from is not None, due_before is not None)
    result: dict[tuple, Counter] = defaultdict(Counter)
    first, last = whole_days(start, end)
    if first is None or last is None or first < last:
        bounds = {"first": first, "last": last}
        statement = _summary_statement(dialect, kind, by, counts, shape,
                                       *(bounds[name] is not None for name in bounds))
        _add(result, statement, {**{k: v for k, v in bounds.items() if v is not None}, **due}, counts)
    for low, high in _edges(start, end):
        statement = _live_statement(dialect, kind, by, counts, shape, low is not None, high is not None)
        _add(result, statement, {**{k: v for k, v in {"low": low, "high": high}.items() if v is not None}, **due},
             counts)
    return result


def _grouped(table, by: tuple[str, ...], counts: tuple[str, ...], conditions: list,
             due_shape: tuple[bool, bool]) -> Select:
    """SELECT the ``by`` groups and the ``counts`` summed, from a table of summary rows whose due
    key is at least ``:due_from`` and before ``:due_before`` (as far as ``due_shape`` says)."""
    today = bindparam("today", type_=Integer())
    groups = [(table.c.due_day < today).label(LATE) if g == LATE else table.c[g] for g in by]
    due_from, due_before = due_shape
    conditions = [*conditions, *([table.c.due_day >= bindparam("due_from", type_=Integer())] if due_from else []),
                  *([table.c.due_day < bindparam("due_before", type_=Integer())] if due_before else [])]
    query = select(*groups, *(func.sum(table.c[name]).label(name) for name in counts)).where(*conditions)
    return query.group_by(*groups) if groups else query


@cache
def _summary_statement(dialect: str, kind: str, by: tuple, counts: tuple, due_shape: tuple[bool, bool],
                       from_first: bool, to_last: bool) -> Select:
    """The summary's rows of ``kind`` for whole days [:first, :last), grouped (built once per shape)."""
    table = DayStat.__table__
    days = [table.c.day >= bindparam("first", type_=Integer())] if from_first else []
    days += [table.c.day < bindparam("last", type_=Integer())] if to_last else []
    return _grouped(table, by, counts, [table.c.kind == kind, *days], due_shape)


@cache
def _live_statement(dialect: str, kind: str, by: tuple, counts: tuple, due_shape: tuple[bool, bool],
                    from_low: bool, to_high: bool) -> Select:
    """The same rows counted from the cases received in [:low, :high) (built once per shape)."""
    received = [Case.received_at >= bindparam("low", type_=UTCDateTime())] if from_low else []
    received += [Case.received_at < bindparam("high", type_=UTCDateTime())] if to_high else []
    rows = _BUILDERS[kind](received, counts).subquery()
    return _grouped(rows, by, counts, [], due_shape)


def _add(result: dict[tuple, Counter], query: Select, params: dict, counts: tuple[str, ...]) -> None:
    """Add the rows of ``query`` into ``result``, keyed by their leading columns."""
    for row in db.session.execute(query, params):
        values = tuple(row)
        target = result[values[:-len(counts)]]
        for name, value in zip(counts, values[-len(counts):], strict=True):
            if value:
                target[name] += int(value)


def open_by_town(today: int) -> dict[int, Counter]:
    """Open cases now by town: ``open`` in all, ``late`` those due on a day before ``today`` (``w`` rows)."""
    rows = db.session.execute(_open_by_town_statement(), {"today": today})
    return {town: Counter(open=int(n or 0), late=int(overdue or 0)) for town, n, overdue in rows}


@cache
def _open_by_town_statement() -> Select:
    """``open_by_town``'s SELECT, built once."""
    late = case((DayStat.due_day < bindparam("today", type_=Integer()), DayStat.open), else_=0)
    return (select(DayStat.town_id, func.sum(DayStat.open), func.sum(late))
            .where(DayStat.kind == "w").group_by(DayStat.town_id))


def open_due_today(start: datetime | None, end: datetime | None, moment: datetime, inclusive: bool,
                   by_town: bool = False) -> dict[tuple, int]:
    """Open cases received in [start, end) due on ``moment``'s Beijing day up to ``moment``
    (``<=`` when inclusive), keyed by town (``by_town``) or ``()``: the part of "overdue" the
    ``o`` rows cannot hold. Today's whole hours are a sum of ``h`` rows; the hour ``moment``
    falls in is counted live, through an index of deadlines."""
    hour = hour_number(moment)
    found = Counter({key: c["open"] for key, c in tally(
        "h", start, end, by=("town_id",) if by_town else (), counts=("open",),
        due_from=hour_number(day_start(day_number(moment))), due_before=hour).items()})
    statement = _due_now_statement(db.engine.dialect.name, start is not None, end is not None, inclusive, by_town)
    params = {"since": hour_start(hour), "moment": moment, "start": start, "end": end}
    for row in db.session.execute(statement, {k: v for k, v in params.items() if v is not None}):
        found[tuple(row[:-1])] += int(row[-1])
    return {key: n for key, n in found.items() if n}


@cache
def _due_now_statement(dialect: str, from_start: bool, to_end: bool, inclusive: bool, by_town: bool) -> Select:
    """``open_due_today``'s live SELECT for one shape, built once (read from one index alone):
    open cases due from ``:since`` up to ``:moment``."""
    moment = bindparam("moment", type_=UTCDateTime())
    conditions = [_is_open(), Case.due_at >= bindparam("since", type_=UTCDateTime()),
                  Case.due_at <= moment if inclusive else Case.due_at < moment]
    conditions += [Case.received_at >= bindparam("start", type_=UTCDateTime())] if from_start else []
    conditions += [Case.received_at < bindparam("end", type_=UTCDateTime())] if to_end else []
    groups = [Case.town_id] if by_town else []
    query = select(*groups, func.count()).where(*conditions)
    return query.group_by(*groups) if groups else query


# Writing: the rebuild, the session hook, the worker's fold.


def rebuild_day_stats(session: Session | None = None, kinds: Iterable[str] = KINDS) -> int:
    """Recompute the summary rows of these kinds from every case; return how many rows there are."""
    session = session or db.session
    kinds = list(kinds)
    session.execute(delete(DayStat).where(DayStat.kind.in_(kinds)))
    rows = contributions([], kinds).subquery()
    session.execute(insert(DayStat).from_select(
        [*KEYS, "delta", *COUNTS], select(*(rows.c[k] for k in KEYS), literal(False, Boolean()),
                                          *(rows.c[c] for c in COUNTS))))
    return session.scalar(select(func.count()).select_from(DayStat)) or 0


def init_day_stats() -> None:
    """Listen on the app's database session (once per process)."""
    for name, listener in (("before_flush", _note_before_flush), ("after_flush", _note_new_cases),
                           ("before_commit", _write_before_commit), ("after_transaction_end", _forget)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def _case_id(obj: Case) -> int | None:
    """A case's primary key without loading anything."""
    identity = inspect_state(obj).identity
    return identity[0] if identity else obj.__dict__.get("id")


def _attribute_ids(obj, attribute: str, relation: str | None = None) -> set[int]:
    """The ids a foreign key of ``obj`` holds and held in this session (column and relationship)."""
    state = inspect_state(obj)
    history = state.attrs[attribute].history
    ids = {i for i in (*history.added, *history.unchanged, *history.deleted) if i is not None}
    if relation is not None and relation in state.mapper.relationships:
        related = state.attrs[relation].history
        ids |= {_case_id(o) for o in (*related.added, *related.unchanged, *related.deleted) if o is not None}
    return {i for i in ids if i is not None}


def _note_before_flush(session: Session, flush_context, instances) -> None:
    """Before a flush: read the rows of every case this flush changes, as they stood before."""
    touched, originals = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Case):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if (case_id := _case_id(obj)) is not None:
                touched.add(case_id)
            originals |= _attribute_ids(obj, "repeat_of_id", "repeat_of")
        elif isinstance(obj, FollowUp | CaseClock):
            touched |= _attribute_ids(obj, "case_id")
        elif isinstance(obj, Setting) and obj.key in LISTED_SETTINGS:
            session.info[_RELIST] = True
    if touched or originals:
        _capture(session, touched, originals)


def _capture(session: Session, touched: set[int], originals: set[int]) -> None:
    """Lock the touched cases, their originals and the petitions linked to either, then keep
    the rows of those not yet read in this transaction."""
    connection = session.connection()
    _lock(connection, touched)
    originals |= set(_scalars(connection, select(Case.repeat_of_id).where(Case.repeat_of_id.isnot(None)), touched))
    _lock(connection, originals - touched)
    family = touched | originals
    # Only above-level petitions' rows depend on other cases (their original and siblings).
    linked = set(_scalars(connection, select(Case.id).where(Case.channel.in_(ABOVE_LEVEL)), family,
                          Case.repeat_of_id)) - family
    _lock(connection, linked)
    seen = session.info.setdefault(_SEEN, set())
    fresh = sorted((touched | linked) - seen)
    seen.update(fresh)
    before = session.info.setdefault(_BEFORE, defaultdict(Counter))
    for chunk in _chunks(fresh):
        for row in connection.execute(contributions([Case.id.in_(chunk)])):
            _accumulate(before, row)


def _scalars(connection, query: Select, ids: set[int], column=Case.id) -> list:
    """``query`` WHERE column IN ids, chunked; its first column."""
    found = []
    for chunk in _chunks(sorted(ids)):
        found += list(connection.scalars(query.where(column.in_(chunk))))
    return found


def _lock(connection, ids: set[int]) -> None:
    """Lock these cases until commit, in id order (PostgreSQL; SQLite writers hold the whole file)."""
    if ids and connection.dialect.name == "postgresql":
        for chunk in _chunks(sorted(ids)):
            connection.execute(select(Case.id).where(Case.id.in_(chunk)).order_by(Case.id).with_for_update())


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    """Slices of at most ``_CHUNK`` ids."""
    return (ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK))


def _accumulate(target: dict, row, sign: int = 1) -> None:
    """Add one contribution row into a {key: Counter} map."""
    values = row._mapping
    counts = target[tuple(values[k] for k in KEYS)]
    for name in COUNTS:
        if values[name]:
            counts[name] += sign * int(values[name])


def _note_new_cases(session: Session, flush_context) -> None:
    """After a flush: cases inserted by it had no rows before."""
    new = [_case_id(obj) for obj in session.new if isinstance(obj, Case)]
    if new:
        session.info.setdefault(_SEEN, set()).update(i for i in new if i is not None)


def _write_before_commit(session: Session) -> None:
    """Insert the difference this transaction made to the rows of the cases it touched."""
    session.flush()
    seen, before = session.info.pop(_SEEN, set()), session.info.pop(_BEFORE, {})
    relist = session.info.pop(_RELIST, False)
    if not seen and not relist:
        return
    difference: dict = defaultdict(Counter)
    connection = session.connection()
    kinds = [k for k in KINDS if not (relist and k == "l")]
    for chunk in _chunks(sorted(seen)):
        for row in connection.execute(contributions([Case.id.in_(chunk)], kinds)):
            _accumulate(difference, row)
    for key, counts in before.items():
        if key[0] in kinds:
            difference[key].subtract(counts)
    rows = [{**dict(zip(KEYS, key, strict=True)), "delta": True, **{c: counts.get(c, 0) for c in COUNTS}}
            for key, counts in difference.items() if any(counts.values())]
    if rows:
        connection.execute(insert(DayStat), rows)
    if relist:
        rebuild_day_stats(session, ["l"])


def _forget(session: Session, transaction) -> None:
    """When the outermost transaction ends (committed or rolled back), drop what it noted."""
    if transaction.parent is None:
        for key in (_SEEN, _BEFORE, _RELIST):
            session.info.pop(key, None)


def fold(session: Session | None = None, batch: int = 100) -> int:
    """Fold the writes' difference rows into one row per key (dropping keys that sum to
    nothing); return how many rows were folded. The sums do not change."""
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_FOLD_LOCK)))
    days = session.execute(select(DayStat.kind, DayStat.day).where(DayStat.delta.is_(True)).distinct()).all()
    folded = 0
    for i in range(0, len(days), batch):
        pairs = [tuple(d) for d in days[i:i + batch]]
        rows = [r.id for r in session.execute(select(DayStat.id).where(tuple_(DayStat.kind, DayStat.day).in_(pairs)))]
        table = DayStat.__table__
        summed = _grouped(table, KEYS, COUNTS, [table.c.id.in_(rows)], (False, False)).subquery()
        nonzero = or_(*(summed.c[c] != 0 for c in COUNTS))
        session.execute(insert(DayStat).from_select(
            [*KEYS, "delta", *COUNTS],
            select(*(summed.c[k] for k in KEYS), literal(False, Boolean()), *(summed.c[c] for c in COUNTS))
            .where(nonzero)))
        session.execute(delete(DayStat).where(DayStat.id.in_(rows)))
        folded += len(rows)
    return folded
