"""Faults: SMTP down, PostgreSQL restarted under traffic, Redis stopped.

SMTP is the tests' own sink, taken down and brought back on its port.
PostgreSQL and Redis are private ones started by the fixtures (a cluster made
with ``initdb`` in a temporary folder, run as the ``postgres`` user, and a
``redis-server`` on a free port), so the machine's shared servers are never
stopped.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from flask_kapu.store import Account, AuditEvent, OneTimeCode

from .client import (
    API,
    PASSWORD,
    Client,
    Recorder,
    Reply,
    Seeded,
    code_in,
    connector,
    email_code_in,
    email_of,
    new_username,
)
from .conftest import FAULT_REGISTER_LIMIT, RESEND_INTERVAL, Pair, summary
from .processes import PrivatePostgres, PrivateRedis

PROBLEM_JSON = "application/problem+json"
NEW_PASSWORD = "Nyari-Zapor-77"


def registration(username: str) -> dict[str, Any]:
    return {
        "username": username,
        "email": email_of(username),
        "accept_terms": True,
        "person": {"family_name": "Hiba", "given_name": "Hedvig", "birth_date": "1985-05-05"},
    }


def is_problem(reply: Reply) -> bool:
    return reply.headers.get("Content-Type", "").startswith(PROBLEM_JSON)


def count(pair: Pair, model: Any, *where: Any) -> int:
    with pair.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- SMTP -------------------------------------------------------------------------------


def test_smtp_down_during_registration_loses_nothing_and_says_so(pair: Pair) -> None:
    username = new_username("Levelhiba")
    pair.forget_limits()

    async def scenario() -> None:
        pool = connector()
        try:
            async with Client(pool, pair.urls) as client:
                pair.smtp.stop()
                try:
                    reply = await client.api("POST", "/register", registration(username))
                finally:
                    pair.smtp.start()
                summary(f"\nregistration while SMTP was down: {reply}")
                assert reply.status == 201, str(reply)
                assert reply.body["status"] == "pending_activation"
                assert reply.body["mail_sent"] is False, str(reply)
                assert reply.body.get("detail"), str(reply)  # what to do: "Forgot password"
                with pair.seeder.state.deps.store.transaction() as repo:
                    account = repo.account_by_username(username)
                    assert account is not None
                    assert account.status == "pending"
                    now = pair.seeder.state.deps.clock()
                    live = repo.live_code(account_id=account.id, purpose="activation", now=now)
                    assert live is not None  # the code exists; only its mail was lost
                # SMTP is back: a new code by "forgot password", and the account activates.
                asked = await client.api(
                    "POST", "/password/forgot", {"username": username, "email": email_of(username)}
                )
                assert asked.status == 202, str(asked)
                code = code_in(await pair.mailbox.next_mail(email_of(username), 0))
                done = await client.api(
                    "POST",
                    "/activate",
                    {"username": username, "code": code, "new_password": NEW_PASSWORD},
                )
                assert done.status == 200, str(done)
                assert done.body["authenticated"] is True
        finally:
            await pool.close()

    try:
        asyncio.run(scenario())
    finally:
        pair.smtp.start()
        pair.forget_limits()


def _step_up_with_smtp_down(pair: Pair) -> tuple[Reply, Reply, Reply]:
    """Log in, ask for an e-mail code while SMTP is down, then again once it is back."""
    seeded = pair.seeder.account(methods=("email",), prefix="Levelhiba")
    replies: list[Reply] = []

    async def scenario() -> None:
        pool = connector()
        try:
            async with Client(pool, pair.urls) as client:
                logged_in = await client.login(seeded.username, seeded.password)
                assert logged_in.status == 200, str(logged_in)
                pair.smtp.stop()
                try:
                    replies.append(await client.api("POST", "/plusz/email"))
                finally:
                    pair.smtp.start()
                await asyncio.sleep(RESEND_INTERVAL + 0.2)
                again = await client.api("POST", "/plusz/email")
                replies.append(again)
                assert again.status == 202, str(again)
                mail = await pair.mailbox.next_mail(seeded.email, 0)
                verified = await client.api(
                    "POST", "/plusz/email/verify", {"code": email_code_in(mail)}
                )
                replies.append(verified)
        finally:
            await pool.close()

    try:
        asyncio.run(scenario())
    finally:
        pair.smtp.start()
    return replies[0], replies[1], replies[2]


@pytest.fixture(scope="module")
def step_up_smtp_down(pair: Pair) -> tuple[Reply, Reply, Reply]:
    return _step_up_with_smtp_down(pair)


def test_smtp_down_during_step_up_works_again_when_smtp_returns(
    step_up_smtp_down: tuple[Reply, Reply, Reply],
) -> None:
    down, again, verified = step_up_smtp_down
    summary(f"\nstep-up asked while SMTP was down: {down}")
    assert down.status < 500 or down.status == 503, str(down)
    assert again.status == 202, str(again)
    assert verified.status == 200, str(verified)
    assert verified.body["level"] == "plusz"


def test_smtp_down_during_step_up_tells_the_user_the_mail_was_not_sent(
    step_up_smtp_down: tuple[Reply, Reply, Reply],
) -> None:
    down = step_up_smtp_down[0]
    body = down.body if isinstance(down.body, dict) else {}
    told = (
        down.status >= 400 and is_problem(down) and bool(body.get("detail"))
    ) or (  # or an answer that says so, as registration's does
        down.status == 202 and body.get("mail_sent") is False and bool(body.get("detail"))
    )
    assert told, str(down)


# --- PostgreSQL restarted under traffic ------------------------------------------------


@dataclasses.dataclass
class Outage:
    recorder: Recorder
    stopping: float  # monotonic time the stop began
    stopped: float
    starting: float
    started: float
    registrations: list[tuple[str, Reply]]
    activations: dict[str, list[Reply]]
    masters: list[int]
    booted_before: list[int]
    booted_after: list[int]
    probes: dict[str, Reply]
    pair: Pair

    def during(self) -> list[Reply]:
        """Answers to requests that overlapped the outage."""
        return [
            reply
            for reply in self.recorder.replies
            if reply.finished >= self.stopping and reply.started <= self.started
        ]

    def after(self, grace: float = 1.0) -> list[Reply]:
        return [r for r in self.recorder.replies if r.started > self.started + grace]

    def before(self) -> list[Reply]:
        return [r for r in self.recorder.replies if r.finished < self.stopping]


class Traffic:
    """Virtual users that keep going whatever they are answered, until told to stop."""

    def __init__(self, pair: Pair, recorder: Recorder, pool: Any) -> None:
        self.pair = pair
        self.recorder = recorder
        self.pool = pool
        self.running = True
        self.registrations: list[tuple[str, Reply]] = []
        self.activations: dict[str, list[Reply]] = collections.defaultdict(list)

    async def pause(self, low: float = 0.05, high: float = 0.25) -> None:
        await asyncio.sleep(random.uniform(low, high))

    async def browsing(self, seeded: Seeded) -> None:
        async with Client(self.pool, self.pair.urls, self.recorder, timeout=30) as client:
            while self.running:
                await client.session()
                login = await client.login(seeded.username, seeded.password)
                if login.status != 200:
                    client.csrf = None
                    await self.pause(0.3, 0.6)
                    continue
                for _ in range(2):
                    await self.pause()
                    await client.request("GET", "/my-data")
                    await self.pause()
                    await client.request("GET", "/my-data", accept_json=True)
                    await self.pause()
                    await client.request("GET", "/kapu/security")
                    await self.pause()
                    await client.api("GET", "/factors")
                await client.api("POST", "/logout")
                client.http.cookie_jar.clear()
                client.csrf = None

    async def stepping_up(self, seeded: Seeded) -> None:
        async with Client(self.pool, self.pair.urls, self.recorder, timeout=30) as client:
            while self.running:
                login = await client.login(seeded.username, seeded.password)
                if login.status != 200:
                    client.csrf = None
                    await self.pause(0.3, 0.6)
                    continue
                await asyncio.sleep(RESEND_INTERVAL + 0.1)
                seen = self.pair.mailbox.count(seeded.email)
                sent = await client.api("POST", "/plusz/email")
                if sent.status == 202:
                    mail = await self.pair.mailbox.next_mail(seeded.email, seen)
                    await self.pause()
                    await client.api("POST", "/plusz/email/verify", {"code": email_code_in(mail)})
                    await client.request("GET", "/tax-return")
                await self.pause()
                await client.api("POST", "/logout")
                client.http.cookie_jar.clear()
                client.csrf = None

    async def registering(self) -> None:
        async with Client(self.pool, self.pair.urls, self.recorder, timeout=30) as client:
            while self.running:
                username = new_username("Kimaradt")
                reply = await client.api("POST", "/register", registration(username))
                self.registrations.append((username, reply))
                if reply.status not in (201, 503):
                    client.csrf = None
                await asyncio.sleep(1.2)

    async def probing(
        self, seeded: Seeded, stopped: asyncio.Event, probes: dict[str, Reply]
    ) -> None:
        """A session logged in before the outage that opens one page of each kind during it."""
        async with Client(self.pool, self.pair.urls, timeout=30) as client:
            login = await client.login(seeded.username, seeded.password)
            assert login.status == 200, str(login)
            await stopped.wait()
            await asyncio.sleep(1)
            for name, path, accept_json in (
                ("kapu page", "/kapu/security", False),
                ("api", f"{API}/factors", True),
                ("host page", "/my-data", False),
                ("host page, JSON", "/my-data", True),
            ):
                probes[name] = await client.request("GET", path, accept_json=accept_json)

    async def activating(self, pending: list[tuple[str, str]]) -> None:
        async with Client(self.pool, self.pair.urls, self.recorder, timeout=30) as client:
            queue = list(pending)
            while self.running and queue:
                username, code = queue[0]
                reply = await client.api(
                    "POST",
                    "/activate",
                    {"username": username, "code": code, "new_password": NEW_PASSWORD},
                )
                self.activations[username].append(reply)
                if reply.status != 503:  # an outage leaves the code for the next try
                    queue.pop(0)
                await client.api("POST", "/logout")
                client.http.cookie_jar.clear()
                client.csrf = None
                await asyncio.sleep(0.6)


@pytest.fixture(scope="module")
def outage(fault_pair: Pair, private_postgres: PrivatePostgres) -> Outage:
    """Traffic on both instances; PostgreSQL stopped for five seconds in the middle of it."""
    pair = fault_pair
    browsers = [pair.seeder.account(prefix="Kiesés") for _ in range(12)]
    steppers = [pair.seeder.account(methods=("email",), prefix="Kiesés") for _ in range(4)]
    pending = []
    for _ in range(14):
        username, email = pair.seeder.register(new_username("Aktival"))
        pending.append((username, code_in(pair.mailbox.wait_mail(email))))
    recorder = Recorder()
    masters = [i.process.pid for i in pair.instances if i.process is not None]
    booted_before = [i.booted_workers() for i in pair.instances]
    times: dict[str, float] = {}
    probes: dict[str, Reply] = {}
    prober = pair.seeder.account(prefix="Kiesés")

    async def scenario() -> Traffic:
        pool = connector()
        traffic = Traffic(pair, recorder, pool)
        stopped = asyncio.Event()
        tasks = [asyncio.ensure_future(traffic.probing(prober, stopped, probes))]
        tasks += [asyncio.ensure_future(traffic.browsing(s)) for s in browsers]
        tasks += [asyncio.ensure_future(traffic.stepping_up(s)) for s in steppers]
        tasks.append(asyncio.ensure_future(traffic.registering()))
        tasks.append(asyncio.ensure_future(traffic.activating(pending)))
        try:
            await asyncio.sleep(4)
            times["stopping"] = time.monotonic()
            await asyncio.to_thread(private_postgres.stop, "fast")
            times["stopped"] = time.monotonic()
            stopped.set()
            await asyncio.sleep(5)
            times["starting"] = time.monotonic()
            await asyncio.to_thread(private_postgres.start)
            times["started"] = time.monotonic()
            await asyncio.sleep(8)
        finally:
            traffic.running = False
            done = await asyncio.wait_for(
                asyncio.gather(*tasks, return_exceptions=True), timeout=60
            )
            await pool.close()
        failures = [repr(d) for d in done if isinstance(d, BaseException)]
        assert not failures, failures
        return traffic

    try:
        traffic = asyncio.run(scenario())
    finally:
        if not private_postgres.running:
            private_postgres.start()
    outage = Outage(
        recorder=recorder,
        stopping=times["stopping"],
        stopped=times["stopped"],
        starting=times["starting"],
        started=times["started"],
        registrations=traffic.registrations,
        activations=dict(traffic.activations),
        masters=masters,
        booted_before=booted_before,
        booted_after=[i.booted_workers() for i in pair.instances],
        probes=probes,
        pair=pair,
    )
    summary(
        f"\nPostgreSQL restart under traffic: {len(recorder.replies)} requests, "
        f"{len(outage.during())} overlapping the {outage.started - outage.stopping:.1f} s outage"
    )
    summary(recorder.table())
    by_status = collections.Counter(
        (Recorder.endpoint(r), r.status) for r in outage.during() if r.status >= 500
    )
    summary(f"5xx during the outage by endpoint: {dict(by_status)}")
    for name, reply in probes.items():
        summary(f"probe during the outage, {name}: {reply.status} {reply.text[:120]!r}")
    return outage


def is_api(reply: Reply) -> bool:
    return reply.path.startswith(API)


def test_the_outage_really_hit_the_traffic(outage: Outage) -> None:
    unavailable = [r for r in outage.during() if r.status == 503 and is_api(r)]
    assert len(unavailable) >= 10, outage.recorder.table()
    assert all(r.status < 500 for r in outage.before()), [
        str(r) for r in outage.before() if r.status >= 500
    ]


def test_api_requests_during_the_outage_get_503_problem_json_with_retry_after(
    outage: Outage,
) -> None:
    probe = outage.probes["api"]
    assert probe.status == 503, str(probe)
    for reply in [*outage.recorder.replies, probe]:
        if is_api(reply) and reply.status >= 500:
            assert reply.status == 503, str(reply)
            assert is_problem(reply), str(reply)
            assert reply.body["code"] == "service_unavailable", str(reply)
            assert "Traceback" not in reply.text
            assert int(reply.headers["Retry-After"]) >= 1, str(reply)


def answers_503(reply: Reply) -> None:
    assert reply.status == 503, str(reply)
    assert int(reply.headers.get("Retry-After", "0")) >= 1, str(reply)
    assert "Traceback" not in reply.text


def test_kapu_pages_during_the_outage_get_a_503_page_with_retry_after(outage: Outage) -> None:
    answers_503(outage.probes["kapu page"])
    pages = [r for r in outage.recorder.replies if r.path.startswith("/kapu/") and not is_api(r)]
    for reply in pages:
        if reply.status >= 500:
            answers_503(reply)


def test_host_pages_during_the_outage_get_503_not_500(outage: Outage) -> None:
    answers_503(outage.probes["host page"])
    answers_503(outage.probes["host page, JSON"])
    host = [r for r in outage.recorder.replies if not r.path.startswith("/kapu/")]
    for reply in host:
        if reply.status >= 500:
            answers_503(reply)


def test_after_the_restart_everything_works_without_restarting_the_app(outage: Outage) -> None:
    after = outage.after()
    assert len(after) > 50
    failed = [str(r) for r in after if r.status >= 500]
    assert not failed, failed[:5]
    assert [i.process.pid for i in outage.pair.instances if i.process] == outage.masters
    assert outage.booted_after == outage.booted_before  # no worker was restarted either
    assert all(i.process is not None and i.process.poll() is None for i in outage.pair.instances)
    logins_after = [r for r in after if r.path == f"{API}/login"]
    assert logins_after
    assert all(r.status == 200 for r in logins_after), [str(r) for r in logins_after]


def test_no_account_or_code_is_half_written(outage: Outage) -> None:
    pair = outage.pair
    answered = collections.Counter(reply.status for _name, reply in outage.registrations)
    assert answered[503] >= 1, answered  # some registrations did meet the outage
    with pair.seeder.state.deps.store.transaction() as repo:
        for username, reply in outage.registrations:
            account = repo.account_by_username(username)
            if reply.status == 201:
                assert account is not None, username
            if account is None:
                continue
            # Whatever the answer, an account that exists is whole: its code and audit row.
            codes = count(pair, OneTimeCode, OneTimeCode.account_id == account.id)
            registered = count(
                pair,
                AuditEvent,
                AuditEvent.account_id == account.id,
                AuditEvent.event == "registered",
            )
            assert (account.status, codes, registered) == ("pending", 1, 1), username
        for username, replies in outage.activations.items():
            account = repo.account_by_username(username)
            assert account is not None
            succeeded = any(r.status == 200 for r in replies)
            used = count(
                pair,
                OneTimeCode,
                OneTimeCode.account_id == account.id,
                OneTimeCode.used_at.is_not(None),
            )
            activated = count(
                pair,
                AuditEvent,
                AuditEvent.account_id == account.id,
                AuditEvent.event == "activated",
            )
            if account.status == "active":
                assert account.password_hash, username
                assert account.activated_at is not None, username
                assert (used, activated) == (1, 1), username
            else:
                assert not succeeded, username
                assert (used, activated) == (0, 0), username
            if any(r.status == 503 for r in replies):
                # Nothing is lost: the retry worked, or the refused request had committed
                # the activation before the outage reached its answer (the code is then used).
                assert succeeded or account.status == "active", username
    tried_in_outage = [r for rs in outage.activations.values() for r in rs if r.status == 503]
    summary(f"\nactivations refused by the outage and retried: {len(tried_in_outage)}")
    # Nothing dangles: every code and audit row belongs to an account that exists.
    assert count(pair, OneTimeCode, OneTimeCode.account_id.not_in(select(Account.id))) == 0


# --- Redis stopped --------------------------------------------------------------------


@pytest.fixture(scope="class")
def redis_down(fault_pair: Pair, private_redis: PrivateRedis) -> Iterator[Pair]:
    """The private Redis stopped for the tests of the class, started again after them."""
    fault_pair.forget_limits()
    private_redis.stop()
    try:
        yield fault_pair
    finally:
        private_redis.start()


async def register_many(pair: Pair, number: int) -> list[Reply]:
    pool = connector()
    try:
        async with Client(pool, pair.urls) as client:
            assert (await client.session()).status == 200
            return [
                await client.api("POST", "/register", registration(new_username("Redisz")))
                for _ in range(number)
            ]
    finally:
        await pool.close()


@pytest.mark.usefixtures("redis_down")
class TestRedisStopped:
    """Per-IP limits fail open (ratelimit.py): the storage is down, so nothing is counted and
    nothing is refused for it. Failing closed would lock every citizen out of the login
    because of a cache; the per-username counters and locks are rows in PostgreSQL and hold."""

    def test_rate_limiting_fails_open(self, fault_pair: Pair) -> None:
        replies = asyncio.run(register_many(fault_pair, FAULT_REGISTER_LIMIT + 5))
        statuses = collections.Counter(r.status for r in replies)
        assert statuses == {201: FAULT_REGISTER_LIMIT + 5}, statuses
        logs = "".join(i.log_text() for i in fault_pair.instances)
        assert "rate-limit storage unavailable" in logs

    def test_logins_keep_working(self, fault_pair: Pair) -> None:
        seeded = fault_pair.seeder.account(prefix="Redisz")

        async def scenario() -> list[Reply]:
            pool = connector()
            try:
                replies = []
                for instance in (0, 1):
                    async with Client(pool, fault_pair.urls) as c:
                        replies.append(await c.login(seeded.username, PASSWORD, instance=instance))
                        replies.append(await c.request("GET", "/my-data", instance=instance))
                return replies
            finally:
                await pool.close()

        replies = asyncio.run(scenario())
        assert [r.status for r in replies] == [200, 200, 200, 200], [str(r) for r in replies]

    def test_the_account_lockout_still_holds(self, fault_pair: Pair) -> None:
        seeded = fault_pair.seeder.account(prefix="Zarolt")

        async def scenario() -> list[Reply]:
            pool = connector()
            try:
                async with Client(pool, fault_pair.urls) as client:
                    replies = [
                        await client.login(seeded.username, "Rossz-Jelszo-1") for _ in range(6)
                    ]
                    replies.append(await client.login(seeded.username, PASSWORD))
                    return replies
            finally:
                await pool.close()

        replies = asyncio.run(scenario())
        assert [r.status for r in replies] == [401] * 5 + [429, 429], [str(r) for r in replies]
        assert all(int(r.headers["Retry-After"]) >= 1 for r in replies[5:])


def test_when_redis_is_back_the_limits_hold_again(fault_pair: Pair) -> None:
    fault_pair.forget_limits()
    replies = asyncio.run(register_many(fault_pair, FAULT_REGISTER_LIMIT + 5))
    statuses = collections.Counter(r.status for r in replies)
    assert statuses == {201: FAULT_REGISTER_LIMIT, 429: 5}, statuses
