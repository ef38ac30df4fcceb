"""``flask wall rebuild-cells``: recompute the map wall's summary from the cases."""

import time

import click
from flask.cli import AppGroup

from app.extensions import db
from app.services.wall.cells import rebuild_summary

wall = AppGroup("wall", help="挂图作战 Map wall.")


@wall.command("rebuild-cells")
def rebuild_cells_command() -> None:
    """Recompute every row of ``wall_cells`` from the cases, in one transaction.

    The app keeps the summary current by itself; run this after loading cases in bulk
    outside the app (SQL, a restore of the cases table alone).
    """
    started = time.perf_counter()
    cells = rebuild_summary()
    db.session.commit()
    click.echo(f"挂图汇总已重建：最细一级 {cells} 个网格单元，用时 {time.perf_counter() - started:.1f} 秒。")
