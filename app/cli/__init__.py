"""Command-line tools: ``flask grids ...``, ``flask demo ...``."""

from flask import Flask


def init_commands(app: Flask) -> None:
    """Register every command group."""
    from app.cli import audit, deadlines, demo, grids

    app.cli.add_command(grids.grids)
    app.cli.add_command(demo.demo)
    app.cli.add_command(audit.audit)
    app.cli.add_command(deadlines.deadlines)
