"""The long-unresolved list (久拖不解) and media exposures (媒体曝光)."""

from io import BytesIO

from flask import send_file
from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.api.docs import XLSX, file_response
from app.extensions import db
from app.schemas.long_unresolved import (
    ExposureDecisionSchema,
    ExposureProposalSchema,
    ExposureQuerySchema,
    ExposureRecordSchema,
    ExposureWithdrawalSchema,
    LongUnresolvedPageSchema,
    LongUnresolvedQuerySchema,
    PublicExposureSchema,
)
from app.services import clock
from app.services.campaign import exposures
from app.services.cases.long_unresolved import long_unresolved_page

blp = ApiBlueprint("long_unresolved", __name__, description="久拖不解与媒体曝光 Long-unresolved cases and exposures")


@blp.route("/long-unresolved", methods=["GET"])
@login_required
@blp.arguments(LongUnresolvedQuerySchema, location="query", as_kwargs=True)
@blp.response(200, LongUnresolvedPageSchema)
def get_long_unresolved(page: int, per_page: int, **filters):
    """Long-unresolved cases in the caller's scope with days open, days overdue and the reasons, paged."""
    return long_unresolved_page(current_user, clock.now(), page=page, per_page=per_page, **filters)


@blp.route("/exposures", methods=["GET"])
@blp.response(200, PublicExposureSchema(many=True))
def get_exposures():
    """Published media exposures (public, no sign-in): no petitioner data, no address."""
    return exposures.published(clock.now())


@blp.route("/exposures/release.xlsx", methods=["GET"])
@blp.doc(responses=file_response("媒体发布用的曝光清单（.xlsx，无个人信息）", XLSX))
def get_release():
    """The published exposures as a workbook for a media release (public, no personal data)."""
    content = exposures.release_xlsx(clock.now())
    return send_file(BytesIO(content), mimetype=XLSX, as_attachment=True, download_name="媒体曝光清单.xlsx")


@blp.route("/exposures/records", methods=["GET"])
@login_required
@blp.arguments(ExposureQuerySchema, location="query")
@blp.response(200, ExposureRecordSchema(many=True))
def get_exposure_records(query):
    """Exposure records the caller may see (proposed, published, rejected, withdrawn), newest first."""
    now = clock.now()
    return [exposures.record_view(row, now) for row in exposures.exposure_records(current_user, **query)]


@blp.route("/exposures", methods=["POST"])
@login_required
@blp.arguments(ExposureProposalSchema)
@blp.response(201, ExposureRecordSchema)
def post_exposure(data):
    """Propose a long-unresolved case for media exposure (command office)."""
    now = clock.now()
    row = exposures.propose(current_user, data["case_id"], data["responsible_unit"], data["failings"], now)
    db.session.commit()
    return exposures.record_view(row, now)


@blp.route("/exposures/<int:exposure_id>/approve", methods=["POST"])
@login_required
@blp.arguments(ExposureDecisionSchema)
@blp.response(200, ExposureRecordSchema)
def post_approve(data, exposure_id: int):
    """Approve a proposed exposure; it is public at once (leading official)."""
    return _decided(exposure_id, True, data["note"])


@blp.route("/exposures/<int:exposure_id>/reject", methods=["POST"])
@login_required
@blp.arguments(ExposureDecisionSchema)
@blp.response(200, ExposureRecordSchema)
def post_reject(data, exposure_id: int):
    """Reject a proposed exposure with a reason (leading official)."""
    return _decided(exposure_id, False, data["note"])


def _decided(exposure_id: int, approve: bool, note: str) -> dict:
    """Record a decision and answer with the record."""
    now = clock.now()
    row = exposures.decide(current_user, exposure_id, approve, note, now)
    db.session.commit()
    return exposures.record_view(row, now)


@blp.route("/exposures/<int:exposure_id>/withdraw", methods=["POST"])
@login_required
@blp.arguments(ExposureWithdrawalSchema)
@blp.response(200, ExposureRecordSchema)
def post_withdraw(data, exposure_id: int):
    """Withdraw a published exposure with a reason; it leaves the public page, the record stays."""
    now = clock.now()
    row = exposures.withdraw(current_user, exposure_id, data["reason"], now)
    db.session.commit()
    return exposures.record_view(row, now)
