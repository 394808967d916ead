"""The server-side session registry: one row per login, the cookie carries its random token.

The row stores only a keyed hash of the token, so neither a database dump nor a
leaked ``SECRET_KEY`` alone lets anyone present a live session. A row revoked
(logout, "end this session", password change, factor removal, a closed or
disabled account) or past its idle (``KAPU_SESSION_IDLE_TIMEOUT``) or absolute
(``KAPU_SESSION_LIFETIME``) limit ends that login at its next request, on
every instance. ``last_seen_at`` is written at most once a minute, by one
conditional UPDATE, so concurrent requests do not all write.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from ..store import Account, LiveLogin, LoginSession, Repository
from ..useragents import summary
from .base import Context, Deps, audit

__all__ = [
    "TOKEN_PURPOSE",
    "TOUCH_EVERY",
    "list_sessions",
    "live_session",
    "open_session",
    "purge_expired",
    "reissue",
    "revoke",
    "revoke_all",
    "revoke_others",
    "token_hashes",
]

#: The purpose of the keyed hash of a session token (apart from every code's).
TOKEN_PURPOSE = "session"  # noqa: S105 - a hash purpose, not a secret
#: ``last_seen_at`` is written no more often than this.
TOUCH_EVERY = timedelta(minutes=1)
# After a step-up rotates the token, the cookie before it still opens the session (at the
# level that cookie proves) this long, so that requests already on their way do not fail.
ROTATION_GRACE = timedelta(seconds=30)
_TICK = timedelta(microseconds=1)  # "seen a minute ago or earlier" as a strict comparison


def token_hashes(deps: Deps, token: str) -> list[str]:
    """Every hash ``token`` may be stored under (current key first, then the fallbacks)."""
    return deps.codes.candidates(TOKEN_PURPOSE, token)


def open_session(
    deps: Deps,
    ctx: Context,
    account: Account,
    *,
    level: str,
    methods: Collection[str],
    now: datetime,
) -> tuple[LoginSession, str]:
    """Record a completed login of ``account``: the new row and the random token for the cookie.

    ``ctx`` gives the address and the User-Agent (summarised as "Firefox 128 on
    Windows 10"); ``level`` and ``methods`` are what the login proved.
    """
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        account_id=account.id,
        token_hash=deps.codes.hash(TOKEN_PURPOSE, token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + deps.config.session_lifetime,
        ip=ctx.ip,
        browser=summary(ctx.user_agent),
        level=level,
        methods=sorted(methods),
    )
    with deps.store.transaction() as repo:
        repo.add_session(row)
    return row, token


def reissue(
    deps: Deps, *, account_id: int, token: str, level: str, methods: Collection[str]
) -> tuple[int, str] | None:
    """Rotate the token of the live session of ``token`` and record what it now proves
    (a step-up, or a method dropped with its factor): the same row, so the sessions list
    keeps it, while a copy of the old cookie opens nothing. The row's id and the new token;
    ``None`` when the session is no longer live."""
    new_token = secrets.token_urlsafe(32)
    with deps.store.transaction() as repo:
        row_id = repo.reissue_session(
            account_id,
            token_hashes(deps, token),
            new_hash=deps.codes.hash(TOKEN_PURPOSE, new_token),
            now=deps.clock(),
            level=level,
            methods=sorted(methods),
        )
    return None if row_id is None else (row_id, new_token)


def live_session(deps: Deps, *, account_id: int, epoch: int, token: str) -> LiveLogin | None:
    """The per-request check: the active account at ``epoch`` and its live session of
    ``token``, read in one statement; ``None`` for a revoked, idle or expired session, an
    account no longer active, or a stale epoch.

    Marks the session seen at most once a minute (one conditional UPDATE, which a
    concurrent request that wrote first turns into a no-op). Raises
    SQLAlchemy's ``DBAPIError`` when the database is down.
    """
    now = deps.clock()
    found = deps.store.load_login(
        account_id,
        token_hashes(deps, token),
        now=now,
        idle_since=now - deps.config.session_idle_timeout,
        rotated_since=now - ROTATION_GRACE,
    )
    if found is None or not found.account.is_active or found.account.session_epoch != epoch:
        return None
    if now >= found.last_seen_at + TOUCH_EVERY:
        with deps.store.transaction() as repo:
            repo.touch_session(found.session_id, now=now, before=now - TOUCH_EVERY + _TICK)
    return found


def revoke(deps: Deps, ctx: Context, account: Account, session_id: int) -> bool:
    """End one session of ``account`` (its owner's "end this session"); ``False`` when it is
    no live session of that account."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        ended = repo.revoke_sessions(account.id, now=now, only=session_id) > 0
        if ended:
            audit(repo, ctx, "session_ended", account_id=account.id, at=now)
    return ended


def revoke_others(deps: Deps, ctx: Context, account: Account, keep_id: int | None) -> int:
    """End every live session of ``account`` but ``keep_id`` (the caller's own); how many."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        ended = repo.revoke_sessions(account.id, now=now, keep=keep_id)
        if ended:
            audit(repo, ctx, "sessions_ended", account_id=account.id, at=now, detail={"n": ended})
    return ended


def revoke_all(deps: Deps, account_id: int) -> int:
    """End every live session of the account (closed or disabled); how many.

    A service with a transaction of its own calls ``repo.revoke_sessions`` in it instead.
    """
    with deps.store.transaction() as repo:
        return repo.revoke_sessions(account_id, now=deps.clock())


def list_sessions(deps: Deps, account_id: int, now: datetime) -> list[LoginSession]:
    """The live sessions of the account, newest first (revoked, idle and expired ones left out)."""
    with deps.store.reading() as repo:
        return repo.live_sessions(
            account_id, now=now, seen_after=now - deps.config.session_idle_timeout
        )


def purge_expired(deps: Deps, repo: Repository, now: datetime) -> int:
    """Delete the rows of sessions revoked, idle or past their absolute limit; how many."""
    return repo.purge_sessions(now=now, seen_before=now - deps.config.session_idle_timeout)
