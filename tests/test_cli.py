"""``flask kapu ...``: the operator's commands, run through Flask's CLI runner."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import STRONG_PASSWORD, code_in, empty_tables, make_app, register
from sqlalchemy import inspect, select

from flask_kapu.store import Account, AccountStatus, OneTimeCode

WRONG_PASSWORD = "Rossz-Jelszo-1"


def flask(app, *args: str) -> Any:
    """``flask <args>`` against ``app``."""
    return app.test_cli_runner().invoke(args=list(args))


def assert_refused_in_one_line(result: Any) -> str:
    """Non-zero exit with a one-line message and no traceback; the message."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def account(state, username: str) -> Account | None:
    with state.deps.store.transaction() as repo:
        return repo.account_by_username(username)


def usernames(state) -> list[str]:
    with state.deps.store.transaction() as repo:
        return sorted(repo.session.scalars(select(Account.username)))


def live_codes(state, username: str) -> list[OneTimeCode]:
    with state.deps.store.transaction() as repo:
        found = repo.account_by_username(username)
        assert found is not None
        return list(
            repo.session.scalars(select(OneTimeCode).where(OneTimeCode.account_id == found.id))
        )


# --- register ------------------------------------------------------------------------------


def test_register_creates_a_pending_account_and_mails_its_activation_code(app, state, api, mailbox):
    result = flask(app, "kapu", "register", "KisAnna", "anna@example.hu")

    assert result.exit_code == 0, result.output
    assert "KisAnna" in result.output
    stored = account(state, "KisAnna")
    assert stored is not None
    assert stored.status == AccountStatus.PENDING.value
    assert stored.registered_via == "office"
    assert stored.email == "anna@example.hu"
    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    activated = api.post(
        "/activate", {"username": "KisAnna", "code": code, "new_password": STRONG_PASSWORD}
    )
    assert activated.status_code == 200


@pytest.mark.parametrize("username", ["Kis Anna", "Kis-Anna", "Ann", "Béla42", "mama"])
def test_register_refuses_a_bad_username_in_one_line(app, state, mailbox, username):
    result = flask(app, "kapu", "register", username, "anna@example.hu")

    assert "username" in assert_refused_in_one_line(result)
    assert usernames(state) == []
    assert mailbox.wait_for("anna@example.hu", timeout=0.2) == []


def test_register_refuses_a_bad_email_address_in_one_line(app, state):
    result = flask(app, "kapu", "register", "KisAnna", "not-an-address")

    assert "email" in assert_refused_in_one_line(result)
    assert usernames(state) == []


@pytest.mark.parametrize("username", ["KisAnna", "kisanna", "KISANNA"])
def test_register_refuses_a_taken_username_in_any_case_in_one_line(
    app, state, registered, mailbox, username
):
    mailbox.clear()

    result = flask(app, "kapu", "register", username, "masik@example.hu")

    assert "username" in assert_refused_in_one_line(result)
    assert usernames(state) == ["KisAnna"]
    assert mailbox.wait_for("masik@example.hu", timeout=0.2) == []


# --- unlock --------------------------------------------------------------------------------


def api_login(api, username: str, password: str) -> Any:
    return api.post("/login", {"username": username, "password": password})


def test_unlock_clears_the_lock_so_the_right_password_logs_in(app, api, active):
    for _ in range(5):
        assert api_login(api, active, WRONG_PASSWORD).status_code == 401
    assert api_login(api, active, STRONG_PASSWORD).status_code == 429

    result = flask(app, "kapu", "unlock", active)

    assert result.exit_code == 0, result.output
    response = api_login(api, active, STRONG_PASSWORD)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["authenticated"] is True


def test_unlock_also_clears_the_count_of_earlier_failures(app, api, active):
    for _ in range(4):
        api_login(api, active, WRONG_PASSWORD)

    flask(app, "kapu", "unlock", active)

    for _ in range(4):
        assert api_login(api, active, WRONG_PASSWORD).status_code == 401
    assert api_login(api, active, STRONG_PASSWORD).status_code == 200


@pytest.mark.parametrize("username", ["NemLetezo", "kisanna"])
def test_unlock_of_an_unknown_username_is_refused_in_one_line(app, active, username):
    result = flask(app, "kapu", "unlock", username)

    assert username in assert_refused_in_one_line(result)


# --- resend-activation ----------------------------------------------------------------------


def test_resend_activation_mails_a_new_code_and_the_old_one_stops_working(
    app, api, registered, mailbox
):
    username, old_code = registered
    mailbox.clear()

    result = flask(app, "kapu", "resend-activation", username)

    assert result.exit_code == 0, result.output
    new_code = code_in(mailbox.wait_for("anna@example.hu")[0])
    assert new_code != old_code
    refused = api.post(
        "/activate", {"username": username, "code": old_code, "new_password": STRONG_PASSWORD}
    )
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "invalid_code"
    accepted = api.post(
        "/activate", {"username": username, "code": new_code, "new_password": STRONG_PASSWORD}
    )
    assert accepted.status_code == 200


