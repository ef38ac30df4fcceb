"""All models, imported here so that Alembic and the app see every table."""

from app.models.accountability import FailureRecord, VolumeBaseline
from app.models.admin import AdminAuditEntry, ApiKey, LoginAttempt
from app.models.alerts import Alert
from app.models.attachments import CaseAttachment
from app.models.audit import CaseEvent, ChainHead
from app.models.basemap import BaseMapFeature
from app.models.campaigns import Campaign, CampaignPhase, SubmissionRequirement, TownSubmission
from app.models.cases import Case, CaseNumberCounter
from app.models.day_stats import DayStat
from app.models.deadlines import CalendarDay, CalendarYear, CaseClock, DeadlineRule
from app.models.evidence import CardCodeBlock, ContactCard, Inspection, Photo
from app.models.exports import ExportJob
from app.models.exposures import Exposure
from app.models.grids import Department, Grid, SectorRoute
from app.models.handling import (
    CaseExtension,
    CaseNotice,
    CasePlan,
    CaseReply,
    CaseReturn,
    EnforcementMeasure,
    FollowUp,
    LeaderVisit,
)
from app.models.notifications import (
    DeliveryAttempt,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    RobotWebhook,
)
from app.models.patrols import Patrol, PatrolCheckin, Source, source_cases
from app.models.people import User, UserSession
from app.models.receptions import Reception, reception_cases
from app.models.saved_filters import SavedFilter
from app.models.settings import Setting
from app.models.special_checks import SpecialCheck
from app.models.wall import WallCell, WallDirtyCell, WallOpenSnapshot, WallOpenState, WallOpenTouched

__all__ = [
    "Alert",
    "Patrol",
    "PatrolCheckin",
    "Source",
    "source_cases",
    "Campaign",
    "CampaignPhase",
    "FailureRecord",
    "Reception",
    "SpecialCheck",
    "reception_cases",
    "SubmissionRequirement",
    "TownSubmission",
    "AdminAuditEntry",
    "ApiKey",
    "CardCodeBlock",
    "CalendarDay",
    "CalendarYear",
    "CaseAttachment",
    "ExportJob",
    "Case",
    "CaseClock",
    "CaseExtension",
    "CaseNotice",
    "CasePlan",
    "CaseReply",
    "BaseMapFeature",
    "CaseReturn",
    "DeadlineRule",
    "EnforcementMeasure",
    "Exposure",
    "FollowUp",
    "LeaderVisit",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "DeliveryAttempt",
    "RobotWebhook",
    "Setting",
    "SavedFilter",
    "CaseEvent",
    "ChainHead",
    "CaseNumberCounter",
    "ContactCard",
    "Department",
    "Grid",
    "Inspection",
    "LoginAttempt",
    "Photo",
    "SectorRoute",
    "User",
    "UserSession",
    "WallCell",
    "WallDirtyCell",
    "WallOpenSnapshot",
    "WallOpenState",
    "WallOpenTouched",
    "DayStat",
    "VolumeBaseline",
]
