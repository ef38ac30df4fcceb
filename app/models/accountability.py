"""Accountability (督查问责): persons recorded for failures, with the case as evidence, and
the towns' historical petition counts that "volume not falling" compares against."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cases import Case
from app.models.types import UTCDateTime, utcnow


class FailureRecord(db.Model):
    """A person recorded for a failure (问责记录): 应罚未罚, 弄虚作假, 推诿扯皮, 不作为."""

    __tablename__ = "failure_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    person_name: Mapped[str] = mapped_column(String(64))
    person_unit: Mapped[str] = mapped_column(String(100), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    referred_to_discipline: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()


class VolumeBaseline(db.Model):
    """A town's petition count in one past month (历史信访量基数), entered by the admin from the
    records kept before this system, so "volume not falling" has a baseline in the first year."""

    __tablename__ = "volume_baselines"
    __table_args__ = (UniqueConstraint("town_id", "year", "month", name="uq_volume_baselines_town_month"),
                      CheckConstraint("month BETWEEN 1 AND 12", name="ck_volume_baselines_month"),
                      CheckConstraint("cases >= 0", name="ck_volume_baselines_cases"))

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
