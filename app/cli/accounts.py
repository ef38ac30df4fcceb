"""``flask accounts create-admin``: the first administrator of a new city."""

import sys

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.extensions import db
from app.models.vocab import Role
from app.services.admin import accounts as account_service

accounts = AppGroup("accounts", help="账号 Accounts.")


@accounts.command("create-admin")
@click.argument("username")
@click.option("--name", "full_name", default="系统管理员", show_default=True, help="姓名")
@click.password_option(prompt="初始密码", confirmation_prompt="再次输入", help="初始密码（首次登录后须修改）")
def create_admin_command(username: str, full_name: str, password: str) -> None:
    """Create an administrator account, e.g. the first one on an empty database.

    Everything else (grids, departments, staff) is then set up in the administration
    pages. The password must pass the password rules and is changed at first sign-in.
    """
    try:
        user, _ = account_service.create_user(None, {"username": username, "full_name": full_name,
                                                     "role": Role.ADMIN}, password)
    except DomainError as exc:
        click.echo(f"创建失败：{exc.message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"已创建系统管理员 {user.username}。请用浏览器登录，首次登录须修改密码。")
