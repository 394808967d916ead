"""Alembic environment: runs on the connection flask_kapu hands it."""

from __future__ import annotations

from alembic import context

from flask_kapu.store.migrate import VERSION_TABLE
from flask_kapu.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
