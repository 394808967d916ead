"""The documentation site: its generated pages cover the code, and every example in it runs.

The examples live in ``docs/examples/`` and the pages include them, so a test
here that runs an example also checks what the reader sees. The quickstart is
followed literally, in a fresh virtual environment, when
``KAPU_TEST_QUICKSTART=1`` (it installs flask_kapu and its dependencies:
about a minute).
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import importlib
import importlib.util
import json
import logging
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from cryptography.fernet import Fernet
from flask import Flask, request
from flask.testing import FlaskClient
from flask_login import LoginManager
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select
from werkzeug.security import generate_password_hash

from flask_kapu import ACR, Kapu, KapuConfigError, current_account, requires_level, requires_plusz
from flask_kapu import signals as kapu_signals
from flask_kapu.cli import kapu_cli
from flask_kapu.config import SETTINGS, load_config
from flask_kapu.crypto import derive_key
from flask_kapu.mail import OutboxMailer
from flask_kapu.state import KapuState
from flask_kapu.store import AuditEvent
from flask_kapu.store.migrate import upgrade
from flask_kapu.views.openapi import document

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
PAGES = sorted([*DOCS.glob("*.md"), *DOCS.glob("*.rst")])
PASSWORD = "Tavaszi-Szel-42"
FAST = {
    "TESTING": True,
    "SECRET_KEY": "docs test secret",
    "KAPU_ARGON2_TIME_COST": 1,
    "KAPU_ARGON2_MEMORY_COST": 8,
    "KAPU_ARGON2_PARALLELISM": 1,
}
ACTIVATION_CODE = re.compile(r"^\s+([0-9A-Z]{5}-[0-9A-Z]{5})\s*$", re.MULTILINE)
SIX_DIGITS = re.compile(r"^\s+([0-9]{6})\s*$", re.MULTILINE)
CSRF_INPUT = re.compile(r"<input[^>]*name=\"csrf_token\"[^>]*>")


def _load_kapu_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kapu_docs", DOCS / "_ext" / "kapu_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kapu_docs = _load_kapu_docs()


def page_text(name: str) -> str:
    return (DOCS / name).read_text("utf-8")


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the ```language fences of a Markdown page."""
    pattern = re.compile(rf"^```{re.escape(language)}\n(.*?)^```$", re.MULTILINE | re.DOTALL)
    return pattern.findall(text)


# --- the examples, importable -----------------------------------------------------------------


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of docs/examples on sys.path: modules that make an app at import write
    their instance folder (and SQLite file) next to themselves, never into docs/."""
    where = tmp_path_factory.mktemp("examples")
    for source in EXAMPLES.glob("*.py"):
        shutil.copy(source, where / source.name)
    sys.path.insert(0, str(where))
    try:
        yield where
    finally:
        sys.path.remove(str(where))


def example(name: str) -> ModuleType:
    return importlib.import_module(name)


def db_url(path: Path) -> str:
    return f"sqlite:///{path / 'kapu.sqlite3'}"


def migrate(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["kapu", "db", "upgrade"])
    assert result.exit_code == 0, result.output


def state_of(app: Flask) -> KapuState:
    state = app.extensions["kapu"]
    assert isinstance(state, KapuState)
    return state


def fresh_app(tmp_path: Path, kapu: Kapu, name: str = "docs_host", **config: Any) -> Flask:
    """A host app of its own (its own ``Kapu``), with tables."""
    app = Flask(name)
    app.config.update(FAST, KAPU_DATABASE_URL=db_url(tmp_path), **config)
    kapu.init_app(app)
    migrate(app)
    return app


# --- the app the pytest plugin's fixtures work on -------------------------------------------


class SmsProvider:
    """A stand-in for an SMS gateway's verification API."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def check(self, phone: str, code: str) -> bool:
        return self.codes.get(phone) == code


def _portal(examples: Path, tmp_path: Path, config: dict[str, Any]) -> Flask:
    app: Flask = example("portal").create_app(
        {**FAST, "KAPU_DATABASE_URL": db_url(tmp_path), **config}
    )
    return app


def _with_refusals(examples: Path, tmp_path: Path, config: dict[str, Any]) -> Flask:
    kapu = Kapu()
    example("refusals").install(kapu)
    app = Flask("refusals_host")
    app.config.update(FAST, KAPU_DATABASE_URL=db_url(tmp_path), **config)
    kapu.init_app(app)
    app.register_blueprint(example("portal_views").bp)
    return app


def _with_sms(examples: Path, tmp_path: Path, config: dict[str, Any]) -> Flask:
    sms = example("sms_factor")
    provider = SmsProvider()
    kapu = Kapu()
    kapu.add_factor(sms.SmsFactor(provider))
    app = Flask("sms_host")
    app.config.update(FAST, KAPU_DATABASE_URL=db_url(tmp_path), **config)
    kapu.init_app(app)
    app.extensions["sms_provider"] = provider

    @app.post("/sms/enrol")
    def enrol() -> Any:
        sms.enrol_sms(current_account, request.form["phone"])
        return "", 204

    @app.post("/sms/verify")
    def verify() -> Any:
        sms.step_up_with_sms(current_account, request.form["code"])
        return "", 204

    @app.get("/sms-only")
    @requires_plusz(methods={"sms"})
    def sms_only() -> Any:
        return {"ok": True}

    return app


def _spa(examples: Path, tmp_path: Path, config: dict[str, Any]) -> Flask:
    app = _portal(examples, tmp_path, {"SESSION_COOKIE_SECURE": False, **config})

    @app.get("/spa")
    def spa() -> str:
        return (
            "<!doctype html><meta charset=utf-8><title>SPA</title>"
            '<form id="login"><input name="username"><input name="password" type="password">'
            '<button>Log in</button></form><p id="result"></p>'
            '<script type="module" src="/examples/spa_usage.js"></script>'
        )

    @app.get("/examples/<name>.js")
    def script(name: str) -> Any:
        if name not in {"spa_login", "spa_usage"}:
            return "", 404
        text = (EXAMPLES / f"{name}.js").read_text("utf-8")
        return app.response_class(text, mimetype="text/javascript")

    return app


VARIANTS: dict[str, Callable[[Path, Path, dict[str, Any]], Flask]] = {
    "portal": _portal,
    "refusals": _with_refusals,
    "sms": _with_sms,
    "spa": _spa,
}


