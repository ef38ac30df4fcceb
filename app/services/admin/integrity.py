"""Tamper evidence over every hash chain: signed checkpoints, the full check, the one-time seal.

A signed head (``services.seals``) shows a chain rewritten behind the app's back, but not a
head rolled back to an older signed state, nor a case deleted together with its head. A
checkpoint shows both: the length and last hash of every chain at one moment, signed with
AUDIT_KEY and kept outside the database (a file in AUDIT_CHECKPOINT_DIR, a line in the log,
a copy in every backup). Chains only ever grow, so each chain must still hold the entry the
checkpoint names, with that hash. A checkpoint never forgets: a chain missing or shorter
than in the checkpoint before keeps its earlier entry, so a rollback cannot be blessed by
the next checkpoint.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import AdminAuditEntry, CaseEvent, ChainHead
from app.services import clock
from app.services.admin.audit import verify_log
from app.services.cases.timeline import chain_holds, verify_all_chains
from app.services.seals import (
    ADMIN_CHAIN,
    ADMIN_SUBJECT,
    CASE_CHAIN,
    Anchor,
    ChainBreak,
    advance_head,
    head_is_signed,
    sign,
    signature_holds,
)

FORMAT = 1
KIND = "firstline-audit-checkpoint"
CHAINS = (CASE_CHAIN, ADMIN_CHAIN)


@dataclass
class Checkpoint:
    """A signed snapshot of every chain head: chain → subject id → (length, last hash)."""

    at: str
    heads: dict[str, dict[int, tuple[int, str]]]
    path: Path | None = None

    def content(self) -> dict:
        """What the signature covers."""
        return {"format": FORMAT, "kind": KIND, "at": self.at,
                "heads": {chain: {str(s): list(v) for s, v in sorted(by.items())} for chain, by in self.heads.items()}}

    def document(self) -> dict:
        """The file's JSON: the content and its signature."""
        content = self.content()
        return {**content, "signature": sign(content)}


# --------------------------------------------------------------------------- checkpoints


def take_checkpoint() -> Checkpoint:
    """Sign every chain head now; write the file and a line to the log; keep the newest files.

    Meant to run periodically (the task queue's "audit.checkpoint") and before every backup.
    A head whose signature does not hold is left out (and logged): a checkpoint only ever
    vouches for what the app itself wrote. InvalidInput when the newest checkpoint file is
    not this key's: the alarm must not be silenced by writing a new one over it.
    """
    previous = latest_checkpoint()
    found: dict[str, dict[int, tuple[int, str]]] = {chain: {} for chain in CHAINS}
    for head in db.session.scalars(select(ChainHead).order_by(ChainHead.chain, ChainHead.subject_id)):
        if head_is_signed(head):
            found.setdefault(head.chain, {})[head.subject_id] = (head.length, head.last_hash)
        else:
            current_app.logger.error("audit checkpoint: head of %s %s is not signed, left out",
                                     head.chain, head.subject_id)
    merged = _never_forget(previous, found)
    checkpoint = Checkpoint(clock.now().isoformat(timespec="microseconds"), merged)
    checkpoint.path = keep_checkpoint(checkpoint_bytes(checkpoint))
    document = checkpoint.document()
    current_app.logger.info(
        "audit checkpoint %s: %d case chains, admin log %d entries, signature %s", checkpoint.path.name,
        len(merged.get(CASE_CHAIN, {})), merged.get(ADMIN_CHAIN, {}).get(ADMIN_SUBJECT, (0, ""))[0],
        document["signature"])
    _prune()
    return checkpoint


def _never_forget(previous: "Checkpoint | None", found: dict) -> dict:
    """The heads found now, but never less than the previous checkpoint held (logged)."""
    if previous is None:
        return found
    for chain, by_subject in previous.heads.items():
        current = found.setdefault(chain, {})
        for subject_id, (length, last_hash) in by_subject.items():
            now = current.get(subject_id)
            if now is None or now[0] < length:
                current_app.logger.error("audit checkpoint: %s %s is %s, was %d entries; kept as it was",
                                         chain, subject_id, "gone" if now is None else f"{now[0]} entries", length)
                current[subject_id] = (length, last_hash)
    return found


def _folder() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_DIR"])


