"""The campaign (专项行动), its phases (阶段) and what each town must submit (报送材料)."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.grids import Grid
from app.models.types import UTCDateTime, utcnow


class Campaign(db.Model):
    """A campaign (专项行动), e.g. the 100-day campaign on environmental petitions (百日攻坚)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    phases: Mapped[list["CampaignPhase"]] = relationship(
        back_populates="campaign", order_by="CampaignPhase.starts_on", cascade="all, delete-orphan")
    requirements: Mapped[list["SubmissionRequirement"]] = relationship(
        back_populates="campaign", order_by="SubmissionRequirement.due_on", cascade="all, delete-orphan")


class CampaignPhase(db.Model):
    """A phase (阶段): self-inspection 自查自纠, tackling 攻坚化解, evaluation 总结评估."""

    __tablename__ = "campaign_phases"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship(back_populates="phases")


class SubmissionRequirement(db.Model):
    """A document every town must submit (报送要求), e.g. its work plan (工作方案) by 10-15."""

    __tablename__ = "submission_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship(back_populates="requirements")


class TownSubmission(db.Model):
    """One town's submission (镇报送材料) against a requirement; the command office marks it received."""

    __tablename__ = "town_submissions"
    __table_args__ = (UniqueConstraint("requirement_id", "town_id", name="uq_town_submissions_requirement_town"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("submission_requirements.id", ondelete="CASCADE"),
                                                index=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set from the requirement's due date when submitted (Beijing date), so the flag never drifts.
    late: Mapped[bool] = mapped_column(default=False)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)

    requirement: Mapped[SubmissionRequirement] = relationship()
    town: Mapped[Grid] = relationship()
