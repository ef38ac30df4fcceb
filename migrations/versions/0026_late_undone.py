"""late and not done: the cases whose sign or first on-site deadline passed with nothing done

Revision ID: 0026_late_undone
Revises: 0025_wall_open_state_facets
Create Date: 2026-12-07 12:00:00.000000

The wall's 按时签收 and 按时现场核查 counted only the cases already signed (or checked on
site), so a city with a dozen cases overdue for signing read 100 %, where the campaign
pages count them as late. The wall now counts those too, a state of now read from the
cases; two partial indexes hold just the cases still waiting (a few per cent of them).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026_late_undone'
down_revision = '0025_wall_open_state_facets'
branch_labels = None
depends_on = None

INDEXES = (("ix_cases_unsigned_due", "sign_due_at", "signed_at IS NULL"),
           ("ix_cases_unchecked_due", "onsite_due_at", "first_onsite_at IS NULL"))


def upgrade():
    for name, column, waiting in INDEXES:
        op.create_index(name, "cases", [column, "received_at"], sqlite_where=sa.text(waiting),
                        postgresql_where=sa.text(waiting))


def downgrade():
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name="cases")
