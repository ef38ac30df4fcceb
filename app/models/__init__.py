"""All models, imported here so that Alembic and the app see every table."""

from app.models.admin import AdminAuditEntry, ApiKey, LoginAttempt
from app.models.audit import CaseEvent
from app.models.cases import Case, CaseNumberCounter
from app.models.deadlines import CalendarDay, CaseClock, DeadlineRule
from app.models.evidence import CardCodeBlock, ContactCard, Inspection, Photo
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
from app.models.notifications import Notification
from app.models.people import User
from app.models.settings import Setting

__all__ = [
    "AdminAuditEntry",
    "ApiKey",
    "CardCodeBlock",
    "CalendarDay",
    "Case",
    "CaseClock",
    "CaseExtension",
    "CaseNotice",
    "CasePlan",
    "CaseReply",
    "CaseReturn",
    "DeadlineRule",
    "EnforcementMeasure",
    "FollowUp",
    "LeaderVisit",
    "Notification",
    "Setting",
    "CaseEvent",
    "CaseNumberCounter",
    "ContactCard",
    "Department",
    "Grid",
    "Inspection",
    "LoginAttempt",
    "Photo",
    "SectorRoute",
    "User",
]
