"""wall pair rows: a view with two filters read from the summary, and one filter at zoom 15

Revision ID: 0024_wall_pairs
Revises: 0023_wall_open_states
Create Date: 2026-12-07 09:00:00.000000

The summary (``wall_cells``) kept one row per cell and value of one filter, so a view with
two filters at once (噪声 + 来访, 噪声 + 越级访) was counted live: 0.15–0.3 s at a million
cases. It now also keeps a row per cell and pair of two different filters' values at
level 14 and coarser ("category:noise|channel:visit", services.wall.cells.PAIR_LEVEL),
and the single filters' rows reach level 15 (a village filling the wall). The longest pair
value needs a wider ``facet``. Every base cell is noted for the worker, whose refresh (a
rebuild at this size) writes the new rows; until it has, such views are counted live
(services.wall.cells.awaits_catch_up).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_wall_pairs'
down_revision = '0023_wall_open_states'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("wall_cells") as batch_op:
        batch_op.alter_column("facet", existing_type=sa.String(length=48), type_=sa.String(length=64),
                              existing_nullable=False)
    op.execute(
        "INSERT INTO wall_dirty_cells (cell_x, cell_y)"
        " SELECT cell_x, cell_y FROM wall_cells WHERE level = 17 AND facet = ''"
    )


def downgrade():
    op.execute("DELETE FROM wall_cells WHERE facet LIKE '%|%' OR (level = 15 AND facet <> '')")
    with op.batch_alter_table("wall_cells") as batch_op:
        batch_op.alter_column("facet", existing_type=sa.String(length=64), type_=sa.String(length=48),
                              existing_nullable=False)
