"""``flask campaign create`` and ``flask campaign scan-alerts`` (the early-warning cron job)."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.models import User
from app.models.vocab import Role
from app.services.campaign.early_warning import scan
from app.services.campaign.phases import create_campaign

campaign = AppGroup("campaign", help="专项行动 Campaign: phases, early warning.")


def _command_office_user(username: str | None) -> User:
    """The named user, or the first active command-office user, to act as."""
    query = select(User).where(User.role == Role.COMMAND_OFFICE, User.active.is_(True))
    if username:
        query = select(User).where(User.username == username)
    user = db.session.scalar(query.order_by(User.id).limit(1))
    if user is None:
        raise click.ClickException("没有可用的指挥部办公室账号。")
    return user


@campaign.command("create")
@click.option("--year", type=int, required=True, help="行动年份；阶段与报送要求取方案默认日期，之后可修改。")
@click.option("--as-user", "username", default=None, help="以哪个账号创建（默认第一个指挥部办公室账号）。")
def create_command(year: int, username: str | None) -> None:
    """Create a year's campaign with the plan's default phases and submissions."""
    try:
        created = create_campaign(_command_office_user(username), year)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"已创建「{created.name}」：{created.starts_on} 至 {created.ends_on}")


@campaign.command("scan-alerts")
def scan_command() -> None:
    """Raise early-warning alerts for new clusters (run every few minutes from cron)."""
    raised = scan()
    db.session.commit()
    click.echo(f"新预警 {len(raised)} 条")
