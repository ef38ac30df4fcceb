"""Which stored photo file a user may have: thumbnails and display copies for anyone who may
see the case, originals (evidence, with their metadata) only for those who handle it.

A thumbnail or display copy asked for while the worker is still making it answers 503 with
Retry-After (``errors.retry == ["processing"]``); the original is there from the start.

"Original" serves the camera's untouched file when the phone sent it (on Wi-Fi), else the
file as it arrived, which from the phone is its shrunk copy; the answer says which, so
nobody takes a phone copy for the camera's file.
"""

import uuid
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select

from app.errors import NotFound, TransientConflict
from app.extensions import db
from app.models import Inspection, Photo, User
from app.models.vocab import PhotoOrigin, PhotoStatus
from app.services.access import Action, authorize
from app.services.field.photos import photo_path, stored_original

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}
# What the "original" of a photo is, as the X-Photo-Copy header and the file name say it.
ORIGINAL, PHONE_COPY = "original", "phone-copy"
COPY_LABELS = {ORIGINAL: "原图", PHONE_COPY: "手机压缩件"}


class PhotoFile(NamedTuple):
    """One stored file of a photo; ``copy`` says what an "original" request got (else None)."""

    path: Path
    mimetype: str
    download_name: str
    copy: str | None = None


def original_copy(photo: Photo) -> str:
    """ORIGINAL when the stored "original" is the camera's own file, PHONE_COPY when the phone shrank it.

    A desk upload is stored as it was picked, so it is the original file.
    """
    return ORIGINAL if photo.original_sha256 or photo.origin == PhotoOrigin.DESK else PHONE_COPY


def photo_file(user: User, photo_id: uuid.UUID, variant: str) -> PhotoFile:
    """One variant's file, or NotFound / Forbidden."""
    row = db.session.execute(
        select(Photo, Inspection.case_id).join(Inspection).where(Photo.id == photo_id)
    ).first()
    if row is None or row[0].status != PhotoStatus.RECEIVED or row[1] is None:
        raise NotFound("照片不存在，或尚未上传。")
    photo, case_id = row
    authorize(user, case_id, Action.VIEW_ORIGINAL_PHOTO if variant == "original" else Action.VIEW)
    if variant == "original":
        return _original_file(photo)
    if photo.processing:
        raise TransientConflict("照片正在处理，请稍后再看。", {"retry": ["processing"]})
    return PhotoFile(photo_path(variant, photo.sha256), "image/jpeg", f"{photo.id}-{variant}.jpg")


def _original_file(photo: Photo) -> PhotoFile:
    """The camera's file when it arrived, else the file as received, named in Chinese for what it is."""
    copy = original_copy(photo)
    if photo.original_sha256:
        try:
            path, mimetype = stored_original(photo.original_sha256)
        except FileNotFoundError as exc:
            raise NotFound("原图文件缺失，请联系系统管理员。") from exc
    else:
        mimetype = photo.content_type
        path = photo_path("original", photo.sha256, EXTENSIONS.get(mimetype, "jpg"))
    name = f"现场照片-{str(photo.id)[:8]}-{COPY_LABELS[copy]}.{path.suffix.lstrip('.')}"
    return PhotoFile(path, mimetype, name, copy)
