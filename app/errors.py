"""Errors: the domain exceptions services raise, and the one shape every answer has.

Services raise a ``DomainError`` subclass with a Chinese message a person can act on; the
handlers registered by ``init_error_handlers`` turn it (and every other exception) into
``{code, message, description, errors}`` for the API and a Chinese page for people. This
module sits below every layer, so models, services, pages and the API all import it.
"""

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from app.extensions import db


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


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    status = 409


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

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError):
        # errors.csrf is a stable marker: the inspector app refreshes its token and retries.
        return _respond(400, "安全校验失败（CSRF 令牌缺失或无效），请刷新页面后重试。", {"csrf": ["invalid"]})

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(exc: IntegrityError):
        # Two people changed the same record at once; the loser retries on fresh data.
        db.session.rollback()
        return _respond(409, "数据已被他人同时修改，请刷新后重试。")

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def handle_data_error(exc: Exception):
        # A value the database cannot hold (e.g. a number past its integer range in a filter):
        # PostgreSQL says DataError, SQLite's driver OverflowError.
        db.session.rollback()
        return _respond(400, "参数超出允许的范围，请检查后重试。")

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        errors = _flatten_webargs(exc) if exc.code == 422 else {}
        return _respond(exc.code or 500, None, errors)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if app.testing:
            raise exc
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, None)
