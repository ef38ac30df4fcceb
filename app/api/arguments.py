"""The API's blueprint: flask-smorest's, with a parser that says when a body is not JSON.

webargs reads a JSON body only when the request says ``Content-Type: application/json``;
otherwise it treats the body as absent, and a client that forgot the header got a 422 with
「此项必填」 under every required field, which points at the wrong mistake. Here a non-empty
body of another type, sent to an endpoint that reads JSON, is a 415 saying how to send it.
Every resource blueprint under /api/v1 is an ``ApiBlueprint``.
"""

import typing

import flask
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser, is_json_request

from app.errors import UnsupportedMediaType

NOT_JSON = "请以 JSON 格式提交（Content-Type: application/json）。"


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser, refusing a body that is not declared as JSON where JSON is read."""

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        """The parsed JSON body, ``missing`` for no body, 415 for a body of another type."""
        if not is_json_request(req) and (req.content_length or 0) > 0:
            raise UnsupportedMediaType(NOT_JSON, {"json": [NOT_JSON]})
        return super()._raw_load_json(req)


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint whose ``@blp.arguments`` use ``JsonBodyParser``."""

    ARGUMENTS_PARSER = JsonBodyParser()


