"""notification outbox: deliveries, attempts, group robots, preferences

Revision ID: 0014_notifications
Revises: 0017_basemap
Create Date: 2026-12-06 20:30:00.000000

Every notification may also go out by SMS and to 企业微信 / 钉钉 group robots. Each outgoing
message is a delivery the worker sends and retries; each try is kept as an attempt. Robots
belong to a town or a department; preferences say, per user or per role and per kind, whether
an SMS goes at once, in the daily digest, or not at all.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_notifications'
down_revision = '0017_basemap'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'robot_webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('grid_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id']),
        sa.ForeignKeyConstraint(['grid_id'], ['grids.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_robot_webhooks_grid_id', 'robot_webhooks', ['grid_id'])
    op.create_index('ix_robot_webhooks_department_id', 'robot_webhooks', ['department_id'])
    op.create_table(
        'notification_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('robot_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id']),
        sa.ForeignKeyConstraint(['robot_id'], ['robot_webhooks.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_deliveries_due', 'notification_deliveries', ['status', 'next_attempt_at'])
    for column in ('notification_id', 'user_id', 'robot_id', 'case_id'):
        op.create_index(f'ix_notification_deliveries_{column}', 'notification_deliveries', [column])
    op.create_table(
        'notification_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('provider', sa.String(length=16), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['notification_deliveries.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_attempts_delivery_id', 'notification_attempts', ['delivery_id'])
    op.create_table(
        'notification_preferences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=32), nullable=True),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('sms', sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_preferences_user_id', 'notification_preferences', ['user_id'])


def downgrade():
    op.drop_table('notification_preferences')
    op.drop_table('notification_attempts')
    op.drop_table('notification_deliveries')
    op.drop_table('robot_webhooks')
