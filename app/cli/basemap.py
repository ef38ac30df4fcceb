"""``flask basemap ...``: the city's own base map (底图) from the command line."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.errors import DomainError
from app.extensions import db
from app.models.vocab import BaseLayer
from app.services.geo import basemap as basemap_service


@click.group("basemap")
def basemap() -> None:
    """Import or remove layers of the base map drawn on the wall."""


@basemap.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layer", type=click.Choice(list(BaseLayer.labels())), required=True, help="road / water / place")
@with_appcontext
def import_command(path: Path, layer: str) -> None:
    """Replace one layer with the features of a GeoJSON, zipped Shapefile or GeoPackage file."""
    try:
        report = basemap_service.import_layer(layer, path.read_bytes(), path.name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"{BaseLayer(layer).label}：导入 {report.imported} 个要素，替换 {report.replaced} 个；"
               f"坐标系 {report.source_crs}，文字编码 {report.encoding}。")
