"""The HTML pages, end to end through the test client: what each page shows and does.

Pages are read in English (the ``kapu_lang`` cookie a user gets from ``?lang=en``),
so the assertions hold whether or not the Hungarian catalogue is compiled; the
language tests at the end use a client without the cookie.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from babel.messages.mofile import read_mo
from conftest import (
    STRONG_PASSWORD,
    code_in,
    csrf_from,
    empty_tables,
    make_app,
    register,
    submit,
)
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

import flask_kapu
from flask_kapu import Kapu
from flask_kapu.i18n import field_message, problem_detail
from flask_kapu.store import Account, AccountStatus

NEW_PASSWORD = "Nyari-Eso-2026"
DEMO_CARD = {"document_id": "123456AB", "registration_code": "K7P2M9Q4T1X"}
DEMO_PERSON = {
    "family_name": "Kiss",
    "given_name": "Anna",
    "birth_date": "1988-04-12",
    "birth_place": "Szeged",
    "mother_name": "Nagy Ilona",
    "address": "6720 Szeged, Példa utca 3.",
}
SELF_SERVICE = {
    "username": "NagyBela",
    "email": "bela@example.hu",
    "family_name": "Nagy",
    "given_name": "Béla",
    "birth_date": "1990-05-17",
    "accept_terms": "y",
}


# --- the messages pages should show (the package's own English wording) --------------------


def detail(app, problem: str) -> str:
    """The page-level message for a problem code (API.md), in English."""
    with app.test_request_context("/?lang=en"):
        return problem_detail(problem)


def field_text(app, code: str) -> str:
    """The message under a field for a field problem code, in English."""
    with app.test_request_context("/?lang=en"):
        return field_message(code, min_length=8, max_length=1024)


# --- reading pages ---------------------------------------------------------------------


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def alert(response: Any) -> str | None:
    """The page-level message (role="alert"), as the user reads it."""
    found = re.search(
        r'class="kapu-alert" role="alert">(.*?)</', response.get_data(as_text=True), re.S
    )
    return html.unescape(found.group(1)).strip() if found else None


def field_error(response: Any, field_id: str) -> str | None:
    """The error text shown under one form field."""
    found = re.search(
        rf'<p class="kapu-error" id="{re.escape(field_id)}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    return html.unescape(found.group(1)).strip() if found else None


def input_value(response: Any, field_id: str) -> str | None:
    found = re.search(
        rf'<input[^>]*\bid="{re.escape(field_id)}"[^>]*\bvalue="([^"]*)"',
        response.get_data(as_text=True),
    )
    return html.unescape(found.group(1)) if found else None


def location(response: Any) -> str:
    return str(response.headers["Location"])


def html_lang(response: Any) -> str | None:
    found = re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True))
    return found.group(1) if found else None


# --- state -----------------------------------------------------------------------------


def account(state: Any, username: str) -> Account | None:
    with state.deps.store.transaction() as repo:
        return repo.account_by_username(username)


def usernames(state: Any) -> list[str]:
    with state.deps.store.transaction() as repo:
        return sorted(repo.session.scalars(select(Account.username)))


# --- actions ---------------------------------------------------------------------------


def english_browser(app) -> Any:
    """A browser whose user picked English (``?lang=en`` once)."""
    browser = app.test_client()
    browser.set_cookie("kapu_lang", "en")
    return browser


@pytest.fixture
def client(app):
    return english_browser(app)


def log_in(client, username: str, password: str, next_: str | None = None) -> Any:
    path = "/kapu/login" if next_ is None else f"/kapu/login?next={quote(next_, safe='')}"
    return submit(client, path, {"username": username, "password": password})


def use_code(client, path: str, username: str, code: str, password: str, confirm=None) -> Any:
    return submit(
        client,
        path,
        {
            "username": username,
            "code": code,
            "new_password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def is_logged_in_as(client, username: str) -> bool:
    response = client.get("/kapu/security")
    return response.status_code == 200 and f"Logged in as {username}." in text_of(response)


def is_anonymous(client) -> bool:
    response = client.get("/kapu/security")
    return response.status_code == 302 and urlsplit(location(response)).path == "/kapu/login"


# --- the login page ----------------------------------------------------------------------


def test_the_login_page_shows_a_form_with_csrf_token_and_labelled_fields(client):
    response = client.get("/kapu/login")

    assert response.status_code == 200
    page = text_of(response)
    assert csrf_from(response.get_data(as_text=True))
    assert '<label for="username">Username</label>' in page
    assert '<label for="password">Password</label>' in page
    assert '<form method="post"' in page
    assert 'href="/kapu/password/forgot"' in page
    assert 'href="/kapu/register/eid"' in page


# --- activation --------------------------------------------------------------------------


def test_an_office_registered_account_activates_with_the_mailed_code_and_is_logged_in(
    client, state, registered
):
    username, code = registered
    form = client.get(f"/kapu/activate?username={username}")
    assert input_value(form, "username") == username

    response = use_code(client, "/kapu/activate", username, code, STRONG_PASSWORD)

    assert response.status_code == 302
    assert location(response) == "/"
    assert is_logged_in_as(client, "KisAnna")
    stored = account(state, "KisAnna")
    assert stored is not None
    assert stored.status == AccountStatus.ACTIVE.value


def test_the_activation_code_may_be_typed_in_lower_case_with_a_space_for_its_hyphen(
    client, state, registered
):
    username, code = registered

    response = use_code(
        client, "/kapu/activate", username, code.replace("-", " ").lower(), STRONG_PASSWORD
    )

    assert response.status_code == 302
    assert is_logged_in_as(client, username)


def test_a_wrong_activation_code_is_refused_with_400_and_leaves_the_account_pending(
    client, state, registered
):
    username, _code = registered

    response = use_code(client, "/kapu/activate", username, "AAAAA-BBBBB", STRONG_PASSWORD)

    assert response.status_code == 400
    assert account(state, username).status == AccountStatus.PENDING.value
    assert is_anonymous(client)


def test_a_mismatched_password_confirmation_is_a_field_error_and_keeps_the_code_usable(
    client, state, registered
):
    username, code = registered

    response = use_code(
        client, "/kapu/activate", username, code, STRONG_PASSWORD, confirm="Tavaszi-Szel-43"
    )

    assert response.status_code == 422
    assert field_error(response, "confirm") == "The two passwords differ."
    assert account(state, username).status == AccountStatus.PENDING.value
    assert use_code(client, "/kapu/activate", username, code, STRONG_PASSWORD).status_code == 302


def test_a_weak_new_password_shows_the_policy_and_keeps_the_code_usable(
    app, client, state, registered
):
    username, code = registered

    response = use_code(client, "/kapu/activate", username, code, "tavasz")

    assert response.status_code == 422
    problems = field_error(response, "new_password") or ""
    assert field_text(app, "too_short") in problems
    assert field_text(app, "mixed_case") in problems
    assert account(state, username).status == AccountStatus.PENDING.value
    assert use_code(client, "/kapu/activate", username, code, STRONG_PASSWORD).status_code == 302


# --- self-service registration ---------------------------------------------------------


def test_self_service_registration_creates_a_pending_account_and_mails_its_code(
    client, state, mailbox
):
    response = submit(client, "/kapu/register", SELF_SERVICE)

    assert response.status_code == 201
    assert "We have sent the activation code to bela@example.hu." in text_of(response)
    stored = account(state, "NagyBela")
    assert stored is not None
    assert stored.status == AccountStatus.PENDING.value
    assert stored.registered_via == "self"
    assert stored.email == "bela@example.hu"
    assert stored.person == {
        "family_name": "Nagy",
        "given_name": "Béla",
        "birth_date": "1990-05-17",
    }
    code = code_in(mailbox.wait_for("bela@example.hu")[0])
    assert use_code(client, "/kapu/activate", "NagyBela", code, STRONG_PASSWORD).status_code == 302
    assert is_logged_in_as(client, "NagyBela")


def test_a_username_differing_only_in_case_from_a_taken_one_is_refused_with_409(
    app, client, state, registered, mailbox
):
    mailbox.clear()

    response = submit(client, "/kapu/register", {**SELF_SERVICE, "username": "kisanna"})

    assert response.status_code == 409
    assert field_error(response, "username") == field_text(app, "taken")
    assert input_value(response, "username") == "kisanna"
    assert usernames(state) == ["KisAnna"]
    assert mailbox.wait_for("bela@example.hu", timeout=0.2) == []


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        pytest.param({"username": "Kis Anna"}, "username", "alphabet", id="username-with-space"),
        pytest.param({"username": "Béla42"}, "username", "alphabet", id="username-with-digits"),
        pytest.param({"accept_terms": None}, "accept_terms", "accept_terms", id="no-terms"),
        pytest.param({"birth_date": "2026-03-03"}, "birth_date", "date", id="born-tomorrow"),
    ],
)
def test_a_refused_registration_rerenders_the_form_with_the_error_and_creates_nothing(
    app, client, state, mailbox, change, field, problem
):
    data = {k: v for k, v in {**SELF_SERVICE, **change}.items() if v is not None}

    response = submit(client, "/kapu/register", data)

    assert response.status_code == 422
    assert field_error(response, field) == field_text(app, problem)
    assert input_value(response, "email") == "bela@example.hu"
    assert csrf_from(response.get_data(as_text=True))
    assert usernames(state) == []
    assert mailbox.wait_for("bela@example.hu", timeout=0.2) == []


# --- e-ID registration -------------------------------------------------------------------


def check_card(client, **card: str) -> Any:
    return submit(client, "/kapu/register/eid", {**DEMO_CARD, **card})


def hidden_token(response: Any) -> str:
    found = re.search(
        r'name="token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    )
    assert found, "no e-ID token on the page"
    return found.group(1)


def register_with_token(client, token: str, **extra: str) -> Any:
    page = client.get("/kapu/register/eid")
    return client.post(
        "/kapu/register/eid",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "token": token,
            "username": "KissAnna",
            "email": "kiss.anna@example.hu",
            "accept_terms": "y",
            **extra,
        },
    )


def test_checking_an_eid_card_shows_the_registry_data_in_readonly_fields(client):
    response = check_card(client)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name, value in DEMO_PERSON.items():
        field_id = "person-" + name.replace("_", "-")
        assert input_value(response, field_id) == value
        assert re.search(rf'id="{field_id}"[^>]*\breadonly\b', page), field_id
    assert hidden_token(response)


def test_registering_with_a_checked_card_stores_exactly_the_registry_data(client, state, mailbox):
    token = hidden_token(check_card(client))

    response = register_with_token(client, token, family_name="Hamis", birth_date="2000-01-01")

    assert response.status_code == 201
    assert "We have sent the activation code to kiss.anna@example.hu." in text_of(response)
    stored = account(state, "KissAnna")
    assert stored is not None
    assert stored.status == AccountStatus.PENDING.value
    assert stored.registered_via == "eid"
    assert stored.person == DEMO_PERSON
    assert code_in(mailbox.wait_for("kiss.anna@example.hu")[0])


def forged_token(_real: str) -> str:
    """A token with other person data, signed with a key other than the app's."""
    other = URLSafeTimedSerializer(b"attacker key", salt="flask_kapu.eid")
    return other.dumps({"person": {**DEMO_PERSON, "family_name": "Hamis"}, "document_id": "1"})


