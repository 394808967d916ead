"""flask_kapu in an app with a Flask-Login LoginManager of its own (tests/legacy_app).

The host's ``current_user`` is the host's ``User`` for the signed-in citizen;
``current_account`` is their Ügyfélkapu account; every way flask_kapu ends a
login ends the host's login too.
"""

from __future__ import annotations

import pyotp
import pytest
from conftest import Api, csrf_from, forget_keys
from flask import Flask
from flask_login import LoginManager
from legacy_app import User, db, login_manager
from sqlalchemy import event, select
from werkzeug.security import generate_password_hash

from flask_kapu import Kapu, KapuConfigError
from flask_kapu.auth import user_for
from flask_kapu.store import Account
from flask_kapu.testing import TestAccount, make_account

PASSWORD = "Regi-Jelszo-2019"


@pytest.fixture
def anna(legacy_app: Flask) -> TestAccount:
    """An active account with no second factor: a password login is a whole login."""
    return make_account(
        legacy_app.extensions["kapu"].deps, "KisAnna", email="anna@example.hu", methods=()
    )


@pytest.fixture
def anna_with_totp(legacy_app: Flask) -> TestAccount:
    return make_account(
        legacy_app.extensions["kapu"].deps,
        "KisAnna",
        email="anna@example.hu",
        methods=("totp", "email"),
    )


def host_user(app: Flask, username: str, email: str) -> int:
    """A user the host had before flask_kapu, with a werkzeug password hash."""
    with app.app_context():
        user = User(username=username, email=email, password_hash=generate_password_hash(PASSWORD))
        db.session.add(user)
        db.session.commit()
        return user.id


def sign_in(api: Api, who: TestAccount) -> None:
    response = api.post("/login", {"username": who.username, "password": who.password})
    assert response.status_code == 200, response.get_json()


def sign_in_plusz(api: Api, who: TestAccount, clock) -> None:
    sign_in(api, who)
    assert who.totp_secret is not None
    code = pyotp.TOTP(who.totp_secret).at(clock())
    response = api.post("/plusz/totp/verify", {"code": code})
    assert response.status_code == 200, response.get_json()


def test_the_host_keeps_its_own_login_manager(legacy_app):
    assert legacy_app.login_manager is login_manager


def test_signing_in_makes_the_hosts_user_for_the_same_email_current(legacy_app, legacy_api, anna):
    user_id = host_user(legacy_app, "anna.old_1", "Anna@Example.hu")

    sign_in(legacy_api, anna)
    profile = legacy_api.client.get("/profile")

    assert profile.status_code == 200
    assert profile.get_json() == {
        "user_id": user_id,
        "username": "anna.old_1",
        "account": "KisAnna",
    }
    with legacy_app.app_context():
        assert db.session.get(User, user_id).kapu_account_id == anna.account.id


def test_a_first_sign_in_creates_the_hosts_user(legacy_app, legacy_api, anna):
    sign_in(legacy_api, anna)

    profile = legacy_api.client.get("/profile").get_json()

    with legacy_app.app_context():
        user = db.session.scalar(select(User).where(User.kapu_account_id == anna.account.id))
    assert profile == {"user_id": user.id, "username": "KisAnna", "account": "KisAnna"}


def test_signing_in_through_the_pages_logs_the_host_in(legacy_client, anna):
    page = legacy_client.get("/kapu/login").get_data(as_text=True)
    response = legacy_client.post(
        "/kapu/login",
        data={"csrf_token": csrf_from(page), "username": "KisAnna", "password": anna.password},
    )

    assert response.status_code == 302
    assert legacy_client.get("/profile").get_json()["account"] == "KisAnna"


def test_the_hosts_login_required_sends_a_guest_to_flask_kapus_login(legacy_client):
    response = legacy_client.get("/profile")

    assert response.status_code == 302
    assert response.location.startswith("/kapu/login")


def test_a_login_waiting_for_its_second_factor_is_no_host_login(legacy_api, anna_with_totp):
    sign_in(legacy_api, anna_with_totp)

    assert legacy_api.client.get("/profile").status_code == 302


def test_logging_out_of_flask_kapu_logs_out_of_the_host(legacy_api, anna):
    sign_in(legacy_api, anna)

    assert legacy_api.post("/logout").status_code == 204
    assert legacy_api.client.get("/profile").status_code == 302


def test_a_password_change_ends_the_hosts_other_sessions_and_keeps_this_one(
    legacy_app, legacy_api, anna
):
    other = Api(legacy_app.test_client())
    sign_in(legacy_api, anna)
    sign_in(other, anna)

    changed = legacy_api.post(
        "/password/change", {"current_password": anna.password, "new_password": "Uj-Jelszo-2026!"}
    )

    assert changed.status_code == 200, changed.get_json()
    assert legacy_api.client.get("/profile").status_code == 200
    assert other.client.get("/profile").status_code == 302
    assert other.session()["authenticated"] is False


