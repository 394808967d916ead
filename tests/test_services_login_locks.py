"""A lock check and the judging of a typed secret are one atomic step.

Many requests for one username at once are judged one after another against
its attempt counter, so no more secrets are judged than
``KAPU_MAX_FAILED_ATTEMPTS`` allows before the lock, on any database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import STRONG_PASSWORD, register

from flask_kapu import services
from flask_kapu.errors import InvalidCode, TooManyAttempts
from flask_kapu.services.plusz import PLUSZ_SCOPE
from flask_kapu.store import AttemptCounter, Repository

THREADS = 20


def race(app, count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads (each in an app context) released together;
    what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work()
            except Exception as error:  # the outcome under test
                results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_wrong_step_up_codes_are_judged_no_more_often_than_the_limit(
    app, state, monkeypatch
):
    account = register(app)
    judged: list[str] = []
    recovery = state.deps.plusz.recovery
    original = recovery.verify

    def spy(repo, who, code, now):
        judged.append(code)
        return original(repo, who, code, now)

    monkeypatch.setattr(recovery, "verify", spy)

    outcomes = race(
        app,
        THREADS,
        lambda: services.verify_code(
            state.deps, services.Context(), account, method="recovery", code="AAAAA-AAAAA"
        ),
    )

    assert len(judged) == 5
    assert sum(isinstance(o, InvalidCode) for o in outcomes) == 5
    assert sum(isinstance(o, TooManyAttempts) for o in outcomes) == THREADS - 5


def test_concurrent_wrong_reset_codes_are_judged_no_more_often_than_the_limit(
    app, state, monkeypatch
):
    register(app)
    judged: list[int] = []
    original = Repository.consume_code

    def spy(self, **kwargs):
        judged.append(kwargs["account_id"])
        return original(self, **kwargs)

    monkeypatch.setattr(Repository, "consume_code", spy)

    outcomes = race(
        app,
        THREADS,
        lambda: services.use_password_code(
            state.deps,
            services.Context(),
            username="KisAnna",
            code="AAAAA-AAAAA",
            new_password=STRONG_PASSWORD,
        ),
    )

    assert len(judged) == 5
    assert sum(isinstance(o, InvalidCode) for o in outcomes) == 5
    assert sum(isinstance(o, TooManyAttempts) for o in outcomes) == THREADS - 5


def test_the_step_up_lock_is_checked_on_the_counter_row_it_then_counts(app, state, monkeypatch):
    """The check takes the username's counter row (creating it if need be) before any
    code is judged, so a concurrent failure cannot slip a lock in between."""
    account = register(app)
    seen: list[int] = []
    recovery = state.deps.plusz.recovery
    original = recovery.verify

    def spy(repo, who, code, now):
        key = services.base.attempt_key(PLUSZ_SCOPE, who.username)
        seen.append(repo.session.get(AttemptCounter, key) is not None)
        return original(repo, who, code, now)

    monkeypatch.setattr(recovery, "verify", spy)
    with pytest.raises(InvalidCode):
        services.verify_code(
            state.deps, services.Context(), account, method="recovery", code="AAAAA-AAAAA"
        )

    assert seen == [True]
