"""A browser that logged in before keeps its owner's way in while others lock the username.

Strangers share the username's lock; a browser holding the account's device
cookie is judged by a counter of its own, and is itself locked after as many
failures. A lock answers alike for unknown and existing usernames.
"""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie

import pyotp
import pytest
from conftest import (
    STRONG_PASSWORD,
    Api,
    code_in,
    csrf_from,
    empty_tables,
    make_app,
    register,
    submit,
)
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from flask_kapu import services
from flask_kapu.devices import COOKIE, SALT
from flask_kapu.errors import KapuConfigError

WRONG = "Rossz-Jelszo-1"
NEW_PASSWORD = "Nyari-Eso-2026"


def api_login(api: Api, username: str, password: str) -> int:
    return int(api.post("/login", {"username": username, "password": password}).status_code)


def html_login(client: FlaskClient, username: str, password: str) -> int:
    """The login page's answer: 302 on success, 401 wrong, 429 locked."""
    response = submit(client, "/kapu/login", {"username": username, "password": password})
    return int(response.status_code)


def known_browser(app: Flask, username: str) -> Api:
    """The owner's browser: it has logged in to the account before (and logged out)."""
    owner = Api(app.test_client())
    assert api_login(owner, username, STRONG_PASSWORD) == 200
    assert owner.client.get_cookie(COOKIE, path="/kapu") is not None
    owner.post("/logout")
    return owner


def lock_out(app: Flask, username: str) -> Api:
    """A stranger's browser that has just locked ``username`` with wrong passwords."""
    attacker = Api(app.test_client())
    for _ in range(5):
        assert api_login(attacker, username, WRONG) == 401
    assert api_login(attacker, username, WRONG) == 429
    return attacker


def set_cookie_header(response) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{COOKIE}="):
            cookie.load(header)
    return cookie


# --- the owner gets in, the attacker does not -------------------------------------------


def test_the_owner_on_a_known_browser_logs_in_through_the_api_while_the_username_is_locked(
    app, active
):
    owner = known_browser(app, active)
    lock_out(app, active)

    response = owner.post("/login", {"username": active, "password": STRONG_PASSWORD})

    assert response.status_code == 200
    assert response.get_json()["authenticated"] is True


def test_the_owner_on_a_known_browser_logs_in_on_the_page_while_the_username_is_locked(app, active):
    owner = app.test_client()
    assert html_login(owner, active, STRONG_PASSWORD) == 302
    submit(owner, "/kapu/logout", {})
    lock_out(app, active)

    assert html_login(owner, active, STRONG_PASSWORD) == 302
    assert owner.get("/protected").status_code == 200


def test_an_attacker_stays_locked_out_even_with_the_right_password(app, active, clock):
    lock_out(app, active)
    stranger = Api(app.test_client())  # another address, another browser: the same lock

    assert api_login(stranger, active, STRONG_PASSWORD) == 429
    assert html_login(app.test_client(), active, STRONG_PASSWORD) == 429


def test_the_owners_login_does_not_lift_the_lock_on_strangers(app, active):
    owner = known_browser(app, active)
    attacker = lock_out(app, active)

    assert api_login(owner, active, STRONG_PASSWORD) == 200
    assert api_login(attacker, active, WRONG) == 429


def test_a_known_browser_is_locked_after_as_many_failures(app, active, clock):
    owner = known_browser(app, active)
    for _ in range(5):
        assert api_login(owner, active, WRONG) == 401

    assert api_login(owner, active, STRONG_PASSWORD) == 429
    stranger = Api(app.test_client())
    assert api_login(stranger, active, STRONG_PASSWORD) == 200  # its own counter is untouched
    clock.advance(minutes=1, seconds=1)
    assert api_login(owner, active, STRONG_PASSWORD) == 200


def test_a_known_browsers_locks_double_like_any_other(app, active, clock):
    owner = known_browser(app, active)
    for lock in range(2):
        for _ in range(5):
            api_login(owner, active, WRONG)
        refused = owner.post("/login", {"username": active, "password": STRONG_PASSWORD})
        assert int(refused.headers["Retry-After"]) == 60 * 2**lock
        clock.advance(seconds=60 * 2**lock + 1)


