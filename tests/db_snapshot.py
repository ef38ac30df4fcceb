"""Every row of every app table as plain values, to prove data unchanged (or restored) row for row."""

from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import select

from app.extensions import db


def _plain(value):
    """A column value that compares by content (geometries as WKB hex)."""
    if isinstance(value, WKBElement):
        return to_shape(value).wkb_hex
    return value


def snapshot() -> dict[str, list[tuple]]:
    """Table name → its rows in primary-key order."""
    rows = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(_plain(v) for v in row) for row in connection.execute(query)]
    return rows
