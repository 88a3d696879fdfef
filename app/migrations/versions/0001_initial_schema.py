"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

# Two confirmed bookings of one host never overlap: an exclusion constraint on PostgreSQL, triggers on SQLite
# (where writers are serialised, so the check inside the trigger is race-free).
PG_EXTENSION = 'CREATE EXTENSION IF NOT EXISTS btree_gist'
PG_NO_OVERLAP = """ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist
    (host_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) WHERE (status = 'confirmed')"""
SQLITE_NO_OVERLAP = """CREATE TRIGGER booking_no_overlap_{event} BEFORE {event} ON booking
WHEN NEW.status = 'confirmed' AND EXISTS (
    SELECT 1 FROM booking b WHERE b.host_id = NEW.host_id AND b.id IS NOT NEW.id AND b.status = 'confirmed'
    AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
BEGIN SELECT RAISE(ABORT, 'booking overlaps'); END"""

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'host',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('username', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('intro', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_host')),
        sa.UniqueConstraint('email', name=op.f('uq_host_email')),
        sa.UniqueConstraint('username', name=op.f('uq_host_username')),
    )
    op.create_table(
        'api_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_api_key_host_id_host'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash')),
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_host_id'), ['host_id'], unique=False)

    op.create_table(
        'schedule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('weekly', sa.JSON(), nullable=False),
        sa.Column('overrides', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_schedule_host_id_host'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule')),
    )
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_host_id'), ['host_id'], unique=False)

    op.create_table(
        'event_type',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('schedule_id', sa.Integer(), nullable=True),
        sa.Column('slug', sa.String(length=60), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('description', sa.String(length=2000), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('slot_interval_minutes', sa.Integer(), nullable=True),
        sa.Column('buffer_before_minutes', sa.Integer(), nullable=False),
        sa.Column('buffer_after_minutes', sa.Integer(), nullable=False),
        sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
        sa.Column('max_days_ahead', sa.Integer(), nullable=False),
        sa.Column('daily_limit', sa.Integer(), nullable=True),
        sa.Column('location_kind', sa.String(length=20), nullable=False),
        sa.Column('location_value', sa.String(length=500), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_event_type_host_id_host'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['schedule_id'], ['schedule.id'], name=op.f('fk_event_type_schedule_id_schedule'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_type')),
        sa.UniqueConstraint('host_id', 'slug', name=op.f('uq_event_type_host_id_slug')),
    )
    with op.batch_alter_table('event_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_type_host_id'), ['host_id'], unique=False)

    op.create_table(
        'booking',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=40), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('event_type_id', sa.Integer(), nullable=True),
        sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('buffer_before_minutes', sa.Integer(), nullable=False),
        sa.Column('buffer_after_minutes', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('invitee_name', sa.String(length=120), nullable=False),
        sa.Column('invitee_email', sa.String(length=254), nullable=False),
        sa.Column('invitee_timezone', sa.String(length=64), nullable=False),
        sa.Column('notes', sa.String(length=2000), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('manage_token_hash', sa.String(length=64), nullable=False),
        sa.Column('manage_token_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=True),
        sa.Column('cancel_reason', sa.String(length=1000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['event_type_id'], ['event_type.id'], name=op.f('fk_booking_event_type_id_event_type'), ondelete='SET NULL'
        ),
        sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_booking_host_id_host'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_booking')),
        sa.UniqueConstraint('host_id', 'idempotency_key', name=op.f('uq_booking_host_id_idempotency_key')),
        sa.UniqueConstraint('uid', name=op.f('uq_booking_uid')),
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_event_type_id'), ['event_type_id'], unique=False)
        batch_op.create_index('ix_booking_host_time', ['host_id', 'start_at'], unique=False)
    _add_overlap_guard()


def _add_overlap_guard() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_EXTENSION)
        op.execute(PG_NO_OVERLAP)
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute(SQLITE_NO_OVERLAP.format(event='INSERT'))
        op.execute(SQLITE_NO_OVERLAP.format(event='UPDATE'))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS booking_no_overlap_INSERT')
        op.execute('DROP TRIGGER IF EXISTS booking_no_overlap_UPDATE')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_host_time')
        batch_op.drop_index(batch_op.f('ix_booking_event_type_id'))

    op.drop_table('booking')
    with op.batch_alter_table('event_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_type_host_id'))

    op.drop_table('event_type')
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_host_id'))

    op.drop_table('schedule')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_host_id'))

    op.drop_table('api_key')
    op.drop_table('host')