def test_unlocking_a_username_unlocks_its_known_browsers_too(app, state, active):
    owner = known_browser(app, active)
    for _ in range(5):
        api_login(owner, active, WRONG)
    lock_out(app, active)

    with app.app_context():
        assert services.unlock(state.deps, services.Context(), username=active)

    assert api_login(owner, active, STRONG_PASSWORD) == 200
    assert api_login(Api(app.test_client()), active, STRONG_PASSWORD) == 200


def test_a_device_cookie_of_another_account_counts_as_a_stranger(app, active):
    register(app, "NagyBela", "bela@example.hu")
    owner = known_browser(app, active)
    for _ in range(5):
        assert api_login(owner, "NagyBela", WRONG) == 401

    assert api_login(Api(app.test_client()), "NagyBela", WRONG) == 429


@pytest.mark.parametrize(
    "forged",
    [
        "nonsense",
        URLSafeSerializer(b"another key", salt=SALT).dumps({"a": 1, "d": "x" * 22, "t": 1}),
    ],
)
def test_a_forged_device_cookie_counts_as_a_stranger(app, active, forged):
    lock_out(app, active)
    forger = Api(app.test_client())
    forger.client.set_cookie(COOKIE, forged, path="/kapu")

    assert api_login(forger, active, STRONG_PASSWORD) == 429


def test_a_device_cookie_past_its_age_counts_as_a_stranger(app, active, clock):
    owner = known_browser(app, active)
    clock.advance(days=181)
    lock_out(app, active)

    assert api_login(owner, active, STRONG_PASSWORD) == 429


def test_a_lock_answers_alike_for_unknown_and_existing_usernames(app, active):
    existing = lock_out(app, active).post("/login", {"username": active, "password": WRONG})
    unknown = lock_out(app, "NincsIlyen").post(
        "/login", {"username": "NincsIlyen", "password": WRONG}
    )

    assert existing.status_code == unknown.status_code == 429
    assert existing.get_json() == unknown.get_json()
    assert existing.headers["Retry-After"] == unknown.headers["Retry-After"]


# --- a logged-in owner secures the account during an attack -------------------------------


