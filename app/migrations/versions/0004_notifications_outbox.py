"""e-mail outbox, booking sequence and proposed new time, host notification settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notification_settings', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('reminder_offsets', sa.JSON(), nullable=False, server_default='[1440, 60]'))
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('proposed_start_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('proposal_message', sa.String(length=1000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('proposal_expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('context', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claimed_by', sa.String(length=80), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['booking_id'], ['booking.id'], name=op.f('fk_outbox_booking_id_booking'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_outbox_host_id_host'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('key', name=op.f('uq_outbox_key')),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_host_id'), ['host_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    op.drop_table('outbox')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('proposal_expires_at')
        batch_op.drop_column('proposal_message')
        batch_op.drop_column('proposed_start_at')
        batch_op.drop_column('sequence')
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.drop_column('reminder_offsets')
        batch_op.drop_column('notification_settings')
