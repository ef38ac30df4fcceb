"""calendar years and grid placement: which years' holidays are entered, estimated clocks,
cases in sliver gaps and outside the city

Revision ID: 0012_calendar_grids
Revises: 0013_long_unresolved
Create Date: 2026-12-06 20:30:00.000000

``calendar_years`` records each year whose holiday notice is entered; a year that already
has exception days in ``calendar_days`` was entered before this table existed and counts
as entered. A clock keeps the period it started with (amount, unit, extension) so it can be
counted again when a year is entered; running clocks take their rule's terms. A case records
how far outside the nearest grid it was placed, and whether it was confirmed as outside the
city. Plain ADD/DROP COLUMN, never a batch rebuild: ``cases`` holds a geometry column.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_calendar_grids'
down_revision = '0013_long_unresolved'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["entered_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("year"),
    )
    op.add_column("case_clocks", sa.Column("amount", sa.Integer(), nullable=True))
    op.add_column("case_clocks", sa.Column("unit", sa.String(length=16), nullable=True))
    op.add_column("case_clocks", sa.Column("extended_days", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("case_clocks", sa.Column("estimated", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("cases", sa.Column("grid_gap_m", sa.Float(), nullable=True))
    op.add_column("cases", sa.Column("outside_city", sa.Boolean(), nullable=False, server_default=sa.false()))
    years = _mark_entered_years()
    op.execute("UPDATE case_clocks SET amount = (SELECT amount FROM deadline_rules WHERE deadline_rules.id = "
               "case_clocks.rule_id), unit = (SELECT unit FROM deadline_rules WHERE deadline_rules.id = "
               "case_clocks.rule_id) WHERE rule_id IS NOT NULL")
    _mark_estimated_clocks(years)


def _mark_entered_years():
    """Every year with exception days was entered by hand or by the seed before this table."""
    bind = op.get_bind()
    days = bind.execute(sa.text("SELECT day FROM calendar_days")).scalars()
    years = sorted({int(str(day)[:4]) for day in days})
    for year in years:
        bind.execute(sa.text("INSERT INTO calendar_years (year, source, entered_at) "
                             "VALUES (:year, :source, CURRENT_TIMESTAMP)"),
                     {"year": year, "source": "升级前已录入的特别日期"})
    return years


def _mark_estimated_clocks(years):
    """Running day-counted clocks due after the last entered year (Beijing time) were counted
    on weekends only there: say so until that year is entered and they are recounted."""
    if not years:
        return
    bind = op.get_bind()
    after = datetime(years[-1], 12, 31, 16, 0, tzinfo=timezone.utc)  # Jan 1 00:00 UTC+8
    if bind.dialect.name == "sqlite":
        after = after.replace(tzinfo=None)
    bind.execute(sa.text("UPDATE case_clocks SET estimated = :yes WHERE done_at IS NULL AND unit IS NOT NULL "
                         "AND unit != 'hours' AND due_at > :after")
                 .bindparams(sa.bindparam("after", type_=sa.DateTime(timezone=True)),
                             sa.bindparam("yes", type_=sa.Boolean())),
                 {"after": after, "yes": True})


def downgrade():
    """Undo upgrade in place (SQLite 3.35+ drops these columns without a rebuild)."""
    for column in ("outside_city", "grid_gap_m"):
        op.drop_column("cases", column)
    for column in ("estimated", "extended_days", "unit", "amount"):
        op.drop_column("case_clocks", column)
    op.drop_table("calendar_years")
