"""Bulk loading for the demo city and its register: rows straight to the driver.

A million demo cases cannot go through the ORM one object at a time. These helpers write
numpy columns and row tuples as the driver stores them (executemany on SQLite, COPY on
PostgreSQL), assign ids without a round-trip, and load a table without its secondary
indexes, rebuilding them once at the end. They are for building into an empty database in
one transaction only (see docs/benchmarks.md for the figures behind them).
"""

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter

import numpy as np
from geoalchemy2 import Geometry
from sqlalchemy import func, insert, select, text

from app.extensions import db

BATCH_SIZE = 10_000


def batches(count: int) -> list[slice]:
    """Row ranges of BATCH_SIZE: big enough to amortise a round-trip, small enough for memory."""
    return [slice(start, min(start + BATCH_SIZE, count)) for start in range(0, count, BATCH_SIZE)]


def python_values(values: np.ndarray) -> list:
    """A numpy column as Python values: None for a missing id (-1) or time (NaT), and
    timezone-aware UTC datetimes (what the timeline hashes and the models accept)."""
    if values.dtype.kind == "M":
        return [None if v is None else v.replace(tzinfo=UTC) for v in values.astype("datetime64[us]").tolist()]
    if values.dtype.kind == "i":
        return [None if v < 0 else v for v in values.tolist()]
    return values.tolist()


def stored_values(values: np.ndarray, sqlite: bool) -> list:
    """A numpy column as the driver stores it without SQLAlchemy's per-value processing
    (most of the time at a million rows): times as text, formatted in one vectorised call.

    SQLite keeps naive UTC in SQLAlchemy's own format ("YYYY-MM-DD HH:MM:SS.ffffff", which
    UTCDateTime reads back as UTC); PostgreSQL parses ISO 8601 with "Z" as timestamptz.
    """
    if values.dtype.kind != "M":
        return python_values(values)
    values = values.astype("datetime64[us]")
    texts = np.datetime_as_string(values, unit="us", timezone="naive" if sqlite else "UTC")
    if sqlite:
        texts = np.char.replace(texts, "T", " ")
    texts = texts.astype(object)
    texts[np.isnat(values)] = None
    return texts.tolist()


def stored_time(moment: datetime, sqlite: bool):
    """One aware UTC datetime as ``stored_values`` stores times."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else moment


def stored_uuid(value: uuid.UUID, sqlite: bool):
    """A UUID as the driver stores it: 32 hex characters on SQLite, native on PostgreSQL."""
    return value.hex if sqlite else value


def next_id(model) -> int:
    """The first free primary key: ids are assigned here so links need no round-trip."""
    return db.session.scalar(select(func.coalesce(func.max(model.id), 0))) + 1


def advance_sequence(table) -> None:
    """Move PostgreSQL's id sequence past the ids assigned here, or the app's next insert
    would collide with them (SQLite takes max(id) + 1 by itself)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))")
        )


def _with_scalar_defaults(table, columns: tuple[str, ...], rows: list[tuple]) -> tuple[tuple, list[tuple]]:
    """Add the columns the rows leave out that have a constant default (a counter starting
    at 0, say), so a raw insert writes what the ORM would."""
    extra = {
        c.name: c.default.arg
        for c in table.columns
        if c.name not in columns and c.default is not None and c.default.is_scalar
    }
    if not extra:
        return columns, rows
    values = tuple(extra.values())
    return (*columns, *extra), [row + values for row in rows]


def bulk_insert(table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows (tuples in ``columns`` order; times as ``stored_values`` gives them, JSON
    as text) in the session's transaction: the driver's executemany on SQLite, COPY on
    PostgreSQL (psycopg 3, the driver in requirements.txt). See docs/benchmarks.md for why."""
    columns, rows = _with_scalar_defaults(table, columns, rows)
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        _executemany_rows(connection, table, columns, rows)
    else:
        _copy_rows(connection, table, columns, rows)


def _executemany_rows(connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """executemany on the driver with the statement SQLAlchemy compiles for these columns,
    so the geometry bind is GeoAlchemy2's own GeomFromEWKT(?)."""
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    in_order = itemgetter(*(columns.index(name) for name in compiled.positiontup))
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(compiled.string, [in_order(row) for row in rows])
    finally:
        cursor.close()


def _copy_rows(connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY rows in with psycopg 3; PostGIS parses the EWKT text of the geometry itself."""
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def bulk_load(table):
    """Load a table without its secondary indexes (and SpatiaLite's R-tree insert trigger, and
    PostgreSQL's foreign keys), then rebuild them once: building an index over a million rows
    is several times faster than updating it a million times. Safe because the demo is built
    only into an empty database, in one transaction (a failure rolls the DDL back too)."""
    connection = db.session.connection()
    sqlite = connection.dialect.name == "sqlite"
    saved = _sqlite_drop_indexes(connection, table) if sqlite else _postgres_drop_indexes(connection, table)
    yield
    for sql in saved:
        connection.exec_driver_sql(sql)
    spatial = [c.name for c in table.columns if isinstance(c.type, Geometry) and c.type.spatial_index]
    for column in spatial if sqlite else ():
        connection.exec_driver_sql("SELECT RecoverSpatialIndex(?, ?)", (table.name, column))


def _sqlite_drop_indexes(connection, table) -> list[str]:
    """Drop the table's own indexes and SpatiaLite R-tree insert triggers (``gii_``); return
    their SQL. Indexes behind UNIQUE constraints have no SQL and stay."""
    triggers = {f"gii_{table.name}_{c.name}" for c in table.columns if isinstance(c.type, Geometry)}
    found = connection.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", (table.name,)
    ).all()
    saved = [row for row in found if row.type == "index" or row.name in triggers]
    for row in saved:
        connection.exec_driver_sql(f'DROP {row.type.upper()} "{row.name}"')
    return [row.sql for row in saved]


def _postgres_drop_indexes(connection, table) -> list[str]:
    """Drop the table's foreign keys and the indexes that back no constraint (primary and
    unique keys stay); return the SQL that restores them. Re-adding a foreign key checks
    every row in one join, instead of one lookup per key per row during the load."""
    foreign_keys = connection.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s)"
        " AND contype = 'f'",
        (table.name,),
    ).all()
    indexes = connection.exec_driver_sql(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = to_regclass(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
        (table.name,),
    ).all()
    for name, _ in foreign_keys:
        connection.exec_driver_sql(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    restore_keys = [f'ALTER TABLE "{table.name}" ADD CONSTRAINT "{name}" {sql}' for name, sql in foreign_keys]
    return [sql for _, sql in indexes] + restore_keys
