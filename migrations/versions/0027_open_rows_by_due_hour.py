"""open cases by due hour: "overdue now" no longer counts half a day's deadlines live

Revision ID: 0027_open_rows_by_due_hour
Revises: 0026_late_undone
Create Date: 2026-12-07 15:10:00.000000

The wall's overdue count and the town ranking summed the summary's open rows of the days
before today and counted today's deadlines so far live, through the index of deadlines: in
the evening of a busy day (34,000 open cases due by 22:00 in the 1M demo) two statements
read them all. New ``h`` rows hold the open cases per received day, town and due *hour*
(an hour number in ``due_day``): today's whole hours become a sum of a few hundred rows
and only the current hour is counted live. An index by kind and due key serves both the
days before today (``o``) and today's hours (``h``).

The fill is the SELECT of services.day_stats at this revision written out for each backend,
so this migration never imports app code (as 0019).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027_open_rows_by_due_hour'
down_revision = '0026_late_undone'
branch_labels = None
depends_on = None

OPEN = "('accepted', 'assigned', 'followed_up', 'handling', 'registered', 'replied', 'return_requested', " \
       "'reviewed', 'signed')"
COUNTS = ('total', 'open', 'closed', 'above_level', 'above_channel', 'repeat', 'signed', 'signed_on_time',
          'onsite', 'onsite_on_time', 'first_time', 'rated', 'satisfied', 'single', 'repeat_above', 'exempt',
          'irregular_only', 'zeroing')
# (received day, due hour) of a case, in each backend's SQL.
DAY_AND_HOUR = {
    'sqlite': ("(CAST(strftime('%s', received_at) AS INTEGER) + 28800) / 86400",
               "CAST(strftime('%s', due_at) AS INTEGER) / 3600"),
    'postgresql': ("CAST(floor((EXTRACT(epoch FROM received_at) + 28800) / 86400) AS INTEGER)",
                   "CAST(floor(EXTRACT(epoch FROM due_at) / 3600) AS INTEGER)"),
}


def upgrade():
    op.create_index("ix_day_stats_kind_due", "day_stats", ["kind", "due_day", "day"],
                    sqlite_where=sa.text("due_day IS NOT NULL"), postgresql_where=sa.text("due_day IS NOT NULL"),
                    postgresql_include=["open", "town_id"])
    bind = op.get_bind()
    day, hour = DAY_AND_HOUR[bind.dialect.name]
    zeros = ", ".join("count(id)" if name == "open" else "0" for name in COUNTS)
    bind.execute(sa.text(
        f"INSERT INTO day_stats (kind, day, town_id, grid_id, category, due_day, delta, {', '.join(COUNTS)}) "
        f"SELECT 'h', {day}, town_id, NULL, NULL, {hour}, false, {zeros} FROM cases "
        f"WHERE status IN {OPEN} GROUP BY {day}, town_id, {hour}"))


def downgrade():
    op.execute("DELETE FROM day_stats WHERE kind = 'h'")
    op.drop_index("ix_day_stats_kind_due", table_name="day_stats")