@pytest.fixture
def app(request: pytest.FixtureRequest, examples: Path, tmp_path: Path) -> Iterator[Flask]:
    """The portal of the docs (or a variant, through ``indirect`` parametrisation)."""
    param = dict(getattr(request, "param", {}))
    variant = param.pop("variant", "portal")
    app = VARIANTS[variant](examples, tmp_path, param)
    migrate(app)
    yield app
    state_of(app).notifier.wait()
    state_of(app).deps.store.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Api:
    """The JSON API through a test client, keeping the CSRF token current."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def session(self) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get("/kapu/api/session").get_json()
        self.token = body["csrf_token"]
        return body

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        if not self.token:
            self.session()
        response = self.client.open(
            f"/kapu/api{path}",
            method=method,
            json=body,
            headers={"X-CSRFToken": self.token, **headers},
        )
        answer = response.get_json(silent=True)
        if isinstance(answer, dict) and "csrf_token" in answer:
            self.token = answer["csrf_token"]
        return response


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


# --- (a) the generated pages cover the code -----------------------------------------------


def test_every_setting_has_a_type_and_a_one_line_doc():
    for setting in SETTINGS:
        assert setting.key.startswith("KAPU_"), setting.key
        assert setting.type.strip(), setting.key
        assert setting.doc.strip(), f"{setting.key} has no doc"
        assert setting.doc.strip().endswith("."), setting.key
        assert "\n" not in setting.doc, setting.key


def test_the_generated_configuration_page_documents_every_setting():
    text = kapu_docs.settings_markdown()
    for setting in SETTINGS:
        assert f"```{{confval}} {setting.key}\n" in text
        assert f":type: `{setting.type}`\n" in text
        assert f":default: {kapu_docs.format_default(setting.default)}\n" in text
        assert f"\n{setting.doc}\n" in text
        assert f"{{confval}}`{setting.key}`" in text  # in the summary table


def test_defaults_are_shown_as_python_and_in_words():
    assert kapu_docs.format_default(timedelta(days=5)) == "`timedelta(days=5)` (5 days)"
    assert kapu_docs.format_default(timedelta(minutes=1)) == "`timedelta(minutes=1)` (1 minute)"
    assert kapu_docs.format_default(("totp", "email")) == '`("totp", "email")`'
    assert kapu_docs.format_default(None) == "`None`"
    assert kapu_docs.format_default("") == '`""`'


def test_the_configuration_page_includes_the_generated_reference():
    assert "```{include} _generated/settings.md\n```" in page_text("configuration.md")


def test_the_build_writes_every_generated_file(tmp_path):
    out = kapu_docs.write_generated(tmp_path)
    assert (out / "settings.md").read_text("utf-8") == kapu_docs.settings_markdown()
    assert (out / "cli.md").read_text("utf-8") == kapu_docs.cli_markdown()
    assert (out / "problems.md").read_text("utf-8") == kapu_docs.problems_markdown()
    assert json.loads((out / "openapi.json").read_text("utf-8")) == document("/kapu/api")
    rendered = (out / "openapi.md").read_text("utf-8")
    for path, item in document("/kapu/api")["paths"].items():
        for method in item:
            if method != "parameters":
                assert f"#### `{method.upper()} {path}`" in rendered


def test_the_openapi_page_shows_the_document_the_app_serves(client):
    """The docs show every way in; the docs' portal has no e-ID registry, so it serves
    all but the e-ID operations."""
    served = client.get("/kapu/api/openapi.json").get_json()
    assert served == document("/kapu/api", registration=["self_service"])
    documented = kapu_docs.openapi_document()
    assert {**documented, "paths": {}} == {**served, "paths": {}}
    assert {p: documented["paths"][p] for p in served["paths"]} == served["paths"]
    text = page_text("json-api.md")
    assert "```{include} _generated/openapi.md\n```" in text
    assert "{download}`download it <_generated/openapi.json>`" in text


def test_the_openapi_page_says_which_operations_depend_on_which_setting():
    text = kapu_docs.openapi_markdown(kapu_docs.openapi_document())
    register = text.split("#### `POST /kapu/api/register`", 1)[1].split("####", 1)[0]
    eid_check = text.split("#### `POST /kapu/api/register/eid/check`", 1)[1].split("####", 1)[0]

    assert "`KAPU_REGISTRATION_METHODS` includes `self_service`" in register
    assert "`KAPU_REGISTRATION_METHODS` includes `eid`" in eid_check
    assert "Kapu(registry=...)" in eid_check
    assert "KAPU_PAGES" in text


def test_the_cli_reference_covers_every_command():
    text = kapu_docs.cli_markdown()
    names = [*(f"kapu {n}" for n in kapu_cli.commands if n != "db"), "kapu db upgrade"]
    for name in names:
        assert f"### `flask {name}`" in text
    assert "```{include} _generated/cli.md\n```" in page_text("cli.md")


def test_the_problem_table_lists_every_problem_code():
    text = kapu_docs.problems_markdown()
    classes = kapu_docs.problem_classes()
    assert len(classes) >= 17
    for cls in classes:
        assert f"| `{cls.problem}` | {cls.code} |" in text


def test_every_kapu_key_named_in_the_docs_exists():
    known = {s.key for s in SETTINGS}
    test_only = {"KAPU_TEST_DATABASE_URL", "KAPU_TEST_REDIS_URL", "KAPU_TEST_QUICKSTART"}
    test_only.add("KAPU_EMAIL_CODE_TTLL")  # configuration.md's example of a typo
    sources = [*PAGES, *EXAMPLES.glob("*.py")]
    for source in sources:
        for name in set(re.findall(r"KAPU_[A-Z0-9_]+", source.read_text("utf-8"))):
            if name.endswith("_"):  # "KAPU_ARGON2_*": a family of keys
                assert any(k.startswith(name) for k in known), (source.name, name)
            else:
                assert name in known | test_only, f"{source.name} names {name}"


def test_every_flask_kapu_command_in_the_docs_exists():
    pattern = re.compile(r"flask (?:--app \S+ )?kapu ([a-z-]+)(?: ([a-z-]+))?")
    sources = [*PAGES, *EXAMPLES.iterdir()]
    seen = set()
    for source in sources:
        if source.is_dir():
            continue
        for first, second in pattern.findall(source.read_text("utf-8")):
            command = kapu_cli.commands.get(first)
            assert command is not None, f"{source.name}: flask kapu {first}"
            if first == "db":
                assert isinstance(command, click.Group)
                assert second in command.commands, f"{source.name}: flask kapu db {second}"
            seen.add(first)
    assert seen == set(kapu_cli.commands), "a command the docs never mention"


def test_the_signals_page_lists_every_signal():
    rows = re.findall(r"^\| `([a-z_]+)` \|", page_text("signals.md"), re.MULTILINE)
    assert sorted(rows) == sorted(kapu_signals.__all__)


def test_the_acr_table_matches_the_code():
    text = page_text("concepts.md")
    for method, urn in ACR.items():
        assert f"| `{method}` | `{urn}` |" in text


def test_every_page_is_in_a_toctree():
    index = page_text("index.md")
    for source in PAGES:
        if source.stem != "index":
            assert f"\n{source.stem}\n" in index, source.name


def test_the_documentation_builds_without_warnings(tmp_path):
    """``make docs`` in a test: Sphinx with warnings as errors (needs the ``docs`` extra)."""
    for module in ("sphinx", "myst_parser", "furo"):
        pytest.importorskip(module, reason="the docs extra is not installed: make docs")
    result = subprocess.run(
        [
            *(sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"),
            *("-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "configuration.html").exists()


# --- (b) every example runs -------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str
    text: str


class TestClientHttp:
    """The quickstart walk over Flask's test client."""

    __test__ = False

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str) -> Answer:
        return self._answer(self.client.get(path))

    def post(self, path: str, data: dict[str, str]) -> Answer:
        return self._answer(self.client.post(path, data=data))

    @staticmethod
    def _answer(response: Any) -> Answer:
        return Answer(response.status_code, response.location or "", response.get_data(True))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibHttp:
    """The quickstart walk over real HTTP, with cookies and without following redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def get(self, path: str) -> Answer:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 - localhost

    def post(self, path: str, data: dict[str, str]) -> Answer:
        body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, data=body, method="POST")  # noqa: S310
        return self._open(req)

    def _open(self, req: urllib.request.Request) -> Answer:
        try:
            with self.opener.open(req, timeout=30) as response:
                return Answer(response.status, "", response.read().decode())
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location", "")
            return Answer(error.code, location.removeprefix(self.base), error.read().decode())


def csrf_token(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF field on the page"
    value = re.search(r'value="([^"]+)"', found.group(0))
    assert value
    return value.group(1)


def walk_the_quickstart(http: Any) -> None:
    """Steps 1 to 6 of "Try it" in quickstart.md."""
    # 1. My tax return, without a login: the login page.
    home = http.get("/")
    assert home.status == 200
    assert 'href="/tax-return"' in home.text
    refused = http.get("/tax-return")
    assert refused.status == 302
    assert refused.location == "/kapu/login?next=/tax-return"
    login = http.get(refused.location)
    assert login.status == 200
    assert 'href="/kapu/register"' in login.text
    # 2. Register.
    form = http.get("/kapu/register")
    registered = http.post(
        "/kapu/register",
        {
            "csrf_token": csrf_token(form.text),
            "username": "KisAnna",
            "email": "anna@example.hu",
            "family_name": "Kis",
            "given_name": "Anna",
            "birth_date": "1990-03-15",
            "accept_terms": "y",
        },
    )
    assert registered.status == 201, registered.text
    assert "/kapu/activate?username=KisAnna" in registered.text
    # 3. The activation code in the outbox.
    (code,) = ACTIVATION_CODE.findall(http.get("/kapu/outbox").text)
    # 4. Activate with it and a password.
    form = http.get("/kapu/activate?username=KisAnna")
    activated = http.post(
        "/kapu/activate?username=KisAnna",
        {
            "csrf_token": csrf_token(form.text),
            "username": "KisAnna",
            "code": code,
            "new_password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert activated.status == 302, activated.text
    assert activated.location == "/"
    # 5. My tax return again: set up a second factor first, the e-mail code.
    refused = http.get("/tax-return")
    assert refused.status == 302
    assert refused.location == "/kapu/security?next=/tax-return"
    security = http.get(refused.location)
    assert "/kapu/security/email?next=/tax-return" in security.text
    sent = http.post(
        "/kapu/security/email?next=/tax-return", {"csrf_token": csrf_token(security.text)}
    )
    assert sent.status == 302, sent.text
    form = http.get(sent.location)
    hint = re.search(r"(?:Session ID|Munkamenet-azonosító): (\d{3})", form.text)
    assert hint, "the page shows the session ID"
    outbox = http.get("/kapu/outbox").text
    email_code = SIX_DIGITS.findall(outbox)[0]  # the newest mail comes first
    assert hint.group(1) in outbox
    confirmed = http.post(sent.location, {"csrf_token": csrf_token(form.text), "code": email_code})
    # 6. The recovery codes, then the tax return.
    assert confirmed.status == 201, confirmed.text
    assert confirmed.text.count("<li><code>") == 10
    assert 'href="/tax-return"' in confirmed.text
    opened = http.get("/tax-return")
    assert opened.status == 200
    assert opened.text == "Your tax return"


def test_the_quickstart_works_as_written(examples):
    quickstart = example("quickstart")
    app: Flask = quickstart.app
    migrate(app)  # flask --app quickstart kapu db upgrade
    assert Path(app.instance_path, "kapu.sqlite3").exists()
    app.debug = True  # flask --app quickstart run --debug: the outbox page is open
    try:
        walk_the_quickstart(TestClientHttp(app.test_client()))
    finally:
        state_of(app).deps.store.dispose()


def test_the_quickstart_adds_five_lines():
    text = page_text("quickstart.md")
    assert ":emphasize-lines: 3, 7, 8, 9, 18" in text
    lines = (EXAMPLES / "quickstart.py").read_text("utf-8").splitlines()
    added = [lines[n - 1] for n in (3, 7, 8, 9, 18)]
    assert added[0].startswith("from flask_kapu import")
    assert "KAPU_WEBAUTHN_RP_ID" in added[1]
    assert "KAPU_WEBAUTHN_ORIGINS" in added[2]
    assert added[3] == "kapu = Kapu(app)"
    assert added[4].startswith("@requires_plusz")


def test_the_portal_factory_reads_the_environment(examples, tmp_path, monkeypatch):
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    monkeypatch.setenv("SECRET_KEY", "from the environment")
    monkeypatch.setenv("KAPU_ENCRYPTION_KEYS", ",".join(keys))
    monkeypatch.setenv("KAPU_DATABASE_URL", db_url(tmp_path))
    monkeypatch.setenv("KAPU_WEBAUTHN_RP_ID", "ugyfelkapu.example.hu")
    monkeypatch.setenv("KAPU_WEBAUTHN_ORIGINS", "https://ugyfelkapu.example.hu")
    app = example("portal").create_app()
    config = state_of(app).config
    assert app.config["SECRET_KEY"] == "from the environment"
    assert config.encryption_keys == tuple(keys)
    assert config.webauthn_origins == ("https://ugyfelkapu.example.hu",)
    assert app.config["MAIL_SERVER"] is None  # unset: the outbox
    assert app.config["SESSION_COOKIE_SECURE"] is True
    state_of(app).deps.store.dispose()


def test_the_portal_refuses_to_start_without_its_secrets(examples, tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "KAPU_WEBAUTHN_RP_ID", "KAPU_WEBAUTHN_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAPU_DATABASE_URL", db_url(tmp_path))
    with pytest.raises(KapuConfigError, match=r"^KAPU_WEBAUTHN_RP_ID: must be set outside debug"):
        example("portal").create_app()
    monkeypatch.setenv("KAPU_WEBAUTHN_RP_ID", "ugyfelkapu.example.hu")
    monkeypatch.setenv("KAPU_WEBAUTHN_ORIGINS", "https://ugyfelkapu.example.hu")
    with pytest.raises(KapuConfigError, match=r"^SECRET_KEY: "):
        example("portal").create_app()


def test_behind_the_proxy_the_portal_sees_the_client(app, api, client):
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    page = client.get("/kapu/login", headers=forwarded)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in page.headers["Set-Cookie"]
    assert "SameSite=Lax" in page.headers["Set-Cookie"]
    response = api.call("POST", "/login", {"username": "Senkise", "password": "x"}, **forwarded)
    assert response.status_code == 401
    with state_of(app).deps.store.transaction() as repo:
        ips = set(repo.session.scalars(select(AuditEvent.ip)))
    assert ips == {"203.0.113.7"}


# decorators.md ------------------------------------------------------------------------------


def json_get(client: FlaskClient, path: str, **headers: str) -> Any:
    return client.get(path, headers={"Accept": "application/json", **headers})


def test_the_portal_views_refuse_as_the_table_says(client, api, kapu_account, kapu_login):
    assert client.get("/my-data").location == "/kapu/login?next=/my-data"
    anonymous = json_get(client, "/my-data")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["code"] == "login_required"
    assert anonymous.get_json()["pending"] is None

    who = kapu_account()  # an authenticator app: the login waits for it
    api.call("POST", "/login", {"username": who.username, "password": who.password})
    assert client.get("/my-data").location == "/kapu/plusz?next=/my-data"
    waiting = json_get(client, "/my-data").get_json()
    assert (waiting["code"], waiting["pending"]) == ("login_required", "second_factor")

    kapu_login(client, who)  # a password only
    assert client.get("/tax-return").location == "/kapu/plusz?next=/tax-return"
    step_up = json_get(client, "/tax-return")
    assert step_up.status_code == 401
    assert step_up.get_json()["methods"] == ["totp"]
    assert "max_age" not in step_up.get_json()
    assert step_up.headers["WWW-Authenticate"] == (
        'Kapu error="insufficient_user_authentication", acr_values="plusz"'
    )
    assert json_get(client, "/my-data").get_json() == {"username": who.username}


def test_bank_account_wants_a_recent_strong_factor(client, kapu_account, kapu_login):
    who = kapu_account()
    ten_minutes_ago = datetime.now(timezone.utc) - timedelta(minutes=10)
    kapu_login(client, who, level="plusz", at=ten_minutes_ago)
    assert json_get(client, "/tax-return").status_code == 200  # no max_age there
    stale = json_get(client, "/bank-account")
    assert stale.status_code == 401
    assert stale.get_json()["max_age"] == 300
    (documented,) = re.findall(r"^WWW-Authenticate: (.*)$", page_text("decorators.md"), re.M)
    assert stale.headers["WWW-Authenticate"] == documented
    assert client.get("/bank-account").location == "/kapu/plusz?next=/bank-account"
    kapu_login(client, who, level="plusz")
    assert json_get(client, "/bank-account").status_code == 200
    assert json_get(client, "/documents").get_json() == {"documents": []}


def test_an_email_code_does_not_open_the_bank_account(client, kapu_account, kapu_login):
    who = kapu_account(methods=("email",))
    kapu_login(client, who, level="plusz", methods=("email",))
    assert json_get(client, "/tax-return").status_code == 200
    refused = json_get(client, "/bank-account")
    assert refused.status_code == 403
    assert refused.get_json()["enroll_methods"] == ["totp", "webauthn"]
    assert client.get("/bank-account").location == "/kapu/security?next=/bank-account"


def test_the_decorators_refuse_bad_arguments():
    for bad in ({"methods": set()}, {"methods": "totp"}):
        with pytest.raises(ValueError, match="methods="):
            requires_plusz(**bad)
    with pytest.raises(ValueError, match="unknown level"):
        requires_level("admin")


@pytest.mark.parametrize("app", [{"variant": "refusals"}], indirect=True)
def test_the_refusal_handlers_example(client, kapu_account, kapu_login):
    assert client.get("/my-data").location == "/?login=required"
    assert json_get(client, "/my-data").get_json()["code"] == "login_required"
    kapu_login(client, kapu_account(methods=()))
    page = client.get("/tax-return")
    assert page.status_code == 403
    assert "Set up one of these second factors first: totp, email, webauthn." in page.get_data(True)
    assert "/kapu/security?next=/tax-return" in page.get_data(True)
    problem = json_get(client, "/tax-return")
    assert (problem.status_code, problem.get_json()["code"]) == (403, "enrollment_required")


def test_the_registry_adapter_example(examples, tmp_path):
    asked = []

    class Client:
        def find_card(self, document_id: str, registration_code: str) -> Any:
            asked.append((document_id, registration_code))
            if document_id != "123456AB":
                return None
            return {
                "csaladi_nev": "Kis",
                "utonev": "Anna",
                "szuletesi_datum": "1980-04-12",
                "szuletesi_hely": "Szeged",
                "anyja_neve": "Nagy Mária",
                "lakcim": "6720 Szeged, Kárász utca 1.",
            }

    kapu = Kapu(registry=example("card_registry").RegistryAdapter(Client()))
    app = fresh_app(tmp_path, kapu)
    api = Api(app.test_client())
    found = api.call(
        "POST",
        "/register/eid/check",
        {"document_id": "123456ab", "registration_code": "abcde12345f"},
    )
    assert found.status_code == 200, found.get_json()
    assert found.get_json()["person"] == {
        "family_name": "Kis",
        "given_name": "Anna",
        "birth_date": "1980-04-12",
        "birth_place": "Szeged",
        "mother_name": "Nagy Mária",
        "address": "6720 Szeged, Kárász utca 1.",
    }
    assert asked == [("123456AB", "ABCDE12345F")]
    unknown = api.call(
        "POST",
        "/register/eid/check",
        {"document_id": "654321AB", "registration_code": "ABCDE12345F"},
    )
    assert unknown.get_json()["code"] == "eid_not_recognised"
    state_of(app).deps.store.dispose()


def test_the_queue_mailer_example(examples, tmp_path):
    QueueMailer = example("mailers").QueueMailer
    outgoing: queue.Queue[bytes] = queue.Queue()
    kapu = Kapu(mailer=QueueMailer(outgoing))
    app = fresh_app(tmp_path, kapu)
    with app.app_context():
        kapu.register("KisAnna", "anna@example.hu")
    mail = email.message_from_bytes(outgoing.get_nowait(), policy=email.policy.default)
    assert mail["To"] == "anna@example.hu"
    body = mail.get_body(("plain",))
    assert body is not None
    assert ACTIVATION_CODE.search(body.get_content())

    class FullQueue(queue.Queue[bytes]):
        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            raise queue.Full

    state_of(app).notifier.mailer = QueueMailer(FullQueue())
    result = app.test_cli_runner().invoke(args=["kapu", "register", "NagyBela", "bela@example.hu"])
    assert result.exit_code == 0  # the account is kept...
    assert "could not be sent" in result.output  # ...and the office is told
    state_of(app).deps.store.dispose()


@pytest.mark.parametrize("app", [{"variant": "sms"}], indirect=True)
def test_the_sms_factor_example(app, client, kapu_account, kapu_login):
    provider: SmsProvider = app.extensions["sms_provider"]
    provider.codes["+36301234567"] = "123456"
    kapu_login(client, kapu_account(methods=()))
    assert client.post("/sms/enrol", data={"phone": "+36301234567"}).status_code == 204
    refused = json_get(client, "/sms-only")
    assert refused.status_code == 401
    assert refused.get_json()["methods"] == ["sms"]
    wrong = client.post(
        "/sms/verify", data={"code": "654321"}, headers={"Accept": "application/json"}
    )
    assert (wrong.status_code, wrong.get_json()["code"]) == (400, "invalid_code")
    assert client.post("/sms/verify", data={"code": "123 456"}).status_code == 204
    assert json_get(client, "/sms-only").get_json() == {"ok": True}


def test_the_audit_log_example(app, api, client, kapu_account, kapu_login, caplog):
    example("audit_log").connect(app)
    caplog.set_level(logging.INFO, logger="portal.security")
    locked = kapu_account()
    for _ in range(5):
        api.call("POST", "/login", {"username": locked.username, "password": "Rossz-Jelszo-1"})
    api.call("POST", "/login", {"username": "Senkise", "password": "Rossz-Jelszo-1"})
    who = kapu_account(methods=())
    api.call("POST", "/login", {"username": who.username, "password": who.password})
    messages = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert messages.count(f"wrong secret typed: {locked.username}") == 5
    assert any(m.startswith("locked until ") and m.endswith(locked.username) for m in messages)
    assert "wrong secret typed: (no such username)" in messages
    assert f"login: {who.username}" in messages

    kapu_login(client, locked, level="plusz")
    api.session()
    (factor,) = api.call("GET", "/factors").get_json()["factors"]
    assert api.call("DELETE", f"/factors/{factor['id']}").status_code == 204
    assert f"second factor removed: {locked.username} (totp)" in [
        r.getMessage() for r in caplog.records
    ]


def test_flask_login_sends_user_logged_out(app, api, kapu_account):
    from flask_login import user_logged_out

    seen = []

    def remember(sender: Any, user: Any, **extra: Any) -> None:
        seen.append(user.username)

    who = kapu_account(methods=())
    with user_logged_out.connected_to(remember, app):
        api.call("POST", "/login", {"username": who.username, "password": who.password})
        assert api.call("POST", "/logout").status_code == 204
    assert seen == [who.username]


@pytest.mark.parametrize("app", [{"KAPU_PLUSZ_MAX_AGE": 300}], indirect=True)
def test_the_problem_document_example(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("email", "totp")))
    answer = json_get(client, "/tax-return", **{"Accept-Language": "en"})
    (documented,) = fenced_blocks(page_text("json-api.md"), "json")
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json() == json.loads(documented)


def test_the_migration_example(examples, tmp_path):
    register_existing_users = example("migrate_users").register_existing_users
    outbox = OutboxMailer()
    kapu = Kapu(mailer=outbox)
    app = fresh_app(tmp_path, kapu)
    users = [
        ("KisAnna", "anna@example.hu"),
        ("anna.kis", "anna.kis@example.hu"),
        ("jános2", "janos@example.hu"),
        ("kisanna", "kisanna@example.hu"),
    ]
    with app.app_context():
        account_ids, needs_attention = register_existing_users(kapu, users)
    assert list(account_ids) == ["KisAnna"]
    assert needs_attention == {"anna.kis": "alphabet", "jános2": "alphabet", "kisanna": "taken"}
    assert len(outbox.messages) == 1
    state_of(app).deps.store.dispose()


def test_the_flask_login_app_before(examples):
    before = example("flask_login_before")
    client = before.app.test_client()
    assert client.get("/my-data").status_code == 302
    assert client.post("/login", data={"username": "KisAnna", "password": "nem"}).status_code == 401
    assert client.post("/login", data={"username": "KisAnna", "password": PASSWORD}).status_code
    assert client.get("/my-data").get_data(True) == "Hello, KisAnna"


def test_the_flask_login_app_after(examples):
    after = example("flask_login_after")
    app: Flask = after.app
    migrate(app)
    client = app.test_client()
    assert client.get("/my-data").location == "/kapu/login?next=/my-data"
    with app.app_context():  # (the quickstart's app shares this instance folder: not KisAnna)
        after.kapu.register("NagyBela", "bela@example.hu")
    outbox = state_of(app).mailer
    assert isinstance(outbox, OutboxMailer)  # no MAIL_SERVER
    mail = outbox.messages[-1]
    (code,) = ACTIVATION_CODE.findall(mail.get_body(("plain",)).get_content())
    api = Api(client)
    api.call("POST", "/activate", {"username": "NagyBela", "code": code, "new_password": PASSWORD})
    assert client.get("/my-data").get_data(True) == "Hello, NagyBela"
    state_of(app).deps.store.dispose()


def test_flask_kapu_keeps_an_apps_own_login_manager_as_the_page_says(tmp_path):
    app = Flask("has_login_manager")
    app.config.update(FAST, KAPU_DATABASE_URL=db_url(tmp_path))
    manager = LoginManager(app)
    Kapu(app)
    assert app.login_manager is manager
    assert "own\n`LoginManager` and keeps it" in page_text("existing-app.md")
    state_of(app).deps.store.dispose()


def test_the_template_overrides(tmp_path):
    outbox = OutboxMailer()
    kapu = Kapu(mailer=outbox)
    app = Flask("town_hall", template_folder=str(EXAMPLES / "templates"))
    app.config.update(FAST, KAPU_DATABASE_URL=db_url(tmp_path))
    kapu.init_app(app)
    migrate(app)
    page = app.test_client().get("/kapu/login").get_data(True)
    assert "Példaváros e-ügyintézés</a>" in page
    assert "<footer>Példaváros Polgármesteri Hivatala" in page
    assert 'name="password"' in page  # flask_kapu's own form, in the town's layout
    with app.app_context():
        kapu.register("KisAnna", "anna@example.hu")
    (mail,) = outbox.messages
    text = mail.get_body(("plain",)).get_content()
    assert "Példaváros ügyfélszolgálata: +36 1 555 0199" in text
    (code,) = ACTIVATION_CODE.findall(text)
    assert code in mail.get_body(("html",)).get_content()  # the HTML part is flask_kapu's
    state_of(app).deps.store.dispose()


def test_the_alembic_include_object_example(examples, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    include_object = example("alembic_env").include_object
    engine = create_engine(db_url(tmp_path))
    upgrade(engine)  # flask_kapu's tables, in the host's database
    host = MetaData()
    Table("host_user", host, Column("id", Integer, primary_key=True), Column("name", String(50)))
    with engine.connect() as connection:
        unguarded = compare_metadata(MigrationContext.configure(connection), host)
        guarded = compare_metadata(
            MigrationContext.configure(connection, opts={"include_object": include_object}), host
        )
    assert any(d[0] == "remove_table" and d[1].name.startswith("kapu_") for d in unguarded)
    assert [(d[0], d[1].name) for d in guarded] == [("add_table", "host_user")]
    engine.dispose()


def test_the_settings_example(tmp_path):
    app = Flask("configured")
    app.config.update(FAST, KAPU_DATABASE_URL=db_url(tmp_path))
    app.config.from_pyfile(str(EXAMPLES / "settings.py"))
    Kapu(app)
    with app.app_context():
        config = Kapu.config()
    assert config.sunset == datetime(2026, 1, 15, 23, 0, tzinfo=timezone.utc)  # Budapest midnight
    assert config.plusz_max_age == timedelta(hours=1)
    assert config.email_code_ttl == timedelta(minutes=5)
    assert config.help_text.startswith("Ügyfélszolgálat")
    state_of(app).deps.store.dispose()


def test_the_configuration_page_error_message():
    page = page_text("configuration.md")
    (line,) = re.findall(r"^flask_kapu\.errors\.KapuConfigError: (.*)$", page, re.M)
    with pytest.raises(KapuConfigError) as error:
        load_config({"SECRET_KEY": "x", "KAPU_EMAIL_CODE_TTLL": 60})
    assert str(error.value) == line
    for rate in ("30 per minute", "5 per hour", "10/minute;100/day"):
        assert load_config({"KAPU_RATELIMIT_SECRETS": rate}).ratelimit_secrets == rate
    with pytest.raises(KapuConfigError, match="timezone-aware"):
        load_config({"KAPU_PLUSZ_REQUIRED_FROM": datetime(2026, 1, 16)})
    assert load_config({"KAPU_PLUSZ_REQUIRED_FROM": date(2026, 1, 16)}).sunset is not None


def test_the_host_test_suite_example_passes(examples, tmp_path):
    for name, target in (
        ("portal.py", "portal.py"),
        ("portal_views.py", "portal_views.py"),
        ("host_conftest.py", "conftest.py"),
        ("host_test_views.py", "test_views.py"),
    ):
        shutil.copy(EXAMPLES / name, tmp_path / target)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def _shell_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAPU_", "FLASK_", "MAIL_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        SECRET_KEY="docs test secret",
        KAPU_DATABASE_URL=db_url(tmp_path),
        KAPU_WEBAUTHN_RP_ID="ugyfelkapu.example.hu",
        KAPU_WEBAUTHN_ORIGINS="https://ugyfelkapu.example.hu",
    )
    return env


def test_the_cli_session_runs(tmp_path):
    for name in ("portal.py", "portal_views.py", "cli_session.sh"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-e", "cli_session.sh"],
        cwd=tmp_path,
        env=_shell_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Registered KisAnna.\nMAIL_SERVER is not set, so the activation mail" in result.stdout
    assert "To: anna@example.hu" in result.stdout  # without MAIL_SERVER the mail is shown
    assert "Unlocked KisAnna." in result.stdout
    assert "Re-sealed 0 authenticator keys." in result.stdout
    assert result.stdout.startswith("flask_kapu database is up to date.")


def test_the_cli_page_error_example(tmp_path):
    shutil.copy(EXAMPLES / "quickstart.py", tmp_path / "quickstart.py")
    text = page_text("cli.md")
    (command, message) = re.findall(r"^\$ (flask kapu .*)\n(Error: .*)$", text, re.M)[0]
    env = _shell_env(tmp_path)
    env["FLASK_APP"] = "quickstart"
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run([flask, "kapu", "db", "upgrade"], cwd=tmp_path, env=env, check=True)
    program, *arguments = command.split()
    assert program == "flask"
    result = subprocess.run(
        [flask, *arguments], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert result.stderr.strip() == message
    assert "Traceback" not in result.stderr


def test_the_python_one_liners_run():
    commands = []
    for source in PAGES:
        for block in fenced_blocks(source.read_text("utf-8"), "sh"):
            commands += re.findall(r'^python -c "(.*)"$', block, re.MULTILINE)
    assert len(commands) == 3
    env = {**os.environ, "SECRET_KEY": "docs test secret"}
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        for code in commands
    ]
    templates, new_key, derived = outputs
    assert Path(templates, "kapu", "login.html").exists()
    Fernet(new_key.encode())
    assert derived == derive_key("docs test secret").decode()


# security.md: the key rotations ---------------------------------------------------------------


def _login_with_totp(app: Flask, who: Any, step: int = 0) -> int:
    """Log in with password and authenticator code; the status of the second step.

    ``step=1`` types the code of the next 30-second step (still accepted), so that a
    second login within the same step does not replay the first one's code.
    """
    import pyotp

    api = Api(app.test_client())
    api.call("POST", "/login", {"username": who.username, "password": who.password})
    code = pyotp.TOTP(who.totp_secret).at(time.time() + 30 * step)
    status: int = api.call("POST", "/plusz/totp/verify", {"code": code}).status_code
    return status


def _portal_with(examples: Path, app: Flask, **config: Any) -> Flask:
    url = app.config["KAPU_DATABASE_URL"]
    return example("portal").create_app({**FAST, "KAPU_DATABASE_URL": url, **config})


def _rotate(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["kapu", "rotate-keys"])
    assert result.exit_code == 0, result.output
    return str(result.output)


@pytest.mark.parametrize("app", [{"SECRET_KEY": "the old secret"}], indirect=True)
def test_rotating_the_secret_key(examples, app, kapu_account):
    who = kapu_account()  # its authenticator key is sealed under the old secret
    rotating = _portal_with(
        examples, app, SECRET_KEY="the new secret", SECRET_KEY_FALLBACKS=["the old secret"]
    )
    assert _login_with_totp(rotating, who) == 200  # the fallback still opens it
    assert _rotate(rotating) == "Re-sealed 1 authenticator keys.\n"
    done = _portal_with(examples, app, SECRET_KEY="the new secret")
    assert _login_with_totp(done, who, step=1) == 200


def test_moving_to_encryption_keys_of_your_own(examples, app, kapu_account):
    who = kapu_account()
    secret = app.config["SECRET_KEY"]
    new = Fernet.generate_key().decode()
    both = _portal_with(examples, app, KAPU_ENCRYPTION_KEYS=[new, derive_key(secret).decode()])
    assert _rotate(both) == "Re-sealed 1 authenticator keys.\n"
    only_new = _portal_with(examples, app, KAPU_ENCRYPTION_KEYS=[new])
    assert _login_with_totp(only_new, who) == 200


# the Python blocks written into the pages --------------------------------------------------


class FakeRegistryClient:
    def find_card(self, document_id: str, registration_code: str) -> None:
        return None


Namespace = tuple[dict[str, Any], Callable[[], None]]


def _decorators_namespace(tmp_path: Path) -> Namespace:
    app = Flask("snippet")
    app.config.update(FAST, KAPU_DATABASE_URL=db_url(tmp_path))
    names = {
        "app": app,
        "Kapu": Kapu,
        "kapu": Kapu(),
        "RegistryAdapter": example("card_registry").RegistryAdapter,
        "client": FakeRegistryClient(),
        "QueueMailer": example("mailers").QueueMailer,
        "outgoing_mail": queue.Queue(),
        "SmsFactor": example("sms_factor").SmsFactor,
        "sms_gateway": SmsProvider(),
        "datetime": datetime,
        "timezone": timezone,
    }

    def done() -> None:
        if "kapu" in app.extensions:
            state_of(app).deps.store.dispose()

    return names, done


def _migrating_namespace(tmp_path: Path) -> Namespace:
    kapu = Kapu(mailer=OutboxMailer())
    app = fresh_app(tmp_path, kapu)
    context = app.app_context()
    context.push()
    names = {
        "kapu": kapu,
        "register_existing_users": example("migrate_users").register_existing_users,
    }

    def done() -> None:
        assert names["account_ids"] == {"KisAnna": 1}
        assert names["needs_attention"] == {}
        context.pop()
        state_of(app).deps.store.dispose()

    return names, done


SNIPPET_NAMESPACES: dict[str, Callable[[Path], Namespace]] = {
    "decorators.md": _decorators_namespace,
    "migrating-flask-login.md": _migrating_namespace,
}


@pytest.mark.parametrize(
    ("page", "index"),
    [
        (source.name, i)
        for source in PAGES
        for i, _ in enumerate(fenced_blocks(source.read_text("utf-8"), "python"))
    ],
)
def test_every_python_block_in_a_page_runs(examples, tmp_path, page, index):
    assert page in SNIPPET_NAMESPACES, f"{page}: give its Python blocks a namespace here"
    block = fenced_blocks(page_text(page), "python")[index]
    names, done = SNIPPET_NAMESPACES[page](tmp_path)
    exec(compile(block, f"{page}[{index}]", "exec"), names)  # noqa: S102 - our own docs
    done()


# --- adding flask_kapu to an app that has users (existing-app.md) ---------------------------

LEGACY_FIRST_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "l001"
down_revision = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
    )
"""


