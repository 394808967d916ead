"""Adding a host's own second factor: the rules of the built-in methods apply.

A host that plugs in a method (``kapu.add_factor``) stores its factor with
``services.enrolment.add_confirmed`` once it has confirmed possession (the
SMS code came back, say). A first factor needs the password typed again or a
login a few minutes old; it brings recovery codes and a notice that names the
browser and the address.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import plain_text

from flask_kapu import services
from flask_kapu.errors import InvalidInput, TooManyAttempts, WrongPassword

ELEK = services.Context(ip="192.0.2.44", user_agent="Mozilla/5.0 Elek-Bongeszo/3")


@pytest.fixture
def elek(kapu_account):
    """TesztElek: active, no second factor yet."""
    return kapu_account("TesztElek", email="elek@example.hu", methods=())


def add_sms(state, elek, **proof):
    return services.enrolment.add_confirmed(
        state.deps, ELEK, elek.account, method="sms", label="+36 30 123 4567", **proof
    )


def enrolled(state, elek) -> list[str]:
    with state.deps.store.reading() as repo:
        return sorted(repo.enrolled_methods(elek.account.id))


def test_a_first_factor_after_a_fresh_login_comes_with_recovery_codes(app, state, elek, clock):
    with app.test_request_context():
        result = add_sms(state, elek, auth_time=clock() - timedelta(minutes=4))

    assert result.factor.method == "sms"
    assert result.factor.confirmed_at is not None
    assert len(result.recovery_codes) == 10
    assert enrolled(state, elek) == ["sms"]


def test_a_first_factor_after_a_stale_login_needs_the_password(app, state, elek, clock):
    stale = clock() - timedelta(minutes=6)
    with app.test_request_context():
        with pytest.raises(InvalidInput) as refused:
            add_sms(state, elek, auth_time=stale)
        assert refused.value.errors == {"password": ["required"]}
        with pytest.raises(WrongPassword):
            add_sms(state, elek, auth_time=stale, password="Rossz-Jelszo-99")
        assert enrolled(state, elek) == []

        add_sms(state, elek, auth_time=stale, password=elek.password)

    assert enrolled(state, elek) == ["sms"]


def test_wrong_passwords_lock_the_username_like_wrong_logins(app, state, elek):
    with app.test_request_context():
        for _ in range(state.config.max_failed_attempts):
            with pytest.raises(WrongPassword):
                add_sms(state, elek, password="Rossz-Jelszo-99")
        with pytest.raises(TooManyAttempts):
            add_sms(state, elek, password=elek.password)
        with pytest.raises(TooManyAttempts):
            services.login(
                state.deps, services.Context(), username=elek.username, password=elek.password
            )
    assert enrolled(state, elek) == []


def test_the_notice_names_the_browser_and_the_address(app, state, elek, clock, mailbox):
    with app.test_request_context():
        add_sms(state, elek, auth_time=clock())

    (notice,) = mailbox.wait_for("elek@example.hu")
    text = plain_text(notice)
    assert "+36 30 123 4567" in text
    assert "Mozilla/5.0 Elek-Bongeszo/3" in text
    assert "192.0.2.44" in text
