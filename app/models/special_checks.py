"""Special enforcement checks (专项督查) on difficult cases and key towns, and their results."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cases import Case
from app.models.grids import Grid
from app.models.types import UTCDateTime, utcnow


class SpecialCheck(db.Model):
    """A special check (专项督查) planned on a difficult case (疑难件) or a key town (重点镇)."""

    __tablename__ = "special_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    planned_on: Mapped[date] = mapped_column(Date)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))
    result: Mapped[str] = mapped_column(Text, default="")
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case | None] = relationship()
    town: Mapped[Grid | None] = relationship()
