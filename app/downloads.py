"""Files sent for download, with a name every browser keeps.

A Chinese file name alone is not enough: the plain ``filename`` parameter must be ASCII, and
a name reduced to ASCII by dropping what is not ("案件台账.xlsx" → ".xlsx") leaves a file
without a name. Every download therefore carries both: ``filename*`` (RFC 5987, UTF-8) with
the Chinese name browsers show, and ``filename`` with an ASCII name for the clients that
read only that one.

A name a person uploaded may hold characters no header may carry (DEL, C0/C1 controls) and
ones no name should (bidi overrides, zero-width marks, line separators); they are dropped
here too, so a name stored before uploads were cleaned still downloads.
"""

import unicodedata
from urllib.parse import quote

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Unicode categories no file name shows: controls, format characters, surrogates, and the
# line and paragraph separators.
_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable_name(name: str) -> str:
    """The name without control, format, surrogate or line/paragraph-separator characters."""
    return "".join(ch for ch in name if unicodedata.category(ch) not in _UNSHOWN)


def ascii_fallback(name: str, default: str = "download") -> str:
    """The plain-ASCII ``filename`` for a person's file name: its ASCII letters (accents
    dropped), else ``default`` with the name's extension ("案件.pdf" → "download.pdf")."""
    simple = unicodedata.normalize("NFKD", printable_name(name)).encode("ascii", "ignore").decode("ascii")
    simple = "".join(ch for ch in simple if ch.isprintable() and ch not in '"\\').strip()
    stem, dot, extension = simple.rpartition(".")
    if not dot:
        return simple or default
    return f"{stem.strip() or default}.{extension}"


def content_disposition(name: str, ascii_name: str) -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded name>``."""
    if not ascii_name.isascii() or not ascii_name.isprintable() or any(ch in ascii_name for ch in '"\\'):
        raise ValueError("the fallback file name must be plain printable ASCII")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(printable_name(name), safe='')}"


def as_download(response: Response, name: str) -> Response:
    """Mark a response (``send_file``'s, say) as a download under a person's file name, whatever
    that name holds: the one place such a name reaches a header."""
    response.headers["Content-Disposition"] = content_disposition(name, ascii_fallback(name))
    return response


def attachment(content: bytes, mimetype: str, name: str, ascii_name: str) -> Response:
    """A download response: the bytes, their type, and both file names."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name, ascii_name)
    return response
