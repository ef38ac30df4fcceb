"""Exports made by the worker: a large workbook is asked for, made in the background, then fetched."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow
from app.models.vocab import ExportStatus


class ExportJob(db.Model):
    """One export a user asked for: what, with which parameters, and where it stands.

    The id is random, and only the user who asked may fetch the file (it may carry personal
    data); files are deleted a day after they are made (``exports.purge``).
    """

    __tablename__ = "export_jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED)
    file_name: Mapped[str] = mapped_column(String(128))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
