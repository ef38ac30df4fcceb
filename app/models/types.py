"""Column types shared by the models: UTC timestamps and WGS-84 geometries."""

from datetime import UTC, datetime

from geoalchemy2 import Geometry
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

SRID = 4326


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, so a naive value read back is UTC by construction; a naive value
    written is refused, because it would be ambiguous (server clock or Beijing time?).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Normalise to UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        """Give back an aware UTC datetime on every backend."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware. Used as a callable default, never at import time."""
    return datetime.now(UTC)


def point_column() -> Geometry:
    """A WGS-84 point with a spatial index (R-tree on SpatiaLite, GiST on PostGIS)."""
    return Geometry("POINT", srid=SRID, spatial_index=True)


def multipolygon_column() -> Geometry:
    """A WGS-84 multipolygon with a spatial index."""
    return Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True)


def linestring_column() -> Geometry:
    """A WGS-84 line (a patrol's track), without a spatial index: it is read by its patrol."""
    return Geometry("LINESTRING", srid=SRID, spatial_index=False)
