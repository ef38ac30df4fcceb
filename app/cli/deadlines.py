"""``flask deadlines seed`` and ``flask deadlines sweep``: default rules, the calendar, warnings."""

import click
from flask.cli import AppGroup

from app.extensions import db
from app.services import clock
from app.services.cases.deadlines import ensure_default_rules, sweep_warnings
from app.services.cases.workcalendar import ensure_default_calendar

deadlines = AppGroup("deadlines", help="时限规则、工作日历与超期预警 Deadline rules, calendar and warnings.")


@deadlines.command("seed")
def seed_command() -> None:
    """Insert the default deadline rules and the shipped years' holiday calendars that are missing.

    Safe to run again: rows an administrator has edited or deactivated are left alone.
    """
    rules = ensure_default_rules()
    days = ensure_default_calendar()
    db.session.commit()
    click.echo(f"时限规则新增 {rules} 条，工作日历新增 {days} 天。")


@deadlines.command("sweep")
def sweep_command() -> None:
    """Send the reminders (催办) and escalations (督办) that are due now, each only once.

    Meant for cron every few minutes, e.g. ``*/5 * * * * flask deadlines sweep``; a
    missed run only delays warnings until the next one.
    """
    counts = sweep_warnings(clock.now())
    db.session.commit()
    click.echo(
        f"催办 {counts['reminders']} 件，督办 {counts['escalations']} 件，"
        f"发送消息 {counts['notifications']} 条，无人可通知 {counts['no_recipient']} 件。"
    )
