"""``flask grids import FILE.geojson``: load grid boundaries the city already has."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.errors import InvalidInput
from app.extensions import db
from app.services.geo.grid_import import import_grids, load_feature_collection

grids = AppGroup("grids", help="网格边界 Grid boundaries.")


@grids.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Import a GeoJSON FeatureCollection (properties: code, name, level, parent_code).

    Every feature is validated first; if any is bad, each is reported and nothing is
    imported. Existing grids are updated by code.
    """
    try:
        features = load_feature_collection(path.read_text(encoding="utf-8"))
        report = import_grids(features)
    except InvalidInput as exc:
        db.session.rollback()
        click.echo(f"导入失败：{exc.message}", err=True)
        for where, problem in exc.errors.items():
            click.echo(f"  {where}：{problem}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"导入完成：新增 {report.created} 个，更新 {report.updated} 个网格。")
    if report.repaired:
        click.echo(f"已自动修复几何：{', '.join(report.repaired)}")
    for note in report.levels:
        click.echo(note)
