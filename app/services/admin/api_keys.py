"""API keys of outside systems (接口密钥), e.g. an Open311 client reporting into Firstline.

A key looks like ``fl_3kq9x2ab_<43 random characters>``. Only its sha256 is stored, with
its short prefix to find the row; the whole key is shown once, when it is made. A key this
random needs no slow hash: nobody can guess 256 bits, and checking it stays cheap on every
request.
"""

import hashlib
import hmac
import secrets

from sqlalchemy import select

from app.database import get_or_404
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import ApiKey, User
from app.services import clock
from app.services.admin import audit

KEY_FIELDS = ("name", "prefix", "created_by_id", "created_at", "revoked_at")


def _digest(raw: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_api_key(actor: User, name: str) -> tuple[ApiKey, str]:
    """A new key for a named client; returns the row and the key itself (show it once)."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("请填写使用该密钥的系统名称（不超过100字）。", {"name": ["名称必填，不超过100字"]})
    prefix = secrets.token_hex(4)
    raw = f"fl_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=_digest(raw), created_by_id=actor.id, created_at=clock.now())
    db.session.add(key)
    db.session.flush()
    audit.record(actor, "api_key.create", "api_key", key.id, None, audit.snapshot(key, KEY_FIELDS))
    return key, raw


def revoke_api_key(actor: User, key_id: int) -> ApiKey:
    """Stop a key from working, at once and for good."""
    key = get_or_404(ApiKey, key_id, "接口密钥不存在。")
    if key.revoked_at is not None:
        raise Conflict("该密钥已吊销。")
    before = audit.snapshot(key, KEY_FIELDS)
    key.revoked_at = clock.now()
    db.session.flush()
    audit.record(actor, "api_key.revoke", "api_key", key.id, before, audit.snapshot(key, KEY_FIELDS))
    return key


def list_api_keys() -> list[ApiKey]:
    """Every key, newest first (revoked ones too, for the record)."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


def verify_api_key(raw: str) -> ApiKey | None:
    """The live key matching what a client sent, or None; notes when it was last used (flushed)."""
    parts = raw.strip().split("_", 2)  # the random part may itself contain "_"
    if len(parts) != 3 or parts[0] != "fl":
        return None
    digest = _digest(raw.strip())
    for key in db.session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1], ApiKey.revoked_at.is_(None))):
        if hmac.compare_digest(key.key_hash, digest):
            key.last_used_at = clock.now()
            db.session.flush()
            return key
    return None
