"""Login spends the same work whatever the username, so timing reveals nothing."""

from __future__ import annotations

import pytest
from conftest import register

from flask_kapu import services
from flask_kapu.errors import InvalidCredentials


@pytest.fixture
def verifications(state, monkeypatch):
    """Every stored hash ``verify`` was asked to check (None: the dummy)."""
    seen = []
    original = state.deps.hashing.verify

    def spy(stored, password):
        seen.append(stored)
        return original(stored, password)

    monkeypatch.setattr(state.deps.hashing, "verify", spy)
    return seen


@pytest.mark.parametrize("username", ["NincsIlyen", "PendingAnna"])
def test_unknown_and_pending_accounts_cost_one_dummy_verify(app, state, verifications, username):
    register(app, "PendingAnna", "p@example.hu")
    with app.test_request_context(), pytest.raises(InvalidCredentials):
        services.login(state.deps, services.Context(), username=username, password="Barmi-Jelszo-1")
    assert verifications == [None]


def test_an_over_long_password_is_refused_after_the_same_dummy_verify(app, state, verifications):
    with app.test_request_context(), pytest.raises(InvalidCredentials):
        services.login(state.deps, services.Context(), username="NincsIlyen", password="x" * 5000)
    assert verifications == [None]
