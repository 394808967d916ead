"""A bounded load run of mixed traffic over both instances, reported per endpoint.

A few hundred virtual users, each an account of its own and a cookie jar of its
own, take the instances in turn request by request (no sticky sessions):

* password users log in, open protected pages, are told to enrol for the
  Ügyfélkapu+ page, and log out;
* e-mail users log in, are asked to step up for the tax return, ask for a code,
  read it from the SMTP sink, confirm it, open the page, and log out;
* authenticator users log in, complete the login with a TOTP code (each time
  step once, as an app would), browse, and log out.

The run must see no 5xx and no unexpected answer, and every login a user
completed must have exactly one ``login`` audit row. ``KAPU_SOAK=1`` (``make
soak``) runs it for four minutes with 300 users; otherwise (CI) for about a
minute with 200.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import os
import random
import re
import time

import aiohttp
from conftest import plain_text
from sqlalchemy import func, select

from flask_kapu.store import AuditEvent

from .client import (
    Client,
    Recorder,
    Reply,
    Seeded,
    connector,
    email_code_in,
    totp_code,
    totp_step,
)
from .conftest import Pair, summary

SOAK = bool(os.environ.get("KAPU_SOAK"))
DURATION = 240.0 if SOAK else 50.0  # seconds of traffic after the ramp-up
USERS = 300 if SOAK else 200
RAMP = 10.0  # users start one after another over this many seconds
THINK = (0.3, 1.2)  # seconds a user pauses between two requests
MIX = (("password", 0.4), ("email", 0.3), ("totp", 0.3))


@dataclasses.dataclass
class Tally:
    """What the users saw succeed, to compare with the audit trail."""

    logins: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    passwords_verified: collections.Counter[int] = dataclasses.field(
        default_factory=collections.Counter
    )
    step_ups: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)


class Unexpected(Exception):
    """Something the user did not expect (already recorded): the user starts over."""


class User:
    def __init__(
        self,
        kind: str,
        seeded: Seeded,
        pair: Pair,
        recorder: Recorder,
        pool: aiohttp.TCPConnector,
        tally: Tally,
        deadline: float,
    ) -> None:
        self.kind = kind
        self.seeded = seeded
        self.recorder = recorder
        self.client = Client(pool, pair.urls, recorder)
        self.pair = pair
        self.tally = tally
        self.deadline = deadline
        self.used_steps: set[int] = set()

    async def think(self) -> None:
        await asyncio.sleep(random.uniform(*THINK))

    def expect(
        self, reply: Reply, *statuses: int, code: str | None = None, check: bool = True
    ) -> Reply:
        if not check or reply.status not in statuses or (code and reply.code != code):
            self.recorder.flag(reply, f"{self.kind} user {self.seeded.username}: {reply}")
            raise Unexpected()
        return reply

    def fail(self, why: str) -> None:
        self.recorder.unexpected.append(f"{self.kind} user {self.seeded.username}: {why}")
        raise Unexpected()

    async def browse(self, rounds: int) -> None:
        for _ in range(rounds):
            await self.think()
            self.expect(await self.client.request("GET", "/my-data"), 200)
            await self.think()
            session = await self.client.session()
            self.expect(session, 200, check=session.get("authenticated") is True)

    async def login(self) -> Reply:
        await self.think()
        return await self.client.login(self.seeded.username, self.seeded.password)

    async def logout(self) -> None:
        await self.think()
        self.expect(await self.client.api("POST", "/logout"), 204)

    async def password_cycle(self) -> None:
        reply = await self.login()
        self.expect(reply, 200, check=reply.get("pending") is None)
        self.tally.logins[self.seeded.id] += 1
        await self.browse(2)
        await self.think()
        refused = await self.client.request("GET", "/tax-return", accept_json=True)
        self.expect(refused, 403, code="enrollment_required")
        await self.logout()

    async def email_cycle(self) -> None:
        reply = await self.login()
        self.expect(reply, 200, check=reply.get("pending") is None)
        self.tally.logins[self.seeded.id] += 1
        await self.browse(1)
        await self.think()
        asked = await self.client.request("GET", "/tax-return", accept_json=True)
        self.expect(asked, 401, code="plusz_required")
        await self.think()
        seen = self.pair.mailbox.count(self.seeded.email)
        sent = self.expect(await self.client.api("POST", "/plusz/email"), 202)
        try:
            mail = await self.pair.mailbox.next_mail(self.seeded.email, seen)
        except TimeoutError:
            self.fail(f"no mail after {sent}")
        if not re.search(rf"\b{sent.body['session_hint']}\b", plain_text(mail)):
            self.fail(f"the mail does not show the session hint of {sent}")
        await self.think()
        verify = await self.client.api("POST", "/plusz/email/verify", {"code": email_code_in(mail)})
        self.expect(verify, 200)
        self.tally.step_ups[self.seeded.id] += 1
        await self.think()
        self.expect(await self.client.request("GET", "/tax-return"), 200)
        await self.browse(1)
        await self.logout()

    def free_step(self) -> int | None:
        """A time step whose code this user has not used: now's, or the next one."""
        now = totp_step()
        for step in (now, now + 1):
            if step not in self.used_steps:
                return step
        return None

    async def totp_cycle(self) -> None:
        while self.free_step() is None:  # an app shows a new code every 30 s
            if time.monotonic() > self.deadline:
                return
            await asyncio.sleep(1)
        reply = await self.login()
        self.expect(reply, 200, check=reply.get("pending") == "second_factor")
        self.tally.passwords_verified[self.seeded.id] += 1
        step = self.free_step()
        if step is None:  # the login took long enough for the step to pass
            self.fail("no fresh TOTP step left for the login")
        self.used_steps.add(step)
        assert self.seeded.totp_secret is not None
        await self.think()
        code = totp_code(self.seeded.totp_secret, step)
        self.expect(await self.client.api("POST", "/plusz/totp/verify", {"code": code}), 200)
        self.tally.logins[self.seeded.id] += 1
        await self.think()
        self.expect(await self.client.request("GET", "/tax-return"), 200)
        await self.browse(2)
        while self.free_step() is None and time.monotonic() < self.deadline:
            await self.browse(1)  # stay logged in until the app has a fresh code
        await self.logout()

    async def run(self, recorder: Recorder) -> None:
        cycle = {
            "password": self.password_cycle,
            "email": self.email_cycle,
            "totp": self.totp_cycle,
        }[self.kind]
        while time.monotonic() < self.deadline:
            try:
                await cycle()
            except Unexpected:
                await self.restart()
            except (aiohttp.ClientError, TimeoutError) as exc:
                recorder.transport_errors.append(f"{self.kind} {self.seeded.username}: {exc!r}")
                await self.restart()

    async def restart(self) -> None:
        """After a surprise: a new browser session, after a pause."""
        self.client.http.cookie_jar.clear()
        self.client.csrf = None
        await asyncio.sleep(1)


