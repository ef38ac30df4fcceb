"""The background tasks: what the worker (``flask worker``) runs, by name.

Each task is a thin call into a service; it runs in its own app context and transaction
(``services/background.run_now``) and is retried a few times when it fails. Periodic tasks
replace the cron lines and shell loops of earlier versions.
"""

import uuid

from app.extensions import db
from app.models import Case
from app.services import background, clock
from app.services.campaign import early_warning, export_jobs
from app.services.cases.deadlines import sweep_warnings
from app.services.field.sync import derive_missed, derive_photo


@background.periodic("deadlines.sweep", minutes=5)
def sweep_deadlines() -> dict[str, int]:
    """Reminders (催办) and escalations (督办) that are due now, each sent once."""
    return sweep_warnings(clock.now())


@background.periodic("early_warning.scan", minutes=15)
def scan_for_clusters() -> int:
    """The whole city's early-warning scan; returns how many new alerts it raised."""
    return len(early_warning.scan())


@background.task("early_warning.scan_near")
def scan_near_case(case_id: int) -> int:
    """Right after intake: does the new case complete a cluster of similar complaints?"""
    case = db.session.get(Case, case_id)
    return 0 if case is None else len(early_warning.scan_near(case))


@background.task("photos.derive")
def derive(photo_id: str) -> bool:
    """A received photo's display copy and thumbnail (the upload answered before they were made)."""
    return derive_photo(uuid.UUID(photo_id))


@background.task("exports.make")
def make_export(job_id: str) -> bool:
    """An export someone asked for (the case ledger of a whole city takes longer than a request)."""
    return export_jobs.make(uuid.UUID(job_id))


@background.periodic("exports.purge", minutes=60)
def purge_exports() -> int:
    """Exports are fetched the day they are made; older files (maybe with personal data) go."""
    return export_jobs.purge(clock.now())


@background.periodic("photos.derive_missed", minutes=10)
def derive_missed_photos() -> int:
    """Photos still processing minutes after they arrived: their task was lost or failed; make them now."""
    return derive_missed(clock.now())
