"""base map: the city's own roads, water and place names, drawn under the cases on the wall

Revision ID: 0017_basemap
Revises: 0010_evidence
Create Date: 2026-12-06 21:00:00

One table of features of any geometry type (lines, polygons, points) with the layer they
belong to, their class and name as the source file gave them, and the zoom they are drawn
from. A new import of a layer replaces the features that layer had.
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

# revision identifiers, used by Alembic.
revision = '0017_basemap'
down_revision = '0010_evidence'
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table('basemap_features',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('layer', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('min_zoom', sa.Integer(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='GEOMETRY', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source_name', sa.String(length=200), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('basemap_features', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_basemap_features_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_basemap_features_layer'), ['layer'], unique=False)


def downgrade():
    with op.batch_alter_table('basemap_features', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_basemap_features_layer'))
        batch_op.drop_geospatial_index('idx_basemap_features_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('basemap_features')
