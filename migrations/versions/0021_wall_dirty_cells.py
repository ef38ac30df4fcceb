"""wall dirty cells: a transaction that writes cases names the map cells it changed; the worker refreshes them

Revision ID: 0021_wall_dirty_cells
Revises: 0018_lists
Create Date: 2026-12-06 23:00:00.000000

Before, every transaction that changed a case refreshed the map wall's summary
(``wall_cells``) before its commit, one at a time across the city, so uploads queued behind
each other. Now it inserts the base cells it touched into ``wall_dirty_cells`` and the
worker refreshes them after the commit. The table starts empty: the summary is current at
this revision.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_wall_dirty_cells'
down_revision = '0018_lists'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wall_dirty_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cell_x", sa.Integer(), nullable=False),
        sa.Column("cell_y", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wall_dirty_cells"),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table("wall_dirty_cells")
