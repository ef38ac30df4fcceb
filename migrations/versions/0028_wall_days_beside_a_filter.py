"""wall rows of each received day beside one filter: a period and a filter read from the summary

Revision ID: 0028_wall_days_beside_a_filter
Revises: 0027_open_rows_by_due_hour
Create Date: 2026-12-08 02:00:00.000000

The wall read a period of whole days from the summary's received-day rows ("day:20429") and
one filter from its filter rows ("category:noise"), but a period beside a filter (the last
30 days, 噪声) was counted live: 0.6 s at a million cases. At level 12
(services.wall.cells.DAY_LEVEL) the summary now also keeps a row per cell, received day and
value of one filter ("day:20429|category:noise"); coarser views add those up. Every base cell is noted for the
worker, whose refresh (a rebuild at this size) writes the new rows; until it has, such views
are counted live (services.wall.cells.awaits_catch_up), as after 0023 and 0024.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028_wall_days_beside_a_filter'
down_revision = '0027_open_rows_by_due_hour'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "INSERT INTO wall_dirty_cells (cell_x, cell_y)"
        " SELECT cell_x, cell_y FROM wall_cells WHERE level = 17 AND facet = ''"
    )


def downgrade():
    op.execute("DELETE FROM wall_cells WHERE facet LIKE 'day:%|%'")
