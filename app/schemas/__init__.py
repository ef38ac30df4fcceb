"""Marshmallow schemas: the API's input and output shapes, instantiated once per module.

``messages`` is imported first: it gives marshmallow Chinese messages before any field exists."""

from app.schemas import messages  # noqa: F401
