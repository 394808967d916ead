"""What is measured, through Flask's test client, for each database.

- protected views: a bare view (plain Flask, and on the flask_kapu app with a
  logged-in cookie), Flask-Login ``@login_required``, flask_kapu
  ``@login_required`` and ``@requires_plusz``, Flask-Security-Too
  ``@auth_required()`` and ``@auth_required(within=...)``;
- login: the JSON login end to end, and one argon2id verify with the same
  parameters;
- step-up: the e-mail-code and TOTP verify requests.

Every call checks its answer, so a figure is never that of an error page.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flask_kapu.config import load_config
from flask_kapu.factors import TotpFactor
from flask_kapu.passwords import PasswordHashing

from .apps import KapuApp, bare_app, flask_login_app, fst_app, kapu_app
from .data import Database, username
from .settings import PASSWORD, TOTP_SECRET, USER_AGENT
from .timing import Case

__all__ = [
    "API",
    "BenchError",
    "Suite",
    "argon2_case",
    "bare_cases",
    "build_suite",
    "client",
    "login_cases",
    "session_cookie_bytes",
    "stepup_cases",
    "view_cases",
]

API = "/kapu/api"
#: Clients (each logged in as another sample account) a view case cycles through.
CLIENTS = 8
VIEW_BATCH = 100
STEPUP_BATCH = 8
LOGIN_BATCH = 2


class BenchError(RuntimeError):
    """A request did not get the answer the case is about."""


def _expect(response: TestResponse, status: int, what: str) -> TestResponse:
    if response.status_code != status:
        body = response.get_data(as_text=True)[:300]
        raise BenchError(f"{what}: expected {status}, got {response.status_code}: {body}")
    return response


def client(app: Flask, login: str | None = None) -> FlaskClient:
    """A test client with the benchmark's User-Agent, logged in through ``login`` if given."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    if login is not None:
        _expect(test_client.get(login), 200, login)
    return test_client


def _csrf(test_client: FlaskClient) -> str:
    body = _expect(test_client.get(f"{API}/session"), 200, "GET session").get_json()
    return str(body["csrf_token"])


@dataclasses.dataclass
class Suite:
    """The apps of one database."""

    database: Database
    flask_login: Flask
    kapu: KapuApp
    fst: Flask

    def key(self, case: str) -> str:
        return f"{case}@{self.database.label}"


def build_suite(database: Database) -> Suite:
    return Suite(
        database=database,
        flask_login=flask_login_app(database),
        kapu=kapu_app(database.url, name=f"bench_kapu_{database.backend}_{database.size}"),
        fst=fst_app(database),
    )


def _getter(clients: Iterable[FlaskClient], path: str) -> Callable[[], None]:
    ring = itertools.cycle(list(clients))

    def call() -> None:
        response = next(ring).get(path)
        if response.status_code != 200:
            _expect(response, 200, f"GET {path}")

    return call


# --- protected views -------------------------------------------------------------------


def bare_cases(suite: Suite) -> list[Case]:
    """The floor: a bare view on plain Flask, and one on the flask_kapu app."""
    plain = client(bare_app())
    kapu_clients = [
        client(suite.kapu.app, f"/_bench/login/{account}?level=plusz")
        for account in suite.database.sample.plain[:CLIENTS]
    ]
    return [
        Case("bare", _getter([plain], "/bare"), VIEW_BATCH),
        Case("kapu_bare", _getter(kapu_clients, "/bare"), VIEW_BATCH),
    ]


def view_cases(suite: Suite) -> list[Case]:
    accounts = suite.database.sample.plain[:CLIENTS]

    def logged_in(app: Flask, query: str = "") -> list[FlaskClient]:
        return [client(app, f"/_bench/login/{account}{query}") for account in accounts]

    return [
        Case(
            suite.key("flask_login"),
            _getter(logged_in(suite.flask_login), "/protected"),
            VIEW_BATCH,
        ),
        Case(
            suite.key("kapu_login_required"),
            _getter(logged_in(suite.kapu.app), "/protected"),
            VIEW_BATCH,
        ),
        Case(
            suite.key("kapu_requires_plusz"),
            _getter(logged_in(suite.kapu.app, "?level=plusz"), "/plusz"),
            VIEW_BATCH,
        ),
        Case(suite.key("fst_auth"), _getter(logged_in(suite.fst), "/protected"), VIEW_BATCH),
        Case(suite.key("fst_within"), _getter(logged_in(suite.fst), "/fresh"), VIEW_BATCH),
    ]


# --- login --------------------------------------------------------------------------------


def _hashing() -> PasswordHashing:
    config = load_config({})
    return PasswordHashing(
        time_cost=config.argon2_time_cost,
        memory_cost=config.argon2_memory_cost,
        parallelism=config.argon2_parallelism,
    )


