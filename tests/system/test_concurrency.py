"""Races over HTTP against both instances: single-use codes, TOTP steps, lockout, IP limits.

Each single-use secret is sent by 50 requests released together, split between
instance A and B (each two processes of four threads), over 20 rounds: exactly
one may succeed. Every other answer must be a clean refusal (400 or 429
problem+json), never a 5xx.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from flask_kapu.services.base import attempt_key
from flask_kapu.store import AttemptCounter, AuditEvent, OneTimeCode, RecoveryCode

from .client import (
    API,
    PASSWORD,
    Client,
    Reply,
    barrage,
    code_in,
    connector,
    email_code_in,
    new_username,
    totp_code,
    totp_step,
)
from .conftest import MAIN_REGISTER_LIMIT, Pair, summary

ROUNDS = 20
TOTP_ROUNDS = 10  # each needs 50 logins first
COPIES = 50
NEW_PASSWORD = "Nyari-Zapor-77"
PROBLEM_JSON = "application/problem+json"


def run(scenario: Callable[[Any], Awaitable[None]]) -> None:
    """Run an async scenario with one connection pool for its clients."""

    async def main() -> None:
        pool = connector()
        try:
            await scenario(pool)
        finally:
            await pool.close()

    asyncio.run(main())


def exactly_one_success(replies: Sequence[Reply], refusals: set[str]) -> Reply:
    """The one 2xx of ``replies``; every other a 400/429 problem document of ``refusals``."""
    server_errors = [str(r) for r in replies if r.status >= 500]
    assert not server_errors, server_errors
    wins = [r for r in replies if 200 <= r.status < 300]
    assert len(wins) == 1, [str(r) for r in wins]
    for reply in replies:
        if reply is wins[0]:
            continue
        assert reply.status in (400, 429), str(reply)
        assert reply.headers.get("Content-Type", "").startswith(PROBLEM_JSON), str(reply)
        assert reply.code in refusals, str(reply)
        if reply.status == 429:
            assert int(reply.headers["Retry-After"]) >= 1, str(reply)
    assert {r.instance for r in replies} == {0, 1}
    return wins[0]


def events(pair: Pair, account_id: int, event: str) -> int:
    with pair.engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.account_id == account_id, AuditEvent.event == event)
            )
            or 0
        )


def account_id(pair: Pair, username: str) -> int:
    with pair.seeder.state.deps.store.transaction() as repo:
        account = repo.account_by_username(username)
        assert account is not None
        return account.id


def used_codes(pair: Pair, account: int, purposes: Sequence[str]) -> int:
    with pair.engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(OneTimeCode)
                .where(
                    OneTimeCode.account_id == account,
                    OneTimeCode.purpose.in_(purposes),
                    OneTimeCode.used_at.is_not(None),
                )
            )
            or 0
        )


def tally(outcomes: collections.Counter[str], replies: Sequence[Reply]) -> None:
    for reply in replies:
        outcomes[f"{reply.status} {reply.code or ''}".strip()] += 1


def test_an_activation_code_is_used_once_by_50_concurrent_requests(pair: Pair) -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    names: list[str] = []

    async def scenario(pool: Any) -> None:
        for _ in range(ROUNDS):
            username, email = pair.seeder.register()
            code = code_in(pair.mailbox.wait_mail(email))
            async with Client(pool, pair.urls) as client:
                assert (await client.session()).status == 200
                replies = await barrage(
                    pool,
                    pair.urls,
                    f"{API}/activate",
                    [{"username": username, "code": code, "new_password": NEW_PASSWORD}] * COPIES,
                    sessions=[(client.cookie(), client.csrf or "")],
                )
            won = exactly_one_success(replies, {"invalid_code", "too_many_attempts"})
            assert won.body["authenticated"] is True, str(won)
            tally(outcomes, replies)
            names.append(username)

    run(scenario)
    summary(f"\nactivation, {ROUNDS} rounds of {COPIES}: {dict(outcomes)}")
    for username in names:
        account = account_id(pair, username)
        assert events(pair, account, "activated") == 1
        assert used_codes(pair, account, ["activation", "reset"]) == 1


def test_a_reset_code_is_used_once_by_50_concurrent_requests(pair: Pair) -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    accounts = []

    async def scenario(pool: Any) -> None:
        for _ in range(ROUNDS):
            seeded = pair.seeder.account()
            async with Client(pool, pair.urls) as client:
                asked = await client.api(
                    "POST", "/password/forgot", {"username": seeded.username, "email": seeded.email}
                )
                assert asked.status == 202, str(asked)
                code = code_in(await pair.mailbox.next_mail(seeded.email, 0))
                replies = await barrage(
                    pool,
                    pair.urls,
                    f"{API}/password/reset",
                    [{"username": seeded.username, "code": code, "new_password": NEW_PASSWORD}]
                    * COPIES,
                    sessions=[(client.cookie(), client.csrf or "")],
                )
            exactly_one_success(replies, {"invalid_code", "too_many_attempts"})
            tally(outcomes, replies)
            accounts.append(seeded.id)

    run(scenario)
    summary(f"\nreset, {ROUNDS} rounds of {COPIES}: {dict(outcomes)}")
    for account in accounts:
        assert events(pair, account, "password_reset") == 1
        assert used_codes(pair, account, ["activation", "reset"]) == 1


def test_an_email_code_is_used_once_by_50_concurrent_requests(pair: Pair) -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    accounts = []

    async def scenario(pool: Any) -> None:
        for _ in range(ROUNDS):
            seeded = pair.seeder.account(methods=("email",))
            async with Client(pool, pair.urls) as client:
                logged_in = await client.login(seeded.username, seeded.password)
                assert logged_in.status == 200, str(logged_in)
                assert logged_in.body["level"] == "ugyfelkapu", str(logged_in)
                sent = await client.api("POST", "/plusz/email")
                assert sent.status == 202, str(sent)
                code = email_code_in(await pair.mailbox.next_mail(seeded.email, 0))
                replies = await barrage(
                    pool,
                    pair.urls,
                    f"{API}/plusz/email/verify",
                    [{"code": code}] * COPIES,
                    sessions=[(client.cookie(), client.csrf or "")],
                )
            won = exactly_one_success(replies, {"invalid_code", "too_many_attempts"})
            assert won.body["level"] == "plusz", str(won)
            tally(outcomes, replies)
            accounts.append(seeded.id)

    run(scenario)
    summary(f"\ne-mail code, {ROUNDS} rounds of {COPIES}: {dict(outcomes)}")
    for account in accounts:
        assert events(pair, account, "stepped_up") == 1
        assert used_codes(pair, account, ["email_login"]) == 1


def test_a_recovery_code_is_used_once_by_50_concurrent_requests(pair: Pair) -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    accounts = []

    async def scenario(pool: Any) -> None:
        for _ in range(ROUNDS):
            seeded = pair.seeder.account(methods=("totp",), recovery=True)
            async with Client(pool, pair.urls) as client:
                pending = await client.login(seeded.username, seeded.password)
                assert pending.status == 200, str(pending)
                assert pending.body["pending"] == "second_factor", str(pending)
                replies = await barrage(
                    pool,
                    pair.urls,
                    f"{API}/plusz/recovery/verify",
                    [{"code": seeded.recovery_codes[0]}] * COPIES,
                    sessions=[(client.cookie(), client.csrf or "")],
                )
            won = exactly_one_success(replies, {"invalid_code", "too_many_attempts"})
            assert won.body["authenticated"] is True, str(won)
            tally(outcomes, replies)
            accounts.append(seeded.id)

    run(scenario)
    summary(f"\nrecovery code, {ROUNDS} rounds of {COPIES}: {dict(outcomes)}")
    with pair.engine.connect() as connection:
        for account in accounts:
            used = connection.scalar(
                select(func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.account_id == account, RecoveryCode.used_at.is_not(None))
            )
            assert used == 1
            assert events(pair, account, "login") == 1


def test_a_totp_code_accepted_on_instance_a_is_refused_on_instance_b(pair: Pair) -> None:
    async def scenario(pool: Any) -> None:
        for _ in range(3):
            seeded = pair.seeder.account(methods=("totp",))
            assert seeded.totp_secret is not None
            async with Client(pool, pair.urls) as on_a, Client(pool, pair.urls) as on_b:
                for client, instance in ((on_a, 0), (on_b, 1)):
                    pending = await client.login(seeded.username, PASSWORD, instance=instance)
                    assert pending.body["pending"] == "second_factor", str(pending)
                step = totp_step()
                code = totp_code(seeded.totp_secret, step)
                accepted = await on_a.api("POST", "/plusz/totp/verify", {"code": code}, instance=0)
                assert accepted.status == 200, str(accepted)
                replayed = await on_b.api("POST", "/plusz/totp/verify", {"code": code}, instance=1)
                assert replayed.status == 400, str(replayed)
                assert replayed.code == "invalid_code", str(replayed)
                fresh = totp_code(seeded.totp_secret, step + 1)  # the next step still works on B
                accepted = await on_b.api("POST", "/plusz/totp/verify", {"code": fresh}, instance=1)
                assert accepted.status == 200, str(accepted)

    run(scenario)


def test_one_totp_code_from_50_pending_logins_at_once_completes_one(pair: Pair) -> None:
    outcomes: collections.Counter[str] = collections.Counter()

    async def scenario(pool: Any) -> None:
        for _ in range(TOTP_ROUNDS):
            seeded = pair.seeder.account(methods=("totp",))
            assert seeded.totp_secret is not None
            clients = [Client(pool, pair.urls) for _ in range(COPIES)]
            try:
                logins = await asyncio.gather(
                    *(
                        client.login(seeded.username, PASSWORD, instance=index % 2)
                        for index, client in enumerate(clients)
                    )
                )
                assert all(r.body["pending"] == "second_factor" for r in logins)
                code = totp_code(seeded.totp_secret, totp_step())
                replies = await barrage(
                    pool,
                    pair.urls,
                    f"{API}/plusz/totp/verify",
                    [{"code": code}] * COPIES,
                    sessions=[(c.cookie(), c.csrf or "") for c in clients],
                )
            finally:
                for client in clients:
                    await client.close()
            exactly_one_success(replies, {"invalid_code", "too_many_attempts"})
            tally(outcomes, replies)
            assert events(pair, seeded.id, "login") == 1

    run(scenario)
    summary(f"\nTOTP code, {TOTP_ROUNDS} rounds of {COPIES} sessions: {dict(outcomes)}")


def test_50_concurrent_wrong_passwords_count_and_lock_exactly(pair: Pair) -> None:
    """KAPU_MAX_FAILED_ATTEMPTS (5) failures are counted, each answered 401; the fifth
    starts a one-minute lock; every other request meets the lock: 429. No lost update."""
    seeded = pair.seeder.account(prefix="Zarolt")
    replies: list[Reply] = []

    async def scenario(pool: Any) -> None:
        async with Client(pool, pair.urls) as client:
            assert (await client.session()).status == 200
            started = datetime.now(timezone.utc)
            replies.extend(
                await barrage(
                    pool,
                    pair.urls,
                    f"{API}/login",
                    [{"username": seeded.username, "password": "Rossz-Jelszo-1"}] * COPIES,
                    sessions=[(client.cookie(), client.csrf or "")],
                )
            )
            right = await client.login(seeded.username, PASSWORD)
            assert right.status == 429, str(right)
            assert right.code == "too_many_attempts", str(right)
            key = attempt_key("login", seeded.username)
            with pair.engine.connect() as connection:
                row = connection.execute(
                    select(
                        AttemptCounter.failures,
                        AttemptCounter.lockouts,
                        AttemptCounter.locked_until,
                    ).where(AttemptCounter.key == key)
                ).one()
            assert row.failures == 0, row
            assert row.lockouts == 1, row
            until = row.locked_until
            if until.tzinfo is None:
                until = until.replace(tzinfo=timezone.utc)
            lock = until - started
            assert timedelta(seconds=55) < lock <= timedelta(seconds=65), lock

    run(scenario)
    statuses = collections.Counter((r.status, r.code) for r in replies)
    summary(f"\n50 wrong passwords at once: {dict(statuses)}")
    assert statuses == {(401, "invalid_credentials"): 5, (429, "too_many_attempts"): 45}
    assert all(int(r.headers["Retry-After"]) >= 1 for r in replies if r.status == 429)
    assert events(pair, seeded.id, "login_failed") == 5
    assert events(pair, seeded.id, "locked") == 1


def test_the_per_ip_limit_is_shared_by_both_instances_through_redis(pair: Pair) -> None:
    """Registrations are limited to 10 a minute per IP: 30 at once over A and B get 10 in."""
    attempts = 3 * MAIN_REGISTER_LIMIT
    pair.forget_limits()
    replies: list[Reply] = []

    async def scenario(pool: Any) -> None:
        async with Client(pool, pair.urls) as client:
            assert (await client.session()).status == 200
            bodies = []
            for _ in range(attempts):
                name = new_username("Korlat")
                bodies.append(
                    {
                        "username": name,
                        "email": f"{name.lower()}@example.hu",
                        "accept_terms": True,
                        "person": {
                            "family_name": "Korlát",
                            "given_name": "Kata",
                            "birth_date": "1990-01-01",
                        },
                    }
                )
            replies.extend(
                await barrage(
                    pool,
                    pair.urls,
                    f"{API}/register",
                    bodies,
                    sessions=[(client.cookie(), client.csrf or "")],
                )
            )

    try:
        run(scenario)
    finally:
        pair.forget_limits()
    statuses = collections.Counter(r.status for r in replies)
    summary(f"\n{attempts} registrations at once over both instances: {dict(statuses)}")
    assert statuses == {201: MAIN_REGISTER_LIMIT, 429: attempts - MAIN_REGISTER_LIMIT}
    refused_by = {r.instance for r in replies if r.status == 429}
    assert refused_by == {0, 1}  # neither instance had a budget of its own
    assert all(r.code == "too_many_attempts" for r in replies if r.status == 429)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in replies if r.status == 429)
