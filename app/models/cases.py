"""Cases (案件): one environmental petition, report or patrol discovery, and its numbering."""

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.grids import Department, Grid
from app.models.people import User
from app.models.types import UTCDateTime, point_column, utcnow
from app.models.vocab import CaseStatus, CoordSystem, ListKind, Priority


class Case(db.Model):
    """A case (案件): a matter on the existing-problem or potential-problem list.

    Personal data of the petitioner (信访人) lives only in the ``petitioner_*`` columns;
    services.privacy decides who may read them.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_grid_status", "grid_id", "status"),
        Index("ix_cases_town_status", "town_id", "status"),
        Index("ix_cases_department_status", "department_id", "status"),
        # The wall's deadline-state filter: open cases overdue (or not yet) by due time.
        Index("ix_cases_status_due", "status", "due_at"),
        # The phone's delta sync: what changed in one grid since its last sync.
        Index("ix_cases_grid_updated", "grid_id", "updated_at"),
        # The daily summary's live part of "overdue now": open cases due today so far, by
        # arrival and town, read from the index alone (services.day_stats.open_due_today).
        Index("ix_cases_due_status_received_town", "due_at", "status", "received_at", "town_id"),
        # The wall's on-time rates: cases still waiting for signing or a first on-site check,
        # by deadline and arrival (services.wall.panels.late_undone; migration 0026).
        Index("ix_cases_unsigned_due", "sign_due_at", "received_at", sqlite_where=text("signed_at IS NULL"),
              postgresql_where=text("signed_at IS NULL")),
        Index("ix_cases_unchecked_due", "onsite_due_at", "received_at", sqlite_where=text("first_onsite_at IS NULL"),
              postgresql_where=text("first_onsite_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # The number the 12345 / 12369 hotline gave the work order (工单号), so a caller or the
    # hotline can be answered by the number they hold.
    work_order_number: Mapped[str | None] = mapped_column(String(40), index=True)
    list_kind: Mapped[str] = mapped_column(String(16), default=ListKind.EXISTING)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    legal_track: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32), index=True)
    subcategory: Mapped[str | None] = mapped_column(String(32))
    sector: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    # Where: stored in WGS-84; the coordinates as typed are kept with their system so a
    # GCJ-02 or BD-09 point can be traced back to what was entered.
    location = mapped_column(point_column(), nullable=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    coord_system: Mapped[str] = mapped_column(String(8), default=CoordSystem.WGS84)
    input_lon: Mapped[float | None] = mapped_column(Float)
    input_lat: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    outside_grid: Mapped[bool] = mapped_column(Boolean, default=False)
    # Placed in the nearest grid although in none (a sliver gap between boundaries): how far away.
    grid_gap_m: Mapped[float | None] = mapped_column(Float)
    # Outside the city (市外), confirmed at intake; the command office's queue shows these.
    outside_city: Mapped[bool] = mapped_column(Boolean, default=False)
    discovered_by_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))

    # Who handles it.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    responsible_person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    leading_official_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who assigned it: the person who must approve a return (退单).
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_override_reason: Mapped[str | None] = mapped_column(Text)
    transferred_to: Mapped[str | None] = mapped_column(String(200))
    transfer_reason: Mapped[str | None] = mapped_column(Text)

    # Who complained (personal data: see services.privacy).
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    petitioner_name: Mapped[str | None] = mapped_column(String(64))
    petitioner_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    petitioner_id_number: Mapped[str | None] = mapped_column(String(32))

    # Flags that make a case difficult (疑难).
    above_level: Mapped[bool] = mapped_column(Boolean, default=False)
    above_level_count: Mapped[int] = mapped_column(Integer, default=0)
    # Irregular petitions (非访: petitions outside the lawful channels and places) on this case.
    irregular_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    dissatisfied: Mapped[bool] = mapped_column(Boolean, default=False)
    superior_assigned: Mapped[bool] = mapped_column(Boolean, default=False)
    inspection_referral: Mapped[str | None] = mapped_column(String(32))
    suspected_crime: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    # New petitions on this case after it was closed (each reopened it as a repeat).
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)

    status: Mapped[str] = mapped_column(String(24), default=CaseStatus.REGISTERED, index=True)

    # When things happened; the lifecycle fills these.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_onsite_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # When things are due; computed by the deadline rules, never typed in.
    sign_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    onsite_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Indexed: the long-unresolved list's count of cases newly past their deadline (day_stats).
    handle_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The next regular follow-up of a long-unresolved case (定期回访), mirrored for the queue.
    revisit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The nearest due time of the stage the case is in now; what queues sort by.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When that nearest running clock started (services.deadlines.refresh_case_due keeps both):
    # a case turns yellow once ``yellow_at`` of the time from here to ``due_at`` is used, the
    # same rule on the desk, the phone and the wall, read from the row without its clocks.
    due_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    grid: Mapped[Grid | None] = relationship(foreign_keys=[grid_id])
    town: Mapped[Grid | None] = relationship(foreign_keys=[town_id])
    department: Mapped[Department | None] = relationship()
    responsible_person: Mapped[User | None] = relationship(foreign_keys=[responsible_person_id])
    leading_official: Mapped[User | None] = relationship(foreign_keys=[leading_official_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])
    repeat_of: Mapped["Case | None"] = relationship(remote_side="Case.id")

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.status}>"


class CaseNumberCounter(db.Model):
    """The last case number issued in a year, so numbers never repeat or skip."""

    __tablename__ = "case_number_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
