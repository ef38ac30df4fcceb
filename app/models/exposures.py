"""Media exposure (媒体曝光) of long-unresolved cases: proposal, decision, publication, withdrawal."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cases import Case
from app.models.people import User
from app.models.types import UTCDateTime, utcnow
from app.models.vocab import ExposureStatus


class Exposure(db.Model):
    """A media exposure (媒体曝光) of a case that drags on (久拖不解).

    The command office proposes it, naming the responsible unit and what it failed to do; a
    leading official approves (it is then public) or rejects it; a public one can be
    withdrawn with a reason, and the row stays as the record. Its text is written for the
    public: it must never carry a petitioner's name, phone or ID number.
    """

    __tablename__ = "exposures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ExposureStatus.PROPOSED, index=True)
    responsible_unit: Mapped[str] = mapped_column(String(100))
    failings: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
