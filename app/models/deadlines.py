"""Deadline data: the working-day calendar, the rules, and each case's running clocks."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CalendarDay(db.Model):
    """A day that differs from the plain week (工作日历): a public holiday on a weekday, or a
    make-up working day (调休上班) on a weekend. Every other day follows Monday-Friday."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(64), default="")


class CalendarYear(db.Model):
    """A year whose holiday schedule (节假日安排) has been entered, and from which notice.

    A deadline that reaches a year without a row is counted on weekends only and marked as
    an estimate (按周末估算) until the year is entered.
    """

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DeadlineRule(db.Model):
    """How long a stage may take (时限规则), for cases matching its optional filters.

    The most specific matching rule wins (channel, then legal track, then priority).
    ``unit`` is "hours", "calendar_days" or "working_days".
    """

    __tablename__ = "deadline_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(24), index=True)
    legal_track: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseClock(db.Model):
    """One stage's clock on one case: when it started, when it is due, when it was met."""

    __tablename__ = "case_clocks"
    __table_args__ = (UniqueConstraint("case_id", "stage", name="uq_case_clocks_case_stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("deadline_rules.id"))
    # The period as the rule gave it when the clock started, and any approved extension, so
    # the due time can be counted again when a year's holidays are entered (rule edits later
    # do not touch a running clock).
    amount: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(String(16))
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    # The period reaches a year whose holidays are not entered: counted on weekends only (按周末估算).
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Highest warning already sent for this clock ("yellow" then "red"), so none repeats.
    warned: Mapped[str] = mapped_column(String(8), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
