"""The source register (监管对象台账) and grid patrols (网格巡查): who is watched, and proof
that someone went there.

A patrol and its check-ins are made on the phone, often offline, so their ids are UUIDs
made at capture time and a resend finds the same row (see services.patrols).
"""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Integer, String, Table, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cases import Case
from app.models.grids import Grid
from app.models.people import User
from app.models.types import UTCDateTime, linestring_column, point_column, utcnow
from app.models.vocab import LocationSource

source_cases = Table(
    "source_cases",
    db.metadata,
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE", name="fk_source_cases_source_id"),
           primary_key=True),
    Column("case_id", ForeignKey("cases.id", name="fk_source_cases_case_id"), primary_key=True, index=True),
)


class Source(db.Model):
    """A watched place (监管对象): a factory, farm, restaurant, site, wharf or workshop.

    ``grid_id`` is the level-3 grid its location falls in (set from the location, never
    typed); ``last_patrol_at`` is the latest check-in at it by anyone, kept by
    services.patrols so the register and the wall can sort and colour without a join.
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    sector: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300), default="")
    # Stored in WGS-84; the coordinates as typed are kept with their system, as on a case,
    # so a GCJ-02 or BD-09 point can be traced back to what was entered.
    location = mapped_column(point_column(), nullable=False)
    coord_system: Mapped[str | None] = mapped_column(String(8))  # None: registered before it was kept
    input_lon: Mapped[float | None] = mapped_column(Float)
    input_lat: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    permit_number: Mapped[str | None] = mapped_column(String(64))
    responsible_name: Mapped[str] = mapped_column(String(64), default="")
    responsible_phone: Mapped[str] = mapped_column(String(32), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_patrol_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    grid: Mapped[Grid | None] = relationship(foreign_keys=[grid_id])
    town: Mapped[Grid | None] = relationship(foreign_keys=[town_id])
    cases: Mapped[list[Case]] = relationship(secondary=source_cases, order_by=Case.received_at.desc())

    def __repr__(self) -> str:
        return f"<Source {self.code} {self.name}>"


# The most samples one patrol's track keeps (the upload is refused beyond it).
MAX_TRACK_POINTS = 20_000


class Patrol(db.Model):
    """One patrol (一次巡查): an inspector out in the grid from start to end, with the track.

    ``track`` is the line through the positions the app sampled while it was open and in
    the foreground; ``track_points`` keeps each sample's time and accuracy.
    """

    __tablename__ = "patrols"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=3)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    track = mapped_column(linestring_column(), nullable=True)
    track_points: Mapped[list] = mapped_column(JSON, default=list)
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    notes: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspector: Mapped[User] = relationship()
    grid: Mapped[Grid | None] = relationship()
    checkins: Mapped[list["PatrolCheckin"]] = relationship(back_populates="patrol",
                                                           order_by="PatrolCheckin.captured_at")


class PatrolCheckin(db.Model):
    """A check-in at a source (巡查打卡): where the inspector stood, and what they found.

    A check-in farther from the source than the radius in force is kept, flagged
    ``outside_radius``. ``level`` is the grid level the check-in counts for (the checker's
    grid level when it was made): the patrol rules are per level. A "problem found"
    check-in points at the patrol-discovery record (``inspection_id``) that opened a case.
    """

    __tablename__ = "patrol_checkins"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patrol_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patrols.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=3)
    outcome: Mapped[str] = mapped_column(String(24))
    location = mapped_column(point_column(), nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(16), default=LocationSource.GPS)
    mock_location: Mapped[bool] = mapped_column(Boolean, default=False)
    distance_m: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    outside_radius: Mapped[bool] = mapped_column(Boolean, default=False)
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patrol: Mapped[Patrol | None] = relationship(back_populates="checkins")
    source: Mapped[Source] = relationship()
    inspector: Mapped[User] = relationship()
    case: Mapped[Case | None] = relationship()