def keep_checkpoint(data: bytes) -> Path:
    """Store a checkpoint file (just taken, or restored from a backup) as the newest, whole or not at all."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"checkpoint-{stamp}.json"
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return path


def _prune() -> None:
    """Keep the newest AUDIT_CHECKPOINTS_KEPT checkpoint files."""
    files = sorted(_folder().glob("checkpoint-*.json"))
    for old in files[:-current_app.config["AUDIT_CHECKPOINTS_KEPT"]]:
        old.unlink()


def latest_checkpoint() -> Checkpoint | None:
    """The newest checkpoint file (checked), or None when there is none yet."""
    folder = _folder()
    files = sorted(folder.glob("checkpoint-*.json")) if folder.is_dir() else []
    return read_checkpoint(files[-1].read_bytes(), files[-1]) if files else None


def read_checkpoint(data: bytes, path: Path | None = None) -> Checkpoint:
    """A checkpoint from its file's bytes; InvalidInput unless this key signed it."""
    try:
        document = json.loads(data)
        signature = document.pop("signature")
        heads = {chain: {int(s): (int(v[0]), str(v[1])) for s, v in by.items()}
                 for chain, by in document["heads"].items()}
        at = document["at"]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise InvalidInput(f"审计检查点文件无法读取：{exc}") from exc
    if document.get("kind") != KIND or not signature_holds(document, signature):
        raise InvalidInput("审计检查点签名不符：文件被改动，或签名密钥（AUDIT_KEY）与签发时不同。")
    return Checkpoint(at, heads, path)


def checkpoint_bytes(checkpoint: Checkpoint) -> bytes:
    """The checkpoint as its file holds it (for a backup)."""
    return json.dumps(checkpoint.document(), ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- verification


def verify_everything(checkpoint: Checkpoint | None) -> list[ChainBreak]:
    """Every break in every case's timeline and in the admin audit log, against their signed
    heads and the checkpoint (one pass over each chain, however many cases)."""
    if checkpoint is None:
        return list(verify_all_chains()) + verify_log()
    anchors = {chain: {subject: Anchor(length, last_hash, checkpoint.at) for subject, (length, last_hash)
                       in by_subject.items()} for chain, by_subject in checkpoint.heads.items()}
    return list(verify_all_chains(anchors.get(CASE_CHAIN, {}))) + verify_log(
        anchors.get(ADMIN_CHAIN, {}).get(ADMIN_SUBJECT))


# --------------------------------------------------------------------------- sealing history


def seal_history() -> int:
    """Sign the end of every chain that has no head yet; how many were sealed.

    Run once after upgrading (``flask audit seal``): chains written before heads existed
    get one for their present end (a chain's next entry would make one anyway). Only a
    chain that holds together is sealed; a broken one stays reported by ``verify``.
    """
    sealed = 0
    have = set(db.session.scalars(select(ChainHead.subject_id).where(ChainHead.chain == CASE_CHAIN)))
    for case_id, seq, last_hash in _case_ends():
        if case_id not in have and chain_holds(case_id):
            advance_head(CASE_CHAIN, case_id, seq, last_hash)
            sealed += 1
    admin = [b for b in verify_log() if "签名链头缺失" not in b.reason]
    last = db.session.scalar(select(AdminAuditEntry).order_by(AdminAuditEntry.seq.desc()).limit(1))
    if last is not None and not admin and (ADMIN_CHAIN, ADMIN_SUBJECT) not in _heads_present():
        advance_head(ADMIN_CHAIN, ADMIN_SUBJECT, last.seq, last.hash)
        sealed += 1
    return sealed


def _case_ends() -> list[tuple[int, int, str]]:
    """(case id, last seq, last hash) of every case's timeline."""
    last = select(CaseEvent.case_id, func.max(CaseEvent.seq).label("seq")).group_by(CaseEvent.case_id).subquery()
    return [tuple(row) for row in db.session.execute(
        select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).join(
            last, (CaseEvent.case_id == last.c.case_id) & (CaseEvent.seq == last.c.seq)).order_by(CaseEvent.case_id))]


def _heads_present() -> set[tuple[str, int]]:
    return {(c, s) for c, s in db.session.execute(select(ChainHead.chain, ChainHead.subject_id))}
