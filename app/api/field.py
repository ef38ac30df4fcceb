"""The inspector app's sync API: bootstrap for offline use, idempotent uploads, card codes, photos."""

import uuid

from flask import request, send_file
from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.api.auth import SignedIn
from app.api.docs import BINARY, file_response, json_response
from app.extensions import db
from app.schemas.auth import me_schema
from app.schemas.cases import case_schema
from app.schemas.field import (
    BootstrapQuerySchema,
    BootstrapSchema,
    CardCodesRequestSchema,
    CardCodesSchema,
    CardPutSchema,
    CardResultSchema,
    InspectionPutSchema,
    InspectionResultSchema,
    PhoneCaseSchema,
    PhotoResultSchema,
)
from app.schemas.notifications import summary_schema
from app.services.field import contact_cards, onsite_rules
from app.services.field import sync as field_sync
from app.services.field.bootstrap import bootstrap_for
from app.services.field.photo_access import photo_file

blp = ApiBlueprint("field", __name__, description="网格员移动端同步 Inspector app sync")
PHOTO_TYPES = ("image/jpeg", "image/png", "image/heic")


@blp.route("/field/bootstrap", methods=["GET"])
@login_required
@blp.arguments(BootstrapQuerySchema, location="query")
@blp.doc(responses=json_response(BootstrapSchema))
def get_bootstrap(query):
    """Everything the inspector app keeps for offline work: my grid, my open cases, settings,
    and what is new for me (``news``: unread notifications, new tasks first).

    With ``since`` (the last ``sync_token``, or empty the first time) only what changed comes,
    a page at a time: ``cases`` to add or replace, ``removed`` ids to drop, ``full`` when the
    phone should first forget the cases it holds, then ``next`` to ask again with, or
    ``sync_token`` to keep. Without it, all open cases, whole, as phones before delta sync expect.
    """
    offline = bootstrap_for(current_user, query["since"])
    schema = case_schema if query["since"] is None else _phone_case_schema
    return offline | {"user": me_schema.dump(SignedIn(offline["user"])),
                      "cases": schema.dump(offline["cases"], many=True),
                      "news": summary_schema.dump(offline["news"])}


_phone_case_schema = PhoneCaseSchema()


@blp.route("/inspections/<uuid:inspection_id>", methods=["PUT"])
@login_required
@blp.arguments(InspectionPutSchema)
@blp.response(200, InspectionResultSchema)
@blp.alt_response(201, schema=InspectionResultSchema)
def put_inspection(body, inspection_id: uuid.UUID):
    """Upload an on-site check or patrol discovery; a resend of the same content changes nothing."""
    inspection, created = field_sync.put_inspection(current_user, inspection_id, body)
    db.session.commit()
    return onsite_rules.check_result(inspection), 201 if created else 200


@blp.route("/inspections/<uuid:inspection_id>/photos/<uuid:photo_id>", methods=["PUT"])
@login_required
@blp.doc(requestBody={"required": True, "content": {t: {"schema": BINARY} for t in PHOTO_TYPES}},
         parameters=[{"in": "header", "name": "X-Content-SHA256", "required": True, "schema": {"type": "string"},
                      "description": "文件内容的 SHA-256（十六进制）"},
                     {"in": "header", "name": "X-Photo-Variant", "required": False,
                      "schema": {"type": "string", "enum": [field_sync.COPY, field_sync.ORIGINAL]},
                      "description": "copy（手机压缩件，默认）或 original（相机原图）"}])
@blp.response(200, PhotoResultSchema)
@blp.alt_response(201, schema=PhotoResultSchema)
def put_photo(inspection_id: uuid.UUID, photo_id: uuid.UUID):
    """Upload one announced photo as the raw request body, with X-Content-SHA256.

    The phone's shrunk copy by default; with ``X-Photo-Variant: original`` the camera's
    untouched file, kept beside the copy.
    """
    photo, created = field_sync.put_photo(current_user, inspection_id, photo_id, request.get_data(cache=False),
                                          request.headers.get("X-Content-SHA256"), request.content_type,
                                          request.headers.get("X-Photo-Variant", field_sync.COPY))
    db.session.commit()
    return photo, 201 if created else 200


@blp.route("/photos/<uuid:photo_id>/<any(thumb, display, original):variant>", methods=["GET"])
@login_required
@blp.doc(responses=file_response("缩略图和展示图为 JPEG；原图为上传时的类型（附件下载）", *PHOTO_TYPES))
def get_photo(photo_id: uuid.UUID, variant: str):
    """A photo's thumbnail, display copy or original, for those who may see its case.

    An "original" says in ``X-Photo-Copy`` (and its file name) whether it is the camera's
    own file or the phone's shrunk copy.
    """
    served = photo_file(current_user, photo_id, variant)
    response = send_file(served.path, mimetype=served.mimetype, download_name=served.download_name,
                         as_attachment=variant == "original", max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if served.copy:
        response.headers["X-Photo-Copy"] = served.copy
    return response


@blp.route("/field/card-codes", methods=["POST"])
@login_required
@blp.arguments(CardCodesRequestSchema)
@blp.response(201, CardCodesSchema)
def post_card_codes(body):
    """Reserve a block of contact-card codes for this device, for issuing cards offline."""
    codes = contact_cards.reserve_codes(current_user, body["device_id"], body["count"])
    db.session.commit()
    return {"device_id": body["device_id"], "codes": codes}


@blp.route("/contact-cards/<code>", methods=["PUT"])
@login_required
@blp.arguments(CardPutSchema)
@blp.response(200, CardResultSchema)
@blp.alt_response(201, schema=CardResultSchema)
def put_contact_card(body, code: str):
    """Upload a contact card issued on the phone; a resend of the same content changes nothing."""
    card, created = contact_cards.put_card(current_user, code, body)
    db.session.commit()
    return card, 201 if created else 200
