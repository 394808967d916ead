"""Remembered browsers in the services: the token, the login it shortens, and its end.

``services.trusted.remember`` gives a browser a random token (the row keeps its
keyed hash); ``services.login`` with that token in the context skips the second
factor of that one account, at password level, until the token expires, is
forgotten, or a password change, password reset or factor removal revokes it.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from conftest import code_in
from sqlalchemy import select

from flask_kapu import services
from flask_kapu.services import trusted
from flask_kapu.store import TrustedBrowser

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
HERE = services.Context(ip="192.0.2.7", user_agent=FIREFOX)


@pytest.fixture
def bela(kapu_account):
    return kapu_account("NagyBela", email="bela@example.hu", methods=("totp",))


@pytest.fixture
def cili(kapu_account):
    return kapu_account("SzaboCili", email="cili@example.hu", methods=("totp",))


def remember(app, state, who) -> trusted.Remembered:
    with app.app_context():
        remembered = trusted.remember(state.deps, HERE, who.account)
    assert remembered is not None
    return remembered


def log_in(app, state, who, token: str | None) -> services.SignedIn:
    ctx = dataclasses.replace(HERE, trusted_browser=token)
    with app.app_context():
        return services.login(state.deps, ctx, username=who.username, password=who.password)


def rows(state) -> list[TrustedBrowser]:
    with state.deps.store.reading() as repo:
        return list(repo.session.scalars(select(TrustedBrowser).order_by(TrustedBrowser.id)))


def test_a_remembered_browser_is_stored_as_a_keyed_hash_with_where_it_was(app, state, bela, clock):
    remembered = remember(app, state, bela)

    [row] = rows(state)
    assert len(remembered.token) >= 40
    assert row.token_hash == state.deps.codes.hash(trusted.PURPOSE, remembered.token)
    assert row.token_hash != state.deps.codes.hash("session", remembered.token)
    assert row.expires_at == remembered.expires_at == clock() + timedelta(days=30)
    assert row.ip == "192.0.2.7"
    assert row.browser == "Firefox 128 on Windows 10"


def test_its_login_owes_no_second_factor_and_says_it_was_remembered(app, state, bela, clock):
    token = remember(app, state, bela).token
    clock.advance(hours=5)

    result = log_in(app, state, bela, token)

    assert result.second_factor == ()
    assert result.remembered is True
    assert rows(state)[0].last_used_at == clock()


def test_without_the_token_the_second_factor_is_owed(app, state, bela):
    remember(app, state, bela)

    result = log_in(app, state, bela, None)

    assert result.second_factor == ("totp",)
    assert result.remembered is False


def test_a_token_of_another_account_or_a_made_up_one_does_nothing(app, state, bela, cili):
    token = remember(app, state, bela).token

    assert log_in(app, state, cili, token).second_factor
    assert log_in(app, state, bela, token + "x").second_factor
    assert rows(state)[0].last_used_at is None


def test_the_token_expires_after_the_days(app, state, bela, clock):
    token = remember(app, state, bela).token
    clock.advance(days=30, seconds=-1)
    assert log_in(app, state, bela, token).second_factor == ()

    clock.advance(seconds=1)
    assert log_in(app, state, bela, token).second_factor


def test_after_the_sunset_a_remembered_browser_still_owes_the_factor(app, state, bela, clock):
    token = remember(app, state, bela).token
    sunset = dataclasses.replace(state.deps.config, plusz_required_from=date(2026, 1, 1))
    state.deps = dataclasses.replace(state.deps, config=sunset)

    assert log_in(app, state, bela, token).second_factor


@pytest.mark.parametrize("app_config", [{"KAPU_REMEMBER_BROWSER_DAYS": 0}], indirect=True)
def test_zero_days_remembers_nothing(app, state, bela):
    with app.app_context():
        assert trusted.remember(state.deps, HERE, bela.account) is None
    assert rows(state) == []


def test_turning_the_feature_off_ignores_the_tokens_already_given(app, state, bela):
    token = remember(app, state, bela).token
    off = dataclasses.replace(state.deps.config, remember_browser_days=0)
    state.deps = dataclasses.replace(state.deps, config=off)

    assert log_in(app, state, bela, token).second_factor


# --- listing and forgetting ---------------------------------------------------------------


def test_the_live_browsers_are_listed_newest_first(app, state, bela, cili, clock):
    first = remember(app, state, bela)
    clock.advance(days=1)
    remember(app, state, bela)
    remember(app, state, cili)
    clock.advance(days=29, seconds=30)  # the first has expired

    listed = trusted.list_trusted(state.deps, bela.account.id, clock())

    assert len(listed) == 1
    assert listed[0].expires_at > first.expires_at
    assert listed[0].browser == "Firefox 128 on Windows 10"


def test_forgetting_a_browser_ends_its_token_once(app, state, bela, cili):
    token = remember(app, state, bela).token
    [row] = rows(state)

    with app.app_context():
        assert trusted.forget_trusted(state.deps, HERE, cili.account, row.id) is False
        assert trusted.forget_trusted(state.deps, HERE, bela.account, row.id) is True
        assert trusted.forget_trusted(state.deps, HERE, bela.account, row.id) is False

    assert log_in(app, state, bela, token).second_factor
    assert trusted.list_trusted(state.deps, bela.account.id, state.deps.clock()) == []


# --- revoked with the credentials ---------------------------------------------------------


def test_a_password_change_revokes_them(app, state, bela):
    token = remember(app, state, bela).token
    with app.app_context():
        services.change_password(
            state.deps,
            HERE,
            account=bela.account,
            current_password=bela.password,
            new_password="Uj-Tavaszi-Jelszo-7",
        )
    bela.password = "Uj-Tavaszi-Jelszo-7"

    assert rows(state)[0].revoked_at is not None
    assert log_in(app, state, bela, token).second_factor


def test_a_password_reset_revokes_them(app, state, bela, mailbox):
    token = remember(app, state, bela).token
    with app.app_context():
        services.request_reset(state.deps, HERE, username=bela.username, email="bela@example.hu")
        code = code_in(mailbox.wait_for("bela@example.hu")[-1])
        services.use_password_code(
            state.deps, HERE, username=bela.username, code=code, new_password="Uj-Tavaszi-Jelszo-7"
        )
    bela.password = "Uj-Tavaszi-Jelszo-7"

    assert rows(state)[0].revoked_at is not None
    assert log_in(app, state, bela, token).second_factor


def test_removing_a_factor_revokes_them(app, state, kapu_account):
    dora = kapu_account("KovacsDora", methods=("totp", "email"))
    token = remember(app, state, dora).token
    email = [f for f in services.enrolment.factors(state.deps, dora.account) if f.method == "email"]
    with app.app_context():
        services.enrolment.remove_factor(state.deps, HERE, dora.account, factor_id=email[0].id)

    assert rows(state)[0].revoked_at is not None
    assert log_in(app, state, dora, token).second_factor


def test_an_office_reset_of_the_factors_revokes_them(app, state, bela):
    remember(app, state, bela)
    with app.app_context():
        assert services.enrolment.reset_factors(state.deps, HERE, username=bela.username)

    assert rows(state)[0].revoked_at is not None


def test_purge_deletes_forgotten_and_expired_browsers_and_keeps_live_ones(
    app, state, bela, cili, clock
):
    remember(app, state, bela)
    remember(app, state, cili)
    [first, _] = rows(state)
    with app.app_context():
        assert trusted.forget_trusted(state.deps, HERE, bela.account, first.id)
    clock.advance(days=29)
    live = remember(app, state, bela)

    clock.advance(days=2)  # cili's is past its 30 days, the newer one of bela's is not
    assert services.purge(state.deps).browsers == 2

    assert [row.token_hash for row in rows(state)] == [
        state.deps.codes.hash(trusted.PURPOSE, live.token)
    ]