def test_removing_a_factor_ends_the_hosts_other_sessions(
    legacy_app, legacy_api, anna_with_totp, clock
):
    other = Api(legacy_app.test_client())
    sign_in_plusz(legacy_api, anna_with_totp, clock)
    clock.advance(seconds=30)  # a TOTP code counts once
    sign_in_plusz(other, anna_with_totp, clock)
    factors = legacy_api.client.get("/kapu/api/factors").get_json()["factors"]
    email = next(f for f in factors if f["method"] == "email")

    removed = legacy_api.client.delete(
        f"/kapu/api/factors/{email['id']}", headers={"X-CSRFToken": legacy_api.csrf}
    )

    assert removed.status_code == 204
    assert legacy_api.client.get("/tax-return").status_code == 200
    assert other.client.get("/profile").status_code == 302


def test_a_new_session_epoch_ends_the_hosts_session(legacy_app, legacy_api, anna):
    sign_in(legacy_api, anna)
    with legacy_app.app_context(), legacy_app.extensions["kapu"].deps.store.transaction() as repo:
        repo.bump_session_epoch(repo.session.get(Account, anna.account.id))

    assert legacy_api.client.get("/profile").status_code == 302
    assert legacy_api.client.get("/").get_data(as_text=True) == "Hello, guest"


def test_the_hosts_own_login_of_another_user_ends_flask_kapus_login(legacy_app, legacy_api, anna):
    host_user(legacy_app, "bela", "bela@example.hu")
    sign_in(legacy_api, anna)

    legacy_api.client.post("/legacy-login", data={"username": "bela", "password": PASSWORD})

    assert legacy_api.client.get("/profile").get_json()["username"] == "bela"
    assert legacy_api.client.get("/profile").get_json()["account"] is None
    assert legacy_api.session()["authenticated"] is False


@pytest.mark.parametrize(
    ("path", "while_pending"),
    [
        ("/tax-return", "/kapu/login"),  # Flask-Login's login_required outside: its login_view
        ("/mandates", "/kapu/plusz"),  # requires_plusz outside: straight to the second factor
    ],
)
def test_requires_plusz_stacks_with_flask_logins_login_required_either_way(
    legacy_api, anna_with_totp, clock, path, while_pending
):
    assert legacy_api.client.get(path).location.startswith("/kapu/login")
    sign_in(legacy_api, anna_with_totp)
    assert legacy_api.client.get(path).location.startswith(while_pending)

    code = pyotp.TOTP(anna_with_totp.totp_secret).at(clock())
    legacy_api.post("/plusz/totp/verify", {"code": code})

    response = legacy_api.client.get(path)
    assert response.status_code == 200
    assert response.get_data(as_text=True).endswith("of KisAnna")


@pytest.mark.parametrize("path", ["/tax-return", "/mandates"])
def test_a_login_without_plusz_is_sent_to_enrol_whichever_decorator_is_outside(
    legacy_api, anna, path
):
    sign_in(legacy_api, anna)

    response = legacy_api.client.get(path)

    assert response.status_code == 302
    assert response.location.startswith("/kapu/security")


def test_a_request_loads_the_account_with_one_query(legacy_app, legacy_api, anna):
    sign_in(legacy_api, anna)
    statements: list[str] = []
    engine = legacy_app.extensions["kapu"].deps.store.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert legacy_api.client.get("/profile").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert len(statements) == 1, statements


def test_an_app_with_its_own_login_manager_must_say_how_an_account_maps_to_its_user(
    database_url, anna
):
    forget_keys(database_url)
    app = Flask("no_hook")
    app.config.update(SECRET_KEY="another key", TESTING=True, KAPU_DATABASE_URL=database_url)
    LoginManager(app).user_loader(lambda _user_id: None)
    Kapu(app)

    with app.test_request_context(), pytest.raises(KapuConfigError, match="user_for_account"):
        user_for(anna.account)
    app.extensions["kapu"].deps.store.dispose()


# --- the pytest plugin in such an app ------------------------------------------------------


@pytest.fixture
def app(legacy_app: Flask) -> Flask:
    """The plugin's fixtures (``kapu_account``, ``kapu_login``) work on the host's app."""
    return legacy_app


def test_the_plugins_login_makes_the_hosts_user_current(
    legacy_app, legacy_client, kapu_account, kapu_login
):
    who = kapu_account(email="plugin@example.hu")

    kapu_login(legacy_client, who)

    profile = legacy_client.get("/profile").get_json()
    assert profile["account"] == who.account.username
    with legacy_app.app_context():
        user = db.session.get(User, profile["user_id"])
        assert user is not None
        assert user.email == "plugin@example.hu"
