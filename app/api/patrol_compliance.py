"""Patrol compliance (巡查考核): patrols due against done per town, village grid and person,
sources overdue today, and one grid's sources with their figures."""


from flask import jsonify
from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.api.docs import GEOJSON, XLSX, file_response
from app.downloads import attachment
from app.schemas.common import FeatureCollectionSchema
from app.schemas.patrol_compliance import (
    CompliancePeriodSchema,
    ComplianceQuerySchema,
    ComplianceSchema,
    GridDetailSchema,
    OverdueQuerySchema,
    OverdueSourceSchema,
    TracksQuerySchema,
)
from app.services.patrols import compliance as patrol_compliance

blp = ApiBlueprint("patrol_compliance", __name__, description="巡查考核 Patrol compliance")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, ComplianceSchema)
def get_compliance(args):
    """Patrols required and done, rates, overdue sources, flagged check-ins per town, grid and person."""
    return patrol_compliance.compliance(current_user, args["start"], args["end"], args["town_id"])


@blp.route("/overdue", methods=["GET"])
@login_required
@blp.arguments(OverdueQuerySchema, location="query")
@blp.response(200, OverdueSourceSchema(many=True))
def get_overdue(args):
    """Sources overdue today for a level's duty (default level 3), most overdue first."""
    return patrol_compliance.overdue_sources(current_user, args["level"], town_id=args["town_id"],
                                             grid_id=args["grid_id"])


@blp.route("/grids/<int:grid_id>", methods=["GET"])
@login_required
@blp.arguments(CompliancePeriodSchema, location="query")
@blp.response(200, GridDetailSchema)
def get_grid_detail(args, grid_id: int):
    """One village grid's figures and each source's rule, days judged, required, done and state."""
    return patrol_compliance.grid_detail(current_user, grid_id, args["start"], args["end"])


@blp.route("/export.xlsx", methods=["GET"])
@login_required
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.doc(responses=file_response("巡查考核表（.xlsx，附件下载）", XLSX))
def get_compliance_xlsx(args):
    """The compliance tables (towns, grids, people) as a workbook with Chinese headings."""
    report = patrol_compliance.compliance(current_user, args["start"], args["end"], args["town_id"])
    return attachment(patrol_compliance.compliance_xlsx(report), XLSX,
                      f"巡查考核_{report['start_on']}至{report['end_on']}.xlsx",
                      f"patrol-compliance_{report['start_on']}_{report['end_on']}.xlsx")


@blp.route("/sources/<int:source_id>/tracks", methods=["GET"])
@login_required
@blp.arguments(TracksQuerySchema, location="query")
@blp.response(200, FeatureCollectionSchema, content_type=GEOJSON)
def get_source_tracks(args, source_id: int):
    """The tracks of the last patrols that checked in at a source, as GeoJSON, newest first."""
    response = jsonify(patrol_compliance.source_tracks(current_user, source_id, args["limit"]))
    response.mimetype = GEOJSON
    return response
