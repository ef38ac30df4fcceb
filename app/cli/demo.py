"""``flask demo seed``: a synthetic county-level city to try Firstline on."""

from flask.cli import AppGroup

demo = AppGroup("demo", help="演示数据 Demo city.")
