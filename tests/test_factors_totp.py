"""Authenticator apps (``factors/totp.py``): each code once, and never one older than the last.

RFC 6238 §5.2: the verifier keeps the newest time step it accepted for each
authenticator and refuses that step and every earlier one, so a code seen
over someone's shoulder is useless once a newer one has been typed.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from flask_kapu.factors.totp import PERIOD
from flask_kapu.store import Factor


@pytest.fixture
def who(kapu_account, clock):
    account = kapu_account()
    clock.advance(minutes=5)  # away from every step the account was made at
    return account


def code_at(who, clock, steps: int) -> str:
    """The code ``steps`` time steps from now (``-1``: the previous one)."""
    return pyotp.TOTP(who.totp_secret).at(clock() + timedelta(seconds=steps * PERIOD))


def log_in(api, who):
    body = api.post("/login", {"username": who.username, "password": who.password}).get_json()
    assert body["pending"] == "second_factor"


def verify(api, code: str):
    return api.post("/plusz/totp/verify", {"code": code})


def last_step(state) -> int | None:
    with state.deps.store.reading() as repo:
        return repo.session.scalars(select(Factor.last_step)).one()


# --- the factor over the store ------------------------------------------------------------


def check(state, who, code: str, now) -> bool:
    with state.deps.store.transaction() as repo:
        (factor,) = repo.factors(who.account.id, "totp")
        return state.deps.plusz.totp.check(repo, factor, code, now)


def test_a_code_is_accepted_once(app, state, who, clock):
    code = code_at(who, clock, 0)
    assert check(state, who, code, clock())
    assert not check(state, who, code, clock())


def test_a_step_before_the_newest_accepted_one_is_refused(app, state, who, clock):
    assert check(state, who, code_at(who, clock, 1), clock())
    assert not check(state, who, code_at(who, clock, 0), clock())
    assert not check(state, who, code_at(who, clock, -1), clock())


def test_the_newest_accepted_step_is_kept_on_the_authenticator(app, state, who, clock):
    assert check(state, who, code_at(who, clock, 0), clock())
    assert last_step(state) == pyotp.TOTP(who.totp_secret).timecode(clock())


def test_a_step_is_claimed_by_one_conditional_update(app, state, who):
    """Two instances that both matched a code: the row count lets only one of them in."""
    with state.deps.store.transaction() as repo:
        (factor,) = repo.factors(who.account.id, "totp")
        assert repo.advance_totp_step(factor.id, 1000)
        assert not repo.advance_totp_step(factor.id, 1000)
        assert not repo.advance_totp_step(factor.id, 999)
        assert repo.advance_totp_step(factor.id, 1001)


# --- at login and at step-up --------------------------------------------------------------


def test_after_the_next_and_current_step_the_previous_one_cannot_log_in(api, who, clock):
    answers = []
    for steps in (1, 0, -1):
        log_in(api, who)
        answers.append(verify(api, code_at(who, clock, steps)))
        if answers[-1].status_code == 200:
            api.post("/logout")
    assert [a.status_code for a in answers] == [200, 400, 400]
    assert answers[-1].get_json()["code"] == "invalid_code"
    assert api.session()["pending"] == "second_factor"


def test_the_previous_step_is_refused_at_step_up_after_the_next(
    client, api, who, clock, kapu_login
):
    kapu_login(client, who)  # a password login: step-up proves the authenticator
    assert verify(api, code_at(who, clock, 1)).status_code == 200
    assert verify(api, code_at(who, clock, 0)).status_code == 400
    refused = verify(api, code_at(who, clock, -1))
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "invalid_code"


def test_codes_in_step_order_are_each_accepted(api, who, clock):
    for steps in (-1, 0, 1):
        log_in(api, who)
        assert verify(api, code_at(who, clock, steps)).status_code == 200
        api.post("/logout")


def test_the_same_code_twice_is_refused(api, who, clock):
    code = code_at(who, clock, 0)
    log_in(api, who)
    assert verify(api, code).status_code == 200
    api.post("/logout")
    log_in(api, who)
    replay = verify(api, code)
    assert replay.status_code == 400
    assert replay.get_json()["code"] == "invalid_code"
