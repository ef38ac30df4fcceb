"""Database engine set-up that differs by backend (SpatiaLite needs loading per connection),
the one way to load a row by its key or answer 404, and a column that no index may serve."""

import os
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import TypeVar

from flask import Flask, has_request_context, request
from geoalchemy2 import load_spatialite
from sqlalchemy import Integer, event, literal
from sqlalchemy.sql.elements import ColumnElement

from app.errors import NotFound
from app.extensions import db

M = TypeVar("M")


def _sqlite_connect(dbapi_conn, connection_record, library_path: str) -> None:
    """Load SpatiaLite and set the pragmas every SQLite connection needs.

    ``init_mode="WGS84"`` with one transaction creates SpatiaLite's metadata in ~10 ms on
    a new file instead of ~9 s; only WGS-84 reference systems are needed.
    """
    os.environ.setdefault("SPATIALITE_LIBRARY_PATH", library_path)
    # We issue BEGIN ourselves (see _sqlite_begin); pysqlite's own transaction handling
    # would also break SAVEPOINTs.
    dbapi_conn.isolation_level = None
    load_spatialite(dbapi_conn, init_mode="WGS84", transaction=True)
    # After loading SpatiaLite, which sets its own 5 s: a writer waits up to 10 s for the
    # lock (a deadline sweep after a large import holds it for several seconds).
    dbapi_conn.execute("PRAGMA busy_timeout = 10000")
    dbapi_conn.execute("PRAGMA foreign_keys = ON")


def init_database(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and hook backend-specific connection set-up."""
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            if engine.url.database and engine.url.database != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(engine.url.database)), exist_ok=True)
            library = app.config["SPATIALITE_LIBRARY_PATH"]
            event.listen(engine, "connect", partial(_sqlite_connect, library_path=library))
            event.listen(engine, "connect", _sqlite_wal)
            event.listen(engine, "begin", _sqlite_begin)
        elif engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _postgres_connect)


def _postgres_connect(dbapi_conn, connection_record) -> None:
    """Plan every statement for its own parameters (never prepare it on the server), speak
    UTC and compile nothing just in time.

    psycopg prepares a statement once a connection has run it five times, and PostgreSQL
    may then plan it once for any parameters. Such a plan cannot see how selective a
    parameter is: the wall's "overdue now" filter over a city (``due_at <= :now`` on
    ``ix_cases_status_due``) went from 0.2 s to 5.7 s from the eleventh call on. Parsing
    and planning anew costs about a millisecond.
    """
    dbapi_conn.prepare_threshold = None
    # Timestamps come back in UTC whatever the server's TimeZone (often Asia/Shanghai on a
    # city's server, Etc/UTC here): no SQL then depends on how the server was set up, and
    # psycopg hands out datetime.UTC itself, which UTCDateTime passes on as it is. Under
    # any other zone each of the thousand timestamps of a queue page was converted again.
    dbapi_conn.execute("SET TIME ZONE 'UTC'")
    # No JIT compilation: the planner switches it on for any statement it costs high (a
    # count over a city's cases), where compiling took 80-450 ms of the desk's 0.5 s tab
    # counts and 190 ms of a wall refresh's 900 ms at 1M cases, more than it ever saved. No
    # statement of this app runs long enough to repay it.
    dbapi_conn.execute("SET jit = off")
    dbapi_conn.commit()


def _sqlite_wal(dbapi_conn, connection_record) -> None:
    """Write-ahead logging lets the map wall read while an inspector's sync writes."""
    dbapi_conn.execute("PRAGMA journal_mode = WAL")


# Set while the background worker runs a task (services.background.run_now).
_IN_TASK: ContextVar[bool] = ContextVar("in_background_task", default=False)


@contextmanager
def task_transactions():
    """Transactions begun inside are a worker's: they take SQLite's write lock at once."""
    token = _IN_TASK.set(True)
    try:
        yield
    finally:
        _IN_TASK.reset(token)


@contextmanager
def deferred_reads():
    """Inside a task: a transaction begun here only reads, so on SQLite it takes no write lock
    (the caller ends it before writing; a write inside would fail when the lock is busy)."""
    token = _IN_TASK.set(False)
    try:
        yield
    finally:
        _IN_TASK.reset(token)


def _sqlite_begin(conn) -> None:
    """Writers take SQLite's write lock when their transaction starts (BEGIN IMMEDIATE).

    A transaction that reads first and writes later cannot wait for a busy lock in WAL mode:
    SQLite fails it at once ("database is locked") if another writer committed meanwhile.
    Starting every request that may write, and every task of the background worker (it
    runs beside the web server: the deadline sweep, the early-warning scan, the wall's
    refresh), with the lock queues writers behind each other (up to busy_timeout) instead;
    page and API reads (GET) still run side by side. Commands and scripts stay deferred:
    they run alone.
    """
    writes = _IN_TASK.get() or (has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS"))
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def is_sqlite() -> bool:
    """True on the embedded SpatiaLite backend."""
    return db.engine.dialect.name == "sqlite"


def get_or_404(model: type[M], key, message: str) -> M:
    """The row of ``model`` with primary key ``key``, or NotFound with the caller's Chinese message.

    It lives here, beside the session set-up, so services, the API and pages can all use it:
    ``app.errors`` and ``app.extensions`` are the only things below it.
    """
    row = db.session.get(model, key)
    if row is None:
        raise NotFound(message)
    return row


def unindexed(column) -> ColumnElement:
    """The column as an expression no index serves or orders (``column || ''``, ``column + 0``),
    with the same values.

    For a condition or a grouping that must not drive a plan: SQLite keeps no statistics
    here, and would otherwise read a third of the cases through a category or status index
    to find a day's, or walk a primary key for its order instead of the index that finds the
    rows."""
    return column + 0 if isinstance(column.type, Integer) else column + literal("")