def altered_payload(real: str) -> str:
    """The real token with its data changed and its signature kept."""
    payload, timestamp, signature = real.rsplit(".", 2)
    altered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    return f"{altered}.{timestamp}.{signature}"


@pytest.mark.parametrize("tamper", [forged_token, altered_payload], ids=["forged", "altered"])
def test_a_tampered_eid_token_is_refused_with_400_and_creates_no_account(
    app, client, state, tamper
):
    token = hidden_token(check_card(client))

    response = register_with_token(client, tamper(token))

    assert response.status_code == 400
    assert alert(response) == detail(app, "token_invalid")
    assert usernames(state) == []


def test_an_unknown_eid_card_is_refused_with_400_and_shows_no_person(client):
    response = check_card(client, registration_code="K7P2M9Q4T1Y")

    assert response.status_code == 400
    assert "person-family-name" not in response.get_data(as_text=True)


def test_a_malformed_document_id_is_refused_with_422_as_a_field_error(app, client):
    response = check_card(client, document_id="12345AB")

    assert response.status_code == 422
    assert field_error(response, "document_id") == field_text(app, "document_id")


def test_without_a_registry_the_eid_page_is_404_and_not_linked(tmp_path):
    app = Flask("host_without_registry", instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="host secret", TESTING=True)
    Kapu(app)  # no registry=
    state = app.extensions["kapu"]
    try:
        browser = english_browser(app)
        assert browser.get("/kapu/register/eid").status_code == 404
        login_page = browser.get("/kapu/login").get_data(as_text=True)
        assert "/kapu/register/eid" not in login_page
        assert 'href="/kapu/register"' in login_page
    finally:
        state.deps.store.dispose()


