"""URL converters: an ``<int:...>`` in any route is a database id, so it stays in range.

Ids are 32-bit integers in the database; a larger number in a URL would reach PostgreSQL
and fail there ("integer out of range"). Such a number names no record, so the converter
answers 404 at once, on every route, and the OpenAPI document shows the bound.
"""

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``int`` in routes: a non-negative integer no larger than a database id can be."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        """The id, or 404 past the bound.

        Not Werkzeug's "no match": when the same path has a route for another method (GET
        and POST of ``/cases/<id>/attachments``), a route that does not match makes it
        answer 405 Method Not Allowed instead of 404.
        """
        number = int(value)
        if number > MAX_ID:
            raise NotFound()
        return super().to_python(value)


def init_url_converters(app: Flask) -> None:
    """Replace the ``int`` converter before any route is added."""
    app.url_map.converters["int"] = IdConverter
