"""Reception events (接访): town leaders' public receptions (公开接访) and the weekly large
reception (大接访), with the cases taken in."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cases import Case
from app.models.grids import Department, Grid
from app.models.types import UTCDateTime, utcnow

reception_cases = Table(
    "reception_cases",
    db.metadata,
    Column("reception_id", ForeignKey("receptions.id", ondelete="CASCADE", name="fk_reception_cases_reception_id"),
           primary_key=True),
    Column("case_id", ForeignKey("cases.id", name="fk_reception_cases_case_id"), primary_key=True),
)


class Reception(db.Model):
    """A reception event (接访): when, where, who received, held by a town or a department."""

    __tablename__ = "receptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(200))
    receivers: Mapped[str] = mapped_column(String(300))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    town: Mapped[Grid | None] = relationship()
    department: Mapped[Department | None] = relationship()
    cases: Mapped[list[Case]] = relationship(secondary=reception_cases)
