"""on-site evidence: flags, acceptance, photo origin and originals

Revision ID: 0010_evidence
Revises: 0009_source_input_coords
Create Date: 2026-12-06 18:40:00.000000

An on-site check records why it has no photo, which side recorded it, its distance to the
case and the flags that keep a doubtful check from counting until a supervisor accepts it.
A photo records whether it came from the camera or the gallery, the camera's orientation,
whether it was taken too long before the visit, and the untouched original when one arrives.
Plain ADD/DROP COLUMN, never a batch rebuild: ``inspections`` holds a geometry column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_evidence'
down_revision = '0009_source_input_coords'
branch_labels = None
depends_on = None

def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE inspections ADD COLUMN accepted_by_id INTEGER REFERENCES users (id)")
    else:
        op.add_column("inspections", sa.Column("accepted_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_inspections_accepted_by_id_users", "inspections", "users",
                              ["accepted_by_id"], ["id"])
    op.add_column("inspections", sa.Column("no_photo_reason", sa.String(length=32), nullable=True))
    op.add_column("inspections", sa.Column("recorded_via", sa.String(length=8), nullable=False,
                                           server_default="phone"))
    op.add_column("inspections", sa.Column("distance_to_case_m", sa.Float(), nullable=True))
    for flag in ("far_from_case", "poor_accuracy", "incomplete"):
        op.add_column("inspections", sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("inspections", sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("inspections", sa.Column("acceptance_note", sa.Text(), nullable=False, server_default=""))
    op.add_column("photos", sa.Column("origin", sa.String(length=16), nullable=True))
    op.add_column("photos", sa.Column("exif_orientation", sa.Integer(), nullable=True))
    op.add_column("photos", sa.Column("taken_before_visit", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("photos", sa.Column("original_sha256", sa.String(length=64), nullable=True))
    op.add_column("photos", sa.Column("original_byte_size", sa.Integer(), nullable=True))
    op.add_column("photos", sa.Column("original_received_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    """Undo upgrade in place (SQLite 3.35+ drops these columns without a rebuild)."""
    for column in ("original_received_at", "original_byte_size", "original_sha256", "taken_before_visit",
                   "exif_orientation", "origin"):
        op.drop_column("photos", column)
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_inspections_accepted_by_id_users", "inspections", type_="foreignkey")
    for column in ("acceptance_note", "accepted_at", "incomplete", "poor_accuracy", "far_from_case",
                   "distance_to_case_m", "recorded_via", "no_photo_reason", "accepted_by_id"):
        op.drop_column("inspections", column)
