"""The shipped migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from flask_kapu.store import Base
from flask_kapu.store.migrate import upgrade


def test_migrations_create_every_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "kapu_alembic_version" in tables


def test_migrations_and_models_agree(database_url):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": "kapu_alembic_version",
                # the database may hold a host app's tables too: compare flask_kapu's only
                "include_name": lambda name, kind, _parent: (
                    kind != "table" or name.startswith("kapu_")
                ),
            },
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_twice_changes_nothing(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'twice.sqlite3'}")
    upgrade(engine)
    upgrade(engine)
    assert "kapu_account" in inspect(engine).get_table_names()
