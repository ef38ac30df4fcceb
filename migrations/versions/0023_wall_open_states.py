"""wall open states: every minute, the open cases' red, yellow and green counts per map cell

Revision ID: 0023_wall_open_states
Revises: 0022_due_started_at
Create Date: 2026-12-07 06:00:00.000000

The wall's summary (``wall_cells``) counts a cell's open cases as one number, so a city
view drew each cluster's open part in its worst case's colour. The worker now counts the
open cases' states per cell every minute into this table; it starts empty and the first
count after the upgrade fills it (until then the wall draws as before and says so).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_wall_open_states'
down_revision = '0022_due_started_at'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wall_open_states",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("cell_x", sa.Integer(), nullable=False),
        sa.Column("cell_y", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("yellow", sa.Integer(), nullable=False),
        sa.Column("green", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("level", "cell_x", "cell_y", name="pk_wall_open_states"),
    )


def downgrade():
    op.drop_table("wall_open_states")