def test_the_owner_changes_the_password_while_strangers_keep_the_username_locked(app, active):
    owner = known_browser(app, active)
    assert api_login(owner, active, STRONG_PASSWORD) == 200
    lock_out(app, active)

    response = owner.post(
        "/password/change", {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200


def test_the_owner_adds_an_authenticator_on_the_page_while_the_username_is_locked(
    app, state, active, clock
):
    owner = app.test_client()
    assert html_login(owner, active, STRONG_PASSWORD) == 302
    lock_out(app, active)
    token = csrf_from(owner.get("/kapu/security/totp").get_data(as_text=True))
    assert owner.post("/kapu/security/totp/start", data={"csrf_token": token}).status_code == 302
    with state.deps.store.reading() as repo:
        account = repo.account_by_username(active)
    assert account is not None
    pending = services.enrolment.pending_totp(state.deps, account)
    assert pending is not None

    response = submit(
        owner,
        "/kapu/security/totp",
        {"password": STRONG_PASSWORD, "code": pyotp.TOTP(pending.secret).at(clock())},
    )

    assert response.status_code == 201  # the recovery codes, shown once
    assert [f.method for f in services.enrolment.factors(state.deps, account)] == ["totp"]


def test_a_session_copied_to_another_browser_cannot_change_the_password_during_a_lock(app, active):
    owner = known_browser(app, active)
    assert api_login(owner, active, STRONG_PASSWORD) == 200
    session_cookie = owner.client.get_cookie("session")
    assert session_cookie is not None
    thief = Api(app.test_client())  # the session cookie without the device cookie
    thief.client.set_cookie("session", session_cookie.value)
    lock_out(app, active)

    response = thief.post(
        "/password/change", {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 429


# --- the reset-code path ------------------------------------------------------------------


def test_the_owner_on_a_known_browser_resets_the_password_while_codes_are_locked(
    app, active, mailbox
):
    owner = known_browser(app, active)
    mailbox.clear()  # the owner's login from a new browser was mailed
    attacker = Api(app.test_client())
    for _ in range(5):
        wrong = {"username": active, "code": "AAAAAAAAAA", "new_password": NEW_PASSWORD}
        assert attacker.post("/password/reset", wrong).status_code == 400
    owner.post("/password/forgot", {"username": active, "email": "anna@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    right = {"username": active, "code": code, "new_password": NEW_PASSWORD}

    assert attacker.post("/password/reset", right).status_code == 429
    assert owner.post("/password/reset", right).status_code == 200


def test_the_owner_resets_on_the_page_while_codes_are_locked(app, active, mailbox):
    owner = app.test_client()
    assert html_login(owner, active, STRONG_PASSWORD) == 302
    submit(owner, "/kapu/logout", {})
    mailbox.clear()  # the owner's login from a new browser was mailed
    attacker = Api(app.test_client())
    for _ in range(6):
        attacker.post(
            "/password/reset",
            {"username": active, "code": "AAAAAAAAAA", "new_password": NEW_PASSWORD},
        )
    Api(owner).post("/password/forgot", {"username": active, "email": "anna@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu")[0])

    response = submit(
        owner,
        "/kapu/password/reset",
        {"username": active, "code": code, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert owner.get("/protected").status_code == 200


def test_activation_makes_the_browser_known(api, app, registered):
    username, code = registered
    activated = api.post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )
    assert activated.status_code == 200
    api.post("/logout")
    lock_out(app, username)

    assert api_login(api, username, STRONG_PASSWORD) == 200


# --- the cookie itself ----------------------------------------------------------------------


def test_the_device_cookie_is_http_only_lax_long_lived_and_scoped_to_flask_kapu(app, active):
    response = Api(app.test_client()).post(
        "/login", {"username": active, "password": STRONG_PASSWORD}
    )

    morsel = set_cookie_header(response)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/kapu"
    assert int(morsel["max-age"]) == int(timedelta(days=180).total_seconds())
    assert not morsel["secure"]


def test_the_device_cookie_is_secure_over_https(app, active):
    client = app.test_client()
    api = Api(client)
    api.session()
    response = api.post(
        "/login",
        {"username": active, "password": STRONG_PASSWORD},
        base_url="https://localhost",
    )

    assert response.status_code == 200
    assert set_cookie_header(response)[COOKIE]["secure"] is True


def test_a_failed_login_sets_no_device_cookie(app, active):
    response = Api(app.test_client()).post("/login", {"username": active, "password": WRONG})

    assert COOKIE not in set_cookie_header(response)


@pytest.mark.parametrize("app_config", [{"KAPU_DEVICE_COOKIE_MAX_AGE": 3600}], indirect=True)
def test_the_cookie_age_is_a_setting(app, active, clock):
    owner = known_browser(app, active)
    response = owner.post("/login", {"username": active, "password": STRONG_PASSWORD})
    assert int(set_cookie_header(response)[COOKIE]["max-age"]) == 3600
    owner.post("/logout")
    clock.advance(hours=1, seconds=1)
    lock_out(app, active)

    assert api_login(owner, active, STRONG_PASSWORD) == 429


def test_a_device_cookie_survives_a_secret_key_rotation(database_url, smtp_server, mailbox):
    old_app, _kapu = make_app(database_url, smtp_server[1])
    new_app, _kapu = make_app(
        database_url,
        smtp_server[1],
        SECRET_KEY="the new secret key",
        SECRET_KEY_FALLBACKS=["test secret key"],
    )
    try:
        empty_tables(old_app.extensions["kapu"])
        old_app.extensions["kapu"].limiter.reset()
        register(old_app)
        code = code_in(mailbox.wait_for("anna@example.hu")[0])
        before = Api(old_app.test_client())
        body = {"username": "KisAnna", "code": code, "new_password": STRONG_PASSWORD}
        assert before.post("/activate", body).status_code == 200
        cookie = before.client.get_cookie(COOKIE, path="/kapu")
        assert cookie is not None
        owner = Api(new_app.test_client())
        owner.client.set_cookie(COOKIE, cookie.value, path="/kapu")
        lock_out(new_app, "KisAnna")

        assert api_login(owner, "KisAnna", STRONG_PASSWORD) == 200
    finally:
        for each in (old_app, new_app):
            each.extensions["kapu"].notifier.wait()
            each.extensions["kapu"].deps.store.dispose()


def test_the_cookie_age_setting_must_be_a_duration(database_url, smtp_server):
    with pytest.raises(KapuConfigError, match="KAPU_DEVICE_COOKIE_MAX_AGE"):
        make_app(database_url, smtp_server[1], KAPU_DEVICE_COOKIE_MAX_AGE="forever")
