"""``Kapu`` in a host app: init_app, its checks, the Python API and ``login_required``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import STRONG_PASSWORD, Api, code_in, empty_tables, forget_keys, make_app
from cryptography.fernet import Fernet
from flask import Flask
from flask_login import LoginManager
from sqlalchemy import inspect
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_kapu import DemoRegistry, Kapu, KapuConfigError, KapuError, current_account
from flask_kapu import login_required as kapu_login_required
from flask_kapu.crypto import derive_key
from flask_kapu.store import AccountStatus
from flask_kapu.store.migrate import upgrade

FAST_HASHING = {
    "KAPU_ARGON2_TIME_COST": 1,
    "KAPU_ARGON2_MEMORY_COST": 8,
    "KAPU_ARGON2_PARALLELISM": 1,
}


def host_app(name: str, tmp_path: Path, **config: Any) -> Flask:
    """A bare host app with its own instance folder and a valid minimal config."""
    app = Flask(name, instance_path=str(tmp_path / f"{name}-instance"))
    app.config.update(SECRET_KEY="host secret", TESTING=True, **FAST_HASHING)
    app.config.update(config)
    return app


def refused(app: Flask, kapu: Kapu | None = None) -> KapuConfigError:
    with pytest.raises(KapuConfigError) as caught:
        (kapu or Kapu()).init_app(app)
    return caught.value


def dispose(*apps: Flask) -> None:
    for app in apps:
        state = app.extensions["kapu"]
        state.notifier.wait()
        state.deps.store.dispose()


class RecordingMailer:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def send(self, message: Any) -> None:
        self.messages.append(message)


# --- the app-factory pattern -------------------------------------------------------------------


def test_one_kapu_serves_two_factory_built_apps_each_under_its_own_prefix(tmp_path):
    kapu = Kapu(registry=DemoRegistry())
    mailer = RecordingMailer()
    kapu.mailer = mailer

    def create_app(name: str, prefix: str) -> Flask:
        app = host_app(
            name,
            tmp_path,
            KAPU_URL_PREFIX=prefix,
            KAPU_DATABASE_URL=f"sqlite:///{tmp_path / name}.sqlite3",
        )
        kapu.init_app(app)
        upgrade(app.extensions["kapu"].deps.store.engine)
        return app

    ugyfel, hivatal = create_app("ugyfel", "/ugyfel"), create_app("hivatal", "/hivatal/belepes")
    try:
        assert ugyfel.test_client().get("/ugyfel/login").status_code == 200
        assert ugyfel.test_client().get("/ugyfel/api/session").status_code == 200
        assert ugyfel.test_client().get("/kapu/login").status_code == 404
        assert ugyfel.test_client().get("/hivatal/belepes/login").status_code == 404
        assert hivatal.test_client().get("/hivatal/belepes/login").status_code == 200
        assert hivatal.test_client().get("/hivatal/belepes/api/session").status_code == 200
        assert hivatal.test_client().get("/ugyfel/login").status_code == 404

        with ugyfel.app_context():
            kapu.register("KisAnna", "anna@example.hu")
        with hivatal.app_context():
            kapu.register("KisAnna", "anna.hivatal@example.hu")

        for app, email in ((ugyfel, "anna@example.hu"), (hivatal, "anna.hivatal@example.hu")):
            with app.extensions["kapu"].deps.store.transaction() as repo:
                assert repo.account_by_username("KisAnna").email == email
        assert [m["To"] for m in mailer.messages] == [
            "anna@example.hu",
            "anna.hivatal@example.hu",
        ]
    finally:
        dispose(ugyfel, hivatal)


def test_init_app_twice_on_one_app_is_refused(tmp_path):
    app = host_app("host", tmp_path)
    kapu = Kapu(app)
    try:
        assert refused(app, kapu)
        assert refused(app)  # nor by a second Kapu
    finally:
        dispose(app)


# --- configuration checked at init_app ---------------------------------------------------------


@pytest.mark.parametrize("key", ["KAPU_DATABSE_URL", "KAPU_MAX_FAILED_ATTEMPT", "KAPU_"])
def test_an_unknown_kapu_key_is_refused_naming_it(tmp_path, key):
    app = host_app("host", tmp_path, **{key: "x"})

    error = refused(app)

    assert key in str(error)
    assert error.key == key
    assert "kapu" not in app.extensions


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KAPU_MAX_FAILED_ATTEMPTS", "5"),
        ("KAPU_ACTIVATION_CODE_TTL", "5 days"),
        ("KAPU_URL_PREFIX", 42),
        ("KAPU_PLUSZ_REQUIRED_FROM", "2025-01-16"),
        ("KAPU_PASSWORD_REQUIRE_MIXED_CASE", "yes"),
    ],
)
def test_a_wrongly_typed_kapu_value_is_refused_naming_the_key(tmp_path, key, value):
    app = host_app("host", tmp_path, **{key: value})

    error = refused(app)

    assert key in str(error)
    assert error.key == key
    assert "kapu" not in app.extensions


@pytest.mark.parametrize("secret", [None, ""], ids=["missing", "empty"])
def test_an_app_without_secret_key_is_refused_naming_secret_key(tmp_path, secret):
    app = host_app("host", tmp_path, SECRET_KEY=secret)

    error = refused(app)

    assert "SECRET_KEY" in str(error)
    assert error.key == "SECRET_KEY"


def test_a_config_error_is_a_kapu_error():
    assert issubclass(KapuConfigError, KapuError)


def test_a_refused_init_app_leaves_the_app_usable_once_the_config_is_fixed(tmp_path):
    app = host_app("host", tmp_path, KAPU_MAX_FAILED_ATTEMPTS="5")
    refused(app)

    app.config["KAPU_MAX_FAILED_ATTEMPTS"] = 5
    Kapu(app)
    try:
        assert app.extensions["kapu"].config.max_failed_attempts == 5
        assert app.test_client().get("/kapu/login").status_code == 200
    finally:
        dispose(app)


def test_an_app_with_its_own_flask_login_manager_keeps_it(tmp_path):
    app = host_app("host", tmp_path)
    manager = LoginManager(app)

    Kapu(app)

    assert app.login_manager is manager
    dispose(app)


# --- the default database ----------------------------------------------------------------------


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path):
    app = host_app("host", tmp_path)
    mailer = RecordingMailer()
    kapu = Kapu(app, mailer=mailer)
    instance = Path(app.instance_path)
    try:
        engine = app.extensions["kapu"].deps.store.engine
        assert engine.dialect.name == "sqlite"
        assert Path(engine.url.database) == instance / "kapu.sqlite3"

        assert app.test_cli_runner().invoke(args=["kapu", "db", "upgrade"]).exit_code == 0
        with app.app_context():
            kapu.register("KisAnna", "anna@example.hu")

        assert (instance / "kapu.sqlite3").is_file()
        assert "kapu_account" in inspect(engine).get_table_names()
        assert [m["To"] for m in mailer.messages] == ["anna@example.hu"]
    finally:
        dispose(app)


# --- kapu.register: office registration from Python ---------------------------------------------


@pytest.fixture
def host(database_url, smtp_server, clock):
    """The conftest host app, with its Kapu object at hand."""
    app, kapu = make_app(database_url, smtp_server[1])
    kapu.clock = clock
    state = app.extensions["kapu"]
    empty_tables(state)
    state.limiter.reset()
    yield app, kapu
    dispose(app)


def test_register_creates_a_pending_account_and_mails_its_activation_code(host, mailbox):
    app, kapu = host

    with app.app_context():
        account = kapu.register("KisAnna", "anna@example.hu", person={"family_name": "Kiss"})

    assert account.username == "KisAnna"
    assert account.status == AccountStatus.PENDING.value
    with app.extensions["kapu"].deps.store.transaction() as repo:
        stored = repo.account_by_username("KisAnna")
    assert stored.status == AccountStatus.PENDING.value
    assert stored.registered_via == "office"
    assert stored.person == {"family_name": "Kiss"}
    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    api = Api(app.test_client())
    activated = api.post(
        "/activate", {"username": "KisAnna", "code": code, "new_password": STRONG_PASSWORD}
    )
    assert activated.status_code == 200


@pytest.mark.parametrize("username", ["Kis Anna", "Ann", "Béla42", "mama"])
def test_register_raises_a_kapu_error_on_a_bad_username_and_creates_nothing(
    host, mailbox, username
):
    app, kapu = host

    with app.app_context(), pytest.raises(KapuError) as caught:
        kapu.register(username, "anna@example.hu")

    assert type(caught.value) is not KapuError
    with app.extensions["kapu"].deps.store.transaction() as repo:
        assert repo.account_by_username(username) is None
    assert mailbox.wait_for("anna@example.hu", timeout=0.2) == []


def test_register_raises_a_kapu_error_on_a_username_taken_in_another_case(host, mailbox):
    app, kapu = host
    with app.app_context():
        kapu.register("KisAnna", "anna@example.hu")

    with app.app_context(), pytest.raises(KapuError):
        kapu.register("kisanna", "masik@example.hu")

    assert mailbox.wait_for("masik@example.hu", timeout=0.2) == []


def test_register_error_message_names_the_field_that_is_wrong(host):
    app, kapu = host

    with app.app_context(), pytest.raises(KapuError) as caught:
        kapu.register("Kis Anna", "anna@example.hu")

    assert "username" in str(caught.value)


# --- login_required on a host view --------------------------------------------------------------


@pytest.fixture
def app(app):
    """The conftest app with a protected host view."""

    @app.route("/ugyeim", methods=["GET", "POST"])
    @kapu_login_required
    def my_cases() -> str:
        return f"ügyei: {current_account.username}"

    return app


def test_an_anonymous_browser_is_sent_to_the_login_page_with_next(client):
    response = client.get("/ugyeim?ev=2025", headers={"Accept": "text/html"})

    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/kapu/login"
    assert parse_qs(target.query) == {"next": ["/ugyeim?ev=2025"]}


@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param({"method": "GET", "headers": {"Accept": "application/json"}}, id="accept"),
        pytest.param({"method": "POST", "json": {"ev": 2025}}, id="json-body"),
    ],
)
def test_an_anonymous_json_client_gets_401_login_required_problem(client, request_kwargs):
    response = client.open("/ugyeim", **request_kwargs)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401
    assert body["code"] == "login_required"


def test_a_logged_in_account_reaches_the_protected_view(client, api, active):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})

    response = client.get("/ugyeim")

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ügyei: KisAnna"


def test_a_logged_out_account_is_refused_again(client, api, active):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    api.post("/logout")

    response = client.get("/ugyeim", headers={"Accept": "application/json"})

    assert response.status_code == 401


def test_an_unauthorized_handler_given_before_init_app_replaces_the_refusal(tmp_path):
    kapu = Kapu()

    @kapu.unauthorized_handler
    def refuse() -> Any:
        return "jelentkezzen be az ügyfélkapun", 403

    app = host_app("host", tmp_path)
    kapu.init_app(app)

    @app.get("/ugyeim")
    @kapu_login_required
    def my_cases() -> str:
        return "ügyei"

    try:
        for headers in ({"Accept": "text/html"}, {"Accept": "application/json"}):
            response = app.test_client().get("/ugyeim", headers=headers)
            assert response.status_code == 403
            assert response.get_data(as_text=True) == "jelentkezzen be az ügyfélkapun"
    finally:
        dispose(app)


def test_an_unauthorized_handler_given_after_kapu_app_replaces_the_refusal(tmp_path):
    app = host_app("host", tmp_path)
    kapu = Kapu(app)

    @kapu.unauthorized_handler
    def refuse() -> Any:
        return "jelentkezzen be az ügyfélkapun", 403

    @app.get("/ugyeim")
    @kapu_login_required
    def my_cases() -> str:
        return "ügyei"

    try:
        response = app.test_client().get("/ugyeim")
        assert response.status_code == 403
        assert response.get_data(as_text=True) == "jelentkezzen be az ügyfélkapun"
    finally:
        dispose(app)


# --- the keys that protect stored secrets, checked at start ------------------------------------

NEW_FERNET_KEY = Fernet.generate_key().decode()


@pytest.fixture
def installation(database_url, smtp_server):
    """Start the conftest host app over a fresh database; ``restart(**config)`` starts it again."""
    started: list[Flask] = []

    def start(*, restart: bool = True, **config: Any) -> Flask:
        app, _kapu = make_app(database_url, smtp_server[1], restart=restart, **config)
        started.append(app)
        return app

    start(restart=False)
    yield start
    dispose(*started)
    forget_keys(database_url)


def restart_refused(installation, **config: Any) -> KapuConfigError:
    with pytest.raises(KapuConfigError) as caught:
        installation(**config)
    return caught.value


def test_a_restart_with_another_secret_key_is_refused_naming_it(installation):
    error = restart_refused(installation, SECRET_KEY="a brand new secret")

    assert error.key == "SECRET_KEY"
    assert "SECRET_KEY_FALLBACKS" in str(error)
    assert "test secret key" not in str(error)


def test_a_restart_with_the_old_key_as_fallback_starts(installation):
    app = installation(SECRET_KEY="a brand new secret", SECRET_KEY_FALLBACKS=["test secret key"])

    assert app.test_client().get("/kapu/login").status_code == 200


def test_after_rotate_keys_the_old_secret_key_can_be_dropped(installation):
    rotating = installation(
        SECRET_KEY="a brand new secret", SECRET_KEY_FALLBACKS=["test secret key"]
    )
    result = rotating.test_cli_runner().invoke(args=["kapu", "rotate-keys"])
    assert result.exit_code == 0, result.output

    installation(SECRET_KEY="a brand new secret")

    assert restart_refused(installation).key == "SECRET_KEY"  # the old key alone no longer fits


def test_own_encryption_keys_must_include_the_key_that_sealed_the_secrets(installation):
    error = restart_refused(installation, KAPU_ENCRYPTION_KEYS=[NEW_FERNET_KEY])

    assert error.key == "KAPU_ENCRYPTION_KEYS"
    assert "derive_key" in str(error)


def test_moving_to_own_encryption_keys_starts_with_the_derived_key_second(installation):
    derived = derive_key("test secret key").decode()

    installation(KAPU_ENCRYPTION_KEYS=[NEW_FERNET_KEY, derived])


def test_an_app_over_tables_not_created_yet_starts_and_db_upgrade_records_its_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'kapu.sqlite3'}"
    app = host_app("host", tmp_path, KAPU_DATABASE_URL=url)
    Kapu(app)
    try:
        assert app.test_cli_runner().invoke(args=["kapu", "db", "upgrade"]).exit_code == 0
    finally:
        dispose(app)

    error = refused(host_app("host", tmp_path, KAPU_DATABASE_URL=url, SECRET_KEY="another"))

    assert error.key == "SECRET_KEY"


def test_an_unreachable_database_at_start_is_logged_not_fatal(tmp_path, caplog):
    app = host_app("host", tmp_path, KAPU_DATABASE_URL="postgresql+psycopg://kapu@127.0.0.1:1/x")

    Kapu(app)

    try:
        assert "could not check its keys" in caplog.text
        assert app.test_client().get("/kapu/login").status_code == 200
    finally:
        dispose(app)


# --- behind a reverse proxy ----------------------------------------------------------------------


def test_trusted_proxies_wrap_the_app_in_proxy_fix_for_that_many_hops(tmp_path):
    app = host_app("host", tmp_path, KAPU_TRUSTED_PROXIES=2)
    Kapu(app)
    try:
        fix = app.wsgi_app
        assert isinstance(fix, ProxyFix)
        assert (fix.x_for, fix.x_proto, fix.x_host, fix.x_port, fix.x_prefix) == (2, 2, 2, 0, 0)
    finally:
        dispose(app)


def test_without_trusted_proxies_the_app_is_not_wrapped(tmp_path):
    app = host_app("host", tmp_path)
    plain = app.wsgi_app
    Kapu(app)
    try:
        assert app.wsgi_app == plain
    finally:
        dispose(app)


def test_a_host_that_set_up_proxy_fix_itself_keeps_its_own(tmp_path):
    app = host_app("host", tmp_path, KAPU_TRUSTED_PROXIES=1)
    own = ProxyFix(app.wsgi_app, x_for=1, x_prefix=1)
    app.wsgi_app = own  # type: ignore[method-assign]
    Kapu(app)
    try:
        assert app.wsgi_app is own
    finally:
        dispose(app)
