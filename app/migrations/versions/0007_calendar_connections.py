"""calendar connections (busy times from Google, Microsoft and ICS feeds)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_connection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('label', sa.String(length=254), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('status_detail', sa.String(length=300), nullable=False),
        sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('busy_calendars', sa.JSON(), nullable=False),
        sa.Column('receives_events', sa.Boolean(), nullable=False),
        sa.Column('target_calendar', sa.String(length=300), nullable=False),
        sa.Column('reconnect_notice_sent', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['host_id'], ['host.id'], name=op.f('fk_calendar_connection_host_id_host'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_connection')),
    )
    with op.batch_alter_table('calendar_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_connection_host_id'), ['host_id'], unique=False)
    # Plain added columns: on SQLite a batch that rebuilt the table would drop the booking overlap triggers.
    op.add_column('booking', sa.Column('calendar_connection_id', sa.Integer(), nullable=True))
    op.add_column('booking', sa.Column('calendar_event_id', sa.String(length=1024), nullable=False, server_default=''))
    op.add_column('booking', sa.Column('meeting_url', sa.String(length=500), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('meeting_url')
        batch_op.drop_column('calendar_event_id')
        batch_op.drop_column('calendar_connection_id')
    op.drop_table('calendar_connection')
