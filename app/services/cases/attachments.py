"""Case attachments: check what a file really is, store it once by content, serve it only to
those who may read the petitioner's data."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.database import get_or_404
from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, User
from app.models.attachments import CaseAttachment
from app.services import clock
from app.services.access import Action, authorize, can
from app.services.cases.timeline import append_event
from app.services.field.photos import write_once

MAX_BYTES = 20 * 1024 * 1024
MAX_PER_CASE = 30
# Recognised by their first bytes, never by the name or the browser's claim.
SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]


@dataclass
class Upload:
    """A file as received: its name and bytes."""

    filename: str
    data: bytes


def sniff(data: bytes) -> tuple[str, str]:
    """(content type, extension) of a PDF, JPEG or PNG; InvalidInput for anything else."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    if len(data) > 12 and data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"heif"):
        return "image/heic", "heic"
    raise InvalidInput("附件只接受 PDF、JPEG、PNG 或 HEIC 文件。", {"attachments": ["文件类型不支持"]})


def safe_name(filename: str) -> str:
    """A display name without folders or control characters (the stored file is named by hash)."""
    name = re.sub(r"[\x00-\x1f/\\]", "_", Path(filename or "附件").name).strip() or "附件"
    return name[:200]


def check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str, str]]:
    """Every non-empty form slot checked for size and type, before anything is saved."""
    return [(upload, *_check(upload)) for upload in uploads if upload.data or upload.filename]


def attach(user: User, case: Case, uploads: list[Upload]) -> list[CaseAttachment]:
    """Check every file first, then store them all; nothing is kept if one is refused."""
    checked = check_uploads(uploads)
    existing = db.session.scalar(select(db.func.count(CaseAttachment.id)).where(CaseAttachment.case_id == case.id))
    if existing + len(checked) > MAX_PER_CASE:
        raise InvalidInput(f"每件案件最多 {MAX_PER_CASE} 个附件。", {"attachments": ["数量超限"]})
    stored = []
    for upload, content_type, extension in checked:
        sha = hashlib.sha256(upload.data).hexdigest()
        write_once(attachment_path(sha, extension), upload.data)
        stored.append(CaseAttachment(case_id=case.id, filename=safe_name(upload.filename), content_type=content_type,
                                     sha256=sha, byte_size=len(upload.data), uploaded_by_id=user.id,
                                     uploaded_at=clock.now()))
    db.session.add_all(stored)
    db.session.flush()
    if stored:
        append_event(case, "attach", user, note="上传附件 " + "、".join(a.filename for a in stored),
                     data={"attachment_ids": [a.id for a in stored]}, at=clock.now())
    return stored


def _check(upload: Upload) -> tuple[str, str]:
    """Size and type of one upload."""
    if not upload.data:
        raise InvalidInput(f"附件「{safe_name(upload.filename)}」是空文件。", {"attachments": ["空文件"]})
    if len(upload.data) > MAX_BYTES:
        raise InvalidInput(f"附件「{safe_name(upload.filename)}」超过 {MAX_BYTES // 1024 // 1024} MB。",
                           {"attachments": ["文件过大"]})
    return sniff(upload.data)


def attachment_path(sha: str, extension: str) -> Path:
    """Where an attachment's bytes live."""
    return Path(current_app.config["PHOTO_DIR"]) / "attachments" / sha[:2] / f"{sha}.{extension}"


def attachments_of(user: User, case: Case) -> list[CaseAttachment]:
    """A case's attachments, for those who may read them (others get an empty list)."""
    if not can(user, Action.VIEW_PERSONAL_DATA, case):
        return []
    return list(db.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                   .order_by(CaseAttachment.id)))


def attachment_file(user: User, attachment_id: int) -> tuple[Path, CaseAttachment]:
    """The file of one attachment, for handlers of its case only."""
    attachment = get_or_404(CaseAttachment, attachment_id, "附件不存在，或您无权查看。")
    authorize(user, attachment.case_id, Action.VIEW_PERSONAL_DATA)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}
    return attachment_path(attachment.sha256, extension[attachment.content_type]), attachment
