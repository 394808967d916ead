"""Shared fixtures: a real SMTP server, SQLite and (when configured) PostgreSQL, and clients."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from flask_kapu import DemoRegistry, Kapu, login_required, services
from flask_kapu.state import KapuState, get_state
from flask_kapu.store import Base, Meta
from flask_kapu.store.migrate import upgrade

#: The reference legacy host's fixtures (tests/legacy_app).
pytest_plugins = ["conftest_legacy"]

CODE_TOKEN = re.compile(r"^\s+([0-9A-Z]{5}-[0-9A-Z]{5})\s*$", re.MULTILINE)
STRONG_PASSWORD = "Tavaszi-Szel-42"


# --- mail ---------------------------------------------------------------------------


class Sink:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def wait_for(self, to: str, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """The mails to ``to``, once at least ``count`` have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [m for m in self.messages if m["To"] == to]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Sink, int]) -> Sink:
    sink, _port = smtp_server
    sink.clear()
    return sink


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def code_in(message: EmailMessage) -> str:
    """The code a mail carries: a whitespace-separated token of its plain-text part."""
    found = CODE_TOKEN.findall(plain_text(message))
    assert len(found) == 1, plain_text(message)
    return str(found[0])


# --- databases ------------------------------------------------------------------------


def _postgres_database() -> Iterator[str]:
    base = os.environ.get("KAPU_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL tests need KAPU_TEST_DATABASE_URL")
    url = make_url(base)
    name = f"kapu_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database: SQLite always, PostgreSQL when KAPU_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('db') / 'kapu.sqlite3'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    for _ in urls:
        pass


def empty_tables(state: KapuState) -> None:
    with state.deps.store.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


# --- the app ----------------------------------------------------------------------------


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def forget_keys(database_url: str) -> None:
    """Drop the key fingerprints an earlier app left in the shared test database."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if inspect(connection).has_table(Meta.__tablename__):
            connection.execute(Meta.__table__.delete())
    engine.dispose()


def make_app(
    database_url: str, smtp_port: int, *, restart: bool = False, **config: Any
) -> tuple[Flask, Kapu]:
    """A host app over ``database_url``: a fresh installation's keys, or with ``restart=True``
    the same installation started again (the fingerprints of its keys kept)."""
    if not restart:
        forget_keys(database_url)
    app = Flask("host_app")
    app.config.update(
        SECRET_KEY="test secret key",
        TESTING=True,
        KAPU_DATABASE_URL=database_url,
        KAPU_ARGON2_TIME_COST=1,
        KAPU_ARGON2_MEMORY_COST=8,
        KAPU_ARGON2_PARALLELISM=1,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_DEFAULT_SENDER="ugyfelkapu@example.hu",
    )
    redis_url = os.environ.get("KAPU_TEST_REDIS_URL")
    if redis_url:
        app.config["KAPU_RATELIMIT_STORAGE_URI"] = redis_url
    app.config.update(config)
    kapu = Kapu(app, registry=DemoRegistry())

    @app.get("/")
    def home() -> str:
        return "home"

    @app.get("/protected")
    @login_required
    def protected() -> str:
        return "protected"

    return app, kapu


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Extra app config: ``@pytest.mark.parametrize("app_config", [{...}], indirect=True)``."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def app(
    database_url: str,
    smtp_server: tuple[Sink, int],
    clock: FakeClock,
    app_config: dict[str, Any],
) -> Iterator[Flask]:
    app, kapu = make_app(database_url, smtp_server[1], **app_config)
    kapu.clock = clock
    state: KapuState = app.extensions["kapu"]
    empty_tables(state)
    state.limiter.reset()
    yield app
    state.notifier.wait()
    state.deps.store.dispose()
    forget_keys(database_url)  # of apps the test started again with other keys


@pytest.fixture
def state(app: Flask) -> KapuState:
    return app.extensions["kapu"]  # type: ignore[no-any-return]


# --- clients --------------------------------------------------------------------------


class Api:
    """The JSON API through the test client, with the CSRF header handled."""

    def __init__(self, client: FlaskClient, prefix: str = "/kapu/api") -> None:
        self.client = client
        self.prefix = prefix
        self.csrf: str | None = None

    def session(self) -> dict[str, Any]:
        response = self.client.get(f"{self.prefix}/session")
        assert response.status_code == 200
        body: dict[str, Any] = response.get_json()
        self.csrf = body["csrf_token"]
        return body

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        if self.csrf is None:
            self.session()
        headers = {"X-CSRFToken": self.csrf or "", **kwargs.pop("headers", {})}
        response = self.client.post(f"{self.prefix}{path}", json=json, headers=headers, **kwargs)
        body = response.get_json(silent=True)
        if isinstance(body, dict) and "csrf_token" in body:
            self.csrf = body["csrf_token"]
        if path == "/logout":
            self.csrf = None  # the session, and its token, are gone
        return response


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


CSRF_FIELD = re.compile(r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def submit(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """GET the page for its CSRF token, then POST the form."""
    page = client.get(path)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


# --- accounts ---------------------------------------------------------------------------


def register(
    app: Flask, username: str = "KisAnna", email: str = "anna@example.hu", **kw: Any
) -> Any:
    """Office registration, as a clerk would do it."""
    with app.app_context():
        return services.register(
            get_state().deps, services.Context(), username=username, email=email, via="office", **kw
        ).account


@pytest.fixture
def registered(app: Flask, mailbox: Sink) -> tuple[str, str]:
    """An office-registered, pending account and its mailed activation code."""
    register(app)
    return "KisAnna", code_in(mailbox.wait_for("anna@example.hu")[0])


@pytest.fixture
def active(api: Api, registered: tuple[str, str], mailbox: Sink) -> str:
    """An activated account (KisAnna / STRONG_PASSWORD), logged out again."""
    username, code = registered
    response = api.post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    api.post("/logout")
    mailbox.clear()
    return username
