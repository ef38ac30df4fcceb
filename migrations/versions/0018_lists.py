"""lists: work-order numbers, saved queue filters, the phone's delta-sync index

Revision ID: 0018_lists
Revises: 0016_rules
Create Date: 2026-12-06 20:50:00.000000

A case keeps the 12345 / 12369 hotline's work-order number (工单号) so the desk finds it by
the number a caller holds. A desk user keeps named queue filters. The inspector app asks
for what changed in its grid since its last sync, which an index on (grid, updated) answers
without reading the grid's whole history.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_lists'
down_revision = '0016_rules'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("cases", sa.Column("work_order_number", sa.String(length=40), nullable=True))
    op.create_index("ix_cases_work_order_number", "cases", ["work_order_number"])
    op.create_index("ix_cases_grid_updated", "cases", ["grid_id", "updated_at"])
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_saved_filters_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_saved_filters"),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),
    )
    op.create_index("ix_saved_filters_user_id", "saved_filters", ["user_id"])


def downgrade():
    op.drop_index("ix_saved_filters_user_id", table_name="saved_filters")
    op.drop_table("saved_filters")
    op.drop_index("ix_cases_grid_updated", table_name="cases")
    op.drop_index("ix_cases_work_order_number", table_name="cases")
    op.drop_column("cases", "work_order_number")
