"""sources keep the coordinates as typed and their system

Revision ID: 0009_source_input_coords
Revises: 0008_wall_facets
Create Date: 2026-11-29 20:01:02.115136

Like a case, a source now keeps the longitude and latitude as typed and their system (WGS-84,
GCJ-02 or BD-09) beside the WGS-84 point it stores. Sources registered before this revision
leave the three columns empty: what was typed for them is not known. Plain ADD/DROP COLUMN,
never a batch rebuild: ``sources`` holds a geometry column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_source_input_coords'
down_revision = '0008_wall_facets'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('sources', sa.Column('coord_system', sa.String(length=8), nullable=True))
    op.add_column('sources', sa.Column('input_lon', sa.Float(), nullable=True))
    op.add_column('sources', sa.Column('input_lat', sa.Float(), nullable=True))


def downgrade():
    op.drop_column('sources', 'input_lat')
    op.drop_column('sources', 'input_lon')
    op.drop_column('sources', 'coord_system')
