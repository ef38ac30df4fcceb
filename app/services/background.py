"""Background work: one task queue (Huey) for everything that should not hold up a request.

Services say *what* should happen later, by name; ``app/tasks.py`` says how, and the worker
(``flask worker``) does it. The queue's storage comes from ``TASK_QUEUE_URL``:

* ``sqlite:///path`` — the embedded default, a SQLite file beside the database (one machine);
* ``redis://host:port/db`` — production, several app servers and workers;
* ``immediate`` — no worker: each task runs in this process right after the transaction that
  asked for it commits (the test suite, and one-off commands).

A task is sent only when the transaction that enqueued it commits, so the worker always sees
the rows the task is about, and a rolled-back request sends nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.database import task_transactions
from app.extensions import db

PENDING_KEY = "background_pending"
RETRIES = 3
RETRY_DELAY_S = 30


@dataclass(frozen=True)
class Periodic:
    """A task the worker runs on a schedule: every ``minutes``, or daily at ``daily_at`` (UTC hh:mm)."""

    name: str
    minutes: int | None = None
    daily_at: str | None = None

    def schedule(self) -> crontab:
        """Huey's crontab for this schedule."""
        if self.daily_at is not None:
            hour, minute = self.daily_at.split(":")
            return crontab(minute=str(int(minute)), hour=str(int(hour)))
        return crontab(minute=f"*/{self.minutes}")


_TASKS: dict[str, Callable[..., object]] = {}
_PERIODIC: dict[str, Periodic] = {}


def task(name: str) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Register ``fn`` as the task called ``name`` (keyword arguments must be JSON values)."""

    def register(fn: Callable[..., object]) -> Callable[..., object]:
        if name in _TASKS and _TASKS[name] is not fn:
            raise ValueError(f"task {name!r} is registered twice")
        _TASKS[name] = fn
        return fn

    return register


def periodic(name: str, *, minutes: int | None = None, daily_at: str | None = None):
    """Register a task that the worker also runs on its own schedule (replaces cron lines)."""
    if (minutes is None) == (daily_at is None):
        raise ValueError("give minutes or daily_at")
    _PERIODIC[name] = Periodic(name, minutes, daily_at)
    return task(name)


def schedules() -> list[Periodic]:
    """The periodic tasks, in name order."""
    return [_PERIODIC[name] for name in sorted(_PERIODIC)]


def enqueue(name: str, **kwargs) -> None:
    """Run task ``name`` with ``kwargs`` in the background once the current transaction commits.

    Outside a transaction with pending work it is sent at the next commit all the same; a
    rollback drops it.
    """
    if name not in _TASKS:
        raise KeyError(f"unknown task {name!r}")
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before the next commit drops the task too
    session.info.setdefault(PENDING_KEY, []).append((name, kwargs))


def run_now(name: str, **kwargs) -> object:
    """Run a task in this process at once, in its own app context and transaction."""
    app = current_app._get_current_object()
    with app.app_context(), task_transactions():
        try:
            result = _TASKS[name](**kwargs)
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


class Queue:
    """The app's queue: the Huey instance and the one dispatching task on it."""

    def __init__(self, app: Flask, url: str):
        self.app = app
        self.url = url
        self.huey = _huey_for(url)
        self.immediate = url == "immediate"
        self.dispatch = self.huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_S, name="firstline.dispatch")(
            self._run
        )
        for item in _PERIODIC.values():
            self.huey.periodic_task(item.schedule(), name=f"firstline.periodic.{item.name}")(
                _periodic_runner(self, item.name)
            )

    def _run(self, name: str, kwargs: dict) -> object:
        with self.app.app_context():
            return run_now(name, **kwargs)

    def send(self, name: str, kwargs: dict) -> None:
        """Hand one task to the queue (immediate: run it now)."""
        if self.immediate:
            self._run(name, kwargs)
        else:
            self.dispatch(name, kwargs)


def _periodic_runner(queue: Queue, name: str) -> Callable[[], object]:
    def run() -> object:
        return queue._run(name, {})

    run.__name__ = f"periodic_{name.replace('.', '_')}"
    return run


def _huey_for(url: str) -> Huey:
    if url == "immediate":
        return MemoryHuey("firstline", immediate=True)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("firstline", filename=str(path))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("firstline", url=url)
    raise ValueError(f"TASK_QUEUE_URL must be immediate, sqlite:///… or redis://…, not {url!r}")


def queue() -> Queue:
    """This app's queue."""
    return current_app.extensions["firstline_queue"]


def _send_pending(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    q = queue()
    for name, kwargs in pending:
        q.send(name, kwargs)


def _drop_pending(session: Session, previous_transaction) -> None:
    """A rollback of the whole transaction drops what it asked for (a savepoint's does not)."""
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)


def init_background(app: Flask) -> None:
    """Make the app's queue and send pending tasks after every commit."""
    app.extensions["firstline_queue"] = Queue(app, app.config["TASK_QUEUE_URL"])
    if not event.contains(Session, "after_commit", _send_pending):
        event.listen(Session, "after_commit", _send_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)
