"""The case timeline (办理记录): append-only events chained by hashes."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CaseEvent(db.Model):
    """One step in a case's timeline (办理记录).

    Each event stores the hash of the event before it in the same case, so changing or
    removing any event breaks the chain from there on (services.timeline verifies it).
    The unique (case_id, seq) pair stops two writers from forking the chain. The chain's
    signed head (``ChainHead``) catches what the chain alone cannot: a removed last event,
    or an edit with every later hash recomputed.
    """

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(db.Model):
    """The signed end of one hash chain (链头): a case's timeline, or the admin audit log.

    Kept apart from the chain it anchors and signed with an HMAC whose key the database
    never holds (AUDIT_KEY), so someone who can write every table still cannot make a
    rewritten, shortened or recomputed chain agree with its head. No foreign key to the
    case on purpose: a case deleted behind the app's back leaves its head as evidence.
    ``chain`` is "case" (``subject_id`` the case id) or "admin" (``subject_id`` 0).
    """

    __tablename__ = "chain_heads"
    __table_args__ = (UniqueConstraint("chain", "subject_id", name="uq_chain_heads_chain_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
