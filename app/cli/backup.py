"""``flask backup create`` and ``flask backup restore``: the database and every photo, in one archive."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.services.admin.backup import create_backup, restore_backup

backup = AppGroup("backup", help="备份与恢复 Backups.")


@backup.command("create")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="备份文件或目录（默认 BACKUP_DIR，文件名含时间）")
def create_command(output: Path | None) -> None:
    """Write one archive: a consistent database dump, every photo, and a manifest of sha256 sums.

    Safe while the app runs. Meant for cron, e.g. nightly; copy the archive off the machine.
    """
    try:
        result = create_backup(output)
    except DomainError as exc:
        click.echo(f"备份失败：{exc.message}", err=True)
        sys.exit(1)
    rows = sum(n for t, n in result.rows.items() if t != "alembic_version")
    click.echo(f"备份完成：{result.path}")
    click.echo(f"  数据库 {result.dialect}（迁移版本 {result.revision}），{rows} 行；"
               f"照片文件 {result.photos} 个，{result.photo_bytes / 1048576:.1f} MB")


@backup.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(archive: Path) -> None:
    """Restore an archive into an empty instance (same database kind), checking every sum first.

    Refuses when the database holds any row or PHOTO_DIR holds any file. Afterwards run
    ``flask db upgrade`` if the archive came from an older version.
    """
    try:
        manifest = restore_backup(archive)
    except DomainError as exc:
        click.echo(f"恢复失败：{exc.message}", err=True)
        sys.exit(1)
    rows = sum(n for t, n in manifest["database"]["rows"].items() if t != "alembic_version")
    photos = sum(1 for name in manifest["files"] if name.startswith("photos/"))
    click.echo(f"恢复完成：{rows} 行数据，{photos} 个照片文件，均与备份清单一致。"
               f"（备份时间 {manifest['created_at']}，迁移版本 {manifest['database']['revision']}）")
