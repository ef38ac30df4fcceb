"""Grids (网格) and the departments (职能部门) that cases are routed to."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, multipolygon_column, utcnow


class Grid(db.Model):
    """A grid (网格): level 1 the city, 2 a town/district/street, 3 a village/community."""

    __tablename__ = "grids"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 3", name="ck_grids_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    # Loaded only when asked for (``undefer(Grid.geom)``) or first touched: a grid joined to a
    # page of cases for its name would otherwise bring its whole boundary along.
    geom = mapped_column(multipolygon_column(), nullable=False, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped["Grid | None"] = relationship(remote_side="Grid.id", back_populates="children")
    children: Mapped[list["Grid"]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Grid {self.code} L{self.level} {self.name}>"


class Department(db.Model):
    """A functional department (职能部门) that handles cases of the sectors routed to it."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    duty: Mapped[str] = mapped_column(String(200), default="")

    routes: Mapped[list["SectorRoute"]] = relationship(back_populates="department")

    @property
    def sectors(self) -> list[str]:
        """The sectors whose cases go to this department by default."""
        return sorted(r.sector for r in self.routes)


class SectorRoute(db.Model):
    """The routing table: which department a sector's cases go to by default (分工)."""

    __tablename__ = "sector_routes"

    sector: Mapped[str] = mapped_column(String(32), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))

    department: Mapped[Department] = relationship(back_populates="routes")
