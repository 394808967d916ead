"""Housekeeping an operator runs: purge stale rows, unlock a username."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from ..store import PurgeResult
from ..usernames import normalize
from .attempts import LOGIN_SCOPE
from .base import Context, Deps, attempt_key, audit, find_account
from .credentials import CODE_SCOPE
from .history import purge_events
from .plusz import PLUSZ_SCOPE
from .sessions import purge_expired

__all__ = ["purge", "unlock"]

_COUNTER_IDLE = timedelta(days=1)


def purge(deps: Deps) -> PurgeResult:
    """Remove expired and used codes, idle counters, never-activated accounts, audit
    events past ``KAPU_AUDIT_RETENTION``, login sessions ended or timed out, and
    remembered browsers forgotten or expired."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        result = repo.purge(
            now=now,
            pending_before=now - deps.config.pending_account_ttl,
            counters_before=now - _COUNTER_IDLE,
        )
        return dataclasses.replace(
            result,
            events=purge_events(deps, repo, now),
            sessions=purge_expired(deps, repo, now),
            browsers=repo.purge_trusted_browsers(now=now),
        )


def unlock(deps: Deps, ctx: Context, *, username: str) -> bool:
    """Clear the failure counters and lock of ``username``; ``False`` if no such account."""
    name = normalize(username)
    with deps.store.transaction() as repo:
        account = find_account(repo, name)
        if account is None:
            return False
        for scope in (LOGIN_SCOPE, CODE_SCOPE, PLUSZ_SCOPE):
            repo.clear_failures(attempt_key(scope, name), devices=True)
        audit(repo, ctx, "unlocked", account_id=account.id, at=deps.clock())
    return True
