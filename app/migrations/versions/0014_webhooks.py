"""webhooks: a host's subscriptions to booking events (secret encrypted at rest) and their delivery log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failure_notice_sent', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['host_id'], ['host.id'], name=op.f('fk_webhook_subscription_host_id_host'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscription')),
    )
    op.create_index(op.f('ix_webhook_subscription_host_id'), 'webhook_subscription', ['host_id'])
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('webhook_id', sa.String(length=64), nullable=False),
        sa.Column('booking_uid', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('response_code', sa.Integer(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.Column('response_body', sa.String(length=1024), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['subscription_id'],
            ['webhook_subscription.id'],
            name=op.f('fk_webhook_delivery_subscription_id_webhook_subscription'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
        sa.UniqueConstraint('webhook_id', name=op.f('uq_webhook_delivery_webhook_id')),
    )
    op.create_index('ix_webhook_delivery_subscription_created', 'webhook_delivery', ['subscription_id', 'created_at'])


def downgrade() -> None:
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_subscription')
