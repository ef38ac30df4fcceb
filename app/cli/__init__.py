"""Command-line tools: ``flask grids ...``, ``flask demo ...``."""

from flask import Flask


def init_commands(app: Flask) -> None:
    """Register every command group."""
    from app.cli import demo, grids

    app.cli.add_command(grids.grids)
    app.cli.add_command(demo.demo)
