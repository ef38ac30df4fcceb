"""``flask demo seed``: a synthetic county-level city to try Firstline on."""

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.demo.people import DEMO_PASSWORD
from app.demo.seed import existing_data_counts, seed_demo_city
from app.demo.sources import PATROL_DAYS
from app.extensions import db

demo = AppGroup("demo", help="演示数据 Demo city.")


@demo.command("seed")
@click.option("--cases", "case_count", default=2000, show_default=True, type=click.IntRange(min=0),
              help="案件数量 Number of cases.")  # fmt: skip
@click.option("--seed", default=42, show_default=True, type=int, help="随机种子：同一种子生成同一城市。")
@click.option("--if-empty", is_flag=True, help="数据库已有数据时什么也不做（make run 每次启动都调用）。")
@click.option("--patrol-days", default=PATROL_DAYS, show_default=True, type=click.IntRange(min=1, max=PATROL_DAYS),
              help="生成最近多少天的网格巡查记录（默认覆盖专项行动的 100 天）。")
def seed_command(case_count: int, seed: int, if_empty: bool, patrol_days: int) -> None:
    """Build the demo city (grids, departments, users, cases) in an empty database.

    Refuses (exit 1) when the database already holds grids, users or cases, so the demo
    is never duplicated or mixed into real data; with --if-empty it says so and exits 0.
    """
    if if_empty and not current_app.config.get("DEMO_SEED_ON_FIRST_RUN", True):
        click.echo("DEMO_SEED_ON_FIRST_RUN 已关闭，不生成演示城市。")
        return
    counts = existing_data_counts()
    if any(counts.values()):
        held = f"网格 {counts['grids']} 个、用户 {counts['users']} 个、案件 {counts['cases']} 件"
        if if_empty:
            click.echo(f"数据库已有数据（{held}），跳过演示城市生成。")
            return
        click.echo(f"数据库不是空的（{held}），拒绝生成演示城市，以免数据重复或混入演示数据。", err=True)
        sys.exit(1)
    started = time.perf_counter()
    summary = seed_demo_city(case_count, seed, patrol_days=patrol_days)
    db.session.commit()
    click.echo(
        f"演示城市已生成：网格 {summary.grids} 个（镇/街道 {summary.towns} 个，村/社区 {summary.villages} 个），"
        f"用户 {summary.users} 个，案件 {summary.cases} 件，办理记录 {summary.events} 条，"
        f"监管对象 {summary.sources} 个，巡查 {summary.patrols} 次，"
        f"用时 {time.perf_counter() - started:.1f} 秒。"
    )
    click.echo(f"演示账号（admin、command、town01、g01001a、dept_env、leader1 等）的密码均为 {DEMO_PASSWORD}")