@pytest.mark.parametrize("username", ["KisAnna", "NemLetezo"], ids=["active", "unknown"])
def test_resend_activation_is_refused_for_an_account_that_is_not_pending(
    app, active, mailbox, username
):
    result = flask(app, "kapu", "resend-activation", username)

    assert_refused_in_one_line(result)
    assert mailbox.wait_for("anna@example.hu", timeout=0.2) == []


# --- purge ----------------------------------------------------------------------------------


def test_purge_removes_never_activated_accounts_older_than_sixty_days(
    app, state, clock, api, mailbox
):
    register(app, "RegiFiok", "regi@example.hu")
    register(app, "AktivFiok", "aktiv@example.hu")
    code = code_in(mailbox.wait_for("aktiv@example.hu")[0])
    api.post("/activate", {"username": "AktivFiok", "code": code, "new_password": STRONG_PASSWORD})
    clock.advance(days=2)
    register(app, "KesoiFiok", "kesoi@example.hu")
    clock.advance(days=59)  # RegiFiok: 61 days old, KesoiFiok: 59 days old

    result = flask(app, "kapu", "purge")

    assert result.exit_code == 0, result.output
    assert usernames(state) == ["AktivFiok", "KesoiFiok"]


def test_purge_keeps_a_never_activated_account_until_sixty_days_have_passed(app, state, clock):
    register(app, "KisAnna", "anna@example.hu")
    clock.advance(days=60)

    flask(app, "kapu", "purge")

    assert usernames(state) == ["KisAnna"]


def test_purge_honours_a_configured_pending_account_ttl(database_url, smtp_server, clock, mailbox):
    app, kapu = make_app(database_url, smtp_server[1], KAPU_PENDING_ACCOUNT_TTL=3600 * 24 * 10)
    kapu.clock = clock
    state = app.extensions["kapu"]
    try:
        empty_tables(state)
        register(app, "KisAnna", "anna@example.hu")
        clock.advance(days=11)

        flask(app, "kapu", "purge")

        assert usernames(state) == []
    finally:
        state.notifier.wait()
        state.deps.store.dispose()


def test_purge_removes_expired_codes_and_keeps_live_ones(app, state, clock):
    register(app, "KisAnna", "anna@example.hu")
    clock.advance(days=6)  # KisAnna's code (5 days) has expired
    register(app, "NagyBela", "bela@example.hu")

    result = flask(app, "kapu", "purge")

    assert result.exit_code == 0, result.output
    assert live_codes(state, "KisAnna") == []
    assert [c.purpose for c in live_codes(state, "NagyBela")] == ["activation"]
    assert usernames(state) == ["KisAnna", "NagyBela"]


def test_purge_removes_used_codes(app, state, api, registered):
    username, code = registered
    api.post("/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD})

    flask(app, "kapu", "purge")

    assert live_codes(state, username) == []


# --- db upgrade -----------------------------------------------------------------------------


def test_db_upgrade_creates_the_tables_in_a_fresh_sqlite_file(tmp_path, smtp_server, mailbox):
    path = tmp_path / "fresh.sqlite3"
    app, _kapu = make_app(f"sqlite:///{path}", smtp_server[1])
    state = app.extensions["kapu"]
    try:
        result = flask(app, "kapu", "db", "upgrade")

        assert result.exit_code == 0, result.output
        assert path.exists()
        tables = set(inspect(state.deps.store.engine).get_table_names())
        assert {
            "kapu_account",
            "kapu_attempt_counter",
            "kapu_audit_event",
            "kapu_one_time_code",
        } <= tables
        registered = flask(app, "kapu", "register", "KisAnna", "anna@example.hu")
        assert registered.exit_code == 0, registered.output
        assert code_in(mailbox.wait_for("anna@example.hu")[0])
    finally:
        state.notifier.wait()
        state.deps.store.dispose()


def test_db_upgrade_is_harmless_on_an_up_to_date_database(tmp_path, smtp_server):
    app, _kapu = make_app(f"sqlite:///{tmp_path / 'kapu.sqlite3'}", smtp_server[1])
    state = app.extensions["kapu"]
    try:
        assert flask(app, "kapu", "db", "upgrade").exit_code == 0
        register(app)

        result = flask(app, "kapu", "db", "upgrade")

        assert result.exit_code == 0, result.output
        assert usernames(state) == ["KisAnna"]
    finally:
        state.notifier.wait()
        state.deps.store.dispose()
