"""Command-line tools: ``flask grids ...``, ``flask demo ...``."""

from flask import Flask


def init_commands(app: Flask) -> None:
    """Register every command group."""
    from app.cli import accounts, audit, backup, basemap, campaign, deadlines, demo, grids, privacy, wall, worker

    app.cli.add_command(grids.grids)
    app.cli.add_command(demo.demo)
    app.cli.add_command(audit.audit)
    app.cli.add_command(deadlines.deadlines)
    app.cli.add_command(accounts.accounts)
    app.cli.add_command(privacy.privacy)
    app.cli.add_command(backup.backup)
    app.cli.add_command(campaign.campaign)
    app.cli.add_command(wall.wall)
    app.cli.add_command(worker.worker)
    app.cli.add_command(basemap.basemap)
