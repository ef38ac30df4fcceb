"""What the OpenAPI document says about refusals, for every operation at once.

Every API refusal has one body (``app.errors.error_response``, documented as ``Error``).
Which statuses an operation can answer follows from how it is built, so they are derived
here rather than written on each view: a new endpoint is documented the moment it is
registered, and an endpoint only adds ``@blp.alt_response`` for what the rules below cannot
know (e.g. a 404 of an operation without path parameters, a 409 of a read).

- every operation: 400 (malformed request, CSRF token missing or invalid, a number out of
  range), 429 (the API's rate limit) and 503 (met another request at the same moment; the
  same request goes through after ``Retry-After`` seconds);
- signed-in operations (``login_required``): 401 and 403 (the role may not, or the
  password must be changed first);
- operations with path parameters or an ``..._id`` query parameter, and signed-in writes:
  404 (nothing there, or outside the caller's scope, which the API never tells apart);
- operations with parameters or a body, and signed-in writes: 422 (``errors`` names the fields);
- signed-in writes: 409 (clashes with what is stored);
- operations with a request body: 413 (too large) and 415 (a body not in the declared format,
  e.g. JSON sent without ``Content-Type: application/json``).
"""

from apispec import BasePlugin
from flask import Flask
from flask_login import login_required

from app.schemas.common import ErrorSchema

ERROR_DESCRIPTIONS = {
    400: ("请求格式不正确：JSON 无法解析、嵌套过深或含无效字符（如被截断的表情符号）、CSRF 令牌缺失或无效、"
          "数值超出范围等。"),
    401: "未登录，或会话已结束（已退出、在其他设备上退出全部、改了密码或账号已停用）。",
    403: "当前角色无权执行此操作，或须先修改管理员设置的初始密码。",
    404: "记录不存在，或不在调用者的范围内（不透露是否存在）。",
    409: "与当前状态或已保存的内容冲突；原样重试无济于事，errors 说明缺什么或冲突在哪里。",
    413: "上传内容过大。",
    415: "内容格式不对：如 JSON 须以 Content-Type: application/json 提交。",
    422: "参数或内容有误；errors 按字段列出原因。",
    429: "请求过于频繁（或登录失败次数过多）；Retry-After 说明多少秒后可再试。",
    503: "与同时到达的另一请求冲突或服务器繁忙，可原样重试；Retry-After 说明多少秒后。",
}
# The error body as the operations refer to it (the plugin's own responses name the schema class).
ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RETRY_AFTER = {"Retry-After": {"description": "多少秒后可再试", "schema": {"type": "integer"}}}
WRITES = {"post", "put", "patch", "delete"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GEOJSON = "application/geo+json"
BINARY = {"type": "string", "format": "binary"}
# The code of the function login_required wraps a view in: a view is signed-in only when
# one of its wrappers runs this code (decorators keep the chain in ``__wrapped__``).
_SIGNED_IN_CODE = login_required(lambda: None).__code__


def error_response_name(status: int) -> str:
    """The component name of an error status's response (``Error404``)."""
    return f"Error{status}"


def file_response(description: str, *media_types: str) -> dict:
    """``@blp.doc(responses=...)`` of a view that sends a file: its possible media types."""
    return {"200": {"description": description, "content": {media: {"schema": BINARY} for media in media_types}}}


def upload_body(properties: dict, required: list[str]) -> dict:
    """``@blp.doc(requestBody=...)`` of a view that reads a multipart form with files itself."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def json_response(schema, description: str = "OK") -> dict:
    """``@blp.doc(responses=...)`` of a view that shapes its JSON itself (nothing is dumped twice)."""
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


def requires_sign_in(view) -> bool:
    """True when ``login_required`` guards the view somewhere in its chain of decorators."""
    while view is not None:
        if getattr(view, "__code__", None) is _SIGNED_IN_CODE:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def error_statuses(method: str, operation: dict, signed_in: bool, has_path_parameters: bool) -> set[int]:
    """The error statuses an operation can answer, by the rules of the module docstring."""
    statuses = {400, 429, 503}
    signed_in_write = signed_in and method in WRITES
    if signed_in:
        statuses |= {401, 403}
    names_a_record = any(p.get("in") == "query" and p.get("name", "").endswith("_id")
                         for p in operation.get("parameters", []))
    if has_path_parameters or signed_in_write or names_a_record:
        statuses.add(404)
    if has_path_parameters or signed_in_write or operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if signed_in_write:
        statuses.add(409)
    if operation.get("requestBody"):
        statuses |= {413, 415}
    return statuses


class ErrorResponses(BasePlugin):
    """apispec plugin: adds the error responses of every operation as the app registers it."""

    def __init__(self, app: Flask):
        self.app = app

    def init_spec(self, spec) -> None:
        """Register one response per error status, all with the one error body."""
        self.spec = spec
        for status, description in ERROR_DESCRIPTIONS.items():
            response = {"description": description, "content": {"application/json": {"schema": ErrorSchema}}}
            if status in (429, 503):
                response["headers"] = RETRY_AFTER
            spec.components.response(error_response_name(status), response, lazy=True)

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs) -> None:
        """Add each operation's error responses; an endpoint's own description of a status is kept,
        with the error body added when it gives none."""
        if rule is None:
            return
        signed_in = requires_sign_in(self.app.view_functions.get(rule.endpoint))
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses = {str(status): response for status, response in responses.items()}
            for status in error_statuses(method, operation, signed_in, bool(rule.arguments)):
                if not isinstance(responses.get(str(status)), dict):
                    responses[str(status)] = error_response_name(status)
            for status, response in responses.items():
                if status.startswith(("4", "5")) and isinstance(response, dict):
                    response.setdefault("content", ERROR_BODY)
            operation["responses"] = dict(sorted(responses.items()))
