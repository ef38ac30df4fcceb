"""``flask wall rebuild-cells`` and ``rebuild-stats``: recompute the map wall's summaries from the cases."""

import time

import click
from flask.cli import AppGroup

from app.extensions import db
from app.services.day_stats import rebuild_day_stats
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


@wall.command("rebuild-stats")
def rebuild_stats_command() -> None:
    """Recompute every row of ``day_stats`` (the panels', village scores' and ranking's daily
    summary) from the cases, in one transaction.

    The app keeps the summary current by itself; run this after loading cases in bulk
    outside the app.
    """
    started = time.perf_counter()
    rows = rebuild_day_stats()
    db.session.commit()
    click.echo(f"每日统计汇总已重建：{rows} 行，用时 {time.perf_counter() - started:.1f} 秒。")