# --- login and logout ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["/ugyintezes", "/ugyintezes/adobevallas?ev=2025", "/kapu/security"]
)
def test_logging_in_returns_to_a_safe_next_path(client, active, target):
    response = log_in(client, active, STRONG_PASSWORD, next_=target)

    assert response.status_code == 302
    assert location(response) == target
    assert is_logged_in_as(client, active)


@pytest.mark.parametrize(
    "target",
    [None, "https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"],
    ids=["no-next", "absolute-url", "scheme-relative", "backslash", "javascript"],
)
def test_logging_in_with_an_unsafe_or_no_next_lands_on_the_home_page(client, active, target):
    response = log_in(client, active, STRONG_PASSWORD, next_=target)

    assert response.status_code == 302
    assert location(response) == "/"


def without_echo(response: Any) -> str:
    """The page minus what differs by design: the CSRF token and the typed username."""
    page = response.get_data(as_text=True)
    page = re.sub(r'(name="csrf_token" type="hidden" value=")[^"]*"', r'\1"', page)
    return re.sub(r'(<input[^>]*id="username"[^>]*value=")[^"]*"', r'\1"', page)


def test_every_failed_login_answers_401_with_the_same_page(client, app, active):
    register(app, "NagyBela", "bela@example.hu")  # pending, never activated
    attempts = {
        "unknown user": ("NemLetezo", STRONG_PASSWORD),
        "wrong password": (active, "Rossz-Jelszo-1"),
        "pending account": ("NagyBela", STRONG_PASSWORD),
        "username in another case": ("kisanna", STRONG_PASSWORD),
    }

    answers = {why: log_in(client, *credentials) for why, credentials in attempts.items()}

    assert {why: r.status_code for why, r in answers.items()} == dict.fromkeys(attempts, 401)
    assert len({without_echo(r) for r in answers.values()}) == 1
    assert is_anonymous(client)


