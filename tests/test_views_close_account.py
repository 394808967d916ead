"""Closing one's own account through the pages and the JSON API.

An account with a second factor needs a fresh Ügyfélkapu+ step-up; one
without, its password (or a login minutes old). Then an explicit
confirmation, with the CSRF token. The session ends, and the username stays taken.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import STRONG_PASSWORD, Api, csrf_from

from flask_kapu.store import AccountStatus

WRONG_PASSWORD = "Rossz-Jelszo-1"


@pytest.fixture
def anna(kapu_account):
    return kapu_account("KisAnna", email="anna@example.hu", password=STRONG_PASSWORD)


def status_of(state, username: str = "KisAnna") -> str:
    with state.deps.store.reading() as repo:
        account = repo.account_by_username(username)
        assert account is not None
        return account.status


def close(api: Api, body: Any = None, **kwargs: Any) -> Any:
    response = api.post("/account/close", {"confirm": True} if body is None else body, **kwargs)
    if response.status_code == 204:
        api.csrf = None  # the session, and its token, are gone
    return response


# --- JSON -------------------------------------------------------------------------------------


def test_closing_needs_a_login(api, state, anna):
    response = close(api)

    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"
    assert status_of(state) == AccountStatus.ACTIVE.value


def test_closing_needs_a_fresh_plusz_when_the_account_has_a_factor(
    api, client, state, anna, kapu_login, clock
):
    kapu_login(client, anna)
    assert close(api).get_json()["code"] == "plusz_required"

    kapu_login(client, anna, level="plusz")
    api.csrf = None  # a new session, a new token
    clock.advance(minutes=11)
    stale = close(api)

    assert stale.status_code == 401
    assert stale.get_json()["code"] == "plusz_required"
    assert status_of(state) == AccountStatus.ACTIVE.value


def test_closing_needs_the_csrf_token(api, client, state, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    response = close(api, headers={"X-CSRFToken": "hamis"})

    assert response.status_code == 400
    assert response.get_json()["code"] == "csrf_failed"
    assert status_of(state) == AccountStatus.ACTIVE.value


@pytest.mark.parametrize("body", [{}, {"confirm": False}, {"confirm": "true"}, [True]], ids=str)
def test_closing_needs_an_explicit_confirmation(api, client, state, anna, kapu_login, body):
    kapu_login(client, anna, level="plusz")

    response = close(api, body)

    assert response.status_code == 422
    assert status_of(state) == AccountStatus.ACTIVE.value


def test_closing_ends_the_session_and_the_account(api, client, state, anna, kapu_login, mailbox):
    kapu_login(client, anna, level="plusz")
    cookie = client.get_cookie("session")
    assert cookie is not None

    response = close(api)

    assert response.status_code == 204
    assert status_of(state) == AccountStatus.CLOSED.value
    assert api.session()["authenticated"] is False
    client.set_cookie("session", cookie.value)  # the cookie of before, replayed
    assert client.get("/protected").status_code != 200
    assert mailbox.wait_for("anna@example.hu")


def test_a_closed_account_answers_login_like_a_wrong_password(
    api, client, anna, kapu_account, kapu_login
):
    kapu_account("NagyBela", password=STRONG_PASSWORD, methods=())
    kapu_login(client, anna, level="plusz")
    close(api)

    closed = api.post("/login", {"username": "KisAnna", "password": STRONG_PASSWORD})
    wrong = api.post("/login", {"username": "NagyBela", "password": WRONG_PASSWORD})

    assert closed.status_code == wrong.status_code == 401
    assert closed.get_json() == wrong.get_json()


def test_the_closed_username_cannot_be_registered_again(api, client, anna, kapu_login):
    kapu_login(client, anna, level="plusz")
    assert close(api).status_code == 204

    for name in ("KisAnna", "KISANNA"):
        response = api.post(
            "/register",
            {
                "username": name,
                "email": "masik@example.hu",
                "person": {"family_name": "Kis", "given_name": "Anna", "birth_date": "1990-01-01"},
                "accept_terms": True,
            },
        )
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["code"] == "username_taken"


def test_an_account_without_a_factor_closes_with_its_password(
    api, client, state, kapu_account, kapu_login, clock
):
    bela = kapu_account("NagyBela", password=STRONG_PASSWORD, methods=())
    kapu_login(client, bela)
    clock.advance(minutes=11)  # past KAPU_FRESH_LOGIN_MAX_AGE

    assert close(api).status_code == 422
    wrong = close(api, {"confirm": True, "password": WRONG_PASSWORD})
    assert wrong.status_code == 401
    assert status_of(state, "NagyBela") == AccountStatus.ACTIVE.value

    assert close(api, {"confirm": True, "password": STRONG_PASSWORD}).status_code == 204
    assert status_of(state, "NagyBela") == AccountStatus.CLOSED.value


# --- HTML -------------------------------------------------------------------------------------


def test_the_security_page_links_to_closing_and_the_download(client, anna, kapu_login):
    kapu_login(client, anna)

    page = client.get("/kapu/security").get_data(as_text=True)

    assert 'href="/kapu/security/close"' in page
    assert 'href="/kapu/security/export"' in page


def test_the_close_page_needs_a_login(client, anna):
    response = client.get("/kapu/security/close")

    assert response.status_code == 302
    assert response.location.startswith("/kapu/login")


def test_the_close_page_asks_for_a_fresh_plusz_first(client, anna, kapu_login):
    kapu_login(client, anna)

    response = client.get("/kapu/security/close")

    assert response.status_code == 302
    assert response.location.startswith("/kapu/plusz?next=")
    assert "security/close" in response.location


def test_the_close_page_names_what_is_lost(client, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    page = client.get("/kapu/security/close", headers={"Accept-Language": "en"})

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "KisAnna" in text
    assert 'name="confirm"' in text
    assert 'name="password"' not in text  # the fresh step-up is the proof


def post_close(client, data: dict[str, str]) -> Any:
    token = csrf_from(client.get("/kapu/security/close").get_data(as_text=True))
    return client.post("/kapu/security/close", data={"csrf_token": token, **data})


def test_the_close_form_needs_the_csrf_token(client, state, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    response = client.post("/kapu/security/close", data={"confirm": "y"})

    assert response.status_code == 400
    assert status_of(state) == AccountStatus.ACTIVE.value


def test_the_close_form_needs_the_box_ticked(client, state, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    response = post_close(client, {})

    assert response.status_code == 422
    assert status_of(state) == AccountStatus.ACTIVE.value


def test_closing_through_the_page_logs_out(client, state, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    response = post_close(client, {"confirm": "y"})

    assert response.status_code == 200
    assert status_of(state) == AccountStatus.CLOSED.value
    assert client.get("/protected").status_code != 200
    assert client.get("/kapu/security").status_code == 302


def test_a_factorless_account_types_its_password_on_the_page(
    client, state, kapu_account, kapu_login, clock
):
    bela = kapu_account("NagyBela", password=STRONG_PASSWORD, methods=())
    kapu_login(client, bela)
    clock.advance(minutes=11)  # past KAPU_FRESH_LOGIN_MAX_AGE

    assert 'name="password"' in client.get("/kapu/security/close").get_data(as_text=True)
    assert post_close(client, {"confirm": "y"}).status_code == 422
    assert post_close(client, {"confirm": "y", "password": WRONG_PASSWORD}).status_code == 401
    assert status_of(state, "NagyBela") == AccountStatus.ACTIVE.value

    assert post_close(client, {"confirm": "y", "password": STRONG_PASSWORD}).status_code == 200
    assert status_of(state, "NagyBela") == AccountStatus.CLOSED.value
