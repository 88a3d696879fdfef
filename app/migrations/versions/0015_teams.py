"""teams: teams and their members, team event types (an event type row with `team_id`, its hosts in
team_event_member), and the bookings' link to the team booking they hold time for (`parent_id`)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'team',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
        sa.UniqueConstraint('slug', name=op.f('uq_team_slug')),
    )
    op.create_table(
        'team_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_member_team_id_team'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_team_member_host_id_host'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_member')),
        sa.UniqueConstraint('team_id', 'host_id', name=op.f('uq_team_member_team_id_host_id')),
    )
    op.create_index(op.f('ix_team_member_team_id'), 'team_member', ['team_id'])
    op.create_index(op.f('ix_team_member_host_id'), 'team_member', ['host_id'])
    _add_reference('event_type', 'team_id', 'team')
    op.add_column('event_type', sa.Column('assignment', sa.String(length=20), nullable=False, server_default=''))
    op.create_index(op.f('ix_event_type_team_id'), 'event_type', ['team_id'])
    op.create_table(
        'team_event_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_type_id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('schedule_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['event_type_id'],
            ['event_type.id'],
            name=op.f('fk_team_event_member_event_type_id_event_type'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['host_id'], ['host.id'], name=op.f('fk_team_event_member_host_id_host'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['schedule_id'],
            ['schedule.id'],
            name=op.f('fk_team_event_member_schedule_id_schedule'),
            ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_event_member')),
        sa.UniqueConstraint('event_type_id', 'host_id', name=op.f('uq_team_event_member_event_type_id_host_id')),
    )
    op.create_index(op.f('ix_team_event_member_event_type_id'), 'team_event_member', ['event_type_id'])
    op.create_index(op.f('ix_team_event_member_host_id'), 'team_event_member', ['host_id'])
    _add_reference('booking', 'parent_id', 'booking')
    op.add_column('booking', sa.Column('assignment_reason', sa.String(length=300), nullable=False, server_default=''))
    op.create_index(op.f('ix_booking_parent_id'), 'booking', ['parent_id'])


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable column referencing `target` (deleted with it); SQLite takes the reference inline, as ALTER TABLE
    cannot add a constraint there."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            f'ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT fk_{table}_{column}_{target} '
            f'REFERENCES {target} (id) ON DELETE CASCADE'
        )
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(f'fk_{table}_{column}_{target}', table, target, [column], ['id'], ondelete='CASCADE')


# SQLite's copy-and-move of the booking table (dropping its columns) loses its triggers: the guard of 0013 comes back.
HOLDING = "('confirmed', 'pending')"
SQLITE_NO_OVERLAP = f"""CREATE TRIGGER booking_no_overlap_{{event}} BEFORE {{event}} ON booking
WHEN NEW.status IN {HOLDING} AND EXISTS (
    SELECT 1 FROM booking b WHERE b.host_id = NEW.host_id AND b.id IS NOT NEW.id AND b.status IN {HOLDING}
    AND b.seat_key IS NOT NEW.seat_key AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
BEGIN SELECT RAISE(ABORT, 'booking overlaps'); END"""


def downgrade() -> None:
    op.drop_index(op.f('ix_booking_parent_id'), table_name='booking')
    with op.batch_alter_table('booking') as batch_op:
        batch_op.drop_column('assignment_reason')
        batch_op.drop_column('parent_id')
    if op.get_bind().dialect.name == 'sqlite':
        for event in ('INSERT', 'UPDATE'):
            op.execute(f'DROP TRIGGER IF EXISTS booking_no_overlap_{event}')
            op.execute(SQLITE_NO_OVERLAP.format(event=event))
    op.drop_table('team_event_member')
    op.drop_index(op.f('ix_event_type_team_id'), table_name='event_type')
    with op.batch_alter_table('event_type') as batch_op:
        batch_op.drop_column('assignment')
        batch_op.drop_column('team_id')
    op.drop_table('team_member')
    op.drop_table('team')
