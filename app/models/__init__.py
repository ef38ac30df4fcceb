"""All models, imported here so that Alembic and the app see every table."""

from app.models.audit import CaseEvent
from app.models.cases import Case, CaseNumberCounter
from app.models.evidence import ContactCard, Inspection, Photo
from app.models.grids import Department, Grid, SectorRoute
from app.models.people import User

__all__ = [
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "ContactCard",
    "Department",
    "Grid",
    "Inspection",
    "Photo",
    "SectorRoute",
    "User",
]
