"""Signed chain heads (链头签名): anchoring a hash chain outside the table it protects.

A hash chain alone proves nothing against someone who can write its table: they can edit
an event and recompute every later hash, or drop the last event. So each chain (a case's
timeline, the admin audit log) also has a ``ChainHead`` (its length and last hash), signed
with an HMAC whose key (AUDIT_KEY) lives in the environment, never in the database. A
writer without the key cannot make a rewritten chain and its head agree. What a head
cannot show (a head rolled back to an older signed state, or deleted with its chain) the
signed checkpoints of ``services.admin.integrity`` show.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import ChainHead

GENESIS_HASH = "0" * 64
CASE_CHAIN = "case"
ADMIN_CHAIN = "admin"
ADMIN_SUBJECT = 0


@dataclass
class ChainBreak:
    """Where a chain stops holding, and why (``seq`` 0: the chain as a whole)."""

    chain: str
    subject_id: int
    seq: int
    reason: str


@dataclass(frozen=True)
class Anchor:
    """What a signed checkpoint says one chain held when it was taken: its length and last hash."""

    length: int
    last_hash: str
    taken_at: str


def canonical(content: dict) -> bytes:
    """The one byte form of a JSON-ready dict that hashes and signatures are taken over."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(content: dict) -> str:
    """The hex HMAC-SHA256 of ``content`` under AUDIT_KEY."""
    key = current_app.config["AUDIT_KEY"].encode("utf-8")
    return hmac.new(key, canonical(content), hashlib.sha256).hexdigest()


def signature_holds(content: dict, signature: str) -> bool:
    """True when ``signature`` is this key's signature of ``content`` (constant time)."""
    return hmac.compare_digest(sign(content), signature or "")


def _head_content(chain: str, subject_id: int, length: int, last_hash: str) -> dict:
    """What a head's signature covers: which chain, how long, ending where."""
    return {"chain": chain, "subject_id": subject_id, "length": length, "last_hash": last_hash}


def head_signature(chain: str, subject_id: int, length: int, last_hash: str) -> str:
    """The signature a head of this chain, length and last hash carries."""
    return sign(_head_content(chain, subject_id, length, last_hash))


def head_is_signed(head: ChainHead) -> bool:
    """True when the head is exactly as the app signed it."""
    return hmac.compare_digest(head_signature(head.chain, head.subject_id, head.length, head.last_hash),
                               head.signature or "")


def advance_head(chain: str, subject_id: int, seq: int, new_hash: str) -> ChainHead:
    """Move a chain's signed head to its newly appended entry ``seq`` (flushed with it).

    The caller already holds the chain's write lock (the case row, or the admin head row
    through ``lock_head``), so heads advance in the chain's own order.
    """
    current = head(chain, subject_id)
    if current is None:
        current = ChainHead(chain=chain, subject_id=subject_id)
        db.session.add(current)
    current.length, current.last_hash = seq, new_hash
    current.signature = head_signature(chain, subject_id, seq, new_hash)
    db.session.flush()
    return current


def lock_head(chain: str, subject_id: int) -> ChainHead | None:
    """The chain's head, locked until commit (FOR UPDATE on PostgreSQL), or None before the first entry."""
    return db.session.scalar(
        select(ChainHead).where(ChainHead.chain == chain, ChainHead.subject_id == subject_id).with_for_update()
    )


def head(chain: str, subject_id: int) -> ChainHead | None:
    """One chain's head, or None when it has none."""
    return db.session.scalar(select(ChainHead).where(ChainHead.chain == chain, ChainHead.subject_id == subject_id))


def heads(chain: str) -> dict[int, ChainHead]:
    """Every head of one kind of chain, by subject."""
    return {h.subject_id: h for h in db.session.scalars(select(ChainHead).where(ChainHead.chain == chain))}


def missing_span(expected_seq: int, found_seq: int) -> str:
    """The entries missing before ``found_seq`` when ``expected_seq`` was due, in words."""
    if found_seq == expected_seq + 1:
        return f"第 {expected_seq} 条"
    return f"第 {expected_seq}–{found_seq - 1} 条"


def check_against_head(chain: str, subject_id: int, last_seq: int, last_hash: str | None,
                       signed: ChainHead | None) -> list[ChainBreak]:
    """What the signed head says about a chain whose newest entry is ``last_seq``/``last_hash``.

    The chain's own walk finds edits and gaps; this finds what the walk cannot: entries
    removed from the end, entries added behind the app's back, and an edit whose later
    hashes were all recomputed (the walk then holds, but the end no longer matches).
    """
    def found(reason: str, seq: int = 0) -> list[ChainBreak]:
        return [ChainBreak(chain, subject_id, seq, reason)]

    if signed is None:
        return found("签名链头缺失（链头被删除，或升级前的记录尚未封存：flask audit seal）") if last_seq else []
    if not head_is_signed(signed):
        return found("链头签名不符（链头被改写）")
    if last_seq < signed.length:
        missing = signed.length - last_seq
        return found(f"最后 {missing} 条记录被删除（签名链头记有 {signed.length} 条）", signed.length)
    if last_seq > signed.length:
        return found(f"第 {signed.length + 1}–{last_seq} 条记录未经系统写入（签名链头只记到第 {signed.length} 条）",
                     signed.length + 1)
    if last_hash != signed.last_hash:
        return found("记录被修改且其后哈希被重新计算（链尾与签名链头不符）", last_seq)
    return []


def check_against_anchor(chain: str, subject_id: int, hash_at_length: str | None,
                         anchor: Anchor | None) -> list[ChainBreak]:
    """Chains only grow: the entry a checkpoint named must still be there, with its hash.

    This catches what a valid head cannot: a head rolled back to an older signed state
    together with the entries after it.
    """
    if anchor is None or hash_at_length == anchor.last_hash:
        return []
    return [ChainBreak(chain, subject_id, anchor.length,
                       f"检查点 {anchor.taken_at} 之后，前 {anchor.length} 条记录被改写或删除（链头被回退）")]
