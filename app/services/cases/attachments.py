"""Case attachments: check what a file really is, store it once by content, serve it only to
those who may read the petitioner's data.

A file is what its first bytes say, never what its name or the browser claims: it is
stored and served under its own name with the extension of its real type (a JPEG named
``x.html`` becomes ``x.jpg``), always as a download. A declared type that contradicts the
content is refused. PDFs that carry JavaScript, launch actions or embedded files are
refused outright rather than kept with a warning: an office never needs them in a case
file, and a warning is clicked through (docs/deploy.md, "Uploads").
"""

import hashlib
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.database import get_or_404
from app.downloads import printable_name
from app.errors import InvalidInput
from app.extensions import db
from app.models import Case, User
from app.models.attachments import CaseAttachment
from app.services import clock
from app.services.access import Action, authorize, can
from app.services.cases.timeline import append_event
from app.services.field.photos import check_declared_type, write_once

MAX_BYTES = 20 * 1024 * 1024
MAX_PER_CASE = 30
# Recognised by their first bytes, never by the name or the browser's claim.
SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]


EXTENSIONS = {content_type: extension for _, content_type, extension in SIGNATURES} | {"image/heic": "heic"}
# PDF names that run something or carry a file: document or link JavaScript (also behind
# /OpenAction or /AA), launching a program, embedded files. Matched as whole name tokens,
# after #xx escapes are decoded (/J#61vaScript is /JavaScript), in the raw file and in
# every Flate-compressed stream (object streams hide dictionaries there).
_PDF_ACTIVE = re.compile(rb"/(JS|JavaScript|Launch|EmbeddedFiles?)(?=[\s/<>\[\]()%{}]|$)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
# At most this much inflated stream data is looked through (a small PDF could inflate to gigabytes).
_PDF_INFLATE_BUDGET = 64 * 1024 * 1024


@dataclass
class Upload:
    """A file as received: its name, bytes and the type its sender declared."""

    filename: str
    data: bytes
    content_type: str = ""


def sniff(data: bytes) -> tuple[str, str]:
    """(content type, extension) of a PDF, JPEG or PNG; InvalidInput for anything else."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    if len(data) > 12 and data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"heif"):
        return "image/heic", "heic"
    raise InvalidInput("附件只接受 PDF、JPEG、PNG 或 HEIC 文件。", {"attachments": ["文件类型不支持"]})


def safe_name(filename: str) -> str:
    """A display name without folders, and without control, format or line-separator characters
    (DEL in a name once made its download's header invalid); the stored file is named by hash."""
    name = re.sub(r"[/\\]", "_", printable_name(Path(filename or "附件").name)).strip() or "附件"
    return name[:200]


def stored_name(filename: str, extension: str) -> str:
    """The name a file is kept and downloaded under: its own stem, its real type's extension."""
    stem = Path(safe_name(filename)).stem.strip(". ") or "附件"
    return f"{stem[:190]}.{extension}"


def check_pdf(data: bytes, name: str) -> None:
    """Refuse a PDF that carries JavaScript, a launch action or embedded files."""
    budget = _PDF_INFLATE_BUDGET
    for chunk in _pdf_texts(data):
        budget -= len(chunk)
        if budget < 0:
            raise InvalidInput(f"附件「{name}」的 PDF 内容过于庞大，无法检查，已拒收。",
                               {"attachments": ["PDF 无法检查"]})
        if _PDF_ACTIVE.search(_PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), chunk)):
            raise InvalidInput(f"附件「{name}」含有脚本或嵌入文件，出于安全考虑不予接收；"
                               "请另存为（或打印为）普通 PDF 后再上传。", {"attachments": ["PDF 含脚本或嵌入文件"]})


def _pdf_texts(data: bytes):
    """The raw file, then every stream that inflates (as far as it inflates)."""
    yield data
    view = memoryview(data)
    for match in _PDF_STREAM.finditer(data):
        try:
            yield zlib.decompressobj().decompress(view[match.end():], _PDF_INFLATE_BUDGET + 1)
        except zlib.error:
            continue


def check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str, str]]:
    """Every non-empty form slot checked for size and type, before anything is saved."""
    return [(upload, *_check(upload)) for upload in uploads if upload.data or upload.filename]


def attach(user: User, case: Case, uploads: list[Upload], optional: bool = False) -> list[CaseAttachment]:
    """Check every file first, then store them all; nothing is kept if one is refused.

    An upload that carries no file is refused (it used to answer "stored: nothing", which a
    client takes for success); only a form where files are optional (``optional``, the intake
    form) may have none.
    """
    checked = check_uploads(uploads)
    if not checked and not optional:
        raise InvalidInput("须选择要上传的文件。", {"attachments": ["未选择文件"]})
    existing = db.session.scalar(select(db.func.count(CaseAttachment.id)).where(CaseAttachment.case_id == case.id))
    if existing + len(checked) > MAX_PER_CASE:
        raise InvalidInput(f"每件案件最多 {MAX_PER_CASE} 个附件。", {"attachments": ["数量超限"]})
    stored = []
    for upload, content_type, extension in checked:
        sha = hashlib.sha256(upload.data).hexdigest()
        write_once(attachment_path(sha, extension), upload.data)
        stored.append(CaseAttachment(case_id=case.id, filename=stored_name(upload.filename, extension),
                                     content_type=content_type,
                                     sha256=sha, byte_size=len(upload.data), uploaded_by_id=user.id,
                                     uploaded_at=clock.now()))
    db.session.add_all(stored)
    db.session.flush()
    if stored:
        append_event(case, "attach", user, note="上传附件 " + "、".join(a.filename for a in stored),
                     data={"attachment_ids": [a.id for a in stored]}, at=clock.now())
    return stored


def _check(upload: Upload) -> tuple[str, str]:
    """Size, type (as found, and as declared) and, for a PDF, content of one upload."""
    name = safe_name(upload.filename)
    if not upload.data:
        raise InvalidInput(f"附件「{name}」是空文件。", {"attachments": ["空文件"]})
    if len(upload.data) > MAX_BYTES:
        raise InvalidInput(f"附件「{name}」超过 {MAX_BYTES // 1024 // 1024} MB。", {"attachments": ["文件过大"]})
    content_type, extension = sniff(upload.data)
    check_declared_type(upload.content_type, content_type, f"附件「{name}」的")
    if content_type == "application/pdf":
        check_pdf(upload.data, name)
    return content_type, extension


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
    return attachment_path(attachment.sha256, EXTENSIONS[attachment.content_type]), attachment


def download_name(attachment: CaseAttachment) -> str:
    """The name to download under, with the extension of the stored type (also for files
    kept before names followed the type)."""
    return stored_name(attachment.filename, EXTENSIONS[attachment.content_type])
