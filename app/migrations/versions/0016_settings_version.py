"""settings version: `settings_version.version` counts, per host id, every change of what a booking's write reads
of its host's settings (the host row, its event types and schedules, the existence of its calendar connections, its
webhook subscriptions). Triggers keep the count, so no writer (a service, the CLI, another process, a fix made by
hand) can forget it; a booking compares it under its write lock with the settings it kept from before.

The count has a table of its own, without a foreign key: a settings change then never takes the host row's lock (a
booking holds it while it writes, and a change waiting for it while the booking waits for the change would be a
deadlock), and a host id's count outlives the host, so a later host with the same id never meets an old number.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# (table, the operations that count): a connection's own updates (sync state, chosen calendars) do not count, only
# whether the host has any
COUNTED = (
    ('host', ('UPDATE',)),
    ('event_type', ('INSERT', 'UPDATE', 'DELETE')),
    ('schedule', ('INSERT', 'UPDATE', 'DELETE')),
    ('calendar_connection', ('INSERT', 'DELETE')),
    ('webhook_subscription', ('INSERT', 'UPDATE', 'DELETE')),
)
COUNT = (
    'INSERT INTO settings_version (host_id, version) VALUES ({host}, 1) '
    'ON CONFLICT (host_id) DO UPDATE SET version = settings_version.version + 1'
)

POSTGRES_FUNCTION = f"""CREATE FUNCTION cloudmeet_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'host' THEN
        {COUNT.format(host='NEW.id')};
    ELSIF TG_OP = 'DELETE' THEN
        {COUNT.format(host='OLD.host_id')};
    ELSE
        {COUNT.format(host='NEW.host_id')};
        IF TG_OP = 'UPDATE' THEN
            IF OLD.host_id <> NEW.host_id THEN
                {COUNT.format(host='OLD.host_id')};
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        'settings_version',
        sa.Column('host_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('host_id', name=op.f('pk_settings_version')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        for table, operations in COUNTED:
            op.execute(
                f'CREATE TRIGGER {table}_settings_version AFTER {" OR ".join(operations)} ON {table} '
                'FOR EACH ROW EXECUTE FUNCTION cloudmeet_settings_changed()'
            )
        return
    for table, operations in COUNTED:
        for operation in operations:
            key = 'id' if table == 'host' else 'host_id'
            rows = {'INSERT': ('NEW',), 'DELETE': ('OLD',), 'UPDATE': ('OLD', 'NEW')}[operation]
            # an updated row counts for its old host and its new one (the same host twice, mostly: no harm)
            body = ' '.join(f'{COUNT.format(host=f"{row}.{key}")};' for row in rows)
            op.execute(
                f'CREATE TRIGGER {table}_settings_version_{operation} AFTER {operation} ON {table} BEGIN {body} END'
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table, _ in COUNTED:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_settings_version ON {table}')
        op.execute('DROP FUNCTION IF EXISTS cloudmeet_settings_changed()')
    else:
        for table, operations in COUNTED:
            for operation in operations:
                op.execute(f'DROP TRIGGER IF EXISTS {table}_settings_version_{operation}')
    op.drop_table('settings_version')
