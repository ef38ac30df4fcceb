"""day stats: the daily summary the wall's panels, village scores and town ranking add up

Revision ID: 0019_day_stats
Revises: 0021_wall_dirty_cells
Create Date: 2026-12-06 23:40:00.000000

One row per key of each kind (received, open by due day, petitions, listed from a day),
filled from the cases already stored. The fill is the SELECT of services.day_stats at this
revision, written out for each backend (the settings of the long-unresolved list are read
from the settings table, with their defaults), so this migration never imports app code;
``flask wall rebuild-stats`` recomputes the table from the app's own code at any time.
Two indexes on cases serve the live parts of today: handle_due_at the list's count of cases
newly past their deadline, (due_at, status, received_at, town_id) the open cases due today so far.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_day_stats'
down_revision = '0021_wall_dirty_cells'
branch_labels = None
depends_on = None

COUNTS = ('total', 'open', 'closed', 'above_level', 'above_channel', 'repeat', 'signed', 'signed_on_time',
          'onsite', 'onsite_on_time', 'first_time', 'rated', 'satisfied', 'single', 'repeat_above', 'exempt',
          'irregular_only', 'zeroing')
LIST_DEFAULTS = {'long_unresolved_open_days': 90, 'long_unresolved_overdue_days': 15,
                 'long_unresolved_reopened_min': 2, 'unresolved_above_level_min': 3}
COLUMNS = 'kind, day, town_id, grid_id, category, due_day, delta, total, open, closed, above_level, above_channel, repeat, signed, signed_on_time, onsite, onsite_on_time, first_time, rated, satisfied, single, repeat_above, exempt, irregular_only, zeroing'


def upgrade():
    op.create_table(
        'day_stats',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=1), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('town_id', sa.Integer(), nullable=True),
        sa.Column('grid_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.String(length=32), nullable=True),
        sa.Column('due_day', sa.Integer(), nullable=True),
        sa.Column('delta', sa.Boolean(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_day_stats')),
    )
    op.create_index('ix_day_stats_kind_day', 'day_stats', ['kind', 'day'])
    op.create_index('ix_day_stats_delta', 'day_stats', ['id'], sqlite_where=sa.text('delta'),
                    postgresql_where=sa.text('delta'))
    op.create_index('ix_cases_handle_due_at', 'cases', ['handle_due_at'])
    op.create_index('ix_cases_due_status_received_town', 'cases', ['due_at', 'status', 'received_at', 'town_id'])
    fill_from_cases(op.get_bind())


def downgrade():
    op.drop_index('ix_cases_due_status_received_town', table_name='cases')
    op.drop_index('ix_cases_handle_due_at', table_name='cases')
    op.drop_index('ix_day_stats_delta', table_name='day_stats')
    op.drop_index('ix_day_stats_kind_day', table_name='day_stats')
    op.drop_table('day_stats')


def fill_from_cases(bind) -> None:
    """Summarise the cases already stored, with the list's thresholds in force."""
    stored = dict(bind.execute(sa.text('SELECT key, value FROM settings')).all())
    params = {}
    for key, default in LIST_DEFAULTS.items():
        value = stored.get(key)
        value = json.loads(value) if isinstance(value, str) else value
        params[key.replace('long_unresolved_', '').replace('unresolved_', '')] = int(
            default if value is None else value)
    select = SQLITE_SELECT if bind.dialect.name == 'sqlite' else POSTGRESQL_SELECT
    bind.execute(sa.text(f'INSERT INTO day_stats ({COLUMNS}) {select}'), params)


