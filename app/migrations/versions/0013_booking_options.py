"""booking options: seats, requires confirmation, several durations, weekly and monthly limits, the invitee's language

A booking now holds its time while `confirmed` or `pending`, and bookings of one seated start (same event type and
start, `seat_key`) may share it; any other overlap of one host's holding bookings is still refused by the database.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

HOLDING = "('confirmed', 'pending')"
PG_NO_OVERLAP = f"""ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist
    (host_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&, seat_key WITH <>) WHERE (status IN {HOLDING})"""
SQLITE_NO_OVERLAP = f"""CREATE TRIGGER booking_no_overlap_{{event}} BEFORE {{event}} ON booking
WHEN NEW.status IN {HOLDING} AND EXISTS (
    SELECT 1 FROM booking b WHERE b.host_id = NEW.host_id AND b.id IS NOT NEW.id AND b.status IN {HOLDING}
    AND b.seat_key IS NOT NEW.seat_key AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
BEGIN SELECT RAISE(ABORT, 'booking overlaps'); END"""
OLD_PG_NO_OVERLAP = """ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist
    (host_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) WHERE (status = 'confirmed')"""
OLD_SQLITE_NO_OVERLAP = """CREATE TRIGGER booking_no_overlap_{event} BEFORE {event} ON booking
WHEN NEW.status = 'confirmed' AND EXISTS (
    SELECT 1 FROM booking b WHERE b.host_id = NEW.host_id AND b.id IS NOT NEW.id AND b.status = 'confirmed'
    AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
BEGIN SELECT RAISE(ABORT, 'booking overlaps'); END"""


def _drop_guard(dialect: str) -> None:
    if dialect == 'postgresql':
        op.execute('ALTER TABLE booking DROP CONSTRAINT ex_booking_no_overlap')
    else:
        op.execute('DROP TRIGGER IF EXISTS booking_no_overlap_INSERT')
        op.execute('DROP TRIGGER IF EXISTS booking_no_overlap_UPDATE')


def _add_guard(dialect: str, pg: str, sqlite: str) -> None:
    if dialect == 'postgresql':
        op.execute(pg)
    else:
        op.execute(sqlite.format(event='INSERT'))
        op.execute(sqlite.format(event='UPDATE'))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column('event_type', sa.Column('seats', sa.Integer(), nullable=False, server_default='1'))
    op.add_column(
        'event_type', sa.Column('requires_confirmation', sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column('event_type', sa.Column('duration_options', sa.JSON(), nullable=False, server_default='[]'))
    op.add_column('event_type', sa.Column('weekly_limit', sa.Integer(), nullable=True))
    op.add_column('event_type', sa.Column('monthly_limit', sa.Integer(), nullable=True))
    op.add_column('booking', sa.Column('locale', sa.String(length=12), nullable=False, server_default='en'))
    op.add_column('booking', sa.Column('seat_key', sa.String(length=80), nullable=False, server_default=''))
    op.add_column('booking', sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE booking SET seat_key = uid')
    _drop_guard(dialect)
    _add_guard(dialect, PG_NO_OVERLAP, SQLITE_NO_OVERLAP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_guard(dialect)
    _add_guard(dialect, OLD_PG_NO_OVERLAP, OLD_SQLITE_NO_OVERLAP)
    for column in ('decided_at', 'seat_key', 'locale'):
        with op.batch_alter_table('booking') as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table('event_type') as batch_op:
        for column in ('monthly_limit', 'weekly_limit', 'duration_options', 'requires_confirmation', 'seats'):
            batch_op.drop_column(column)
