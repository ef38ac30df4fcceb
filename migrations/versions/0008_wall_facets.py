"""wall facets: the map wall's summary also counts each cell's cases per filter value

Revision ID: 0008_wall_facets
Revises: 0007_wall_cells
Create Date: 2026-11-29 19:30:00

``wall_cells`` gains a ``facet`` column in its primary key: "" for all the cell's cases, or
one value of a wall filter ("category:noise", "channel:…", "town:7", "flag:above_level", …,
"state:closed") for the levels up to 14. The table is a summary of the cases, so it is rebuilt: dropped,
created in its new shape and filled again. As in 0007, the fill repeats in plain SQL the
formulas of services.wall_cells at this revision, so this migration never imports app code.
It also adds ``ix_cases_status_due`` for the deadline-state filter, which stays live.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_wall_facets'
down_revision = '0007_wall_cells'
branch_labels = None
depends_on = None

BASE_LEVEL = 17
FACET_LEVEL = 14
OPEN = ('accepted', 'assigned', 'followed_up', 'handling', 'registered', 'replied', 'return_requested', 'reviewed',
        'signed')
COLUMNS = ('level, cell_x, cell_y, facet, open_count, closed_count, lon_sum, lat_sum, earliest_due_at, '
           'earliest_yellow, above_level, inspection, leader, min_case_id')
# (facet value per case, the cases it counts)
FACETS = (
    ("'category:' || category", 'TRUE'),
    ("'channel:' || channel", 'TRUE'),
    ("'town:' || CAST(town_id AS VARCHAR)", 'town_id IS NOT NULL'),
    ("'flag:above_level'", 'above_level'),
    ("'flag:inspection'", 'inspection_referral IS NOT NULL'),
    ("'flag:leader'", 'leading_official_id IS NOT NULL'),
    ("'flag:repeat'", 'repeat_of_id IS NOT NULL'),
    ("'state:closed'", f"status NOT IN ({', '.join(repr(s) for s in OPEN)})"),
)


def create(with_facet: bool) -> None:
    """The table in its shape with or without the facet column."""
    facet = [sa.Column('facet', sa.String(length=48), nullable=False)] if with_facet else []
    key = ['level', 'cell_x', 'cell_y', 'facet'] if with_facet else ['level', 'cell_x', 'cell_y']
    op.create_table('wall_cells',
    sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('cell_x', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('cell_y', sa.Integer(), autoincrement=False, nullable=False),
    *facet,
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
    sa.PrimaryKeyConstraint(*key, name='pk_wall_cells')
    )
    if with_facet:
        op.create_index('ix_wall_cells_level_facet_x_y', 'wall_cells', ['level', 'facet', 'cell_x', 'cell_y'])
    else:
        op.create_index('ix_wall_cells_level_y_x', 'wall_cells', ['level', 'cell_y', 'cell_x'])


def upgrade():
    # The wall's deadline-state filter, counted live: open cases by due time.
    op.create_index('ix_cases_status_due', 'cases', ['status', 'due_at'], unique=False)
    op.drop_index('ix_wall_cells_level_y_x', table_name='wall_cells')
    op.drop_table('wall_cells')
    create(with_facet=True)
    fill_from_cases(op.get_bind(), with_facet=True)


def downgrade():
    op.drop_index('ix_cases_status_due', table_name='cases')
    op.drop_index('ix_wall_cells_level_facet_x_y', table_name='wall_cells')
    op.drop_table('wall_cells')
    create(with_facet=False)
    fill_from_cases(op.get_bind(), with_facet=False)


def fill_from_cases(bind, with_facet: bool) -> None:
    """Summarise the cases: the base level from the cases, then each coarser level (and its filter rows)."""
    sqlite = bind.dialect.name == 'sqlite'
    stored = bind.execute(sa.text("SELECT value FROM settings WHERE key = 'yellow_at'")).scalar()
    yellow_at = float(json.loads(stored) if isinstance(stored, str) else stored) if stored is not None else 0.75
    columns = COLUMNS if with_facet else COLUMNS.replace('facet, ', '')

    def index(coordinate: str, offset: str, level: int) -> str:
        shifted = f'(({coordinate} + {offset}) / {repr(90.0 / 2**level)})'
        return f'CAST({shifted} AS INTEGER)' if sqlite else f'CAST(FLOOR({shifted}) AS INTEGER)'

    def epoch(column: str) -> str:
        return f'((julianday({column}) - 2440587.5) * 86400.0)' if sqlite else f'CAST(EXTRACT(epoch FROM {column}) AS FLOAT)'

    opened = f"status IN ({', '.join(repr(s) for s in OPEN)})"
    yellow = f'({epoch("received_at")} + CAST({yellow_at!r} AS FLOAT) * ({epoch("due_at")} - {epoch("received_at")}))'

    def from_cases(level: int, facet: str | None, where: str) -> None:
        # A facet that is a constant ('' or a flag) is not grouped by: PostgreSQL refuses constants there.
        cell_x, cell_y = index('ST_X(location)', '180.0', level), index('ST_Y(location)', '90.0', level)
        facet_column = f'{facet}, ' if facet is not None else ''
        bind.execute(sa.text(
            f'INSERT INTO wall_cells ({columns}) SELECT {level}, {cell_x}, {cell_y}, {facet_column}'
            f'SUM(CASE WHEN {opened} THEN 1 ELSE 0 END), SUM(CASE WHEN {opened} THEN 0 ELSE 1 END), '
            f'SUM(ST_X(location)), SUM(ST_Y(location)), MIN(CASE WHEN {opened} THEN due_at END), '
            f'MIN(CASE WHEN {opened} AND due_at IS NOT NULL THEN {yellow} END), '
            'SUM(CASE WHEN above_level THEN 1 ELSE 0 END), '
            'SUM(CASE WHEN inspection_referral IS NOT NULL THEN 1 ELSE 0 END), '
            'SUM(CASE WHEN leading_official_id IS NOT NULL THEN 1 ELSE 0 END), MIN(id) '
            f'FROM cases WHERE location IS NOT NULL AND {where} '
            f'GROUP BY {cell_x}, {cell_y}{", " + facet if facet and "||" in facet else ""}'
        ))

    from_cases(BASE_LEVEL, "''" if with_facet else None, 'TRUE')
    for level in range(BASE_LEVEL - 1, -1, -1):
        facet = 'facet, ' if with_facet else ''
        bind.execute(sa.text(
            f'INSERT INTO wall_cells ({columns}) SELECT {level}, cell_x / 2, cell_y / 2, {facet}SUM(open_count), '
            'SUM(closed_count), SUM(lon_sum), SUM(lat_sum), MIN(earliest_due_at), MIN(earliest_yellow), '
            'SUM(above_level), SUM(inspection), SUM(leader), MIN(min_case_id) '
            f'FROM wall_cells WHERE level = {level + 1} GROUP BY {facet}cell_x / 2, cell_y / 2'
        ))
        if with_facet and level == FACET_LEVEL:
            for value, where in FACETS:
                from_cases(level, value, where)
