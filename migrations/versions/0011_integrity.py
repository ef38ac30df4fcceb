"""integrity: signed chain heads, a chained admin audit log, session records

Revision ID: 0011_integrity
Revises: 0014_notifications
Create Date: 2026-12-06 20:20:00.000000

``chain_heads`` anchors each hash chain (a case's timeline, the admin audit log) outside the
table it protects. The admin audit log becomes a chain: existing entries get their ``seq``
(in id order) and hashes here, exactly as ``services.admin.audit.entry_hash`` computes them
at this revision. Signing needs AUDIT_KEY, which the database must never hold, so heads
for chains written before this revision come from ``flask audit seal`` (or a chain's next
entry). ``user_sessions`` holds one record per signed-in browser or phone.
"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_integrity'
down_revision = '0014_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "chain_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain", "subject_id", name="uq_chain_heads_chain_subject"),
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"], unique=False)
    op.add_column("admin_audit_log", sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("admin_audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=False,
                                               server_default=""))
    op.add_column("admin_audit_log", sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
    _chain_admin_log()
    op.create_index("uq_admin_audit_log_seq", "admin_audit_log", ["seq"], unique=True)


def _chain_admin_log():
    """Number and hash-link the existing admin audit entries in id order."""
    log = sa.table(
        "admin_audit_log", sa.column("id", sa.Integer), sa.column("actor_id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)), sa.column("action", sa.String), sa.column("entity", sa.String),
        sa.column("entity_id", sa.String), sa.column("before", sa.JSON), sa.column("after", sa.JSON),
        sa.column("seq", sa.Integer), sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
    )
    bind = op.get_bind()
    prev_hash = "0" * 64
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    for seq, row in enumerate(rows, start=1):
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)
        content = {
            "seq": seq, "actor_id": row["actor_id"], "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "action": row["action"], "entity": row["entity"], "entity_id": row["entity_id"],
            "before": row["before"], "after": row["after"], "prev_hash": prev_hash,
        }
        digest = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True,
                                           separators=(",", ":")).encode("utf-8")).hexdigest()
        bind.execute(log.update().where(log.c.id == row["id"]).values(seq=seq, prev_hash=prev_hash, hash=digest))
        prev_hash = digest


def downgrade():
    """Undo upgrade in place (SQLite 3.35+ drops these columns without a rebuild)."""
    op.drop_index("uq_admin_audit_log_seq", table_name="admin_audit_log")
    for column in ("hash", "prev_hash", "seq"):
        op.drop_column("admin_audit_log", column)
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_table("chain_heads")
