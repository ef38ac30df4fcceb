"""``flask worker``: the background worker that runs the task queue (services/background.py)."""

import logging

import click
from flask.cli import with_appcontext

from app.services import background


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="并行执行任务的线程数")
@with_appcontext
def worker(workers: int) -> None:
    """Run queued and periodic tasks until stopped (Ctrl-C or SIGTERM finishes the running ones)."""
    queue = background.queue()
    if queue.immediate:
        raise click.ClickException("TASK_QUEUE_URL=immediate 时任务在请求内执行，无需后台进程。")
    names = ", ".join(f"{p.name} ({p.minutes} 分钟)" if p.minutes else f"{p.name} ({p.daily_at} UTC)"
                      for p in background.schedules())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    click.echo(f"任务队列 {queue.url}；{workers} 个线程；定时任务：{names}")
    queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