SQLITE_SELECT = (
    'SELECT anon_1.kind, anon_1.day, anon_1.town_id, anon_1.grid_id, anon_1.category, anon_1.due_day, 0 '
    'AS anon_2, anon_1.total, anon_1.open, anon_1.closed, anon_1.above_level, anon_1.above_channel, '
    'anon_1.repeat, anon_1.signed, anon_1.signed_on_time, anon_1.onsite, anon_1.onsite_on_time, '
    'anon_1.first_time, anon_1.rated, anon_1.satisfied, anon_1.single, anon_1.repeat_above, '
    "anon_1.exempt, anon_1.irregular_only, anon_1.zeroing \nFROM (SELECT 'r' AS kind, (CAST(strftime('%s', "
    'cases.received_at) AS INTEGER) + 28800) / 86400 AS day, CAST(NULL AS INTEGER) AS town_id, CAST(NULL '
    'AS INTEGER) AS grid_id, CAST(NULL AS VARCHAR) AS category, CAST(NULL AS INTEGER) AS due_day, '
    "count(cases.id) AS total, sum(CASE WHEN (cases.status IN ('accepted', 'assigned', 'followed_up', "
    "'handling', 'registered', 'replied', 'return_requested', 'reviewed', 'signed')) THEN 1 ELSE 0 END) "
    "AS open, sum(CASE WHEN (cases.status = 'closed') THEN 1 ELSE 0 END) AS closed, sum(CASE WHEN "
    '(cases.above_level IS 1) THEN 1 ELSE 0 END) AS above_level, sum(CASE WHEN (cases.channel IN '
    "('above_level_beijing', 'above_level_province')) THEN 1 ELSE 0 END) AS above_channel, sum(CASE WHEN "
    '(cases.repeat_of_id IS NOT NULL) THEN 1 ELSE 0 END) AS repeat, sum(CASE WHEN (cases.signed_at IS NOT '
    'NULL AND cases.sign_due_at IS NOT NULL) THEN 1 ELSE 0 END) AS signed, sum(CASE WHEN (cases.signed_at '
    '<= cases.sign_due_at) THEN 1 ELSE 0 END) AS signed_on_time, sum(CASE WHEN (cases.first_onsite_at IS '
    'NOT NULL AND cases.onsite_due_at IS NOT NULL) THEN 1 ELSE 0 END) AS onsite, sum(CASE WHEN '
    '(cases.first_onsite_at <= cases.onsite_due_at) THEN 1 ELSE 0 END) AS onsite_on_time, sum(CASE WHEN '
    "(cases.status = 'closed' AND cases.reopened_count = 0 AND cases.repeat_count = 0) THEN 1 ELSE 0 END) "
    'AS first_time, sum((SELECT count(follow_ups.id) AS count_1 \nFROM follow_ups \nWHERE '
    'follow_ups.case_id = cases.id AND follow_ups.satisfaction IS NOT NULL)) AS rated, sum((SELECT '
    'count(follow_ups.id) AS count_2 \nFROM follow_ups \nWHERE follow_ups.case_id = cases.id AND '
    "follow_ups.satisfaction IN ('basically_satisfied', 'satisfied'))) AS satisfied, 0 AS single, 0 AS "
    'repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS zeroing \nFROM cases GROUP BY '
    "(CAST(strftime('%s', cases.received_at) AS INTEGER) + 28800) / 86400 UNION ALL SELECT 'c' AS kind, "
    "(CAST(strftime('%s', cases.received_at) AS INTEGER) + 28800) / 86400 AS day, CAST(NULL AS INTEGER) "
    'AS town_id, CAST(NULL AS INTEGER) AS grid_id, cases.category AS category, CAST(NULL AS INTEGER) AS '
    'due_day, count(cases.id) AS total, 0 AS open, 0 AS closed, 0 AS above_level, 0 AS above_channel, 0 '
    'AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 AS '
    'rated, 0 AS satisfied, 0 AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS '
    "zeroing \nFROM cases GROUP BY (CAST(strftime('%s', cases.received_at) AS INTEGER) + 28800) / 86400, "
    "cases.category UNION ALL SELECT 't' AS kind, (CAST(strftime('%s', cases.received_at) AS INTEGER) + "
    '28800) / 86400 AS day, cases.town_id AS town_id, CAST(NULL AS INTEGER) AS grid_id, CAST(NULL AS '
    'VARCHAR) AS category, CAST(NULL AS INTEGER) AS due_day, 0 AS total, 0 AS open, 0 AS closed, 0 AS '
    'above_level, count(cases.id) AS above_channel, 0 AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS '
    'onsite, 0 AS onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS satisfied, 0 AS single, 0 AS '
    'repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS zeroing \nFROM cases \nWHERE cases.channel IN '
    "('above_level_beijing', 'above_level_province') GROUP BY (CAST(strftime('%s', cases.received_at) AS "
    "INTEGER) + 28800) / 86400, cases.town_id UNION ALL SELECT 'o' AS kind, (CAST(strftime('%s', "
    'cases.received_at) AS INTEGER) + 28800) / 86400 AS day, cases.town_id AS town_id, CAST(NULL AS '
    "INTEGER) AS grid_id, CAST(NULL AS VARCHAR) AS category, (CAST(strftime('%s', cases.due_at) AS "
    'INTEGER) + 28800) / 86400 AS due_day, 0 AS total, count(cases.id) AS open, 0 AS closed, 0 AS '
    'above_level, 0 AS above_channel, 0 AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS onsite, 0 AS '
    'onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS satisfied, 0 AS single, 0 AS repeat_above, 0 AS '
    "exempt, 0 AS irregular_only, 0 AS zeroing \nFROM cases \nWHERE cases.status IN ('accepted', "
    "'assigned', 'followed_up', 'handling', 'registered', 'replied', 'return_requested', 'reviewed', "
    "'signed') GROUP BY (CAST(strftime('%s', cases.received_at) AS INTEGER) + 28800) / 86400, "
    "cases.town_id, (CAST(strftime('%s', cases.due_at) AS INTEGER) + 28800) / 86400 UNION ALL SELECT 'w' "
    'AS kind, 0 AS day, cases.town_id AS town_id, CAST(NULL AS INTEGER) AS grid_id, CAST(NULL AS VARCHAR) '
    "AS category, (CAST(strftime('%s', cases.due_at) AS INTEGER) + 28800) / 86400 AS due_day, 0 AS total, "
    'count(cases.id) AS open, 0 AS closed, 0 AS above_level, 0 AS above_channel, 0 AS repeat, 0 AS '
    'signed, 0 AS signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS '
    'satisfied, 0 AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS zeroing \nFROM '
    "cases \nWHERE cases.status IN ('accepted', 'assigned', 'followed_up', 'handling', 'registered', "
    "'replied', 'return_requested', 'reviewed', 'signed') GROUP BY cases.town_id, (CAST(strftime('%s', "
    "cases.due_at) AS INTEGER) + 28800) / 86400 UNION ALL SELECT 'p' AS kind, (CAST(strftime('%s', "
    'cases.received_at) AS INTEGER) + 28800) / 86400 AS day, CAST(NULL AS INTEGER) AS town_id, '
    'cases.grid_id AS grid_id, CAST(NULL AS VARCHAR) AS category, CAST(NULL AS INTEGER) AS due_day, 0 AS '
    'total, 0 AS open, 0 AS closed, 0 AS above_level, 0 AS above_channel, 0 AS repeat, 0 AS signed, 0 AS '
    'signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS satisfied, '
    "sum(CASE WHEN (cases.channel IN ('above_level_beijing', 'above_level_province') AND CASE WHEN "
    '((EXISTS (SELECT cases_1.channel, cases_1.received_at, cases_1.discovered_by_grid_id \nFROM cases AS '
    "cases_1 \nWHERE cases_1.id = cases.repeat_of_id AND cases_1.channel IN ('above_level_beijing', "
    "'above_level_province') AND cases_1.received_at <= cases.received_at)) OR cases.repeat_of_id IS NOT "
    'NULL AND (EXISTS (SELECT * \nFROM cases AS cases_2 \nWHERE cases_2.repeat_of_id = cases.repeat_of_id '
    "AND cases_2.id != cases.id AND cases_2.channel IN ('above_level_beijing', 'above_level_province') "
    "AND cases_2.received_at < cases.received_at))) THEN 'repeat' WHEN ((EXISTS (SELECT cases_1.channel, "
    'cases_1.received_at, cases_1.discovered_by_grid_id \nFROM cases AS cases_1 \nWHERE cases_1.id = '
    'cases.repeat_of_id AND cases_1.discovered_by_grid_id = cases.grid_id AND cases_1.received_at < '
    'cases.received_at)) AND NOT (EXISTS (SELECT * \nFROM case_clocks \nWHERE case_clocks.case_id = '
    'cases.repeat_of_id AND case_clocks.due_at < cases.received_at AND (case_clocks.done_at IS NULL OR '
    "case_clocks.done_at > case_clocks.due_at)))) THEN 'exempt' ELSE 'single' END = 'single') THEN 1 ELSE "
    "0 END) AS single, sum(CASE WHEN (cases.channel IN ('above_level_beijing', 'above_level_province') "
    'AND CASE WHEN ((EXISTS (SELECT cases_1.channel, cases_1.received_at, cases_1.discovered_by_grid_id '
    '\nFROM cases AS cases_1 \nWHERE cases_1.id = cases.repeat_of_id AND cases_1.channel IN '
    "('above_level_beijing', 'above_level_province') AND cases_1.received_at <= cases.received_at)) OR "
    'cases.repeat_of_id IS NOT NULL AND (EXISTS (SELECT * \nFROM cases AS cases_2 \nWHERE '
    'cases_2.repeat_of_id = cases.repeat_of_id AND cases_2.id != cases.id AND cases_2.channel IN '
    "('above_level_beijing', 'above_level_province') AND cases_2.received_at < cases.received_at))) THEN "
    "'repeat' WHEN ((EXISTS (SELECT cases_1.channel, cases_1.received_at, cases_1.discovered_by_grid_id "
    '\nFROM cases AS cases_1 \nWHERE cases_1.id = cases.repeat_of_id AND cases_1.discovered_by_grid_id = '
    'cases.grid_id AND cases_1.received_at < cases.received_at)) AND NOT (EXISTS (SELECT * \nFROM '
    'case_clocks \nWHERE case_clocks.case_id = cases.repeat_of_id AND case_clocks.due_at < '
    'cases.received_at AND (case_clocks.done_at IS NULL OR case_clocks.done_at > case_clocks.due_at)))) '
    "THEN 'exempt' ELSE 'single' END = 'repeat') THEN 1 ELSE 0 END) AS repeat_above, sum(CASE WHEN "
    "(cases.channel IN ('above_level_beijing', 'above_level_province') AND CASE WHEN ((EXISTS (SELECT "
    'cases_1.channel, cases_1.received_at, cases_1.discovered_by_grid_id \nFROM cases AS cases_1 \nWHERE '
    "cases_1.id = cases.repeat_of_id AND cases_1.channel IN ('above_level_beijing', "
    "'above_level_province') AND cases_1.received_at <= cases.received_at)) OR cases.repeat_of_id IS NOT "
    'NULL AND (EXISTS (SELECT * \nFROM cases AS cases_2 \nWHERE cases_2.repeat_of_id = cases.repeat_of_id '
    "AND cases_2.id != cases.id AND cases_2.channel IN ('above_level_beijing', 'above_level_province') "
    "AND cases_2.received_at < cases.received_at))) THEN 'repeat' WHEN ((EXISTS (SELECT cases_1.channel, "
    'cases_1.received_at, cases_1.discovered_by_grid_id \nFROM cases AS cases_1 \nWHERE cases_1.id = '
    'cases.repeat_of_id AND cases_1.discovered_by_grid_id = cases.grid_id AND cases_1.received_at < '
    'cases.received_at)) AND NOT (EXISTS (SELECT * \nFROM case_clocks \nWHERE case_clocks.case_id = '
    'cases.repeat_of_id AND case_clocks.due_at < cases.received_at AND (case_clocks.done_at IS NULL OR '
    "case_clocks.done_at > case_clocks.due_at)))) THEN 'exempt' ELSE 'single' END = 'exempt') THEN 1 ELSE "
    '0 END) AS exempt, sum(CASE WHEN (cases.irregular_count > 0 AND (cases.channel NOT IN '
    "('above_level_beijing', 'above_level_province'))) THEN 1 ELSE 0 END) AS irregular_only, "
    "count(cases.id) AS zeroing \nFROM cases \nWHERE cases.channel IN ('above_level_beijing', "
    "'above_level_province') OR cases.irregular_count > 0 GROUP BY (CAST(strftime('%s', "
    "cases.received_at) AS INTEGER) + 28800) / 86400, cases.grid_id UNION ALL SELECT 'l' AS kind, CASE "
    'WHEN (cases.reopened_count >= :reopened_min OR cases.above_level_count >= :above_level_min) THEN 0 '
    "WHEN (cases.replied_at IS NULL AND cases.handle_due_at IS NOT NULL AND (CAST(strftime('%s', "
    "cases.handle_due_at) AS INTEGER) + 28800) / 86400 + :overdue_days < (CAST(strftime('%s', "
    "cases.received_at) AS INTEGER) + 28800) / 86400 + :open_days) THEN (CAST(strftime('%s', "
    "cases.handle_due_at) AS INTEGER) + 28800) / 86400 + :overdue_days ELSE (CAST(strftime('%s', "
    'cases.received_at) AS INTEGER) + 28800) / 86400 + :open_days END AS day, CAST(NULL AS INTEGER) AS '
    'town_id, CAST(NULL AS INTEGER) AS grid_id, CAST(NULL AS VARCHAR) AS category, CAST(NULL AS INTEGER) '
    'AS due_day, 0 AS total, count(cases.id) AS open, 0 AS closed, 0 AS above_level, 0 AS above_channel, '
    '0 AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 '
    'AS rated, 0 AS satisfied, 0 AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS '
    "zeroing \nFROM cases \nWHERE cases.status IN ('accepted', 'assigned', 'followed_up', 'handling', "
    "'registered', 'replied', 'return_requested', 'reviewed', 'signed') GROUP BY CASE WHEN "
    '(cases.reopened_count >= :reopened_min OR cases.above_level_count >= :above_level_min) THEN 0 WHEN '
    "(cases.replied_at IS NULL AND cases.handle_due_at IS NOT NULL AND (CAST(strftime('%s', "
    "cases.handle_due_at) AS INTEGER) + 28800) / 86400 + :overdue_days < (CAST(strftime('%s', "
    "cases.received_at) AS INTEGER) + 28800) / 86400 + :open_days) THEN (CAST(strftime('%s', "
    "cases.handle_due_at) AS INTEGER) + 28800) / 86400 + :overdue_days ELSE (CAST(strftime('%s', "
    'cases.received_at) AS INTEGER) + 28800) / 86400 + :open_days END) AS anon_1'
)