def audit_counts(pair: Pair, event: str) -> collections.Counter[int]:
    with pair.engine.connect() as connection:
        rows = connection.execute(
            select(AuditEvent.account_id, func.count())
            .where(AuditEvent.event == event)
            .group_by(AuditEvent.account_id)
        ).all()
    return collections.Counter({account: count for account, count in rows})


def test_load_mixed_traffic_has_no_5xx_and_one_audit_row_per_login(pair: Pair) -> None:
    kinds = [kind for kind, share in MIX for _ in range(round(USERS * share))]
    methods = {"password": (), "email": ("email",), "totp": ("totp",)}
    accounts = [
        (kind, pair.seeder.account(methods=methods[kind], prefix="Terhel")) for kind in kinds
    ]
    seeded_ids = {seeded.id for _kind, seeded in accounts}
    recorder = Recorder()
    tally = Tally()

    async def scenario() -> float:
        pool = connector()
        started = time.monotonic()
        deadline = started + RAMP + DURATION
        users: list[User] = []
        try:
            for kind, seeded in accounts:
                users.append(User(kind, seeded, pair, recorder, pool, tally, deadline))

            async def start(index: int, user: User) -> None:
                await asyncio.sleep(RAMP * index / len(users))
                await user.run(recorder)

            random.shuffle(users)
            await asyncio.wait_for(
                asyncio.gather(*(start(i, u) for i, u in enumerate(users))),
                timeout=RAMP + DURATION + 120,
            )
        finally:
            for user in users:
                await user.client.close()
            await pool.close()
        return time.monotonic() - started

    elapsed = asyncio.run(scenario())
    total = len(recorder.replies)
    summary(
        f"\nload: {len(accounts)} users ({collections.Counter(kinds)}) for {elapsed:.0f} s "
        f"over 2 instances x {pair.instances[0].WORKERS} workers x "
        f"{pair.instances[0].THREADS} threads: {total} requests, {total / elapsed:.0f} req/s"
    )
    summary(recorder.table())
    summary(
        f"completed logins: {sum(tally.logins.values())}, TOTP-pending logins: "
        f"{sum(tally.passwords_verified.values())}, e-mail step-ups: {sum(tally.step_ups.values())}"
    )
    for problem in (recorder.unexpected + recorder.transport_errors)[:10]:
        summary(f"   {problem}")

    assert not recorder.server_errors(), [str(r) for r in recorder.server_errors()[:5]]
    assert not recorder.transport_errors, recorder.transport_errors[:5]
    assert not recorder.unexpected, recorder.unexpected[:5]
    assert len(tally.logins) == len(accounts)  # every user got in, at least once

    def audited(event: str) -> dict[int, int]:  # the users' accounts are new: all theirs
        return {a: n for a, n in audit_counts(pair, event).items() if a in seeded_ids}

    assert audited("login") == dict(tally.logins), "a login without exactly one audit row"
    assert audited("password_verified") == dict(tally.passwords_verified)
    assert audited("stepped_up") == dict(tally.step_ups)
