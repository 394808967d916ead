"""The pytest plugin (``flask_kapu.testing``) as a host app's tests use it."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points

import pytest

import flask_kapu.testing
from flask_kapu.services import sessions


@pytest.fixture
def session(api):
    """``GET /kapu/api/session`` of the test client."""
    return api.session


def test_the_plugin_is_registered_as_the_pytest11_entry_point_flask_kapu():
    (entry,) = [e for e in entry_points(group="pytest11") if e.name == "flask_kapu"]
    assert entry.value == "flask_kapu.testing"
    assert entry.load() is flask_kapu.testing


# --- kapu_account ---------------------------------------------------------------------------


def test_an_account_is_active_and_logs_in_with_its_password(api, kapu_account):
    who = kapu_account()
    response = api.post("/login", {"username": who.username, "password": who.password})
    assert response.status_code == 200, response.get_json()


def test_an_account_has_a_totp_factor_by_default(api, kapu_account):
    who = kapu_account()
    assert who.totp_secret
    body = api.post("/login", {"username": who.username, "password": who.password}).get_json()
    assert body["pending"] == "second_factor"
    assert body["methods"] == ["totp"]


def test_kapu_totp_code_completes_a_pending_login(api, kapu_account, kapu_totp_code):
    who = kapu_account()
    api.post("/login", {"username": who.username, "password": who.password})
    response = api.post("/plusz/totp/verify", {"code": kapu_totp_code(who)})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["level"] == "plusz"
    assert body["username"] == who.username
    assert body["methods_used"] == ["password", "totp"]


def test_kapu_totp_code_follows_the_apps_clock(api, kapu_account, kapu_totp_code, clock):
    who = kapu_account()
    clock.advance(hours=1)
    api.post("/login", {"username": who.username, "password": who.password})
    assert api.post("/plusz/totp/verify", {"code": kapu_totp_code(who)}).status_code == 200


def test_kapu_totp_code_refuses_an_account_without_an_authenticator(kapu_account, kapu_totp_code):
    with pytest.raises(ValueError, match="authenticator"):
        kapu_totp_code(kapu_account(methods=("email",)))


def test_an_account_gets_the_methods_asked_for(client, kapu_account, kapu_login, session):
    who = kapu_account(methods=("email", "webauthn"))
    kapu_login(client, who)
    assert session()["enrolled_methods"] == ["email", "webauthn"]
    assert who.totp_secret is None


def test_an_account_can_have_no_factor_at_all(api, kapu_account):
    who = kapu_account(methods=())
    body = api.post("/login", {"username": who.username, "password": who.password}).get_json()
    assert body["level"] == "ugyfelkapu"
    assert body["enrolled_methods"] == []


def test_an_account_takes_a_username_email_and_password(api, kapu_account):
    who = kapu_account("TesztElek", email="elek@example.hu", password="Masik-Jelszo-77")
    assert who.username == "TesztElek"
    assert who.account.email == "elek@example.hu"
    body = api.post("/login", {"username": "TesztElek", "password": "Masik-Jelszo-77"}).get_json()
    assert body["pending"] == "second_factor"


def test_accounts_made_without_usernames_get_different_valid_usernames(api, kapu_account):
    first, second = kapu_account(), kapu_account()
    assert first.username != second.username
    assert first.account.email != second.account.email
    for who in (first, second):
        assert who.username.isalpha()
        response = api.post("/login", {"username": who.username, "password": who.password})
        assert response.status_code == 200
        api.post("/logout")


def test_a_taken_username_is_refused(kapu_account):
    kapu_account("TesztElek")
    with pytest.raises(ValueError, match="taken"):
        kapu_account("TesztElek")


# --- kapu_login ---------------------------------------------------------------------------------


def test_kapu_login_logs_in_at_ugyfelkapu_by_default(client, kapu_account, kapu_login, session):
    who = kapu_account()
    kapu_login(client, who)
    body = session()
    assert body["authenticated"] is True
    assert body["username"] == who.username
    assert body["level"] == "ugyfelkapu"
    assert body["methods_used"] == ["password"]
    assert body["pending"] is None


def test_kapu_login_at_plusz_with_email(client, kapu_account, kapu_login, session):
    kapu_login(client, kapu_account(), level="plusz", methods=("email",))
    body = session()
    assert body["level"] == "plusz"
    assert body["methods_used"] == ["email", "password"]
    assert body["acr"] == "urn:eksz.gov.hu:1.0:azonositas:kau:2:uk:email"


def test_kapu_login_at_plusz_uses_totp_unless_told(client, kapu_account, kapu_login, session):
    kapu_login(client, kapu_account(), level="plusz")
    assert session()["methods_used"] == ["password", "totp"]


def test_kapu_login_dates_the_login_at_the_time_given(
    client, kapu_account, kapu_login, session, clock
):
    then = clock() - timedelta(minutes=30)
    kapu_login(client, kapu_account(), level="plusz", at=then)
    body = session()
    assert body["auth_time"] == then.isoformat()
    assert body["plusz_time"] == then.isoformat()


def test_kapu_login_replaces_the_clients_previous_login(client, kapu_account, kapu_login, session):
    kapu_login(client, kapu_account(), level="plusz")
    second = kapu_account()
    kapu_login(client, second)
    body = session()
    assert body["username"] == second.username
    assert body["level"] == "ugyfelkapu"


def test_a_kapu_login_session_can_post_to_the_api(api, client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(), level="plusz")
    response = api.post("/factors/recovery-codes")
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["recovery_codes"]) == 10


def test_kapu_login_takes_the_account_model_too(client, kapu_account, kapu_login, session):
    who = kapu_account()
    kapu_login(client, who.account)
    assert session()["username"] == who.username


def test_kapu_login_opens_a_server_side_session_row(state, client, kapu_account, kapu_login):
    who = kapu_account()
    kapu_login(client, who, level="plusz", methods=("email",))

    (row,) = sessions.list_sessions(state.deps, who.account.id, state.deps.clock())
    assert (row.level, row.methods) == ("plusz", ["email", "password"])


def test_a_kapu_login_session_ends_when_its_row_is_revoked(
    state, client, kapu_account, kapu_login, session
):
    who = kapu_account()
    kapu_login(client, who)

    sessions.revoke_all(state.deps, who.account.id)

    assert session()["authenticated"] is False


def test_an_old_kapu_login_is_a_live_session_from_now(client, kapu_account, kapu_login, clock):
    kapu_login(client, kapu_account(), at=clock() - timedelta(hours=20))
    assert client.get("/protected").status_code == 200


# --- kapu_outbox --------------------------------------------------------------------------------


def forgot(api, who):
    """Ask for a password reset for ``who`` (mails a reset code if the address is right)."""
    body = {"username": who.username, "email": who.account.email}
    response = api.post("/password/forgot", body)
    assert response.status_code == 202, response.get_json()


def test_kapu_outbox_captures_a_mail_the_app_sends(api, kapu_account, kapu_outbox):
    who = kapu_account(email="elek@example.hu")
    forgot(api, who)
    (mail,) = kapu_outbox.messages
    assert mail["To"] == "elek@example.hu"
    assert mail.get_body(preferencelist=("plain",)).get_content()


def test_kapu_outbox_to_filters_by_recipient(api, kapu_account, kapu_outbox):
    first = kapu_account(email="elek@example.hu")
    second = kapu_account(email="anna@example.hu")
    forgot(api, first)
    forgot(api, second)
    assert len(kapu_outbox.messages) == 2
    assert [m["To"] for m in kapu_outbox.to("elek@example.hu")] == ["elek@example.hu"]
    assert [m["To"] for m in kapu_outbox.to("anna@example.hu")] == ["anna@example.hu"]
    assert kapu_outbox.to("nobody@example.hu") == []


def test_kapu_outbox_is_empty_when_nothing_was_sent(api, kapu_account, kapu_outbox):
    who = kapu_account(email="elek@example.hu")
    api.post("/password/forgot", {"username": who.username, "email": "other@example.hu"})
    assert kapu_outbox.messages == []


def test_kapu_outbox_keeps_mails_from_the_real_mail_server(api, kapu_account, kapu_outbox, mailbox):
    forgot(api, kapu_account(email="elek@example.hu"))
    assert len(kapu_outbox.to("elek@example.hu")) == 1
    assert mailbox.wait_for("elek@example.hu", timeout=0.3) == []


def test_an_account_made_without_email_can_be_mailed_a_password_reset(
    api, kapu_account, kapu_outbox
):
    who = kapu_account()
    forgot(api, who)
    assert len(kapu_outbox.to(who.account.email)) == 1