def test_after_five_wrong_passwords_even_the_right_one_gets_429_with_retry_after(client, active):
    for _ in range(5):
        assert log_in(client, active, "Rossz-Jelszo-1").status_code == 401

    response = log_in(client, active, STRONG_PASSWORD)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert is_anonymous(client)


def test_the_login_lock_ends_after_its_time(client, clock, active):
    for _ in range(5):
        log_in(client, active, "Rossz-Jelszo-1")
    retry_after = int(log_in(client, active, STRONG_PASSWORD).headers["Retry-After"])

    clock.advance(seconds=retry_after + 1)

    assert log_in(client, active, STRONG_PASSWORD).status_code == 302
    assert is_logged_in_as(client, active)


def test_logging_out_with_post_ends_the_session(client, active):
    log_in(client, active, STRONG_PASSWORD)

    response = submit(client, "/kapu/logout", {})

    assert response.status_code == 302
    assert location(response) == "/kapu/login?logged_out=1"
    assert "You have logged out." in text_of(client.get(location(response)))
    assert is_anonymous(client)


def test_get_on_the_logout_page_only_asks_and_keeps_the_session(client, active):
    log_in(client, active, STRONG_PASSWORD)

    response = client.get("/kapu/logout")

    assert response.status_code == 200
    assert csrf_from(response.get_data(as_text=True))
    assert is_logged_in_as(client, active)


# --- forgot password and reset -----------------------------------------------------------


def test_the_forgot_password_page_answers_the_same_for_known_and_unknown_users(
    client, state, active, mailbox
):
    asked = [
        ("KisAnna", "anna@example.hu"),
        ("NemLetezo", "anna@example.hu"),
        ("KisAnna", "masik@example.hu"),
    ]

    answers = [
        submit(client, "/kapu/password/forgot", {"username": u, "email": e}) for u, e in asked
    ]

    assert [r.status_code for r in answers] == [202, 202, 202]
    bodies = {r.get_data(as_text=True) for r in answers}
    assert len(bodies) == 1
    assert "Check your e-mail" in text_of(answers[0])
    assert "Check your spam folder" in text_of(answers[0])
    state.notifier.wait()
    assert len(mailbox.wait_for("anna@example.hu")) == 1
    assert mailbox.wait_for("masik@example.hu", timeout=0.2) == []


