"""Alembic environment: migrations run on the connection that `app.db.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables for autogenerate)

target_metadata = SQLModel.metadata
connection = context.config.attributes['connection']
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
