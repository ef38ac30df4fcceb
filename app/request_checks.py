"""Requests refused before any extension reads them.

A multipart part without a usable name (``Content-Disposition: form-data`` alone, or a name
that is only a line break) is parsed by Werkzeug under the key ``None``; Flask-WTF's CSRF
check then fails on that key with an AttributeError, a 500. No client of the app sends such a
part, so it is refused with 400 and a Chinese message before the CSRF check runs.
"""

from flask import Flask, request

from app.errors import DomainError


def refuse_nameless_form_fields() -> None:
    """400 for a multipart form with a part that has no name."""
    if request.mimetype == "multipart/form-data" and (None in request.form or None in request.files):
        raise DomainError("表单中有没有名称的字段，无法处理。", {"form": ["字段缺少名称"]})


def init_request_checks(app: Flask) -> None:
    """Register the checks; call before the CSRF extension so they run first."""
    app.before_request(refuse_nameless_form_fields)