def argon2_case() -> Case:
    """One argon2id verify with flask_kapu's (default) parameters, as the login does."""
    hashing = _hashing()
    stored = hashing.hash(PASSWORD)

    def call() -> None:
        if not hashing.verify(stored, PASSWORD):
            raise BenchError("argon2 verify failed")

    return Case("argon2_verify", call, LOGIN_BATCH)


class _Login:
    """``POST /login`` with a right password; a fresh CSRF token (untimed) before each."""

    def __init__(self, suite: Suite) -> None:
        self.client = client(suite.kapu.app)
        self.names = itertools.cycle([username(a) for a in suite.database.sample.plain])
        self.name = ""
        self.csrf = ""

    def prepare(self) -> None:
        self.csrf = _csrf(self.client)  # the last login cleared the session, token and all
        self.name = next(self.names)

    def call(self) -> None:
        response = self.client.post(
            f"{API}/login",
            json={"username": self.name, "password": PASSWORD},
            headers={"X-CSRFToken": self.csrf},
        )
        body = _expect(response, 200, "POST login").get_json()
        if not body.get("authenticated"):
            raise BenchError(f"login did not complete: {body}")


def login_cases(suite: Suite) -> list[Case]:
    login = _Login(suite)
    return [Case(suite.key("kapu_login"), login.call, LOGIN_BATCH, login.prepare)]


# --- step-up ------------------------------------------------------------------------------


class _StepUp:
    """A logged-in session (``ugyfelkapu``) proving a typed second factor."""

    def __init__(self, suite: Suite, method: str, accounts: Iterable[int]) -> None:
        self.kapu = suite.kapu
        self.method = method
        sessions = []
        for account in accounts:
            tested = client(suite.kapu.app, f"/_bench/login/{account}")
            sessions.append((account, tested, _csrf(tested)))
        self.sessions = itertools.cycle(sessions)
        self.current: tuple[int, FlaskClient, str] = next(self.sessions)
        self.code = ""
        self.path = f"{API}/plusz/{method}/verify"

    def prepare(self) -> None:
        """Untimed: the next session, and a code it can prove."""
        self.current = next(self.sessions)
        account_id = self.current[0]
        if self.method == "totp":
            self.kapu.clock.advance(30)  # a fresh time step: replay protection never trips
            self.code = TotpFactor.current_code(TOTP_SECRET, self.kapu.clock())
            return
        deps = self.kapu.state.deps
        with deps.store.transaction() as repo:
            account = repo.account(account_id)
            if account is None:
                raise BenchError(f"no account {account_id}")
            issued = deps.plusz.email.issue(repo, account, deps.clock(), deps.config.email_code_ttl)
        self.code = issued.code

    def call(self) -> None:
        _account, tested, csrf = self.current
        response = tested.post(self.path, json={"code": self.code}, headers={"X-CSRFToken": csrf})
        body = _expect(response, 200, f"POST {self.path}").get_json()
        if body.get("level") != "plusz":
            raise BenchError(f"step-up did not reach plusz: {body}")


def stepup_cases(suite: Suite) -> list[Case]:
    sample = suite.database.sample
    email = _StepUp(suite, "email", sample.plain[:CLIENTS])
    totp = _StepUp(suite, "totp", sample.totp[:CLIENTS])
    return [
        Case(suite.key("kapu_email_verify"), email.call, STEPUP_BATCH, email.prepare),
        Case(suite.key("kapu_totp_verify"), totp.call, STEPUP_BATCH, totp.prepare),
    ]


# --- session size -------------------------------------------------------------------------


def session_cookie_bytes(kapu: KapuApp, account_id: int) -> dict[str, int]:
    """The session cookie at ``plusz`` with a CSRF token and a pending WebAuthn challenge.

    ``cookie_bytes`` is what the browser sends back (``session=<value>``);
    ``set_cookie_bytes`` the whole ``Set-Cookie`` header that issued it.
    """
    tested = client(kapu.app, f"/_bench/login/{account_id}?level=plusz")
    csrf = _csrf(tested)
    response = tested.post(f"{API}/plusz/webauthn/options", json={}, headers={"X-CSRFToken": csrf})
    _expect(response, 200, "POST webauthn options")
    header = next(
        (h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")), ""
    )
    cookie = tested.get_cookie("session")
    if cookie is None or not header:
        raise BenchError("no session cookie after the WebAuthn options")
    name = kapu.app.config.get("SESSION_COOKIE_NAME", "session")
    return {
        "cookie_bytes": len(f"{name}={cookie.value}".encode()),
        "set_cookie_bytes": len(header.encode()),
    }
