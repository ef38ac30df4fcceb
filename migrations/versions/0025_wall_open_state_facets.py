"""wall open-state facets: the snapshot counts open cases per state and filter value too

Revision ID: 0025_wall_open_state_facets
Revises: 0024_wall_pairs
Create Date: 2026-12-07 10:00:00.000000

The open-state snapshot (``wall_open_states``) counted a cell's open cases per state only,
so a view with one filter drew its open cases unsplit (beyond 5,000 cases) and a view of
an open state beside a filter (已超期 + 噪声) was counted live: 0.1–0.6 s at a million
cases. It now also keeps rows per filter value (``facet``, in its primary key) at
level 14 and coarser (services.wall.open_states.FACET_LEVEL). The snapshot is the
worker's count of the minute: the table is made again empty and its moment forgotten, so
the wall counts live until the worker's next count (at most a minute). A minute's count
now counts again only the cells where a case turned; ``wall_open_touched`` names the cells
a write's refresh counted meanwhile, which the count recounts after storing its own.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_wall_open_state_facets'
down_revision = '0024_wall_pairs'
branch_labels = None
depends_on = None


def create(with_facet: bool) -> None:
    """The table in its shape with or without the facet column."""
    facet = [sa.Column("facet", sa.String(length=64), nullable=False)] if with_facet else []
    key = ["level", "cell_x", "cell_y", "state", *(["facet"] if with_facet else [])]
    op.create_table(
        "wall_open_states",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("cell_x", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_y", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        *facet,
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("lon_sum", sa.Float(), nullable=False),
        sa.Column("lat_sum", sa.Float(), nullable=False),
        sa.Column("above_level", sa.Integer(), nullable=False),
        sa.Column("inspection", sa.Integer(), nullable=False),
        sa.Column("leader", sa.Integer(), nullable=False),
        sa.Column("min_case_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name="pk_wall_open_states"),
    )


def upgrade():
    op.execute("DELETE FROM wall_open_snapshot")
    op.drop_table("wall_open_states")
    create(with_facet=True)
    op.create_table(
        "wall_open_touched",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cell_x", sa.Integer(), nullable=False),
        sa.Column("cell_y", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wall_open_touched"),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table("wall_open_touched")
    op.execute("DELETE FROM wall_open_snapshot")
    op.drop_table("wall_open_states")
    create(with_facet=False)
