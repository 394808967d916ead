"""Closing an account (its owner) and disabling or enabling one (an operator), as services.

A closed account keeps only its username, reserved for good, and an audit
trail without addresses, browsers or details; a confirmation goes to the
address it had. A disabled or closed account answers login exactly like a
wrong password, and forgot-password does nothing for it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import STRONG_PASSWORD, plain_text
from sqlalchemy import select

from flask_kapu import services
from flask_kapu.errors import InvalidCredentials, InvalidInput, UsernameTaken
from flask_kapu.store import (
    Account,
    AccountStatus,
    AuditEvent,
    Factor,
    LoginSession,
    OneTimeCode,
    RecoveryCode,
    TrustedBrowser,
)

FROM_HOME = services.Context(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux) Firefox/128")


@pytest.fixture
def anna(app, kapu_account, clock):
    """An active account with an authenticator, recovery codes, a live mailed code,
    a session row, a remembered browser and some history."""
    who = kapu_account(
        "KisAnna",
        email="anna@example.hu",
        password=STRONG_PASSWORD,
        methods=("totp", "email"),
        person={"family_name": "Kis", "given_name": "Anna"},
    )
    deps = app.extensions["kapu"].deps
    now = clock()
    with deps.store.transaction() as repo:
        account_id = who.account.id
        repo.replace_recovery_codes(account_id, ["r" * 64, "s" * 64], now)
        repo.replace_codes(
            account_id=account_id,
            purposes=("email_login",),
            purpose="email_login",
            code_hash="c" * 64,
            now=now,
            ttl=timedelta(minutes=10),
        )
        repo.session.add(
            LoginSession(
                account_id=account_id,
                token_hash="t" * 64,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=12),
                ip="203.0.113.7",
                browser="Firefox 128 on Linux",
                level="plusz",
                methods=["password", "totp"],
            )
        )
        repo.session.add(
            TrustedBrowser(
                account_id=account_id,
                token_hash="b" * 64,
                created_at=now,
                expires_at=now + timedelta(days=30),
                ip="203.0.113.7",
                browser="Firefox 128 on Linux",
            )
        )
    with app.app_context():
        services.login(deps, FROM_HOME, username="KisAnna", password=STRONG_PASSWORD)
    return who


def close(app, account: Account, **kwargs: Any) -> None:
    with app.app_context():
        services.closing.close_account(app.extensions["kapu"].deps, FROM_HOME, account, **kwargs)


def stored(state, username: str = "KisAnna") -> Account:
    with state.deps.store.reading() as repo:
        account = repo.account_by_username(username)
        assert account is not None
        return account


def rows(state, model: type[Any], account_id: int) -> list[Any]:
    with state.deps.store.reading() as repo:
        return list(repo.session.scalars(select(model).where(model.account_id == account_id)))


# --- closing ----------------------------------------------------------------------------------


def test_closing_erases_the_personal_data_but_keeps_the_username(app, state, anna, clock):
    before = stored(state)

    close(app, anna.account)

    after = stored(state)
    assert after.status == AccountStatus.CLOSED.value
    assert after.closed_at == clock()
    assert after.username == "KisAnna"
    assert "@" not in after.email
    assert after.person is None
    assert after.password_hash is None
    assert after.imported_username is None
    assert after.session_epoch == before.session_epoch + 1


@pytest.mark.parametrize(
    "model", [Factor, RecoveryCode, OneTimeCode, LoginSession, TrustedBrowser], ids=str
)
def test_closing_deletes_the_accounts_secrets_sessions_and_browsers(app, state, anna, model):
    assert rows(state, model, anna.account.id)

    close(app, anna.account)

    assert rows(state, model, anna.account.id) == []


def test_the_audit_trail_stays_without_addresses_browsers_or_details(app, state, anna):
    close(app, anna.account)

    events = rows(state, AuditEvent, anna.account.id)
    assert [e.event for e in events][-1] == "account_closed"
    assert "password_verified" in [e.event for e in events]
    assert all(e.ip is None and e.user_agent is None and e.detail is None for e in events)


def test_a_confirmation_goes_to_the_address_the_account_had(app, anna, mailbox):
    close(app, anna.account)

    [mail] = mailbox.wait_for("anna@example.hu")
    assert "closed" in plain_text(mail) or "megszűnt" in plain_text(mail)


def test_the_closed_username_stays_taken_in_any_case(app, anna):
    close(app, anna.account)

    for name in ("KisAnna", "kisanna"):
        with app.app_context(), pytest.raises(UsernameTaken):
            services.register(
                app.extensions["kapu"].deps,
                services.Context(),
                username=name,
                email="uj@example.hu",
                via="office",
            )


def test_a_closed_account_answers_login_like_a_wrong_password(app, state, anna):
    close(app, anna.account)

    with app.app_context(), pytest.raises(InvalidCredentials):
        services.login(state.deps, services.Context(), username="KisAnna", password=STRONG_PASSWORD)


def test_forgot_password_does_nothing_for_a_closed_account(app, state, anna, mailbox):
    close(app, anna.account)
    mailbox.clear()

    with app.app_context():
        services.request_reset(
            state.deps, services.Context(), username="KisAnna", email="anna@example.hu"
        )

    assert rows(state, OneTimeCode, anna.account.id) == []
    assert mailbox.wait_for("anna@example.hu", timeout=0.3) == []


def test_an_account_without_a_factor_closes_with_its_password(app, state, kapu_account, clock):
    who = kapu_account("NagyBela", password=STRONG_PASSWORD, methods=())
    clock.advance(hours=1)

    with pytest.raises(InvalidInput):
        close(app, who.account)
    with pytest.raises(InvalidCredentials):
        close(app, who.account, password="Rossz-Jelszo-1")
    assert stored(state, "NagyBela").status == AccountStatus.ACTIVE.value

    close(app, who.account, password=STRONG_PASSWORD)

    assert stored(state, "NagyBela").status == AccountStatus.CLOSED.value


def test_an_account_without_a_factor_closes_minutes_after_its_login(
    app, state, kapu_account, clock
):
    who = kapu_account("NagyBela", password=STRONG_PASSWORD, methods=())

    close(app, who.account, auth_time=clock() - timedelta(minutes=1))

    assert stored(state, "NagyBela").status == AccountStatus.CLOSED.value


# --- disabling ----------------------------------------------------------------------------------


def disable(state, username: str = "KisAnna", reason: str = "hivatali kérés") -> bool:
    return services.closing.disable_account(
        state.deps,
        services.Context(user_agent="flask kapu disable"),
        username=username,
        reason=reason,
    )


def test_disabling_keeps_the_account_but_ends_its_sessions_and_browsers(state, anna):
    before = stored(state)

    assert disable(state)

    after = stored(state)
    assert after.status == AccountStatus.DISABLED.value
    assert after.disabled_reason == "hivatali kérés"
    assert after.session_epoch == before.session_epoch + 1
    assert all(s.revoked_at is not None for s in rows(state, LoginSession, anna.account.id))
    assert all(b.revoked_at is not None for b in rows(state, TrustedBrowser, anna.account.id))
    assert rows(state, Factor, anna.account.id)
    [event] = [e for e in rows(state, AuditEvent, anna.account.id) if e.event == "account_disabled"]
    assert event.detail == {"reason": "hivatali kérés"}


def test_a_disabled_account_answers_login_like_a_wrong_password(app, state, anna):
    disable(state)

    with app.app_context(), pytest.raises(InvalidCredentials):
        services.login(state.deps, services.Context(), username="KisAnna", password=STRONG_PASSWORD)


def test_enabling_gives_the_account_back_as_it_was(app, state, anna):
    disable(state)

    assert services.closing.enable_account(
        state.deps, services.Context(), username="KisAnna", reason="tévedés volt"
    )

    after = stored(state)
    assert after.status == AccountStatus.ACTIVE.value
    assert after.disabled_reason is None
    [event] = [e for e in rows(state, AuditEvent, anna.account.id) if e.event == "account_enabled"]
    assert event.detail == {"reason": "tévedés volt"}
    with app.app_context():
        signed_in = services.login(
            state.deps, services.Context(), username="KisAnna", password=STRONG_PASSWORD
        )
    assert signed_in.account.id == anna.account.id


def test_only_a_disabled_account_can_be_enabled(state, anna):
    assert not services.closing.enable_account(state.deps, services.Context(), username="KisAnna")
    assert not services.closing.enable_account(state.deps, services.Context(), username="Senki")


def test_a_closed_account_can_be_neither_disabled_nor_enabled(app, state, anna):
    close(app, anna.account)

    assert not disable(state)
    assert not services.closing.enable_account(state.deps, services.Context(), username="KisAnna")
    assert stored(state).status == AccountStatus.CLOSED.value
