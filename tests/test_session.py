"""The session (``session.py``): a login waiting for its second factor has a lifetime.

``KAPU_PENDING_LOGIN_TTL`` (10 minutes by default) counts from the password
step. After it the pending login is no login at all: the second-factor page
sends the browser back to the login page saying the login timed out, the
JSON API answers ``login_required`` as for a missing login, and the stale
pending data leaves the session.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import csrf_from
from flask import session

from flask_kapu import session as kapu_session

PENDING_KEY = "_kapu_pending"


@pytest.fixture
def who(kapu_account):
    return kapu_account()  # with an authenticator: every login waits for it


@pytest.fixture
def pending(api, who):
    body = api.post("/login", {"username": who.username, "password": who.password}).get_json()
    assert body["pending"] == "second_factor"
    return who


def pending_in_cookie(client) -> bool:
    with client.session_transaction() as data:
        return PENDING_KEY in data


def query_of(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


# --- JSON -----------------------------------------------------------------------------------


def test_a_pending_login_is_completed_within_its_lifetime(api, pending, clock, kapu_totp_code):
    clock.advance(minutes=9, seconds=59)
    response = api.post("/plusz/totp/verify", {"code": kapu_totp_code(pending)})
    assert response.status_code == 200
    assert response.get_json()["level"] == "plusz"


def test_an_expired_pending_login_is_401_login_required(api, pending, clock, kapu_totp_code):
    clock.advance(minutes=10)
    response = api.post("/plusz/totp/verify", {"code": kapu_totp_code(pending)})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "login_required"
    assert body["pending"] is None


def test_an_expired_pending_login_is_dropped_from_the_session(api, client, pending, clock):
    assert pending_in_cookie(client)
    clock.advance(minutes=11)
    body = api.session()
    assert body["pending"] is None
    assert body["authenticated"] is False
    assert not pending_in_cookie(client)


def test_the_lifetime_counts_from_the_password_step(api, pending, clock, kapu_totp_code):
    clock.advance(minutes=6)
    assert api.session()["pending"] == "second_factor"  # looking does not extend it
    clock.advance(minutes=4)
    response = api.post("/plusz/totp/verify", {"code": kapu_totp_code(pending)})
    assert response.status_code == 401


@pytest.mark.parametrize("app_config", [{"KAPU_PENDING_LOGIN_TTL": 120}], indirect=True)
def test_the_lifetime_is_a_setting(api, pending, clock):
    clock.advance(seconds=119)
    assert api.session()["pending"] == "second_factor"
    clock.advance(seconds=1)
    assert api.session()["pending"] is None


# --- HTML -----------------------------------------------------------------------------------


def test_an_expired_pending_login_sends_the_plusz_page_to_the_login_page(client, pending, clock):
    clock.advance(minutes=10)
    response = client.get("/kapu/plusz?next=/ugyintezes")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/kapu/login"
    assert query_of(response.location) == {"next": ["/ugyintezes"], "timed_out": ["1"]}
    assert not pending_in_cookie(client)


def test_the_login_page_says_the_login_timed_out(client, pending, clock):
    clock.advance(minutes=10)
    page = client.get("/kapu/plusz", follow_redirects=True).get_data(as_text=True)
    assert "Jelentkezzen be újra" in page or "log in again" in page


def test_a_code_typed_after_the_lifetime_goes_back_to_the_login_page(
    client, pending, clock, kapu_totp_code
):
    token = csrf_from(client.get("/kapu/plusz").get_data(as_text=True))
    clock.advance(minutes=10)
    response = client.post(
        "/kapu/plusz/totp",
        data={"totp-csrf_token": token, "totp-code": kapu_totp_code(pending)},
    )
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/kapu/login"
    assert query_of(response.location)["timed_out"] == ["1"]
    with client.session_transaction() as data:
        assert "_kapu" not in data  # no login was made of it


def test_a_protected_page_after_the_lifetime_asks_for_a_new_login(client, pending, clock):
    clock.advance(minutes=10)
    response = client.get("/protected", headers={"Accept": "text/html"})
    assert urlsplit(response.location).path == "/kapu/login"
    assert query_of(response.location) == {"next": ["/protected"], "timed_out": ["1"]}


def test_a_login_page_without_a_timed_out_login_says_nothing_of_it(client):
    page = client.get("/kapu/login").get_data(as_text=True)
    assert "log in again" not in page
    assert "Jelentkezzen be újra" not in page


# --- the function -----------------------------------------------------------------------------


def test_pending_reports_why_a_login_is_gone(app, pending, client, clock):
    with client.session_transaction() as data:
        stored = dict(data)
    with app.test_request_context():
        session.update(stored)
        ttl = app.extensions["kapu"].config.pending_login_ttl
        assert kapu_session.pending(now=clock(), ttl=ttl) is not None
        assert not kapu_session.pending_expired()
        clock.advance(minutes=10)
        assert kapu_session.pending(now=clock(), ttl=ttl) is None
        assert kapu_session.pending_expired()
        assert PENDING_KEY not in session
