"""wall cells: the map wall's per-cell summary, filled from the cases already stored

Revision ID: 0007_wall_cells
Revises: 0006_patrols
Create Date: 2026-11-29 15:53:32.013402

The fill repeats, in plain SQL, the formulas of services.wall_cells at this revision (base
level 17, the open statuses, the yellow moment), so this migration never imports app code;
``flask wall rebuild-cells`` recomputes the table from the app's own code at any time.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_wall_cells'
down_revision = '0006_patrols'
branch_labels = None
depends_on = None

BASE_LEVEL = 17
OPEN = ('accepted', 'assigned', 'followed_up', 'handling', 'registered', 'replied', 'return_requested', 'reviewed',
        'signed')
COLUMNS = ('level, cell_x, cell_y, open_count, closed_count, lon_sum, lat_sum, earliest_due_at, earliest_yellow, '
           'above_level, inspection, leader, min_case_id')


def upgrade():
    op.create_table('wall_cells',
    sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('cell_x', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('cell_y', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.Column('closed_count', sa.Integer(), nullable=False),
    sa.Column('lon_sum', sa.Float(), nullable=False),
    sa.Column('lat_sum', sa.Float(), nullable=False),
    sa.Column('earliest_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('earliest_yellow', sa.Float(), nullable=True),
    sa.Column('above_level', sa.Integer(), nullable=False),
    sa.Column('inspection', sa.Integer(), nullable=False),
    sa.Column('leader', sa.Integer(), nullable=False),
    sa.Column('min_case_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'cell_x', 'cell_y', name='pk_wall_cells')
    )
    op.create_index('ix_wall_cells_level_y_x', 'wall_cells', ['level', 'cell_y', 'cell_x'], unique=False)
    fill_from_cases(op.get_bind())


def downgrade():
    op.drop_index('ix_wall_cells_level_y_x', table_name='wall_cells')
    op.drop_table('wall_cells')


def fill_from_cases(bind) -> None:
    """Summarise the cases already stored: the base level from the cases, then each coarser level."""
    sqlite = bind.dialect.name == 'sqlite'
    stored = bind.execute(sa.text("SELECT value FROM settings WHERE key = 'yellow_at'")).scalar()
    yellow_at = float(json.loads(stored) if isinstance(stored, str) else stored) if stored is not None else 0.75
    size = repr(90.0 / 2**BASE_LEVEL)

    def index(coordinate: str, offset: str) -> str:
        shifted = f'(({coordinate} + {offset}) / {size})'
        return f'CAST({shifted} AS INTEGER)' if sqlite else f'CAST(FLOOR({shifted}) AS INTEGER)'

    def epoch(column: str) -> str:
        return f'((julianday({column}) - 2440587.5) * 86400.0)' if sqlite else f'CAST(EXTRACT(epoch FROM {column}) AS FLOAT)'

    opened = f"status IN ({', '.join(repr(s) for s in OPEN)})"
    yellow = f'({epoch("received_at")} + CAST({yellow_at!r} AS FLOAT) * ({epoch("due_at")} - {epoch("received_at")}))'
    cell_x, cell_y = index('ST_X(location)', '180.0'), index('ST_Y(location)', '90.0')
    bind.execute(sa.text(
        f'INSERT INTO wall_cells ({COLUMNS}) SELECT {BASE_LEVEL}, {cell_x}, {cell_y}, '
        f'SUM(CASE WHEN {opened} THEN 1 ELSE 0 END), SUM(CASE WHEN {opened} THEN 0 ELSE 1 END), '
        f'SUM(ST_X(location)), SUM(ST_Y(location)), MIN(CASE WHEN {opened} THEN due_at END), '
        f'MIN(CASE WHEN {opened} AND due_at IS NOT NULL THEN {yellow} END), '
        'SUM(CASE WHEN above_level THEN 1 ELSE 0 END), '
        'SUM(CASE WHEN inspection_referral IS NOT NULL THEN 1 ELSE 0 END), '
        'SUM(CASE WHEN leading_official_id IS NOT NULL THEN 1 ELSE 0 END), MIN(id) '
        f'FROM cases WHERE location IS NOT NULL GROUP BY {cell_x}, {cell_y}'
    ))
    for level in range(BASE_LEVEL - 1, -1, -1):
        bind.execute(sa.text(
            f'INSERT INTO wall_cells ({COLUMNS}) SELECT {level}, cell_x / 2, cell_y / 2, SUM(open_count), '
            'SUM(closed_count), SUM(lon_sum), SUM(lat_sum), MIN(earliest_due_at), MIN(earliest_yellow), '
            'SUM(above_level), SUM(inspection), SUM(leader), MIN(min_case_id) '
            f'FROM wall_cells WHERE level = {level + 1} GROUP BY cell_x / 2, cell_y / 2'
        ))
