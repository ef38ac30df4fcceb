"""wall open states and received-day rows: clusters split by state, state and period views from summaries

Revision ID: 0023_wall_open_states
Revises: 0022_due_started_at
Create Date: 2026-12-07 06:00:00.000000

The wall's summary (``wall_cells``) counts a cell's open cases as one number, so a city
view drew each cluster's open part in its worst case's colour, and a view of one deadline
state counted its cases live. The worker now counts the open cases per cell and state
every minute into this table; it starts empty and the first count after the upgrade
fills it (until then the wall draws and counts as before).

The summary also gains rows per received day (``facet`` "day:<Beijing day number>") at
level 12 and coarser, so a period of whole days is read like a filter. Every base cell is
noted for the worker, whose refresh (a rebuild at this size) writes them; until it has,
the wall counts a period live (services.wall.clusters.answers_from_summary).
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
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("cell_x", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_y", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("lon_sum", sa.Float(), nullable=False),
        sa.Column("lat_sum", sa.Float(), nullable=False),
        sa.Column("above_level", sa.Integer(), nullable=False),
        sa.Column("inspection", sa.Integer(), nullable=False),
        sa.Column("leader", sa.Integer(), nullable=False),
        sa.Column("min_case_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("level", "cell_x", "cell_y", "state", name="pk_wall_open_states"),
    )
    op.create_table(
        "wall_open_snapshot",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wall_open_snapshot"),
    )
    op.execute(
        "INSERT INTO wall_dirty_cells (cell_x, cell_y)"
        " SELECT cell_x, cell_y FROM wall_cells WHERE level = 17 AND facet = ''"
    )


def downgrade():
    op.execute("DELETE FROM wall_cells WHERE facet LIKE 'day:%'")
    op.drop_table("wall_open_snapshot")
    op.drop_table("wall_open_states")
