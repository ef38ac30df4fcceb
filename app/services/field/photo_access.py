"""Which stored photo file a user may have: thumbnails and display copies for anyone who may
see the case, originals (evidence, with their metadata) only for those who handle it."""

import uuid
from pathlib import Path

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Inspection, Photo, User
from app.models.vocab import PhotoStatus
from app.services.access import Action, authorize
from app.services.field.photos import photo_path

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}


def photo_file(user: User, photo_id: uuid.UUID, variant: str) -> tuple[Path, str, str]:
    """(path, mimetype, download name) of one variant, or NotFound / Forbidden."""
    row = db.session.execute(
        select(Photo, Inspection.case_id).join(Inspection).where(Photo.id == photo_id)
    ).first()
    if row is None or row[0].status != PhotoStatus.RECEIVED or row[1] is None:
        raise NotFound("照片不存在，或尚未上传。")
    photo, case_id = row
    authorize(user, case_id, Action.VIEW_ORIGINAL_PHOTO if variant == "original" else Action.VIEW)
    if variant == "original":
        extension = EXTENSIONS.get(photo.content_type, "jpg")
        return photo_path("original", photo.sha256, extension), photo.content_type, f"{photo.id}.{extension}"
    return photo_path(variant, photo.sha256), "image/jpeg", f"{photo.id}-{variant}.jpg"
