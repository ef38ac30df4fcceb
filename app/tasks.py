"""The background tasks: what the worker (``flask worker``) runs, by name.

Each task is a thin call into a service; it runs in its own app context and transaction
(``services/background.run_now``) and is retried a few times when it fails. Periodic tasks
replace the cron lines and shell loops of earlier versions.
"""

import uuid
from collections import Counter

from app.extensions import db
from app.models import Case
from app.services import background, clock, day_stats
from app.services.admin import integrity
from app.services.campaign import early_warning, export_jobs
from app.services.cases.deadlines import sweep_warnings
from app.services.cases.long_unresolved import sync_revisit_clocks
from app.services.field.sync import derive_missed, derive_photo
from app.services.notify import delivery
from app.services.wall import cells as wall_cells
from app.services.wall import open_states


@background.periodic("deadlines.sweep", minutes=5)
def sweep_deadlines() -> dict[str, int]:
    """Start or drop the follow-up clocks of long-unresolved cases (定期回访), then send the
    reminders (催办) and escalations (督办) that are due now, each once."""
    now = clock.now()
    revisits = sync_revisit_clocks(now)
    db.session.commit()
    # In batches, each committed: after a large import the first sweep sends thousands of
    # warnings, and on SQLite one transaction would hold the write lock for all of them.
    sent: Counter = Counter()
    while True:
        batch = sweep_warnings(now, limit=SWEEP_BATCH)
        db.session.commit()
        sent.update(batch)
        if batch["reminders"] + batch["escalations"] < SWEEP_BATCH:
            break
    return {"revisits_started": revisits["started"], "revisits_dropped": revisits["dropped"],
            **{key: sent[key] for key in ("reminders", "escalations", "notifications", "no_recipient")}}


# Warnings sent per transaction by the sweep.
SWEEP_BATCH = 100


@background.periodic("early_warning.scan", minutes=15)
def scan_for_clusters() -> int:
    """The whole city's early-warning scan; returns how many new alerts it raised."""
    return len(early_warning.scan())


@background.task("early_warning.scan_near")
def scan_near_case(case_id: int) -> int:
    """Right after intake: does the new case complete a cluster of similar complaints?"""
    case = db.session.get(Case, case_id)
    return 0 if case is None else len(early_warning.scan_near(case))


@background.task("notifications.deliver")
def deliver_notifications(ids: list[int]) -> dict[str, int]:
    """Right after an event: send its SMS and group-robot messages (failures wait for a retry)."""
    return dict(delivery.deliver(ids))


@background.periodic("notifications.deliver_due", minutes=1)
def deliver_due_notifications() -> dict[str, int]:
    """Messages whose time has come: retries after their pause, and those held by quiet hours."""
    return dict(delivery.deliver_due())


@background.periodic("notifications.digest", daily_at="00:00")
def send_notification_digests() -> dict[str, int]:
    """08:00 in the city: one SMS per person gathering the notifications they chose to get daily."""
    return dict(delivery.send_digests())


@background.periodic("audit.checkpoint", minutes=60)
def sign_checkpoint() -> str:
    """Every hour: sign every hash-chain head at once (a file, a log line; backups take one too)."""
    return str(integrity.take_checkpoint().path or "")


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


@background.periodic(wall_cells.REFRESH_TASK, minutes=1)
def refresh_wall_cells() -> int:
    """The map wall's summary for the cells changed since the last refresh (sent after each commit
    that changed cases; every minute too, so a lost task leaves nothing stale for long)."""
    return wall_cells.refresh_noted_cells()


@background.periodic("day_stats.fold", minutes=1)
def fold_day_stats() -> int:
    """Fold the writes' difference rows of the daily summary into one row per key (the sums stay)."""
    return day_stats.fold()


@background.periodic(open_states.REFRESH_TASK, minutes=1)
def count_open_states() -> int:
    """The open cases' red, yellow and green counts per map cell at this minute, for the wall's rings."""
    return open_states.take_snapshot(clock.now())
