"""Evidence gathered on site: inspections (现场核查), their photos, and contact cards (联系卡)."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, point_column, utcnow
from app.models.vocab import InspectionKind, LocationSource, PhotoStatus, RecordedVia


class Inspection(db.Model):
    """An on-site check (现场核查) or patrol discovery (巡查发现) recorded by an inspector.

    The id is made on the phone at capture time, so a retried upload finds the same row.
    ``captured_at`` is the device's time of the record; ``received_at`` the server's.
    """

    __tablename__ = "inspections"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24), default=InspectionKind.ONSITE_CHECK)

    location = mapped_column(point_column(), nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location_source: Mapped[str] = mapped_column(String(16), default=LocationSource.GPS)
    manual_location: Mapped[bool] = mapped_column(Boolean, default=False)
    mock_location: Mapped[bool] = mapped_column(Boolean, default=False)
    outside_own_grid: Mapped[bool] = mapped_column(Boolean, default=False)

    findings: Mapped[dict] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Why there is no photo (vocab.NoPhotoReason); none when photos were taken.
    no_photo_reason: Mapped[str | None] = mapped_column(String(32))
    recorded_via: Mapped[str] = mapped_column(String(8), default=RecordedVia.PHONE)

    # Measured by the server at receipt: the check's distance to the case, and the flags that
    # keep a doubtful check from stopping the on-site clock until a supervisor accepts it.
    distance_to_case_m: Mapped[float | None] = mapped_column(Float)
    far_from_case: Mapped[bool] = mapped_column(Boolean, default=False)
    poor_accuracy: Mapped[bool] = mapped_column(Boolean, default=False)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acceptance_note: Mapped[str] = mapped_column(Text, default="")
    # sha256 of the record's canonical content: the same id with other content is a conflict.
    content_sha256: Mapped[str] = mapped_column(String(64))

    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    photos: Mapped[list["Photo"]] = relationship(back_populates="inspection", order_by="Photo.captured_at")
    case: Mapped["Case | None"] = relationship()  # noqa: F821 - resolved by the registry

    @property
    def case_number(self) -> str | None:
        """The number of the case this record belongs to."""
        return self.case.number if self.case else None


class Photo(db.Model):
    """A photo taken on site. It may be announced by its record before its bytes arrive."""

    __tablename__ = "photos"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PhotoStatus.EXPECTED)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    byte_size: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(32))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    capture_location = mapped_column(point_column(), nullable=True)
    exif_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_far_from_checkin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Camera or gallery (vocab.PhotoOrigin), and whether the camera's time lies too long
    # before the visit (setting photo_max_age_minutes).
    origin: Mapped[str | None] = mapped_column(String(16))
    exif_orientation: Mapped[int | None] = mapped_column(Integer)
    taken_before_visit: Mapped[bool] = mapped_column(Boolean, default=False)
    # The stored file is the phone's copy (resized, no EXIF) unless the untouched original
    # arrived too; then both are kept and the original's checksum is recorded.
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    original_byte_size: Mapped[int | None] = mapped_column(Integer)
    original_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the worker made the display copy and thumbnail; until then the photo is processing.
    derived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inspection: Mapped[Inspection] = relationship(back_populates="photos")

    @property
    def processing(self) -> bool:
        """Received and kept, but its display copy and thumbnail are not made yet."""
        return self.status == PhotoStatus.RECEIVED and self.derived_at is None


class ContactCard(db.Model):
    """A contact card (联系卡) handed to the citizen: who handles the case and how to reach them.

    Its code comes from a block reserved by the inspector's device (CardCodeBlock), so a card
    issued offline is unique before it ever reaches the server; the code is also the key an
    idempotent upload uses.
    """

    __tablename__ = "contact_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    handler_name: Mapped[str] = mapped_column(String(64))
    handler_phone: Mapped[str] = mapped_column(String(32))
    handler_unit: Mapped[str] = mapped_column(String(100))
    expected_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    location = mapped_column(point_column(), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped["Case"] = relationship()  # noqa: F821 - resolved by the registry

    @property
    def case_number(self) -> str:
        """The number of the case the card is for."""
        return self.case.number


class CardCodeBlock(db.Model):
    """A block of contact-card serials reserved for one device, so cards issued offline never clash."""

    __tablename__ = "card_code_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    first_serial: Mapped[int] = mapped_column(Integer, unique=True)
    last_serial: Mapped[int] = mapped_column(Integer)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
