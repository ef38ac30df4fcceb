"""What people write while handling a case: notices, returns, plans, extensions, replies,
follow-ups, leaders' visits and enforcement measures."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import User
from app.models.types import UTCDateTime, utcnow


class CaseNotice(db.Model):
    """A written notice to the petitioner (书面告知): acceptance, decline, extension, transfer."""

    __tablename__ = "case_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseReturn(db.Model):
    """A request to send a mis-routed case back (退单); it takes effect only when approved."""

    __tablename__ = "case_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved: Mapped[bool | None] = mapped_column(Boolean)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class CasePlan(db.Model):
    """One case, one plan (一案一策): measures, who is responsible, by when.

    A revised plan is a new row; the latest is the plan in force. For a leader-led case the
    leader signs the plan off.
    """

    __tablename__ = "case_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    measures: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    responsible_person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responsible_name: Mapped[str] = mapped_column(String(64))
    target_date: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leader_signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    leader_signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseExtension(db.Model):
    """An extension of the handling time (延期): once per case, at most 30 days, approved."""

    __tablename__ = "case_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved: Mapped[bool | None] = mapped_column(Boolean)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseReply(db.Model):
    """The written reply (书面答复意见): request, facts and reasons, decision, legal basis.

    Its review (审核) by the supervisor passes it or sends the case back to be redone.
    """

    __tablename__ = "case_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    request_summary: Mapped[str] = mapped_column(Text)
    facts_and_reasons: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    legal_basis: Mapped[str] = mapped_column(Text)
    replied_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    review_passed: Mapped[bool | None] = mapped_column(Boolean)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")


class FollowUp(db.Model):
    """A follow-up visit or call (回访) and the petitioner's satisfaction."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    # When no follow-up was possible (anonymous, unreachable), why; satisfaction stays empty.
    not_possible_reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="desk")
    # A regular follow-up of a long-unresolved case while it is still open (定期回访): it
    # closes nothing and never counts as the follow-up that 销号 needs.
    periodic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A rating from the public status page, once per contact card.
    contact_card_id: Mapped[int | None] = mapped_column(ForeignKey("contact_cards.id"), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LeaderVisit(db.Model):
    """A leading official's own visit to the site (包案领导现场核查、会商)."""

    __tablename__ = "leader_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    leader: Mapped[User] = relationship()


class EnforcementMeasure(db.Model):
    """An enforcement measure (执法措施) taken on a case, with its decision document."""

    __tablename__ = "enforcement_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    document_number: Mapped[str] = mapped_column(String(100), default="")
    decided_on: Mapped[date | None] = mapped_column(Date)
    amount_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
