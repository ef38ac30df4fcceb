"""Files sent for download, with a name every browser keeps.

A Chinese file name alone is not enough: the plain ``filename`` parameter must be ASCII, and
a name reduced to ASCII by dropping what is not ("案件台账.xlsx" → ".xlsx") leaves a file
without a name. Every download therefore carries both: ``filename*`` (RFC 5987, UTF-8) with
the Chinese name browsers show, and ``filename`` with an ASCII name for the clients that
read only that one.
"""

from urllib.parse import quote

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_disposition(name: str, ascii_name: str) -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded name>``."""
    if not ascii_name.isascii() or any(ch in ascii_name for ch in '"\\\r\n'):
        raise ValueError("the fallback file name must be plain ASCII")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment(content: bytes, mimetype: str, name: str, ascii_name: str) -> Response:
    """A download response: the bytes, their type, and both file names."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name, ascii_name)
    return response
