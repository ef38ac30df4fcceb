"""URL converters: an ``<int:...>`` in any route is a database id, so it stays in range.

Ids are 32-bit integers in the database; a larger number in a URL would reach PostgreSQL
and fail there ("integer out of range"). Bounding the converter makes such a URL simply
not match (404), on every route at once, and the OpenAPI document shows the bound.
"""

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``int`` in routes: a non-negative integer no larger than a database id can be."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_url_converters(app: Flask) -> None:
    """Replace the ``int`` converter before any route is added."""
    app.url_map.converters["int"] = IdConverter
