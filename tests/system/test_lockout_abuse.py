"""Lockout abuse across two instances: strangers lock a username, its owner still gets in.

An attacker hammers one username with wrong passwords on instance A; the
owner, whose browser logged in before (on A) and so holds the account's
device cookie, logs in on instance B during the attack. The attacker's
guesses stay bounded by the username's lock on both instances.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from .client import API, PASSWORD, Client, Reply, barrage
from .conftest import Pair, summary
from .test_concurrency import run

WRONG = "Rossz-Jelszo-1"
ATTACK = 30  # wrong passwords per wave, released together on instance A


def test_an_attack_on_instance_a_does_not_keep_the_owner_out_on_instance_b(pair: Pair) -> None:
    seeded = pair.seeder.account(prefix="Ostrom")
    waves: list[list[Reply]] = []
    owner_replies: list[Reply] = []
    stranger_replies: list[Reply] = []

    async def scenario(pool: Any) -> None:
        async with (
            Client(pool, pair.urls) as owner,
            Client(pool, pair.urls) as attacker,
            Client(pool, pair.urls) as stranger,
        ):
            first = await owner.login(seeded.username, PASSWORD, instance=0)
            assert first.status == 200, str(first)
            assert (await owner.api("POST", "/logout", instance=0)).status == 204
            assert (await attacker.session(instance=0)).status == 200

            async def wave() -> list[Reply]:
                return await barrage(
                    pool,
                    pair.urls[:1],
                    f"{API}/login",
                    [{"username": seeded.username, "password": WRONG}] * ATTACK,
                    sessions=[(attacker.cookie(), attacker.csrf or "")],
                )

            waves.append(await wave())  # the username is locked now
            during, owner_in = await asyncio.gather(
                wave(), owner.login(seeded.username, PASSWORD, instance=1)
            )
            waves.append(during)
            owner_replies.append(owner_in)
            stranger_replies.append(await stranger.login(seeded.username, PASSWORD, instance=1))
            stranger_replies.append(await attacker.login(seeded.username, PASSWORD, instance=0))

    run(scenario)
    statuses = collections.Counter((r.status, r.code) for w in waves for r in w)
    summary(f"\nlockout abuse, {2 * ATTACK} wrong passwords on A: {dict(statuses)}")
    assert statuses == {(401, "invalid_credentials"): 5, (429, "too_many_attempts"): 2 * ATTACK - 5}
    assert all(r.instance == 0 for w in waves for r in w)
    owner_in = owner_replies[0]
    assert owner_in.status == 200, str(owner_in)
    assert owner_in.instance == 1
    assert owner_in.get("authenticated") is True
    assert owner_in.get("username") == seeded.username
    for reply in stranger_replies:
        assert reply.status == 429, str(reply)
        assert reply.code == "too_many_attempts", str(reply)
        assert int(reply.headers["Retry-After"]) >= 1
