"""migrations/env.py of the app (Flask-Migrate): its own tables, never flask_kapu's."""

from alembic import context
from flask import current_app

from flask_kapu.store.migrate import include_object

db = current_app.extensions["migrate"].db

with db.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        include_object=include_object,  # skips every kapu_* table, column and index
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
