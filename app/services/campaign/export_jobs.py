"""Exports made in the background: the case ledger of a whole city takes longer than a request
should, so it is asked for (a job), made by the worker (``exports.make``) and fetched when ready.

Only the user who asked may see the job or fetch its file: a ledger may carry petitioners'
personal data (``exports.ledger_xlsx`` decides). Files live under ``PHOTO_DIR/exports`` and
are deleted with their job a day after it was asked for (``purge``, a periodic task).
"""

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, NotFound, TransientConflict
from app.extensions import db
from app.models import ExportJob, User
from app.models.vocab import ExportStatus
from app.services import background, clock
from app.services.campaign import exports
from app.services.campaign.periods import StatedPeriod, describe
from app.services.field.photos import write_once

KEEP_FOR = timedelta(days=1)
LEDGER = "ledger"
log = logging.getLogger(__name__)


def request_ledger(user: User, period: StatedPeriod, personal: bool) -> ExportJob:
    """Ask for the ledger of a period; the worker makes it after this transaction commits. Its
    file is named for the period, which the sheet also states above its headings."""
    job = ExportJob(id=uuid.uuid4(), user_id=user.id, kind=LEDGER, file_name=exports.file_names(LEDGER, period)[0],
                    params={"start": period.start.isoformat(), "end": period.end.isoformat(), "personal": personal},
                    status=ExportStatus.QUEUED, error="", created_at=clock.now())
    db.session.add(job)
    db.session.flush()
    background.enqueue("exports.make", job_id=str(job.id))
    return job


def make(job_id: uuid.UUID) -> bool:
    """Make a job's file (the worker); False when the job is gone or made already.

    A failure is recorded on the job, so the person waiting sees it instead of waiting for
    ever; the worker's log has the details.
    """
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status != ExportStatus.QUEUED:
        return False
    user = db.session.get(User, job.user_id)
    try:
        stated = describe(datetime.fromisoformat(job.params["start"]), datetime.fromisoformat(job.params["end"]))
        content = exports.ledger_xlsx(user, stated, job.params["personal"])
        write_once(file_path(job), content)
    except Exception:
        log.exception("export %s failed", job.id)
        job.status, job.error = ExportStatus.FAILED, "生成失败，请重新导出；如仍失败请联系系统管理员。"
    else:
        job.status = ExportStatus.DONE
    job.finished_at = clock.now()
    return job.status == ExportStatus.DONE


def download_names(job: ExportJob) -> tuple[str, str]:
    """(Chinese name, ASCII name) its file is sent under, both naming the period."""
    stated = describe(datetime.fromisoformat(job.params["start"]), datetime.fromisoformat(job.params["end"]))
    return exports.file_names(job.kind, stated)


def job_for(user: User, job_id: uuid.UUID) -> ExportJob:
    """The caller's own job, else NotFound (someone else's job is not even said to exist)."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound("导出任务不存在或已过期（导出文件保留一天）。")
    return job


def ready_file(user: User, job_id: uuid.UUID) -> tuple[ExportJob, Path]:
    """The caller's finished file; 503 with Retry-After while it is being made, 409 if it failed."""
    job = job_for(user, job_id)
    if job.status == ExportStatus.QUEUED:
        raise TransientConflict("正在生成，请稍后再下载。", {"retry": ["processing"]})
    if job.status == ExportStatus.FAILED:
        raise Conflict(job.error)
    path = file_path(job)
    if not path.exists():
        raise NotFound("导出文件已过期，请重新导出。")
    return job, path


def file_path(job: ExportJob) -> Path:
    """Where a job's file is kept."""
    return Path(current_app.config["PHOTO_DIR"]) / "exports" / f"{job.id}.xlsx"


def purge(now: datetime) -> int:
    """Delete jobs asked for more than a day ago, with their files; returns how many."""
    old = db.session.scalars(select(ExportJob).where(ExportJob.created_at < now - KEEP_FOR)).all()
    for job in old:
        file_path(job).unlink(missing_ok=True)
        db.session.delete(job)
    return len(old)
