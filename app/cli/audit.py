"""``flask audit``: prove no timeline event or admin audit entry was changed or removed,
sign checkpoints of every chain, and seal chains written before signed heads existed."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.errors import DomainError
from app.extensions import db
from app.models import Case
from app.services.admin.integrity import (
    latest_checkpoint,
    read_checkpoint,
    seal_history,
    take_checkpoint,
    verify_everything,
)
from app.services.seals import CASE_CHAIN, ChainBreak

audit = AppGroup("audit", help="审计 Audit trail.")


@audit.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="对照的检查点文件（默认 AUDIT_CHECKPOINT_DIR 中最新的一个）")
def verify_command(checkpoint_file: Path | None) -> None:
    """Walk every case's timeline and the admin audit log against their signed heads and the
    newest signed checkpoint; name each case or entry that was changed, removed or deleted.

    Exits 1 when anything is broken, so a cron job or monitor can raise the alarm.
    """
    try:
        checkpoint = read_checkpoint(checkpoint_file.read_bytes(), checkpoint_file) if checkpoint_file \
            else latest_checkpoint()
    except DomainError as exc:
        click.echo(f"校验失败：{exc.message}", err=True)
        sys.exit(1)
    breaks = verify_everything(checkpoint)
    for item in breaks:
        click.echo(describe(item))
    cases = {b.subject_id for b in breaks if b.chain == CASE_CHAIN}
    admin = len(breaks) - sum(1 for b in breaks if b.chain == CASE_CHAIN)
    total = db.session.scalar(select(func.count(Case.id)))
    against = f"，对照检查点 {checkpoint.at}" if checkpoint else "（尚无检查点：flask audit checkpoint）"
    click.echo(f"已校验 {total} 件案件和管理操作日志{against}：{len(cases)} 件案件的办理记录、"
               f"{admin} 处管理操作日志被篡改或缺失。")
    sys.exit(1 if breaks else 0)


def describe(item: ChainBreak) -> str:
    """One break in words: which case (by number, when it still exists) or log entry, and what."""
    where = f"第 {item.seq} 条" if item.seq else "整体"
    if item.chain == CASE_CHAIN:
        number = db.session.scalar(select(Case.number).where(Case.id == item.subject_id))
        return f"案件 {number or '（已不存在）'}（id {item.subject_id}）{where}：{item.reason}"
    return f"管理操作日志{where}：{item.reason}"


@audit.command("checkpoint")
def checkpoint_command() -> None:
    """Sign the length and last hash of every chain now, into AUDIT_CHECKPOINT_DIR and the log.

    The task queue runs this periodically; ``flask backup create`` takes one too.
    """
    try:
        checkpoint = take_checkpoint()
    except DomainError as exc:
        click.echo(f"检查点未写入：{exc.message}", err=True)
        sys.exit(1)
    click.echo(f"检查点已写入：{checkpoint.path}（{len(checkpoint.heads.get(CASE_CHAIN, {}))} 件案件）")


@audit.command("seal")
def seal_command() -> None:
    """Once after upgrading: sign the end of every chain written before signed heads existed."""
    sealed = seal_history()
    db.session.commit()
    click.echo(f"已为 {sealed} 条记录链签名链头。")
