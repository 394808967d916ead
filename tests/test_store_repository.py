"""The repository's single-use and counting statements hold under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from conftest import register
from sqlalchemy import select

from flask_kapu.store import AttemptCounter, OneTimeCode

KEY = "login:test"


def race(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def stored_code(state, account_id, clock, code_hash="h" * 64, ttl=timedelta(minutes=10)):
    with state.deps.store.transaction() as repo:
        repo.replace_codes(
            account_id=account_id,
            purposes=("activation",),
            purpose="activation",
            code_hash=code_hash,
            now=clock(),
            ttl=ttl,
        )


def consume(state, account_id, clock, code_hash="h" * 64):
    with state.deps.store.transaction() as repo:
        return repo.consume_code(
            account_id=account_id,
            purposes=("activation",),
            hashes=[code_hash],
            now=clock(),
            max_attempts=5,
        )


def test_a_code_consumed_by_twenty_concurrent_requests_is_used_exactly_once(app, state, clock):
    account = register(app)
    for _ in range(3):
        stored_code(state, account.id, clock)
        results = race(20, lambda: consume(state, account.id, clock))
        assert results.count("activation") == 1
        assert results.count(None) == 19


def test_an_expired_code_is_not_consumed(app, state, clock):
    account = register(app)
    stored_code(state, account.id, clock)
    clock.advance(minutes=10)
    assert consume(state, account.id, clock) is None
    with state.deps.store.transaction() as repo:
        assert repo.code_expired(
            account_id=account.id, purposes=("activation",), hashes=["h" * 64], now=clock()
        )


def test_a_code_with_too_many_wrong_guesses_is_dead(app, state, clock):
    account = register(app)
    stored_code(state, account.id, clock)
    for _ in range(5):
        with state.deps.store.transaction() as repo:
            repo.count_wrong_code(account_id=account.id, purposes=("activation",))
    assert consume(state, account.id, clock) is None


def test_replacing_a_code_voids_the_live_one(app, state, clock):
    account = register(app)
    stored_code(state, account.id, clock, code_hash="a" * 64)
    stored_code(state, account.id, clock, code_hash="b" * 64)
    assert consume(state, account.id, clock, code_hash="a" * 64) is None
    assert consume(state, account.id, clock, code_hash="b" * 64) == "activation"


def fail(state, clock):
    with state.deps.store.transaction() as repo:
        return repo.record_failure(
            KEY,
            now=clock(),
            max_failures=5,
            lock_for=timedelta(minutes=1),
            max_lock=timedelta(hours=1),
        )


def test_fifty_concurrent_failures_count_five_and_lock_once(app, state, clock):
    outcomes = race(50, lambda: fail(state, clock))
    counted = sorted(o.failures for o in outcomes if o.counted)
    assert counted == [1, 2, 3, 4, 5]
    assert sum(o.locked_until is not None and o.counted for o in outcomes) == 1
    with state.deps.store.transaction() as repo:
        row = repo.session.scalars(select(AttemptCounter)).one()
    assert row.lockouts == 1
    assert row.failures == 0
    assert row.locked_until == clock() + timedelta(minutes=1)


def test_failures_during_a_lock_are_not_counted(app, state, clock):
    for _ in range(5):
        fail(state, clock)
    clock.advance(seconds=30)
    outcome = fail(state, clock)
    assert not outcome.counted
    assert outcome.retry_after(clock()) == 30


def test_locks_double_up_to_the_maximum(app, state, clock):
    lengths = []
    for _ in range(8):
        for _ in range(5):
            outcome = fail(state, clock)
        lengths.append(outcome.locked_until - clock())
        clock.advance(seconds=lengths[-1].total_seconds() + 1)
    assert lengths[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert lengths[-1] == timedelta(hours=1)


def test_purge_keeps_live_codes_and_recent_pending_accounts(app, state, clock):
    account = register(app)
    stored_code(state, account.id, clock)
    with state.deps.store.transaction() as repo:
        result = repo.purge(
            now=clock(), pending_before=clock() - timedelta(days=60), counters_before=clock()
        )
        assert result.accounts == 0
        assert result.codes == 0
        assert repo.count(OneTimeCode) == 1
