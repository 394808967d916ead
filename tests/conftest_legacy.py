"""Fixtures for the reference host app (``tests/legacy_app``): an app that had users,
a LoginManager and migrations of its own before it added flask_kapu."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Api, FakeClock, Sink, _postgres_database, empty_tables, forget_keys
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade as host_upgrade
from legacy_app import Note, User, create_app, db, kapu
from sqlalchemy import delete

from flask_kapu.state import KapuState


def legacy_config(database_url: str, smtp_port: int, **extra: Any) -> dict[str, Any]:
    """The legacy app's test settings: flask_kapu shares its database (no KAPU_DATABASE_URL)."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "KAPU_ARGON2_TIME_COST": 1,
        "KAPU_ARGON2_MEMORY_COST": 8,
        "KAPU_ARGON2_PARALLELISM": 1,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_DEFAULT_SENDER": "ugyfelkapu@example.hu",
    }
    redis_url = os.environ.get("KAPU_TEST_REDIS_URL")
    if redis_url:
        config["KAPU_RATELIMIT_STORAGE_URI"] = redis_url
    return {**config, **extra}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A database with no table at all: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def legacy_app(
    database_url: str, smtp_server: tuple[Sink, int], clock: FakeClock
) -> Iterator[Flask]:
    """The legacy app over the test database, both histories migrated, every table empty."""
    forget_keys(database_url)
    app = create_app(legacy_config(database_url, smtp_server[1]))
    kapu.clock = clock
    state: KapuState = app.extensions["kapu"]
    with app.app_context():
        host_upgrade()  # the host's own `flask db upgrade`; flask_kapu's tables came first
        db.session.execute(delete(Note))
        db.session.execute(delete(User))
        db.session.commit()
    empty_tables(state)
    state.limiter.reset()
    yield app
    state.notifier.wait()
    state.deps.store.dispose()
    with app.app_context():
        db.engine.dispose()
    forget_keys(database_url)


@pytest.fixture
def legacy_client(legacy_app: Flask) -> FlaskClient:
    return legacy_app.test_client()


@pytest.fixture
def legacy_api(legacy_client: FlaskClient) -> Api:
    """flask_kapu's JSON API on the legacy app."""
    return Api(legacy_client)
