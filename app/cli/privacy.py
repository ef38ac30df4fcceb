"""``flask privacy purge`` and ``flask privacy export``: retention and lawful requests."""

import json
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import InvalidInput
from app.extensions import db
from app.services import clock
from app.services.admin.petitioner_export import export_petitioner
from app.services.admin.retention import purge
from app.services.admin.throttling import prune_attempts

privacy = AppGroup("privacy", help="个人信息 Petitioners' personal data: retention and export.")


@privacy.command("purge")
@click.option("--execute", is_flag=True, help="真正执行匿名化（不加此项只列出将处理的案件，不改动任何数据）。")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="保存期限（天），默认取 PERSONAL_DATA_RETENTION_DAYS。")
def purge_command(execute: bool, days: int | None) -> None:
    """Anonymise petitioners' personal data on cases that ended longer ago than the retention.

    Without --execute this is a dry run: it lists the cases and changes nothing. Run it
    first, read the list, then run again with --execute (e.g. monthly from cron). The real
    run is written to the admin audit log; it also deletes sign-in attempts older than
    LOGIN_ATTEMPT_RETENTION_DAYS.
    """
    config = current_app.config
    retention = timedelta(days=days or config["PERSONAL_DATA_RETENTION_DAYS"])
    report = purge(clock.now(), retention, execute=execute)
    verb = "已匿名化" if execute else "将匿名化（试运行，未改动数据）"
    for item in report.items:
        click.echo(f"  {item.number}  结束于 {item.ended_at:%Y-%m-%d}  {'、'.join(item.fields)}"
                   f"  文本 {item.texts_changed} 处  办理记录提及 {item.timeline_mentions} 处")
    click.echo(f"保存期限 {retention.days} 天（{report.cutoff:%Y-%m-%d} 之前结束的案件）："
               f"{verb} {len(report.items)} 件，改写文本 {report.texts_changed} 处。")
    if report.timeline_mentions:
        click.echo(f"注意：{report.timeline_mentions} 条办理记录备注仍含信访人信息；办理记录为哈希链存证，不作改写。")
    if execute:
        pruned = prune_attempts(timedelta(days=config["LOGIN_ATTEMPT_RETENTION_DAYS"]))
        db.session.commit()
        current_app.logger.info("privacy purge: %d cases anonymised, %d login attempts pruned",
                                len(report.items), pruned)
        click.echo(f"已删除 {pruned} 条过期的登录记录。")
    else:
        db.session.rollback()
        click.echo("这是试运行。确认无误后加 --execute 执行。")


@privacy.command("export")
@click.option("--phone", default="", help="信访人电话（完全一致）")
@click.option("--id-number", default="", help="信访人身份证号（完全一致）")
@click.option("--name", default="", help="信访人姓名（完全一致；同名者会一并列出，请核对）")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写入该文件（默认输出到屏幕）")
def export_command(phone: str, id_number: str, name: str, output: Path | None) -> None:
    """Export everything held about one petitioner as JSON, for a lawful request.

    The admin audit log records that an export was made and of which cases, never the
    phone, ID number or name searched for.
    """
    try:
        data = export_petitioner(None, phone=phone, id_number=id_number, name=name)
    except InvalidInput as exc:
        click.echo(exc.message, err=True)
        sys.exit(2)
    db.session.commit()
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        output.chmod(0o600)
        click.echo(f"已导出 {data['case_count']} 件案件到 {output}", err=True)
