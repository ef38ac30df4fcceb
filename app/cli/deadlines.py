"""``flask deadlines seed`` and ``flask deadlines sweep``: default rules, the calendar, warnings."""

import click
from flask.cli import AppGroup

from app import tasks
from app.extensions import db
from app.services.cases.deadlines import ensure_default_rules
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

    First the regular follow-up clocks of long-unresolved cases (定期回访) are started or
    dropped, so a case that joined the list is warned about like any other clock.
    The worker (``flask worker``) runs the same task every five minutes; a missed run only
    delays warnings until the next one.
    """
    counts = tasks.sweep_deadlines()
    db.session.commit()
    click.echo(
        f"定期回访计时新增 {counts['revisits_started']} 件、停止 {counts['revisits_dropped']} 件；"
        f"催办 {counts['reminders']} 件，督办 {counts['escalations']} 件，"
        f"发送消息 {counts['notifications']} 条，无人可通知 {counts['no_recipient']} 件。"
    )
