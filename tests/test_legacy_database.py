"""flask_kapu in the host's own database (tests/legacy_app): one database, two histories.

Without ``KAPU_DATABASE_URL`` flask_kapu keeps its ``kapu_*`` tables in the
app's Flask-SQLAlchemy database; ``flask kapu db upgrade`` and the host's
``flask db upgrade`` each keep their own version table and touch only their
own tables; host tables point at ``kapu_account.id``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations.ops import DropTableOp
from alembic.script import ScriptDirectory
from conftest import register
from conftest_legacy import legacy_config
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from legacy_app import Note, User, create_app, db
from sqlalchemy import Column, MetaData, String, Table, create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from flask_kapu import Kapu, KapuConfigError
from flask_kapu.store import Base
from flask_kapu.store.migrate import alembic_config, include_object
from flask_kapu.testing import make_account

KAPU_TABLES = {table.name for table in Base.metadata.sorted_tables} | {"kapu_alembic_version"}
HOST_TABLES = {"users", "alembic_version"}


def kapu_head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def versions(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            version = Table(table, MetaData(), Column("version_num", String(32)))
            return set(connection.execute(select(version.c.version_num)).scalars())
    finally:
        engine.dispose()


def run(app: Flask, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture
def legacy(empty_database_url, smtp_server):
    """The legacy app over an empty database, its tables not yet created."""
    app = create_app(legacy_config(empty_database_url, smtp_server[1]))
    yield app
    app.extensions["kapu"].deps.store.dispose()
    with app.app_context():
        db.engine.dispose()


# --- one database -------------------------------------------------------------------------------


def test_without_its_own_url_flask_kapu_uses_the_apps_database(legacy_app, database_url):
    engine = legacy_app.extensions["kapu"].deps.store.engine

    assert engine.url.render_as_string(hide_password=False) == database_url


@pytest.mark.parametrize("kapu_first", [True, False])
def test_flask_sqlalchemy_may_be_set_up_before_or_after_flask_kapu(tmp_path, kapu_first):
    app = Flask("host", instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", TESTING=True, SQLALCHEMY_DATABASE_URI="sqlite:///host.db")
    if kapu_first:
        Kapu(app)
        database = SQLAlchemy(app)
    else:
        database = SQLAlchemy(app)
        Kapu(app)

    with app.app_context():
        assert app.extensions["kapu"].deps.store.engine.url == database.engine.url
        assert database.engine.url.database == str(tmp_path / "instance" / "host.db")
        database.engine.dispose()
    app.extensions["kapu"].deps.store.dispose()


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///:memory:"])
def test_an_app_database_in_memory_cannot_be_shared_and_says_so(tmp_path, uri):
    app = Flask("host", instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=uri)

    with pytest.raises(KapuConfigError, match="KAPU_DATABASE_URL"):
        Kapu(app)


def test_accounts_in_flask_kapus_own_file_are_not_left_behind_silently(tmp_path):
    app = Flask("host", instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI="sqlite:///host.db")
    Path(app.instance_path).mkdir()
    (Path(app.instance_path) / "kapu.sqlite3").touch()

    with pytest.raises(KapuConfigError, match=r"KAPU_DATABASE_URL.*kapu\.sqlite3"):
        Kapu(app)


# --- two histories ------------------------------------------------------------------------------


def test_flask_kapu_first_then_the_host_each_touch_only_their_own_tables(legacy):
    url = legacy.config["SQLALCHEMY_DATABASE_URI"]

    run(legacy, "kapu", "db", "upgrade")
    assert tables(url) == KAPU_TABLES
    run(legacy, "db", "upgrade")

    assert tables(url) == KAPU_TABLES | HOST_TABLES | {"notes"}
    assert versions(url, "alembic_version") == {"l002"}
    assert versions(url, "kapu_alembic_version") == {kapu_head()}


def test_the_host_first_then_flask_kapu_each_touch_only_their_own_tables(legacy):
    url = legacy.config["SQLALCHEMY_DATABASE_URI"]

    run(legacy, "db", "upgrade", "l001")  # the app as it was before flask_kapu
    assert tables(url) == HOST_TABLES
    run(legacy, "kapu", "db", "upgrade")
    assert tables(url) == HOST_TABLES | KAPU_TABLES
    assert versions(url, "alembic_version") == {"l001"}
    run(legacy, "db", "upgrade")  # the host's revision that links to kapu_account

    assert versions(url, "alembic_version") == {"l002"}
    assert versions(url, "kapu_alembic_version") == {kapu_head()}


def test_upgrading_again_in_either_history_changes_nothing(legacy):
    url = legacy.config["SQLALCHEMY_DATABASE_URI"]
    run(legacy, "kapu", "db", "upgrade")
    run(legacy, "db", "upgrade")

    run(legacy, "db", "upgrade")
    run(legacy, "kapu", "db", "upgrade")

    assert versions(url, "alembic_version") == {"l002"}
    assert versions(url, "kapu_alembic_version") == {kapu_head()}


def autogenerated(app: Flask, **options: object) -> list[object]:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return list(produce_migrations(context, db.metadata).upgrade_ops.ops)


def test_the_hosts_autogenerate_with_include_object_leaves_flask_kapus_tables_alone(legacy):
    run(legacy, "kapu", "db", "upgrade")
    run(legacy, "db", "upgrade")

    assert autogenerated(legacy, include_object=include_object) == []
    dropped = {op.table_name for op in autogenerated(legacy) if isinstance(op, DropTableOp)}
    assert dropped == KAPU_TABLES


def test_flask_kapus_revision_in_the_shared_version_table_is_carried_over(legacy):
    """An install that ran flask_kapu's migrations through the host's Alembic."""
    url = legacy.config["SQLALCHEMY_DATABASE_URI"]
    run(legacy, "kapu", "db", "upgrade")
    run(legacy, "db", "upgrade")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE kapu_alembic_version"))
        connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": kapu_head()})
    engine.dispose()

    run(legacy, "kapu", "db", "upgrade")

    assert versions(url, "kapu_alembic_version") == {kapu_head()}
    assert versions(url, "alembic_version") == {"l002"}


# --- foreign keys to the account ------------------------------------------------------------------


def test_a_host_row_must_point_at_an_existing_account(legacy_app):
    with legacy_app.app_context():
        db.session.add(Note(account_id=999_999, body="nobody's"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_when_flask_kapu_purges_an_account_its_notes_go_and_its_user_stays_unlinked(
    legacy_app, clock, mailbox
):
    account = register(legacy_app, "PendingPeter", "peter@example.hu")  # never activated
    with legacy_app.app_context():
        user = User(username="peter", email="peter@example.hu", kapu_account_id=account.id)
        db.session.add_all([user, Note(account_id=account.id, body="draft")])
        db.session.commit()
        user_id = user.id
    clock.advance(days=400)

    run(legacy_app, "kapu", "purge")

    with legacy_app.app_context():
        assert db.session.scalars(select(Note)).all() == []
        assert db.session.get(User, user_id).kapu_account_id is None


def test_a_signed_in_citizen_keeps_notes_under_their_account(legacy_app, legacy_api):
    anna = make_account(legacy_app.extensions["kapu"].deps, "KisAnna", methods=())
    legacy_api.post("/login", {"username": "KisAnna", "password": anna.password})

    legacy_api.client.post("/notes", data={"body": "adóbevallás 2025"})

    assert legacy_api.client.get("/notes").get_json() == {"notes": ["adóbevallás 2025"]}
    with legacy_app.app_context():
        assert db.session.scalar(select(Note.account_id)) == anna.account.id
