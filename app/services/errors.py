"""Domain exceptions. Services raise them; the HTTP layer maps each to its status code."""


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
