"""Errors: the domain exceptions services raise, and the one shape every answer has.

Services raise a ``DomainError`` subclass with a Chinese message a person can act on; the
handlers registered by ``init_error_handlers`` turn it (and every other exception) into
``{code, message, description, errors}`` for the API and a Chinese page for people. This
module sits below every layer, so models, services, pages and the API all import it.
"""

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.schemas.messages import first_message, labelled


class DomainError(Exception):
    """A rule refused the request. ``message`` is Chinese and safe to show to the user."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(DomainError):
    """The input cannot be used as given (422)."""

    status = 422


class NotFound(DomainError):
    """Nothing there, or nothing the user may know exists (404)."""

    status = 404

    def __init__(self, message: str = "未找到该记录，或您无权查看。", errors: dict | None = None):
        super().__init__(message, errors)


class Forbidden(DomainError):
    """The user may see it but may not do this (403)."""

    status = 403

    def __init__(self, message: str = "您无权执行此操作。", errors: dict | None = None):
        super().__init__(message, errors)


class UnsupportedMediaType(DomainError):
    """The body is not in the format the endpoint reads, e.g. JSON sent as text/plain (415)."""

    status = 415


class Conflict(DomainError):
    """The request clashes with what is stored: other content under the same key (409).

    Retrying the same request cannot help; the caller has to look at both versions.
    """

    status = 409


class TransientConflict(DomainError):
    """The request met another one at the same moment and lost; the same request will go through (503).

    Answered with ``Retry-After``; ``errors.retry == ["transient"]`` tells the inspector
    app's outbox to resend after that many seconds instead of showing a conflict.
    """

    status = 503
    retry_after_s = 2

    def __init__(self, message: str = "服务器繁忙，正在自动重试。", errors: dict | None = None):
        super().__init__(message, errors or {"retry": ["transient"]})


# SQLSTATEs of the clashes two requests can run into at the same moment: a unique key or a
# foreign key raced by another transaction, an exclusion constraint, a serialization
# failure, a deadlock and a lock that could not be had.
_TRANSIENT_SQLSTATES = {"23505", "23503", "23P01", "40001", "40P01", "55P03"}
# SQLite says the same in words: a key raced by a writer of another process or script
# (requests queue at BEGIN IMMEDIATE), or a write lock not had within busy_timeout.
_TRANSIENT_SQLITE = ("UNIQUE constraint failed", "FOREIGN KEY constraint failed", "database is locked",
                     "database table is locked")


def is_transient(exc: DBAPIError) -> bool:
    """True when a database error is a race with another transaction, which a retry resolves.

    A NOT NULL or CHECK violation, a lost connection or a syntax error are not: the same
    request would fail the same way, so they stay errors (500) and are logged.
    """
    state = getattr(exc.orig, "sqlstate", None)
    if state is not None:
        return state in _TRANSIENT_SQLSTATES
    return str(exc.orig).startswith(_TRANSIENT_SQLITE)


STATUS_MESSAGES = {
    400: "请求格式不正确。",
    401: "请先登录。",
    403: "您无权执行此操作。",
    404: "未找到该记录，或您无权查看。",
    405: "不支持该请求方法。",
    409: "与当前状态冲突。",
    413: "上传内容过大。",
    415: "不支持的内容类型。",
    422: "提交的数据有误，请检查后重试。",
    429: "请求过于频繁，请稍后再试。",
    500: "服务器内部错误，请稍后再试。",
    503: "服务器繁忙，请稍后再试。",
}


def error_response(code: int, message: str | None = None, errors: dict | None = None):
    """Build the API's error body with its status code."""
    message = message or STATUS_MESSAGES.get(code, "请求失败。")
    body = {
        "code": code,
        "message": message,
        "description": STATUS_MESSAGES.get(code, message),
        "errors": errors or {},
    }
    return jsonify(body), code


def _wants_json() -> bool:
    """API paths answer JSON; pages answer HTML."""
    return request.path.startswith("/api/") or request.is_json


BUSY_PAGE_MESSAGE = "服务器正忙，未能保存。请稍候几秒，用浏览器的“返回”回到上一页（已填内容仍在）后重新提交。"


def _respond(code: int, message: str | None, errors: dict | None = None):
    """Answer JSON to API callers and a Chinese page to people."""
    if _wants_json():
        return error_response(code, message, errors)
    text = message or STATUS_MESSAGES.get(code, "请求失败。")
    return render_template("error.html", code=code, message=text, errors=errors or {}), code


def _flatten_webargs(exc: HTTPException) -> dict:
    """webargs puts field errors under data.messages.{location}; lift them to the top."""
    messages = getattr(exc, "data", {}).get("messages", {})
    flat: dict = {}
    for location_errors in messages.values():
        flat.update(location_errors)
    return flat


def init_error_handlers(app: Flask) -> None:
    """Map every exception the app can raise to the one error shape."""

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        return _respond(exc.status, exc.message, exc.errors)

    @app.errorhandler(TransientConflict)
    def handle_transient_conflict(exc: TransientConflict):
        db.session.rollback()
        # The page reads nothing more from the database: the clash may have been loading the
        # signed-in person, and the menu would ask again and fail as a bare 500. Flask-Login
        # puts the person into every template, so a person not yet loaded counts as nobody.
        g.bare_page = True
        if "_login_user" not in g:
            g._login_user = current_app.login_manager.anonymous_user()
        # The phone and scripts retry by themselves; a person at a page does it by hand.
        message = exc.message if _wants_json() else BUSY_PAGE_MESSAGE
        body, code = _respond(exc.status, message, exc.errors)
        return body, code, {"Retry-After": str(exc.retry_after_s)}

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError):
        # errors.csrf is a stable marker: the inspector app refreshes its token and retries.
        return _respond(400, "安全校验失败（CSRF 令牌缺失或无效），请刷新页面后重试。", {"csrf": ["invalid"]})

    @app.errorhandler(IntegrityError)
    @app.errorhandler(OperationalError)
    def handle_database_clash(exc: DBAPIError):
        # Two requests wrote the same thing at once and the database refused one of them:
        # the same request goes through once the other has committed. Content conflicts
        # (the same key, other content) are decided by the services and answer 409.
        if not is_transient(exc):
            return handle_unexpected(exc)
        # Which clash, never its values (a key's detail may hold a name or a phone number).
        diag = getattr(exc.orig, "diag", None)
        app.logger.warning("database clash %s %s on %s %s", getattr(exc.orig, "sqlstate", None) or "sqlite",
                           getattr(diag, "constraint_name", None) or "", request.method, request.path)
        return handle_transient_conflict(TransientConflict())

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def handle_data_error(exc: Exception):
        # A value the database cannot hold (e.g. a number past its integer range in a filter):
        # PostgreSQL says DataError, SQLite's driver OverflowError.
        db.session.rollback()
        return _respond(400, "参数超出允许的范围，请检查后重试。")

    @app.errorhandler(StatementError)
    def handle_unbindable_value(exc: StatementError):
        # A value that overflowed while SQLAlchemy bound it (a time shifted to UTC past year 1
        # or 9999) arrives wrapped in StatementError, which the OverflowError handler does not
        # see. The schemas refuse such times first; this keeps any path they miss a 400.
        # Anything else wrapped so (a naive time, a programming error) stays a 500.
        if isinstance(exc.orig, OverflowError):
            return handle_data_error(exc)
        return handle_unexpected(exc)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        raw = _flatten_webargs(exc) if exc.code == 422 else {}
        return _respond(exc.code or 500, first_message(raw) if raw else None, labelled(raw))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if app.testing:
            raise exc
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, None)
