"""Password login and the per-username attempt counter.

Unknown usernames, wrong passwords and pending accounts take the same path:
one argon2 verify (against a dummy hash when there is nothing to verify), one
counted failure, one answer. A lock holds for every typed secret of that name.
"""

from __future__ import annotations

from datetime import datetime

from .. import signals
from ..errors import InvalidCredentials, TooManyAttempts
from ..store import Account, FailureOutcome, Repository
from ..usernames import normalize
from .base import Context, Deps, attempt_key, audit

__all__ = ["LOGIN_SCOPE", "check_not_locked", "count_failure", "login", "report_failure"]

LOGIN_SCOPE = "login"


def login(deps: Deps, ctx: Context, *, username: str, password: str) -> Account:
    """The account whose exact username and password these are.

    Raises :class:`InvalidCredentials` or :class:`TooManyAttempts`.
    """
    name = normalize(username)
    key = attempt_key(LOGIN_SCOPE, name)
    check_not_locked(deps, key)
    with deps.store.transaction() as repo:
        account = repo.account_by_username(name)
    stored = account.password_hash if account is not None and account.is_active else None
    ok = verify_password(deps, stored, password)
    rehashed = (
        deps.hashing.hash(password) if ok and stored and deps.hashing.needs_rehash(stored) else None
    )
    now = deps.clock()
    with deps.store.transaction() as repo:
        if not ok or account is None:
            outcome = count_failure(deps, ctx, repo, key, account, event="login_failed")
        else:
            until = repo.locked_until(key, now)
            if until is not None:
                outcome = FailureOutcome(False, 0, until)
            else:
                repo.clear_failures(key)
                if rehashed is not None:
                    current = repo.account(account.id)
                    if current is not None:
                        current.password_hash = rehashed
                audit(
                    repo, ctx, "login", account_id=account.id, at=now, detail={"method": "password"}
                )
                outcome = None
    if outcome is not None or account is None:
        raise report_failure(deps, outcome, account, now=now, error=InvalidCredentials())
    deps.emit(signals.login_succeeded, account=account)
    return account


def verify_password(deps: Deps, stored: str | None, password: str) -> bool:
    """argon2 verify, bounded in length; costs the same with or without a hash."""
    if len(password) > deps.config.password_max_length:
        deps.hashing.verify(None, "")
        return False
    return deps.hashing.verify(stored, password)


def check_not_locked(deps: Deps, key: str) -> None:
    """Raise :class:`TooManyAttempts` while ``key`` is locked."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        until = repo.locked_until(key, now)
    if until is not None:
        raise TooManyAttempts(retry_after=FailureOutcome(False, 0, until).retry_after(now))


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