def test_the_mailed_reset_code_sets_a_new_password_and_the_old_one_stops_working(
    client, state, active, mailbox
):
    submit(client, "/kapu/password/forgot", {"username": active, "email": "anna@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu")[0])

    response = use_code(client, "/kapu/password/reset", active, code, NEW_PASSWORD)

    assert response.status_code == 302
    assert is_logged_in_as(client, active)
    submit(client, "/kapu/logout", {})
    assert log_in(client, active, STRONG_PASSWORD).status_code == 401
    assert log_in(client, active, NEW_PASSWORD).status_code == 302


def test_a_reset_code_is_single_use(client, active, mailbox):
    submit(client, "/kapu/password/forgot", {"username": active, "email": "anna@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    use_code(client, "/kapu/password/reset", active, code, NEW_PASSWORD)
    submit(client, "/kapu/logout", {})

    response = use_code(client, "/kapu/password/reset", active, code, "Masik-Jelszo-77")

    assert response.status_code == 400
    assert log_in(client, active, NEW_PASSWORD).status_code == 302


def test_a_code_from_forgot_password_activates_a_never_activated_account(
    client, state, registered, mailbox
):
    username, first_code = registered
    mailbox.clear()
    submit(client, "/kapu/password/forgot", {"username": username, "email": "anna@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu")[0])

    assert use_code(client, "/kapu/activate", username, first_code, NEW_PASSWORD).status_code == 400
    assert use_code(client, "/kapu/password/reset", username, code, NEW_PASSWORD).status_code == 302
    assert account(state, username).status == AccountStatus.ACTIVE.value


# --- CSRF ------------------------------------------------------------------------------------


def test_a_post_without_csrf_token_is_refused_with_400_and_changes_nothing(
    client, state, registered
):
    username, code = registered
    client.get("/kapu/activate")

    response = client.post(
        "/kapu/activate",
        data={
            "username": username,
            "code": code,
            "new_password": STRONG_PASSWORD,
            "confirm": STRONG_PASSWORD,
        },
    )

    assert response.status_code == 400
    assert account(state, username).status == AccountStatus.PENDING.value
    assert is_anonymous(client)
    assert use_code(client, "/kapu/activate", username, code, STRONG_PASSWORD).status_code == 302


def test_a_login_with_a_wrong_csrf_token_is_refused_with_400(client, active):
    client.get("/kapu/login")

    response = client.post(
        "/kapu/login",
        data={"csrf_token": "not-the-token", "username": active, "password": STRONG_PASSWORD},
    )

    assert response.status_code == 400
    assert is_anonymous(client)


# --- the security page ---------------------------------------------------------------------


def test_the_security_page_sends_anonymous_users_to_the_login_page_with_next(client):
    response = client.get("/kapu/security")

    assert response.status_code == 302
    target = urlsplit(location(response))
    assert target.path == "/kapu/login"
    assert parse_qs(target.query) == {"next": ["/kapu/security"]}


def change_password(client, current: str, new: str, confirm: str | None = None) -> Any:
    page = client.get("/kapu/security")
    return client.post(
        "/kapu/security/password",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, active, mailbox):
    other = english_browser(app)
    log_in(other, active, STRONG_PASSWORD)
    log_in(client, active, STRONG_PASSWORD)
    assert is_logged_in_as(other, active)
    mailbox.clear()  # the login from a new browser was mailed

    response = change_password(client, STRONG_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert location(response) == "/kapu/security?changed=1"
    page = client.get(location(response))
    assert "Your password has been changed. Your other sessions have ended." in text_of(page)
    assert is_logged_in_as(client, active)
    assert is_anonymous(other)
    assert log_in(other, active, STRONG_PASSWORD).status_code == 401
    assert log_in(other, active, NEW_PASSWORD).status_code == 302
    assert len(mailbox.wait_for("anna@example.hu")) == 1


def test_a_wrong_current_password_changes_nothing(client, active):
    log_in(client, active, STRONG_PASSWORD)

    response = change_password(client, "Rossz-Jelszo-1", NEW_PASSWORD)

    assert response.status_code == 401
    submit(client, "/kapu/logout", {})
    assert log_in(client, active, STRONG_PASSWORD).status_code == 302


# --- what a page says ----------------------------------------------------------------------


def _fresh_login_page(client, app):
    return client.get("/kapu/login")


def _wrong_password(client, app):
    return log_in(client, "KisAnna", "Rossz-Jelszo-1")


def _unknown_user(client, app):
    return log_in(client, "NemLetezo", STRONG_PASSWORD)


def _pending_account(client, app):
    register(app, "NagyBela", "bela@example.hu")
    return log_in(client, "NagyBela", STRONG_PASSWORD)


def _locked(client, app):
    for _ in range(5):
        log_in(client, "KisAnna", "Rossz-Jelszo-1")
    return log_in(client, "KisAnna", STRONG_PASSWORD)


def _wrong_code(client, app):
    register(app, "NagyBela", "bela@example.hu")
    return use_code(client, "/kapu/activate", "NagyBela", "AAAAA-BBBBB", STRONG_PASSWORD)


def _weak_password(client, app):
    register(app, "NagyBela", "bela@example.hu")
    return use_code(client, "/kapu/activate", "NagyBela", "AAAAA-BBBBB", "tavasz")


def _no_csrf_token(client, app):
    client.get("/kapu/login")
    return client.post("/kapu/login", data={"username": "KisAnna", "password": STRONG_PASSWORD})


def _taken_username(client, app):
    return submit(client, "/kapu/register", {**SELF_SERVICE, "username": "kisanna"})


def _terms_not_accepted(client, app):
    data = {k: v for k, v in SELF_SERVICE.items() if k != "accept_terms"}
    return submit(client, "/kapu/register", data)


def _unknown_card(client, app):
    return check_card(client, registration_code="K7P2M9Q4T1Y")


def _wrong_current_password(client, app):
    log_in(client, "KisAnna", STRONG_PASSWORD)
    return change_password(client, "Rossz-Jelszo-1", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("refusal", "problem"),
    [
        pytest.param(_fresh_login_page, None, id="nothing-wrong-no-alert"),
        pytest.param(_wrong_password, "invalid_credentials", id="wrong-password"),
        pytest.param(_unknown_user, "invalid_credentials", id="unknown-user"),
        pytest.param(_pending_account, "invalid_credentials", id="pending-account"),
        pytest.param(_locked, "too_many_attempts", id="locked"),
        pytest.param(_wrong_code, "invalid_code", id="wrong-code"),
        pytest.param(_weak_password, "weak_password", id="weak-password"),
        pytest.param(_no_csrf_token, "csrf_failed", id="no-csrf-token"),
        pytest.param(_taken_username, "username_taken", id="taken-username"),
        pytest.param(_terms_not_accepted, "invalid_input", id="invalid-form"),
        pytest.param(_unknown_card, "eid_not_recognised", id="unknown-card"),
        pytest.param(_wrong_current_password, "invalid_credentials", id="wrong-current-password"),
    ],
)
def test_the_alert_on_a_form_page_says_what_went_wrong_and_what_to_do(
    client, app, active, refusal, problem
):
    response = refusal(client, app)

    assert alert(response) == (None if problem is None else detail(app, problem))


@pytest.mark.parametrize("path", ["/kapu/login", "/kapu/activate", "/kapu/security"])
def test_password_inputs_are_masked(client, active, path):
    log_in(client, active, STRONG_PASSWORD)
    if path != "/kapu/security":
        submit(client, "/kapu/logout", {})

    page = client.get(path).get_data(as_text=True)

    password_inputs = re.findall(r'<input[^>]*\bname="[a-z_]*(?:password|confirm)"[^>]*>', page)
    assert password_inputs
    assert all('type="password"' in tag for tag in password_inputs), password_inputs


# --- the development outbox ----------------------------------------------------------------


@pytest.fixture
def outbox_app(database_url, smtp_server, clock):
    """A host app without MAIL_SERVER: mail goes to the in-memory outbox."""
    app, kapu = make_app(database_url, smtp_server[1], MAIL_SERVER=None)
    kapu.clock = clock
    state = app.extensions["kapu"]
    empty_tables(state)
    state.limiter.reset()
    yield app
    state.notifier.wait()
    state.deps.store.dispose()


def test_the_outbox_page_does_not_exist_outside_debug_mode(outbox_app):
    register(outbox_app)

    assert outbox_app.test_client().get("/kapu/outbox").status_code == 404


def test_the_outbox_page_does_not_exist_when_mail_goes_over_smtp(app, registered):
    app.debug = True

    assert app.test_client().get("/kapu/outbox").status_code == 404


def test_the_outbox_page_lists_the_mails_in_debug_mode(outbox_app, mailbox):
    outbox_app.debug = True
    register(outbox_app)

    response = outbox_app.test_client().get("/kapu/outbox?lang=en")

    assert response.status_code == 200
    page = text_of(response)
    assert "To: anna@example.hu" in page
    assert "KisAnna" in page
    assert re.search(r"\b[0-9A-Z]{5}-[0-9A-Z]{5}\b", page)
    assert mailbox.wait_for("anna@example.hu", timeout=0.2) == []


# --- language --------------------------------------------------------------------------------


def hungarian_log_in() -> str | None:
    """The compiled Hungarian for "Log in", if the catalogue is built."""
    mo = Path(flask_kapu.__file__).parent / "translations/hu/LC_MESSAGES/flask_kapu.mo"
    if not mo.exists():
        return None
    with mo.open("rb") as handle:
        message = read_mo(handle).get("Log in")
    return str(message.string) if message is not None and message.string else None


def test_pages_are_hungarian_by_default(app):
    response = app.test_client().get("/kapu/login")

    assert html_lang(response) == "hu"
    translated = hungarian_log_in()
    if translated is not None:
        assert translated in text_of(response)


def test_an_english_browser_gets_english_pages(app):
    response = app.test_client().get("/kapu/login", headers={"Accept-Language": "en-GB,en;q=0.8"})

    assert html_lang(response) == "en"
    assert "Log in to Ügyfélkapu" in text_of(response)


def test_lang_en_switches_to_english_and_is_remembered_in_a_cookie(app):
    browser = app.test_client()

    response = browser.get("/kapu/login?lang=en")

    assert html_lang(response) == "en"
    assert "Log in to Ügyfélkapu" in text_of(response)
    assert browser.get_cookie("kapu_lang").value == "en"
    assert html_lang(browser.get("/kapu/password/forgot")) == "en"


def test_lang_hu_switches_back_to_hungarian(app):
    browser = app.test_client()
    browser.get("/kapu/login?lang=en")

    response = browser.get("/kapu/login?lang=hu")

    assert html_lang(response) == "hu"
    assert browser.get_cookie("kapu_lang").value == "hu"
    assert html_lang(browser.get("/kapu/login")) == "hu"


def test_an_unknown_language_is_ignored(app):
    browser = app.test_client()

    response = browser.get("/kapu/login?lang=de")

    assert html_lang(response) == "hu"
    assert browser.get_cookie("kapu_lang") is None


def test_a_database_outage_answers_503_on_pages_and_protected_host_views(app, active, state):
    from sqlalchemy.exc import OperationalError

    client = app.test_client()
    submit(client, "/kapu/login", {"username": active, "password": STRONG_PASSWORD})
    logout_token = csrf_from(client.get("/kapu/logout").get_data(as_text=True))

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    store = state.deps.store
    names = ("reading", "transaction", "load_account", "load_login")
    real = {name: getattr(store, name) for name in names}
    for name in real:
        setattr(store, name, down)
    try:
        page = client.get("/kapu/security")
        host_json = client.get("/protected", headers={"Accept": "application/json"})
        host_html = client.get("/protected")
        logout = client.post("/kapu/logout", data={"csrf_token": logout_token})
    finally:
        for name, method in real.items():
            setattr(store, name, method)
    assert page.status_code == 503
    assert "Retry-After" in page.headers
    assert host_json.status_code == 503
    assert host_json.get_json()["code"] == "service_unavailable"
    assert host_html.status_code == 503
    assert logout.status_code == 302  # logging out works without the database
    assert client.get("/kapu/api/session").get_json()["authenticated"] is False
