"""historical petition counts per town and month (volume baselines)

Revision ID: 0016_rules
Revises: 0015_task_queue
Create Date: 2026-12-06 20:15:00.000000

"Volume not falling" compares a period with the same dates a year earlier. In a system's
first year there are no cases a year back; the admin enters each town's monthly counts from
the old records instead, and without either the criterion is skipped.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_rules'
down_revision = '0015_task_queue'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "volume_baselines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="ck_volume_baselines_month"),
        sa.CheckConstraint("cases >= 0", name="ck_volume_baselines_cases"),
        sa.ForeignKeyConstraint(["entered_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["town_id"], ["grids.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("town_id", "year", "month", name="uq_volume_baselines_town_month"),
    )
    op.create_index("ix_volume_baselines_town_id", "volume_baselines", ["town_id"])


def downgrade():
    op.drop_index("ix_volume_baselines_town_id", table_name="volume_baselines")
    op.drop_table("volume_baselines")
