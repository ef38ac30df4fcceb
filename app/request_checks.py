"""Requests refused before any extension or view reads them.

A multipart part without a usable name (``Content-Disposition: form-data`` alone, or a name
that is only a line break) is parsed by Werkzeug under the key ``None``; Flask-WTF's CSRF
check then fails on that key with an AttributeError, a 500. No client of the app sends such a
part, so it is refused with 400 and a Chinese message before the CSRF check runs.

A JSON body is read once here, before webargs or a view parses it, and refused with 400 when
it is not JSON, nests deeper than ``MAX_JSON_DEPTH`` (100,000 ``[`` made webargs' parser hit
Python's recursion limit, a 500) or holds a lone UTF-16 surrogate (``"\\udc80"``: valid JSON,
but no UTF-8 text, so the database driver or the log failed on it with UnicodeEncodeError,
a 500). A surrogate left alone is what an emoji cut in half by a length limit on a phone
leaves behind; the inspector app's outbox keeps a 4xx record with its message for the person
to correct instead of sending it again and again, so these must be 4xx, never 5xx.

A request that may write receives its whole body before anything reads the database
(``receive_the_body``). On SQLite such a request's first transaction takes the write lock
(``app.database``), and the first transaction is loading the signed-in user: a phone sending
a photo at 25 KB/s on a weak signal held the lock for the whole upload, and every other writer
in the city (a bulk sign at the desk, a login) waited ten seconds and failed. On PostgreSQL it
kept a connection idle in its transaction as long.

A form Werkzeug cannot read at all (a file name that is not UTF-8, a multipart body cut
short) it hands on as an empty form, without a word: an upload then "succeeds" with nothing
stored. Such a form is refused with 400 and a Chinese reason instead (``CheckedRequest``).
"""

import json
import re

from flask import Flask, Request, request
from werkzeug.formparser import FormDataParser

from app.errors import DomainError
from app.schemas.messages import label

# How deep a body may nest: the app's deepest (a patrol's track point, a photo of an on-site
# check) is four levels; 32 leaves room without letting a body exhaust the parser's stack.
MAX_JSON_DEPTH = 32
# A lone surrogate can only arrive as a \uD800–\uDFFF escape (raw UTF-8 cannot encode one),
# so bodies without such an escape, nearly all of them, skip the search for one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_INVALID_CHARACTERS = "内容含有无效字符（可能是被截断的表情符号），请删除后重试。"


class _TellingFormParser(FormDataParser):
    """Werkzeug's form parser, which says when it cannot read a form instead of handing on an empty one."""

    def __init__(self, *args, **kwargs):
        """As Werkzeug's, but never silent."""
        super().__init__(*args, **kwargs)
        self.silent = False

    def parse(self, stream, mimetype, content_length, options=None):
        """The form and files; an empty body is an empty form, an unreadable one a 400."""
        if content_length == 0:
            return stream, self.cls(), self.cls()
        try:
            return super().parse(stream, mimetype, content_length, options)
        except UnicodeDecodeError as exc:
            raise DomainError("表单内容（例如文件名）不是 UTF-8 编码，无法读取；请将文件改名后重新上传。",
                              {"form": ["编码无效"]}) from exc
        except ValueError as exc:
            raise DomainError("表单内容不完整或格式不正确，无法读取，请重新上传。", {"form": ["格式不正确"]}) from exc


class CheckedRequest(Request):
    """The app's request: a form it cannot read is refused, not read as empty."""

    form_data_parser_class = _TellingFormParser


def refuse_nameless_form_fields() -> None:
    """400 for a multipart form with a part that has no name."""
    if request.mimetype == "multipart/form-data" and (None in request.form or None in request.files):
        raise DomainError("表单中有没有名称的字段，无法处理。", {"form": ["字段缺少名称"]})


def refuse_unusable_json() -> None:
    """400 for a JSON body that is not valid JSON, nests too deep or holds a lone surrogate.

    An empty body passes: an endpoint whose fields all have defaults reads it as ``{}``.
    """
    if not request.is_json:
        return
    raw = request.get_data(cache=True)  # cached: webargs reads the same bytes afterwards
    if not raw.strip():
        return
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        message = "请求内容不是有效的 JSON，无法解析。"
        raise DomainError(message, {"json": [message]}) from None
    field = _first_problem(body, check_text=bool(_SURROGATE_ESCAPE.search(raw)))
    if field is _TOO_DEEP:
        raise _too_deep()
    if field is not None:
        message = f"{label(field)}：{_INVALID_CHARACTERS}" if field else _INVALID_CHARACTERS
        raise DomainError(message, {field or "json": [message]})


_TOO_DEEP = object()


def _first_problem(body, check_text: bool):
    """``_TOO_DEEP`` when the body nests deeper than ``MAX_JSON_DEPTH``; else the top-level
    field (``""`` for the body itself) whose text holds a lone surrogate, or None.

    Walked with a stack, not recursion, so a deep body costs no Python stack.
    """
    stack = [(body, 1, "")]
    while stack:
        value, depth, field = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return _TOO_DEEP
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                top = field or (key if isinstance(value, dict) and depth == 1 else "")
                if check_text and isinstance(key, str) and _SURROGATE.search(key):
                    return top
                stack.append((item, depth + 1, top))
        elif check_text and isinstance(value, str) and _SURROGATE.search(value):
            return field
    return None


def _too_deep() -> DomainError:
    """400 for a body nested deeper than the app reads."""
    message = f"请求内容嵌套过深（超过 {MAX_JSON_DEPTH} 层），无法处理。"
    return DomainError(message, {"json": [message]})


def receive_the_body() -> None:
    """Read a writing request's body to the end (a form into its fields and spooled files, any
    other body into memory, within MAX_CONTENT_LENGTH) before any transaction begins."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        request.form  # noqa: B018  (parsing reads the stream; the view reads the parsed form)
    else:
        request.get_data(cache=True)  # the view's get_data returns these bytes


def init_request_checks(app: Flask) -> None:
    """Register the checks; call before the CSRF extension and anything that reads the
    database, so they run first."""
    app.request_class = CheckedRequest
    app.before_request(receive_the_body)
    app.before_request(refuse_nameless_form_fields)
    app.before_request(refuse_unusable_json)