POSTGRESQL_SELECT = (
    'SELECT anon_1.kind, anon_1.day, anon_1.town_id, anon_1.grid_id, anon_1.category, anon_1.due_day, '
    'false AS anon_2, anon_1.total, anon_1.open, anon_1.closed, anon_1.above_level, anon_1.above_channel, '
    'anon_1.repeat, anon_1.signed, anon_1.signed_on_time, anon_1.onsite, anon_1.onsite_on_time, '
    'anon_1.first_time, anon_1.rated, anon_1.satisfied, anon_1.single, anon_1.repeat_above, '
    "anon_1.exempt, anon_1.irregular_only, anon_1.zeroing \nFROM (SELECT 'r' AS kind, "
    'CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER) AS '
    'day, CAST(NULL AS INTEGER) AS town_id, CAST(NULL AS INTEGER) AS grid_id, CAST(NULL AS VARCHAR) AS '
    'category, CAST(NULL AS INTEGER) AS due_day, count(cases.id) AS total, sum(CASE WHEN (cases.status IN '
    "('accepted', 'assigned', 'followed_up', 'handling', 'registered', 'replied', 'return_requested', "
    "'reviewed', 'signed')) THEN 1 ELSE 0 END) AS open, sum(CASE WHEN (cases.status = 'closed') THEN 1 "
    'ELSE 0 END) AS closed, sum(CASE WHEN (cases.above_level IS true) THEN 1 ELSE 0 END) AS above_level, '
    "sum(CASE WHEN (cases.channel IN ('above_level_beijing', 'above_level_province')) THEN 1 ELSE 0 END) "
    'AS above_channel, sum(CASE WHEN (cases.repeat_of_id IS NOT NULL) THEN 1 ELSE 0 END) AS repeat, '
    'sum(CASE WHEN (cases.signed_at IS NOT NULL AND cases.sign_due_at IS NOT NULL) THEN 1 ELSE 0 END) AS '
    'signed, sum(CASE WHEN (cases.signed_at <= cases.sign_due_at) THEN 1 ELSE 0 END) AS signed_on_time, '
    'sum(CASE WHEN (cases.first_onsite_at IS NOT NULL AND cases.onsite_due_at IS NOT NULL) THEN 1 ELSE 0 '
    'END) AS onsite, sum(CASE WHEN (cases.first_onsite_at <= cases.onsite_due_at) THEN 1 ELSE 0 END) AS '
    "onsite_on_time, sum(CASE WHEN (cases.status = 'closed' AND cases.reopened_count = 0 AND "
    'cases.repeat_count = 0) THEN 1 ELSE 0 END) AS first_time, sum((SELECT count(follow_ups.id) AS '
    'count_1 \nFROM follow_ups \nWHERE follow_ups.case_id = cases.id AND follow_ups.satisfaction IS NOT '
    'NULL)) AS rated, sum((SELECT count(follow_ups.id) AS count_2 \nFROM follow_ups \nWHERE '
    "follow_ups.case_id = cases.id AND follow_ups.satisfaction IN ('basically_satisfied', 'satisfied'))) "
    'AS satisfied, 0 AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS zeroing \nFROM '
    'cases GROUP BY CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS NUMERIC)) '
    "AS INTEGER) UNION ALL SELECT 'c' AS kind, CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) "
    '/ CAST(86400 AS NUMERIC)) AS INTEGER) AS day, CAST(NULL AS INTEGER) AS town_id, CAST(NULL AS '
    'INTEGER) AS grid_id, cases.category AS category, CAST(NULL AS INTEGER) AS due_day, count(cases.id) '
    'AS total, 0 AS open, 0 AS closed, 0 AS above_level, 0 AS above_channel, 0 AS repeat, 0 AS signed, 0 '
    'AS signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS satisfied, 0 '
    'AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS zeroing \nFROM cases GROUP BY '
    'CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER), '
    "cases.category UNION ALL SELECT 't' AS kind, CAST(floor((EXTRACT(epoch FROM cases.received_at) + "
    '28800) / CAST(86400 AS NUMERIC)) AS INTEGER) AS day, cases.town_id AS town_id, CAST(NULL AS INTEGER) '
    'AS grid_id, CAST(NULL AS VARCHAR) AS category, CAST(NULL AS INTEGER) AS due_day, 0 AS total, 0 AS '
    'open, 0 AS closed, 0 AS above_level, count(cases.id) AS above_channel, 0 AS repeat, 0 AS signed, 0 '
    'AS signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS satisfied, 0 '
    'AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS zeroing \nFROM cases \nWHERE '
    "cases.channel IN ('above_level_beijing', 'above_level_province') GROUP BY CAST(floor((EXTRACT(epoch "
    'FROM cases.received_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER), cases.town_id UNION ALL '
    "SELECT 'o' AS kind, CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS "
    'NUMERIC)) AS INTEGER) AS day, cases.town_id AS town_id, CAST(NULL AS INTEGER) AS grid_id, CAST(NULL '
    'AS VARCHAR) AS category, CAST(floor((EXTRACT(epoch FROM cases.due_at) + 28800) / CAST(86400 AS '
    'NUMERIC)) AS INTEGER) AS due_day, 0 AS total, count(cases.id) AS open, 0 AS closed, 0 AS '
    'above_level, 0 AS above_channel, 0 AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS onsite, 0 AS '
    'onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS satisfied, 0 AS single, 0 AS repeat_above, 0 AS '
    "exempt, 0 AS irregular_only, 0 AS zeroing \nFROM cases \nWHERE cases.status IN ('accepted', "
    "'assigned', 'followed_up', 'handling', 'registered', 'replied', 'return_requested', 'reviewed', "
    "'signed') GROUP BY CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS "
    'NUMERIC)) AS INTEGER), cases.town_id, CAST(floor((EXTRACT(epoch FROM cases.due_at) + 28800) / '
    "CAST(86400 AS NUMERIC)) AS INTEGER) UNION ALL SELECT 'w' AS kind, 0 AS day, cases.town_id AS "
    'town_id, CAST(NULL AS INTEGER) AS grid_id, CAST(NULL AS VARCHAR) AS category, '
    'CAST(floor((EXTRACT(epoch FROM cases.due_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER) AS '
    'due_day, 0 AS total, count(cases.id) AS open, 0 AS closed, 0 AS above_level, 0 AS above_channel, 0 '
    'AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 AS '
    'rated, 0 AS satisfied, 0 AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS '
    "zeroing \nFROM cases \nWHERE cases.status IN ('accepted', 'assigned', 'followed_up', 'handling', "
    "'registered', 'replied', 'return_requested', 'reviewed', 'signed') GROUP BY cases.town_id, "
    'CAST(floor((EXTRACT(epoch FROM cases.due_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER) UNION '
    "ALL SELECT 'p' AS kind, CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS "
    'NUMERIC)) AS INTEGER) AS day, CAST(NULL AS INTEGER) AS town_id, cases.grid_id AS grid_id, CAST(NULL '
    'AS VARCHAR) AS category, CAST(NULL AS INTEGER) AS due_day, 0 AS total, 0 AS open, 0 AS closed, 0 AS '
    'above_level, 0 AS above_channel, 0 AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS onsite, 0 AS '
    'onsite_on_time, 0 AS first_time, 0 AS rated, 0 AS satisfied, sum(CASE WHEN (cases.channel IN '
    "('above_level_beijing', 'above_level_province') AND CASE WHEN ((EXISTS (SELECT cases_1.channel, "
    'cases_1.received_at, cases_1.discovered_by_grid_id \nFROM cases AS cases_1 \nWHERE cases_1.id = '
    "cases.repeat_of_id AND cases_1.channel IN ('above_level_beijing', 'above_level_province') AND "
    'cases_1.received_at <= cases.received_at)) OR cases.repeat_of_id IS NOT NULL AND (EXISTS (SELECT * '
    '\nFROM cases AS cases_2 \nWHERE cases_2.repeat_of_id = cases.repeat_of_id AND cases_2.id != cases.id '
    "AND cases_2.channel IN ('above_level_beijing', 'above_level_province') AND cases_2.received_at < "
    "cases.received_at))) THEN 'repeat' WHEN ((EXISTS (SELECT cases_1.channel, cases_1.received_at, "
    'cases_1.discovered_by_grid_id \nFROM cases AS cases_1 \nWHERE cases_1.id = cases.repeat_of_id AND '
    'cases_1.discovered_by_grid_id = cases.grid_id AND cases_1.received_at < cases.received_at)) AND NOT '
    '(EXISTS (SELECT * \nFROM case_clocks \nWHERE case_clocks.case_id = cases.repeat_of_id AND '
    'case_clocks.due_at < cases.received_at AND (case_clocks.done_at IS NULL OR case_clocks.done_at > '
    "case_clocks.due_at)))) THEN 'exempt' ELSE 'single' END = 'single') THEN 1 ELSE 0 END) AS single, "
    "sum(CASE WHEN (cases.channel IN ('above_level_beijing', 'above_level_province') AND CASE WHEN "
    '((EXISTS (SELECT cases_1.channel, cases_1.received_at, cases_1.discovered_by_grid_id \nFROM cases AS '
    "cases_1 \nWHERE cases_1.id = cases.repeat_of_id AND cases_1.channel IN ('above_level_beijing', "
    "'above_level_province') AND cases_1.received_at <= cases.received_at)) OR cases.repeat_of_id IS NOT "
    'NULL AND (EXISTS (SELECT * \nFROM cases AS cases_2 \nWHERE cases_2.repeat_of_id = cases.repeat_of_id '
    "AND cases_2.id != cases.id AND cases_2.channel IN ('above_level_beijing', 'above_level_province') "
    "AND cases_2.received_at < cases.received_at))) THEN 'repeat' WHEN ((EXISTS (SELECT cases_1.channel, "
    'cases_1.received_at, cases_1.discovered_by_grid_id \nFROM cases AS cases_1 \nWHERE cases_1.id = '
    'cases.repeat_of_id AND cases_1.discovered_by_grid_id = cases.grid_id AND cases_1.received_at < '
    'cases.received_at)) AND NOT (EXISTS (SELECT * \nFROM case_clocks \nWHERE case_clocks.case_id = '
    'cases.repeat_of_id AND case_clocks.due_at < cases.received_at AND (case_clocks.done_at IS NULL OR '
    "case_clocks.done_at > case_clocks.due_at)))) THEN 'exempt' ELSE 'single' END = 'repeat') THEN 1 ELSE "
    "0 END) AS repeat_above, sum(CASE WHEN (cases.channel IN ('above_level_beijing', "
    "'above_level_province') AND CASE WHEN ((EXISTS (SELECT cases_1.channel, cases_1.received_at, "
    'cases_1.discovered_by_grid_id \nFROM cases AS cases_1 \nWHERE cases_1.id = cases.repeat_of_id AND '
    "cases_1.channel IN ('above_level_beijing', 'above_level_province') AND cases_1.received_at <= "
    'cases.received_at)) OR cases.repeat_of_id IS NOT NULL AND (EXISTS (SELECT * \nFROM cases AS cases_2 '
    '\nWHERE cases_2.repeat_of_id = cases.repeat_of_id AND cases_2.id != cases.id AND cases_2.channel IN '
    "('above_level_beijing', 'above_level_province') AND cases_2.received_at < cases.received_at))) THEN "
    "'repeat' WHEN ((EXISTS (SELECT cases_1.channel, cases_1.received_at, cases_1.discovered_by_grid_id "
    '\nFROM cases AS cases_1 \nWHERE cases_1.id = cases.repeat_of_id AND cases_1.discovered_by_grid_id = '
    'cases.grid_id AND cases_1.received_at < cases.received_at)) AND NOT (EXISTS (SELECT * \nFROM '
    'case_clocks \nWHERE case_clocks.case_id = cases.repeat_of_id AND case_clocks.due_at < '
    'cases.received_at AND (case_clocks.done_at IS NULL OR case_clocks.done_at > case_clocks.due_at)))) '
    "THEN 'exempt' ELSE 'single' END = 'exempt') THEN 1 ELSE 0 END) AS exempt, sum(CASE WHEN "
    "(cases.irregular_count > 0 AND (cases.channel NOT IN ('above_level_beijing', "
    "'above_level_province'))) THEN 1 ELSE 0 END) AS irregular_only, count(cases.id) AS zeroing \nFROM "
    "cases \nWHERE cases.channel IN ('above_level_beijing', 'above_level_province') OR "
    'cases.irregular_count > 0 GROUP BY CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / '
    "CAST(86400 AS NUMERIC)) AS INTEGER), cases.grid_id UNION ALL SELECT 'l' AS kind, CASE WHEN "
    '(cases.reopened_count >= :reopened_min OR cases.above_level_count >= :above_level_min) THEN 0 WHEN '
    '(cases.replied_at IS NULL AND cases.handle_due_at IS NOT NULL AND CAST(floor((EXTRACT(epoch FROM '
    'cases.handle_due_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER) + :overdue_days < '
    'CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER) + '
    ':open_days) THEN CAST(floor((EXTRACT(epoch FROM cases.handle_due_at) + 28800) / CAST(86400 AS '
    'NUMERIC)) AS INTEGER) + :overdue_days ELSE CAST(floor((EXTRACT(epoch FROM cases.received_at) + '
    '28800) / CAST(86400 AS NUMERIC)) AS INTEGER) + :open_days END AS day, CAST(NULL AS INTEGER) AS '
    'town_id, CAST(NULL AS INTEGER) AS grid_id, CAST(NULL AS VARCHAR) AS category, CAST(NULL AS INTEGER) '
    'AS due_day, 0 AS total, count(cases.id) AS open, 0 AS closed, 0 AS above_level, 0 AS above_channel, '
    '0 AS repeat, 0 AS signed, 0 AS signed_on_time, 0 AS onsite, 0 AS onsite_on_time, 0 AS first_time, 0 '
    'AS rated, 0 AS satisfied, 0 AS single, 0 AS repeat_above, 0 AS exempt, 0 AS irregular_only, 0 AS '
    "zeroing \nFROM cases \nWHERE cases.status IN ('accepted', 'assigned', 'followed_up', 'handling', "
    "'registered', 'replied', 'return_requested', 'reviewed', 'signed') GROUP BY CASE WHEN "
    '(cases.reopened_count >= :reopened_min OR cases.above_level_count >= :above_level_min) THEN 0 WHEN '
    '(cases.replied_at IS NULL AND cases.handle_due_at IS NOT NULL AND CAST(floor((EXTRACT(epoch FROM '
    'cases.handle_due_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER) + :overdue_days < '
    'CAST(floor((EXTRACT(epoch FROM cases.received_at) + 28800) / CAST(86400 AS NUMERIC)) AS INTEGER) + '
    ':open_days) THEN CAST(floor((EXTRACT(epoch FROM cases.handle_due_at) + 28800) / CAST(86400 AS '
    'NUMERIC)) AS INTEGER) + :overdue_days ELSE CAST(floor((EXTRACT(epoch FROM cases.received_at) + '
    '28800) / CAST(86400 AS NUMERIC)) AS INTEGER) + :open_days END) AS anon_1'
)
