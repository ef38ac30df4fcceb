"""Open311 GeoReport v2 at /open311/v2/ (JSON and XML), with FixMyStreet's
servicerequestupdates extension. Errors use the spec's shape: a list of {code, description}."""

from datetime import datetime
from xml.etree import ElementTree

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from app.bounds import MOMENT_OUT_OF_RANGE, moment_in_range
from app.errors import DomainError, Forbidden, InvalidInput
from app.extensions import csrf, db
from app.services.admin.api_keys import verify_api_key
from app.services.campaign import open311

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)  # outside systems authenticate with an API key, not a session

ROOTS = {"services": ("services", "service"), "service_definition": (None, "service_definition"),
         "requests": ("service_requests", "request"), "created": ("service_requests", "request"),
         "updates": ("service_request_updates", "request_update"), "errors": ("errors", "error")}


def _xml(kind: str, payload) -> bytes:
    """Serialise a list (or one object) the way GeoReport v2's XML examples do."""
    outer, inner = ROOTS[kind]
    root = ElementTree.Element(outer or inner)
    items = payload if isinstance(payload, list) else [payload]
    for item in items:
        node = ElementTree.SubElement(root, inner) if outer else root
        _fill(node, item)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, encoding="utf-8")


def _fill(node, item: dict) -> None:
    for key, value in item.items():
        child = ElementTree.SubElement(node, key)
        if isinstance(value, list):
            for entry in value:
                _fill(ElementTree.SubElement(child, "attribute"), entry)
        else:
            child.text = "true" if value is True else "false" if value is False else str(value)


def _reply(kind: str, payload, fmt: str, status: int = 200):
    """JSON or XML by the URL's extension."""
    if fmt == "xml":
        return Response(_xml(kind, payload), status=status, mimetype="text/xml")
    return jsonify(payload), status


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise InvalidInput("格式只能是 json 或 xml。")
    return fmt


def _when(name: str) -> datetime | None:
    """A w3 datetime query argument (timezone required)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{name} 须为 ISO 8601 时间。") from exc
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} 须带时区。")
    if not moment_in_range(moment):
        raise InvalidInput(f"{name}：{MOMENT_OUT_OF_RANGE}")
    return moment


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db.session.rollback()
    status = 400 if exc.status == 422 else exc.status
    return _reply("errors", [{"code": status, "description": exc.message}], _error_format(), status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _reply("errors", [{"code": exc.code, "description": exc.description or ""}], _error_format(), exc.code)


def _error_format() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


@bp.get("/services.<fmt>")
def services(fmt: str):
    """The service list: one service per pollution category."""
    return _reply("services", open311.services(), _format(fmt))


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    """A service's definition (no extra attributes)."""
    return _reply("service_definition", open311.service_definition(code), _format(fmt))


@bp.get("/requests.<fmt>")
def requests_list(fmt: str):
    """Requests by service_request_id, service_code, start_date, end_date and status."""
    ids = [i for i in request.args.get("service_request_id", "").split(",") if i]
    found = open311.find_requests(ids, request.args.get("service_code"), _when("start_date"), _when("end_date"),
                                  request.args.get("status"))
    return _reply("requests", found, _format(fmt))


@bp.post("/requests.<fmt>")
def requests_create(fmt: str):
    """Create a request with an API key: a case registered on the intake path."""
    fmt = _format(fmt)
    key = verify_api_key(request.values.get("api_key", ""))
    if key is None:
        raise Forbidden("api_key 无效或已吊销。")
    created = open311.create_request(key, request.values.to_dict())
    db.session.commit()
    return _reply("created", [created], fmt, 201)


@bp.get("/requests/<number>.<fmt>")
def request_one(number: str, fmt: str):
    """One request, as a one-item list (as the spec does)."""
    return _reply("requests", [open311.one_request(number)], _format(fmt))


@bp.get("/servicerequestupdates.<fmt>")
def updates(fmt: str):
    """FixMyStreet's extension: timeline steps between start_date and end_date (default the last day)."""
    return _reply("updates", open311.request_updates(_when("start_date"), _when("end_date")), _format(fmt))
