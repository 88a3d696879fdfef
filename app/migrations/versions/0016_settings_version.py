"""settings version: `host.settings_version` counts every change of what a booking's write reads of its host's
settings (the host row, its event types and schedules, the existence of its calendar connections, its webhook
subscriptions). Triggers keep the count, so no writer (a service, the CLI, another process, a hand-made SQL fix) can
forget it; a booking compares it under its write lock with the settings it kept from before.

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

BUMP = 'UPDATE host SET settings_version = settings_version + 1 WHERE id = {row}.host_id'
# (table, the operations that count): a connection's own updates (sync state, chosen calendars) do not count, only
# whether the host has any
COUNTED = (
    ('event_type', ('INSERT', 'UPDATE', 'DELETE')),
    ('schedule', ('INSERT', 'UPDATE', 'DELETE')),
    ('calendar_connection', ('INSERT', 'DELETE')),
    ('webhook_subscription', ('INSERT', 'UPDATE', 'DELETE')),
)

POSTGRES_FUNCTION = """CREATE FUNCTION cloudmeet_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'host' THEN
        UPDATE host SET settings_version = settings_version + 1 WHERE id = NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE host SET settings_version = settings_version + 1 WHERE id = OLD.host_id;
    ELSE
        UPDATE host SET settings_version = settings_version + 1 WHERE id = NEW.host_id;
        IF TG_OP = 'UPDATE' AND OLD.host_id <> NEW.host_id THEN
            UPDATE host SET settings_version = settings_version + 1 WHERE id = OLD.host_id;
        END IF;
    END IF;
    RETURN NULL;
END $$"""


def upgrade() -> None:
    # Plain ADD COLUMN, no batch (a batch would rebuild the table on SQLite).
    op.add_column('host', sa.Column('settings_version', sa.Integer(), nullable=False, server_default='0'))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        # the host's own row: any change but the count's own (which would otherwise count itself again)
        op.execute(
            'CREATE TRIGGER host_settings_version AFTER UPDATE ON host FOR EACH ROW '
            'WHEN (OLD.settings_version = NEW.settings_version) EXECUTE FUNCTION cloudmeet_settings_changed()'
        )
        for table, operations in COUNTED:
            op.execute(
                f'CREATE TRIGGER {table}_settings_version AFTER {" OR ".join(operations)} ON {table} '
                'FOR EACH ROW EXECUTE FUNCTION cloudmeet_settings_changed()'
            )
        return
    op.execute(
        'CREATE TRIGGER host_settings_version AFTER UPDATE ON host '
        'WHEN OLD.settings_version = NEW.settings_version BEGIN '
        'UPDATE host SET settings_version = settings_version + 1 WHERE id = NEW.id; END'
    )
    for table, operations in COUNTED:
        for operation in operations:
            rows = {'INSERT': ('NEW',), 'DELETE': ('OLD',), 'UPDATE': ('OLD', 'NEW')}[operation]
            body = ' '.join(f'{BUMP.format(row=row)};' for row in rows)  # a row moved to another host: both count
            op.execute(
                f'CREATE TRIGGER {table}_settings_version_{operation} AFTER {operation} ON {table} BEGIN {body} END'
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in ('host', *(table for table, _ in COUNTED)):
            op.execute(f'DROP TRIGGER IF EXISTS {table}_settings_version ON {table}')
        op.execute('DROP FUNCTION IF EXISTS cloudmeet_settings_changed()')
    else:
        op.execute('DROP TRIGGER IF EXISTS host_settings_version')
        for table, operations in COUNTED:
            for operation in operations:
                op.execute(f'DROP TRIGGER IF EXISTS {table}_settings_version_{operation}')
    op.drop_column('host', 'settings_version')
