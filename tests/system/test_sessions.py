"""Session revocation across instances: a session ended on instance A is over on instance B.

The session row lives in the shared database, so the next request with the
cookie, on any instance, finds it revoked; no instance keeps an answer of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flask_kapu.services import sessions

from .client import PASSWORD, Client, connector
from .conftest import Pair


def run(scenario: Any) -> None:
    async def main() -> None:
        pool = connector()
        try:
            await scenario(pool)
        finally:
            await pool.close()

    asyncio.run(main())


async def authenticated(client: Client, instance: int) -> bool:
    reply = await client.session(instance)
    assert reply.status == 200, str(reply)
    return bool(reply.body["authenticated"])


def test_a_session_logged_out_on_instance_a_is_refused_on_instance_b(pair: Pair) -> None:
    async def scenario(pool: Any) -> None:
        seeded = pair.seeder.account()
        async with Client(pool, pair.urls) as owner, Client(pool, pair.urls) as thief:
            login = await owner.login(seeded.username, PASSWORD, instance=0)
            assert login.status == 200, str(login)
            thief.http.cookie_jar.update_cookies({"session": owner.cookie()})
            assert await authenticated(thief, 1)

            logout = await owner.api("POST", "/logout", instance=0)
            assert logout.status == 204, str(logout)

            assert not await authenticated(thief, 1)
            assert not await authenticated(thief, 0)

    run(scenario)


def test_a_session_revoked_in_the_database_is_over_on_both_instances(pair: Pair) -> None:
    async def scenario(pool: Any) -> None:
        seeded = pair.seeder.account()
        async with Client(pool, pair.urls) as owner:
            login = await owner.login(seeded.username, PASSWORD, instance=0)
            assert login.status == 200, str(login)
            assert await authenticated(owner, 1)

            with pair.seeder.app.app_context():
                assert sessions.revoke_all(pair.seeder.state.deps, seeded.id) == 1

            assert not await authenticated(owner, 1)
            assert not await authenticated(owner, 0)

    run(scenario)
