"""An imported username that breaks the Hungarian rules: chosen anew at the first login.

The login with the imported name and the old password succeeds, but the
session waits (``pending: "username"``) and nothing else opens until the owner
has chosen a valid name, on the page ``{prefix}/username`` or at
``POST {prefix}/api/username``. From then on only the new name, in its exact
case, logs in; the imported name stays recorded, so importing again finds the
account.
"""

from __future__ import annotations

import pytest
from conftest import (
    STRONG_PASSWORD,
    code_in,
    csrf_from,
    empty_tables,
    forget_keys,
    make_app,
    register,
)
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from flask_kapu import services
from flask_kapu.store import Account, AuditEvent

OLD_PASSWORD = "Regi-Jelszo-7"
OLD_NAME = "john.doe"


@pytest.fixture
def host(database_url, smtp_server, clock, app_config):
    """The test app together with its ``Kapu`` object."""
    app, kapu = make_app(database_url, smtp_server[1], **app_config)
    kapu.clock = clock
    state = app.extensions["kapu"]
    empty_tables(state)
    state.limiter.reset()
    yield app, kapu
    state.notifier.wait()
    state.deps.store.dispose()
    forget_keys(database_url)


@pytest.fixture
def app(host):
    return host[0]


@pytest.fixture
def imported(host):
    """An account the host imported under a name that breaks the rules, e-mail vouched for."""
    app, kapu = host
    with app.app_context():
        return kapu.import_account(
            OLD_NAME,
            "john@example.hu",
            password_hash=generate_password_hash(OLD_PASSWORD, "pbkdf2:sha256:1000"),
            email_verified=True,
        )


def accounts(state):
    with state.deps.store.reading() as repo:
        return {a.username: a for a in repo.session.scalars(select(Account))}


