"""task queue: photos derived by the worker, exports made in the background

Revision ID: 0015_task_queue
Revises: 0012_calendar_grids
Create Date: 2026-12-06 20:30:00.000000

A photo is acknowledged once its file is on disk; the worker makes its display copy and
thumbnail and records when (``derived_at``). Photos received before this version had theirs
made in the upload request, so they count as derived when they were received. Large exports
are asked for, made by the worker and fetched later (``export_jobs``).
Plain ADD/DROP COLUMN, never a batch rebuild: ``photos`` holds a geometry column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_task_queue'
down_revision = '0012_calendar_grids'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("photos", sa.Column("derived_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE photos SET derived_at = received_at WHERE status = 'received'")
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=128), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_jobs_user_id", "export_jobs", ["user_id"], unique=False)


def downgrade():
    """Undo upgrade in place (SQLite 3.35+ drops the column without a rebuild)."""
    op.drop_index("ix_export_jobs_user_id", table_name="export_jobs")
    op.drop_table("export_jobs")
    op.drop_column("photos", "derived_at")
