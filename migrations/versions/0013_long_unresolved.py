"""long-unresolved cases: regular follow-up and media exposure

Revision ID: 0013_long_unresolved
Revises: 0011_integrity
Create Date: 2026-12-06 20:30:00.000000

A follow-up may be a regular one of a case still open (定期回访), which closes nothing; the
case mirrors when its next one is due, for the queue. Exposures (媒体曝光) record a
proposal, its decision and any withdrawal. Plain ADD/DROP COLUMN on ``cases``, never a
batch rebuild: it holds a geometry column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_long_unresolved'
down_revision = '0011_integrity'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("follow_ups", sa.Column("periodic", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("cases", sa.Column("revisit_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("responsible_unit", sa.String(length=100), nullable=False),
        sa.Column("failings", sa.Text(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposures_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposures_status"), ["status"], unique=False)


def downgrade():
    """Undo upgrade in place (SQLite 3.35+ drops these columns without a rebuild)."""
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposures_status"))
        batch_op.drop_index(batch_op.f("ix_exposures_case_id"))
    op.drop_table("exposures")
    op.drop_column("cases", "revisit_due_at")
    op.drop_column("follow_ups", "periodic")
