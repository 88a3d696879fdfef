"""sign-in identities, server-side sessions, e-mailed sign-in links, invitations, instance settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_owner', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('refresh_token_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('access_token_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['host_id'], ['host.id'], name=op.f('fk_identity_host_id_host'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity')),
        sa.UniqueConstraint('provider', 'subject', name=op.f('uq_identity_provider_subject')),
    )
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_host_id'), ['host_id'], unique=False)
    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=True),
        sa.Column('pending', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['host_id'], ['host.id'], name=op.f('fk_user_session_host_id_host'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash')),
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_host_id'), ['host_id'], unique=False)
    op.create_table(
        'login_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('invitation', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_link')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_login_link_token_hash')),
    )
    with op.batch_alter_table('login_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_link_email'), ['email'], unique=False)
    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['created_by'], ['host.id'], name=op.f('fk_invitation_created_by_host'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash')),
    )
    op.create_table(
        'instance_setting',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('value', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_instance_setting')),
    )


def downgrade() -> None:
    op.drop_table('instance_setting')
    op.drop_table('invitation')
    op.drop_table('login_link')
    op.drop_table('user_session')
    op.drop_table('identity')
    with op.batch_alter_table('host', schema=None) as batch_op:
        batch_op.drop_column('is_owner')
