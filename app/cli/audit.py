"""``flask audit verify``: prove no timeline event was changed or removed."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case
from app.services.cases.timeline import verify_all_chains

audit = AppGroup("audit", help="审计 Audit trail.")


@audit.command("verify")
def verify_command() -> None:
    """Walk every case's hash chain; list each case whose events were changed or removed.

    Exits 1 when any chain is broken, so a cron job or monitor can raise the alarm.
    """
    broken: set[int] = set()
    for item in list(verify_all_chains()):
        broken.add(item.case_id)
        number = db.session.scalar(select(Case.number).where(Case.id == item.case_id))
        click.echo(f"案件 {number}（id {item.case_id}）第 {item.seq} 条事件：{item.reason}")
    total = db.session.scalar(select(func.count(Case.id)))
    click.echo(f"已校验 {total} 件案件，{len(broken)} 件办理记录被篡改或缺失。")
    sys.exit(1 if broken else 0)
