"""Fixtures of the system tests: two gunicorn instances of the example app, and their parts.

The main pair runs on the local PostgreSQL (a database made for this run and
dropped after it) and the local Redis (``KAPU_TEST_REDIS_URL``), with mail to an
aiosmtpd sink the tests read. The fault pair gets a private PostgreSQL cluster
and a private ``redis-server`` the tests may stop, so the machine's shared
servers are never stopped. Without a reachable PostgreSQL or Redis the tests
are skipped with that reason. Every process started here is stopped in the
fixture's teardown, whatever the test did.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from example_app import create_all

from .client import Seeder
from .processes import (
    Gunicorn,
    Mailbox,
    PrivatePostgres,
    PrivateRedis,
    SmtpServer,
    check_postgres,
    check_redis,
    forget_limits,
    fresh_database,
    postgres_bindir,
    start_instances,
)

SENDER = "ugyfelkapu@example.hu"
#: Per-IP limits of the instances: the typed-secret and mail limits are out of the
#: way of 50 requests at once and of the load run, all from 127.0.0.1; the
#: registration limit stays low, for the test that it holds across instances.
SECRETS_LIMIT = "100000 per minute"
MAIL_LIMIT = "100000 per minute"
MAIN_REGISTER_LIMIT = 10
FAULT_REGISTER_LIMIT = 20
ARGON2 = {"KAPU_ARGON2_TIME_COST": 1, "KAPU_ARGON2_MEMORY_COST": 1024, "KAPU_ARGON2_PARALLELISM": 1}
RESEND_INTERVAL = 1  # seconds between two e-mail codes of one account


#: What the tests measured (load figures, race outcomes, the outage's answers): shown in
#: pytest's closing summary, so that CI logs carry them without ``-s``.
SUMMARY: list[str] = []


def summary(text: str) -> None:
    SUMMARY.append(text.strip("\n"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("flask_kapu system tests")
        for text in SUMMARY:
            terminalreporter.write_line(text)


@dataclasses.dataclass
class Pair:
    """Two instances of the example app on one database, one Redis, one SMTP sink."""

    instances: list[Gunicorn]
    database_url: str
    redis_url: str
    engine: Engine
    seeder: Seeder
    mailbox: Mailbox
    smtp: SmtpServer

    @property
    def urls(self) -> list[str]:
        return [instance.url for instance in self.instances]

    def forget_limits(self) -> None:
        forget_limits(self.redis_url)


# --- environment ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("KAPU_TEST_DATABASE_URL")
    if not url:
        pytest.skip("system tests need PostgreSQL: set KAPU_TEST_DATABASE_URL")
    problem = check_postgres(url)
    if problem:
        pytest.skip(problem)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("KAPU_TEST_REDIS_URL")
    if not url:
        pytest.skip("system tests need Redis: set KAPU_TEST_REDIS_URL")
    problem = check_redis(url)
    if problem:
        pytest.skip(problem)
    return url


@pytest.fixture(scope="session")
def mail_server() -> Iterator[SmtpServer]:
    server = SmtpServer(Mailbox(), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gunicorn")


def instance_env(
    *, database_url: str, redis_url: str, smtp_port: int, secret_key: str, register_limit: int
) -> dict[str, str]:
    """The environment of one instance: this machine's, minus any flask_kapu or mail
    settings of the caller, plus the example app's settings for this run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KAPU_", "MAIL_")) and k != "SECRET_KEY"
    }
    env.update(
        SECRET_KEY=secret_key,
        SQLALCHEMY_DATABASE_URI=database_url,  # the one database, flask_kapu's tables too
        KAPU_RATELIMIT_STORAGE_URI=redis_url,
        KAPU_RATELIMIT_SECRETS=SECRETS_LIMIT,
        KAPU_RATELIMIT_MAIL=MAIL_LIMIT,
        KAPU_RATELIMIT_REGISTER=f"{register_limit} per minute",
        KAPU_EMAIL_RESEND_INTERVAL=str(RESEND_INTERVAL),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        MAIL_DEFAULT_SENDER=SENDER,
        PYTHONUNBUFFERED="1",
        **{key: str(value) for key, value in ARGON2.items()},
    )
    return env


def seeder_config(*, database_url: str, smtp_port: int, secret_key: str) -> dict[str, Any]:
    """The same settings for the test process's own copy of the app (it makes accounts)."""
    return {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "KAPU_RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_DEFAULT_SENDER": SENDER,
        **ARGON2,
    }


@contextmanager
def running_pair(
    *,
    database_url: str,
    redis_url: str,
    server: SmtpServer,
    logs: Path,
    name: str,
    register_limit: int,
) -> Iterator[Pair]:
    """Create the tables, start instances A and B on them; stop them whatever happens."""
    engine = create_engine(database_url)
    secret_key = secrets.token_urlsafe(32)
    env = instance_env(
        database_url=database_url,
        redis_url=redis_url,
        smtp_port=server.port,
        secret_key=secret_key,
        register_limit=register_limit,
    )
    instances = [
        Gunicorn(f"{name}-{letter}", free_port(), env, logs / f"{name}-{letter}.log")
        for letter in "AB"
    ]
    seeder = None
    try:
        seeder = Seeder(
            seeder_config(database_url=database_url, smtp_port=server.port, secret_key=secret_key)
        )
        with seeder.app.app_context():
            create_all()  # flask_kapu's migrations, then the portal's own tables
        start_instances(instances)
        yield Pair(instances, database_url, redis_url, engine, seeder, server.mailbox, server)
    finally:
        for instance in instances:
            instance.stop()
        if seeder is not None:
            seeder.close()
        engine.dispose()


# --- the main pair --------------------------------------------------------------------


@pytest.fixture(scope="session")
def pair(postgres_url: str, redis_url: str, mail_server: SmtpServer, logs: Path) -> Iterator[Pair]:
    """Instances A and B on a fresh database of the local PostgreSQL and the local Redis."""
    forget_limits(redis_url)
    with (
        fresh_database(postgres_url) as database_url,
        running_pair(
            database_url=database_url,
            redis_url=redis_url,
            server=mail_server,
            logs=logs,
            name="main",
            register_limit=MAIN_REGISTER_LIMIT,
        ) as running,
    ):
        yield running
    forget_limits(redis_url)


# --- the fault pair: private PostgreSQL and Redis -------------------------------------


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    problem = PrivatePostgres.unusable()
    if problem:
        pytest.skip(problem)
    bindir = postgres_bindir()
    assert bindir is not None
    cluster = PrivatePostgres(bindir, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on this machine to start a private Redis")
    server = PrivateRedis(binary, free_port())
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def fault_pair(
    postgres_url: str,
    redis_url: str,
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    mail_server: SmtpServer,
    logs: Path,
) -> Iterator[Pair]:
    """Instances A and B on the private cluster and the private Redis.

    Like every system test they run only where the local PostgreSQL and Redis are
    configured and answer (CI), though they use neither.
    """
    with running_pair(
        database_url=private_postgres.url,
        redis_url=private_redis.url,
        server=mail_server,
        logs=logs,
        name="fault",
        register_limit=FAULT_REGISTER_LIMIT,
    ) as running:
        yield running