def logged_in_pending(api):
    response = api.post("/login", {"username": OLD_NAME, "password": OLD_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- the JSON API ----------------------------------------------------------------------------


def test_the_login_with_the_imported_name_waits_for_a_new_username(api, imported):
    body = logged_in_pending(api)

    assert body["authenticated"] is False
    assert body["level"] == "none"
    assert body["pending"] == "username"
    assert api.session()["pending"] == "username"


@pytest.mark.parametrize("path", ["/protected", "/kapu/api/factors"])
def test_nothing_else_opens_while_the_username_waits(api, client, imported, path):
    logged_in_pending(api)

    response = client.get(path, headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"
    if path == "/protected":  # a view behind flask_kapu's decorator says why
        assert response.get_json()["pending"] == "username"


def test_the_security_page_does_not_open_while_the_username_waits(api, client, imported):
    logged_in_pending(api)

    response = client.get("/kapu/security")

    assert response.status_code == 302
    assert response.location.startswith("/kapu/login")


def test_no_second_factor_can_complete_a_login_that_waits_for_a_username(api, imported):
    logged_in_pending(api)

    response = api.post("/plusz/email")

    assert response.status_code == 401
    assert api.session()["pending"] == "username"


def test_choosing_a_valid_username_completes_the_login(api, client, state, imported):
    logged_in_pending(api)

    response = api.post("/username", {"username": "JanosDoe"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["authenticated"], body["username"], body["pending"]) == (True, "JanosDoe", None)
    assert client.get("/protected").status_code == 200
    found = accounts(state)
    assert set(found) == {"JanosDoe"}
    assert found["JanosDoe"].imported_username == OLD_NAME
    assert not found["JanosDoe"].must_choose_username


def test_from_then_on_only_the_new_name_in_its_exact_case_logs_in(api, imported):
    logged_in_pending(api)
    api.post("/username", {"username": "JanosDoe"})
    api.post("/logout")

    for name in (OLD_NAME, "janosdoe", "JANOSDOE"):
        refused = api.post("/login", {"username": name, "password": OLD_PASSWORD})
        assert refused.status_code == 401, name
    assert api.post("/login", {"username": "JanosDoe", "password": OLD_PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    ("chosen", "status", "code"),
    [
        ("jo", 422, "invalid_input"),
        ("Jani.Doe", 422, "invalid_input"),
        ("KisAnna", 409, "username_taken"),
        ("kisanna", 409, "username_taken"),
    ],
)
def test_an_invalid_or_taken_username_is_refused_and_the_login_still_waits(
    app, api, state, imported, chosen, status, code
):
    register(app, "KisAnna", "anna@example.hu")
    logged_in_pending(api)

    response = api.post("/username", {"username": chosen})

    assert response.status_code == status
    assert response.get_json()["code"] == code
    assert api.session()["pending"] == "username"
    assert OLD_NAME in accounts(state)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"username": ', 400, "invalid_json"),
        (b'{"username": 42}', 422, "invalid_input"),
        (b'{"username": null}', 422, "invalid_input"),
        (b'{"username": "Kis\\u0000Anna"}', 422, "invalid_input"),
        (b'{"username": "' + b"a" * 5000 + b'"}', 422, "invalid_input"),
        (b'["JanosDoe"]', 422, "invalid_input"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_the_login_still_waits(api, imported, body, status, code):
    logged_in_pending(api)

    response = api.client.post(
        "/kapu/api/username",
        data=body,
        headers={"X-CSRFToken": api.csrf, "Content-Type": "application/json"},
    )

    assert response.status_code == status
    assert response.get_json()["code"] == code
    assert api.session()["pending"] == "username"


def test_choosing_a_username_without_a_waiting_login_is_refused(api, imported):
    response = api.post("/username", {"username": "JanosDoe"})

    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"


def test_importing_the_user_again_after_the_choice_changes_nothing(app, api, state, imported):
    logged_in_pending(api)
    api.post("/username", {"username": "JanosDoe"})

    with app.app_context():
        again = services.import_account(
            state.deps,
            services.Context(),
            username=OLD_NAME,
            email="john@example.hu",
            password_hash=generate_password_hash(OLD_PASSWORD, "pbkdf2:sha256:1000"),
            email_verified=True,
        )

    assert (again.outcome, again.account.username) == ("unchanged", "JanosDoe")
    assert set(accounts(state)) == {"JanosDoe"}


def test_the_choice_is_in_the_audit_trail(api, state, imported):
    logged_in_pending(api)
    api.post("/username", {"username": "JanosDoe"})

    with state.deps.store.reading() as repo:
        chosen = repo.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "username_chosen")
        ).one()
    assert chosen.detail == {"from": OLD_NAME}


# --- the HTML pages ----------------------------------------------------------------------------


def login_page(client):
    page = client.get("/kapu/login?lang=en")
    return client.post(
        "/kapu/login?next=/protected",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "username": OLD_NAME,
            "password": OLD_PASSWORD,
        },
    )


def test_the_login_page_leads_to_the_username_page_and_on_to_next(client, imported):
    response = login_page(client)

    assert response.status_code == 302
    assert response.location.startswith("/kapu/username")
    assert client.get("/protected").location.startswith("/kapu/username")
    page = client.get(response.location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'name="username"' in text
    chosen = client.post(
        response.location,
        data={"csrf_token": csrf_from(text), "username": "JanosDoe"},
    )
    assert chosen.status_code == 302
    assert chosen.location == "/protected"
    assert client.get("/protected").status_code == 200


def test_the_username_page_shows_the_rules_broken_and_keeps_waiting(client, imported):
    login_page(client)
    text = client.get("/kapu/username").get_data(as_text=True)

    response = client.post(
        "/kapu/username", data={"csrf_token": csrf_from(text), "username": "Jani Doe"}
    )

    assert response.status_code == 422
    assert "Hungarian alphabet" in response.get_data(as_text=True)
    assert client.get("/protected").location.startswith("/kapu/username")


def test_the_username_page_without_a_waiting_login_goes_to_the_login_page(client, imported):
    response = client.get("/kapu/username")

    assert response.status_code == 302
    assert response.location.startswith("/kapu/login")


def test_an_unverified_import_activates_with_its_code_and_then_chooses_a_username(
    host, api, mailbox
):
    app, kapu = host
    with app.app_context():
        kapu.import_account(
            "Kis Béla",
            "bela@example.hu",
            password_hash=generate_password_hash(OLD_PASSWORD, "pbkdf2:sha256:1000"),
        )
    code = code_in(mailbox.wait_for("bela@example.hu")[0])

    activated = api.post(
        "/activate", {"username": "Kis Béla", "code": code, "new_password": STRONG_PASSWORD}
    )

    assert activated.status_code == 200, activated.get_json()
    assert activated.get_json()["pending"] == "username"
    chosen = api.post("/username", {"username": "KisBela"})
    assert (chosen.get_json()["authenticated"], chosen.get_json()["username"]) == (True, "KisBela")
