"""Marshmallow schemas: the API's input and output shapes, instantiated once per module."""
