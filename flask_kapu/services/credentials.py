"""Activation, password reset and password change.

``/activate`` and ``/password/reset`` are one operation: an activation or a
reset code plus a new password. A code is consumed by one conditional UPDATE;
wrong guesses are charged to the code and to the username's attempt counter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from limits import parse_many

from .. import signals
from ..codes import format_code, normalize_code
from ..errors import CodeExpired, InvalidCode, InvalidCredentials
from ..store import Account, AccountStatus, Repository
from ..usernames import normalize
from .attempts import (
    LOGIN_SCOPE,
    check_not_locked,
    count_failure,
    counter_key,
    held_lock,
    report_failure,
    verify_password,
)
from .base import Context, Deps, audit, find_account, require_strong_password
from .plusz import SignedIn, login_factors
from .registration import PASSWORD_CODE_PURPOSES, issue_password_code, normalize_email

__all__ = ["CODE_SCOPE", "change_password", "request_reset", "use_password_code"]

CODE_SCOPE = "code"


def use_password_code(
    deps: Deps, ctx: Context, *, username: str, code: str, new_password: str
) -> SignedIn:
    """Set a new password with an activation or reset code; activates a pending account.

    A reset never skips the second factor: ``SignedIn.second_factor`` says
    what the account must still prove. Wrong codes count like wrong passwords:
    against the browser's own counter when it holds the account's device
    cookie, else against the username's.

    Raises :class:`InvalidCode` (also for an unknown user), :class:`CodeExpired`,
    :class:`WeakPassword` or :class:`TooManyAttempts`.
    """
    name = normalize(username)
    with deps.store.reading() as repo:
        key = counter_key(CODE_SCOPE, name, _code_account(repo, name), ctx)
    check_not_locked(deps, key)
    require_strong_password(deps, new_password, username=name)
    canonical = normalize_code(code)
    new_hash = deps.hashing.hash(new_password)
    now = deps.clock()
    expired = first = False
    second: tuple[str, ...] = ()
    with deps.store.transaction() as repo:
        account = _code_account(repo, name)
        key = counter_key(CODE_SCOPE, name, account, ctx)
        failure = held_lock(repo, key, now)  # no code is judged once the lock holds
        used = None
        if failure is None and account is not None and canonical is not None:
            hashes = deps.codes.candidates("password", canonical)
            used = repo.consume_code(
                account_id=account.id,
                purposes=PASSWORD_CODE_PURPOSES,
                hashes=hashes,
                now=now,
                max_attempts=deps.config.code_max_attempts,
            )
            if used is None:
                expired = repo.code_expired(
                    account_id=account.id, purposes=PASSWORD_CODE_PURPOSES, hashes=hashes, now=now
                )
                repo.count_wrong_code(account_id=account.id, purposes=PASSWORD_CODE_PURPOSES)
        if failure is None:
            if account is not None and used is not None:
                first = _set_password(repo, account, new_hash, ctx=ctx, now=now, via=used)
                repo.clear_failures(key)
                repo.clear_failures(counter_key(LOGIN_SCOPE, name, account, ctx))
                second = login_factors(deps, repo, account)
            else:
                failure = count_failure(deps, ctx, repo, key, account, event="code_failed")
    if failure is not None or account is None:
        raise report_failure(
            deps, failure, account, now=now, error=CodeExpired() if expired else InvalidCode()
        )
    deps.emit(signals.account_activated if first else signals.password_reset, account=account)
    if not second:
        deps.emit(signals.login_succeeded, account=account)
    return SignedIn(account, second)


def _code_account(repo: Repository, name: str) -> Account | None:
    """The account a password code may be for: any but a disabled one."""
    account = find_account(repo, name)
    if account is not None and account.status == AccountStatus.DISABLED.value:
        return None
    return account


def request_reset(deps: Deps, ctx: Context, *, username: str, email: str) -> None:
    """Mail a reset code if ``username`` exists with ``email``; silent either way.

    Anyone can ask, so the account's mails are limited by
    ``KAPU_RESET_MAIL_LIMIT``; a request over it does nothing, and the code
    mailed last keeps working. The mail goes out before this returns: the web
    layer runs all of it in the background, so that the time its answer takes
    says nothing about the account.
    """
    name = normalize(username)
    address = normalize_email(email)
    now = deps.clock()
    with deps.store.transaction() as repo:
        account = find_account(repo, name)
        if (
            account is None
            or address is None
            or account.status == AccountStatus.DISABLED.value
            or account.email.lower() != address.lower()
            or not _reset_mail_allowed(deps, repo, account, now)
        ):
            return
        code = issue_password_code(deps, repo, account, purpose="reset")
        audit(repo, ctx, "reset_requested", account_id=account.id, at=now)
    deps.emit(signals.reset_requested, account=account)
    deps.notifier.deliver(account, "reset", code=format_code(code))


def _reset_mail_allowed(deps: Deps, repo: Repository, account: Account, now: datetime) -> bool:
    """Whether another reset mail keeps within every window of ``KAPU_RESET_MAIL_LIMIT``.

    The audit trail counts the mails: it is in the database, so every
    instance sees the same count, and it outlives the codes it replaced.
    """
    windows = [
        (limit.amount, timedelta(seconds=limit.get_expiry()))
        for limit in parse_many(deps.config.reset_mail_limit)
    ]
    sent = repo.event_times(account.id, "reset_requested", after=now - max(w for _, w in windows))
    return all(sum(at > now - window for at in sent) < amount for amount, window in windows)


def change_password(
    deps: Deps, ctx: Context, *, account: Account, current_password: str, new_password: str
) -> Account:
    """Replace the password of a logged-in account; other sessions end.

    A wrong current password counts like one at login: on the browser's own
    counter when it holds the account's device cookie.

    Raises :class:`InvalidCredentials`, :class:`WeakPassword` or
    :class:`TooManyAttempts`.
    """
    key = counter_key(LOGIN_SCOPE, account.username, account, ctx)
    check_not_locked(deps, key)
    if not verify_password(deps, account.password_hash, current_password):
        now = deps.clock()
        with deps.store.transaction() as repo:
            failure = count_failure(deps, ctx, repo, key, account, event="password_change_failed")
        raise report_failure(deps, failure, account, now=now, error=InvalidCredentials())
    require_strong_password(deps, new_password, username=account.username)
    new_hash = deps.hashing.hash(new_password)
    now = deps.clock()
    with deps.store.transaction() as repo:
        current = repo.account(account.id)
        if current is None:
            raise InvalidCredentials()
        current.password_hash = new_hash
        current.password_changed_at = now
        repo.bump_session_epoch(current)
        repo.revoke_sessions(current.id, now=now, keep=ctx.session_id)
        repo.revoke_account_browsers(current.id, now)
        repo.clear_failures(key)
        audit(repo, ctx, "password_changed", account_id=current.id, at=now)
    deps.notifier.deliver(current, "password_changed")
    deps.emit(signals.password_changed, account=current)
    return current


def _set_password(
    repo: Repository, account: Account, new_hash: str, *, ctx: Context, now: datetime, via: str
) -> bool:
    """Store the new password; ``True`` when this activated the account."""
    first = account.status == AccountStatus.PENDING.value
    account.password_hash = new_hash
    account.status = AccountStatus.ACTIVE.value
    account.password_changed_at = now
    if first:
        account.activated_at = now
    repo.bump_session_epoch(account)
    repo.revoke_sessions(account.id, now=now)
    repo.revoke_account_browsers(account.id, now)
    audit(
        repo,
        ctx,
        "activated" if first else "password_reset",
        account_id=account.id,
        at=now,
        detail={"code": via},
    )
    return first
