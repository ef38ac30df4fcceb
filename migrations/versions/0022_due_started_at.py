"""due_started_at: when a case's nearest running clock started

Revision ID: 0022_due_started_at
Revises: 0019_day_stats
Create Date: 2026-12-07 00:30:00.000000

A case turns yellow once ``yellow_at`` of the time from its nearest running clock's start to
its due time is used. The desk asked the clocks table for that start once per open case (a
correlated subquery: seconds on a city's open cases), and the wall counted from receipt
instead, so the two disagreed for every case past its first stage. The start now sits on the
case beside ``due_at`` (services.deadlines.refresh_case_due keeps both); existing cases get it
from their clocks here, and every map cell holding an open case is noted for the worker
(``wall_dirty_cells``), whose refresh recounts the wall summary's yellow moments by the new
rule (plain SQL: the migration imports no app code).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_due_started_at'
down_revision = '0019_day_stats'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("cases", sa.Column("due_started_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE cases SET due_started_at = ("
        " SELECT c.started_at FROM case_clocks c WHERE c.case_id = cases.id AND c.done_at IS NULL"
        " ORDER BY c.due_at, c.id LIMIT 1)"
        " WHERE due_at IS NOT NULL"
    )
    op.execute(
        "INSERT INTO wall_dirty_cells (cell_x, cell_y)"
        " SELECT cell_x, cell_y FROM wall_cells WHERE level = 17 AND facet = '' AND open_count > 0"
    )


def downgrade():
    op.drop_column("cases", "due_started_at")