def test_the_existing_app_walkthrough_runs(tmp_path, monkeypatch):
    """The page's app, its env.py and its revision: both histories migrate side by side,
    autogenerate finds nothing to do, and a citizen signs in as the app's own user."""
    site = tmp_path / "site"  # the app's folder, its instance folder inside
    site.mkdir()
    shutil.copy(EXAMPLES / "legacy_site.py", site)
    spec = importlib.util.spec_from_file_location("legacy_site", site / "legacy_site.py")
    assert spec is not None
    assert spec.loader is not None
    legacy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "legacy_site", legacy)
    spec.loader.exec_module(legacy)
    app: Flask = legacy.create_app(
        {**FAST, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite3'}"}
    )
    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "alembic.ini").write_text("[alembic]\n")
    shutil.copy(EXAMPLES / "legacy_env.py", migrations / "env.py")
    (migrations / "versions" / "l001_users.py").write_text(LEGACY_FIRST_REVISION)
    shutil.copy(EXAMPLES / "legacy_revision.py", migrations / "versions" / "l002_links.py")
    legacy.migrate.directory = str(migrations)  # the reader's ./migrations
    runner = app.test_cli_runner()
    for command in (["kapu", "db", "upgrade"], ["db", "upgrade"], ["db", "check"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, (command, result.output)

    with app.app_context():  # a user from before flask_kapu, with the app's own hash
        legacy.db.session.add(
            legacy.User(
                email="anna@example.hu",
                username="KisAnna",
                password_hash=generate_password_hash("Regi-Jelszo-2019"),
            )
        )
        legacy.db.session.commit()
    shutil.copy(EXAMPLES / "legacy_users.py", site)
    monkeypatch.syspath_prepend(str(site))
    imported = runner.invoke(args=["kapu", "import-users", "--from-host", "legacy_users:users"])
    assert imported.exit_code == 0, imported.output
    assert "row 1: created KisAnna" in imported.output
    again = runner.invoke(args=["kapu", "import-users", "--from-host", "legacy_users:users"])
    assert "row 1: unchanged KisAnna" in again.output

    client = app.test_client()
    token = client.get("/kapu/api/session").get_json()["csrf_token"]
    login = client.post(
        "/kapu/api/login",
        json={"username": "KisAnna", "password": "Regi-Jelszo-2019"},
        headers={"X-CSRFToken": token},
    )
    assert login.status_code == 200, login.get_json()
    assert client.get("/profile").get_json() == {"user": "KisAnna", "account": "KisAnna"}
    with state_of(app).deps.store.reading() as repo:
        account = repo.account_by_username("KisAnna")
    assert account is not None
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")  # the old hash is gone
    assert client.get("/notes").get_json() == {"notes": []}
    state_of(app).deps.store.dispose()
    with app.app_context():
        legacy.db.engine.dispose()


# --- the single-page app example, in Chromium ------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return int(sock.getsockname()[1])


@pytest.mark.browser
@pytest.mark.parametrize("app", [{"variant": "spa"}], indirect=True)
@pytest.mark.parametrize("methods", [("totp",), ("email",)], ids=["authenticator", "email"])
def test_the_spa_example_logs_in_and_steps_up(
    app, kapu_account, kapu_outbox, kapu_totp_code, methods
):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    from werkzeug.serving import make_server

    who = kapu_account(methods=methods)
    prompts: list[str] = []

    def answer(dialog: Any) -> None:
        prompts.append(dialog.message)
        if "authenticator" in dialog.message:
            dialog.accept(kapu_totp_code(who))
        else:
            mail = kapu_outbox.to(who.account.email)[-1]
            dialog.accept(SIX_DIGITS.findall(mail.get_body(("plain",)).get_content())[0])

    server = make_server("localhost", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page()
                page.set_default_timeout(15_000)
                page.on("dialog", answer)
                page.goto(f"http://localhost:{server.server_port}/spa")
                page.fill("input[name=username]", who.username)
                page.fill("input[name=password]", who.password)
                page.click("button")
                page.wait_for_function("document.querySelector('#result').textContent !== ''")
                result = page.text_content("#result")
            finally:
                browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert result == "Your tax return is due on 2026-05-20.", result
    if methods == ("email",):
        (prompt,) = prompts
        mail = kapu_outbox.to(who.account.email)[-1].get_body(("plain",)).get_content()
        hint = re.search(r"session ID (\d{3})", prompt)
        assert hint
        assert hint.group(1) in mail
    else:
        assert prompts == ["Type the 6-digit code from your authenticator app:"]


def test_the_spa_example_uses_only_documented_endpoints():
    paths = set(document("/kapu/api")["paths"])
    used = re.findall(r'kapu\("(?:GET|POST)", "([^"]+)"', (EXAMPLES / "spa_login.js").read_text())
    assert used
    for path in used:
        assert f"/kapu/api{path}" in paths, path


# --- (c) the quickstart, followed literally in a fresh virtual environment -----------------


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - http://localhost only
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.skipif(
    os.environ.get("KAPU_TEST_QUICKSTART") != "1",
    reason="installs flask_kapu into a new virtual environment (about a minute): "
    "set KAPU_TEST_QUICKSTART=1",
)
def test_the_quickstart_in_a_fresh_virtual_environment(tmp_path):
    venv = tmp_path / ".venv"
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAPU_", "FLASK_", "MAIL_"))}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=tmp_path, env=env, check=True, timeout=900, capture_output=True, text=True
        )

    # python3 -m venv .venv && . .venv/bin/activate && pip install flask-kapu
    # (from this checkout: the release is not on PyPI yet)
    run(sys.executable, "-m", "venv", str(venv))
    run(str(bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check", str(ROOT))
    shutil.copy(EXAMPLES / "quickstart.py", tmp_path / "quickstart.py")
    upgraded = run(str(bin_dir / "flask"), "--app", "quickstart", "kapu", "db", "upgrade")
    assert upgraded.stdout.strip() == "flask_kapu database is up to date."
    assert (tmp_path / "instance" / "kapu.sqlite3").exists()
    port = 5000
    with socket.socket() as sock:
        if sock.connect_ex(("localhost", port)) == 0:
            port = free_port()  # 5000 is taken here; the walk does not need passkeys
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [str(bin_dir / "flask"), "--app", "quickstart", "run", "--debug", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the reloader runs a child
        )
        try:
            base = f"http://localhost:{port}"
            _wait_for(base + "/")
            walk_the_quickstart(UrllibHttp(base))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
