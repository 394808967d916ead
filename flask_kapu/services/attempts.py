"""Attempt counters shared by every typed secret: lock checks, counted failures.

Each scope (``login``, ``code``, ``plusz``) counts consecutive failures per
username; the failure that reaches ``KAPU_MAX_FAILED_ATTEMPTS`` starts a lock
that doubles each time. Unknown usernames are counted exactly like real ones.

So that strangers cannot keep an owner out by locking the username, a browser
that has logged in to the account before (its device cookie) is judged at
login and code entry by a counter of its own, which locks the same way; every
other caller shares the username's counter.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from .. import signals
from ..errors import TooManyAttempts
from ..store import Account, FailureOutcome, Repository
from .base import Context, Deps, attempt_key, audit

__all__ = [
    "LOGIN_SCOPE",
    "check_not_locked",
    "count_failure",
    "counter_key",
    "held_lock",
    "locked",
    "report_failure",
    "verify_password",
]

LOGIN_SCOPE = "login"


def verify_password(deps: Deps, stored: str | None, password: str) -> bool:
    """argon2 verify, bounded in length; costs the same with or without a hash."""
    if len(password) > deps.config.password_max_length:
        deps.hashing.verify(None, "")
        return False
    return deps.hashing.verify(stored, password)


def check_not_locked(deps: Deps, key: str) -> None:
    """Raise :class:`TooManyAttempts` while ``key`` is locked."""
    now = deps.clock()
    with deps.store.reading() as repo:
        until = repo.locked_until(key, now)
    if until is not None:
        raise locked(until, now)


def counter_key(scope: str, name: str, account: Account | None, ctx: Context) -> str:
    """The counter that judges this caller's attempt at ``name`` in ``scope``.

    A device cookie counts only for the account it was issued to; everyone
    else, unknown usernames included, shares the username's counter.
    """
    key = attempt_key(scope, name)
    device = ctx.device
    if device is None or account is None or device.account_id != account.id:
        return key
    return f"{key}:{hashlib.sha256(device.id.encode()).hexdigest()[:24]}"


def held_lock(repo: Repository, key: str, now: datetime) -> FailureOutcome | None:
    """Take ``key``'s counter for this transaction; the refusal while its lock holds.

    Judging a secret only after this makes the lock check and the count one
    step: concurrent attempts at one key are judged one after another.
    """
    until = repo.hold_counter(key, now)
    return FailureOutcome(False, 0, until) if until is not None else None


def locked(until: datetime, now: datetime) -> TooManyAttempts:
    """The answer while a lock holds until ``until``."""
    return TooManyAttempts(retry_after=FailureOutcome(False, 0, until).retry_after(now))


def count_failure(
    deps: Deps, ctx: Context, repo: Repository, key: str, account: Account | None, *, event: str
) -> FailureOutcome:
    """Count a failed secret for ``key`` and audit it (and the lock it may start)."""
    now = deps.clock()
    config = deps.config
    outcome = repo.record_failure(
        key,
        now=now,
        max_failures=config.max_failed_attempts,
        lock_for=config.lockout_duration,
        max_lock=config.lockout_max_duration,
    )
    if outcome.counted:
        account_id = account.id if account is not None else None
        audit(repo, ctx, event, account_id=account_id, at=now)
        if outcome.locked_until is not None:
            audit(
                repo,
                ctx,
                "locked",
                account_id=account_id,
                at=now,
                detail={"until": outcome.locked_until.isoformat()},
            )
    return outcome


def report_failure(
    deps: Deps,
    outcome: FailureOutcome | None,
    account: Account | None,
    *,
    now: datetime,
    error: Exception,
) -> Exception:
    """After commit: send the failure signals; the error to raise."""
    if outcome is not None and not outcome.counted:
        return TooManyAttempts(retry_after=outcome.retry_after(now))
    deps.emit(signals.login_failed, account=account)
    if outcome is not None and outcome.locked_until is not None:
        deps.emit(signals.account_locked, account=account, until=outcome.locked_until)
    return error
