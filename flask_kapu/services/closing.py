"""Closing an account (its owner) and disabling or enabling one (an operator).

A closed account keeps its row, so that its username stays taken for good,
and its audit rows, stripped of addresses, browsers and details; everything
else that could name its owner is erased. A disabled account is kept whole
but cannot log in: login answers it exactly as a wrong password.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import LoginRequired
from ..store import Account, AccountStatus
from ..usernames import normalize
from .base import Context, Deps, audit, find_account
from .enrolment import authorise_first

__all__ = ["CLOSED_EMAIL", "close_account", "disable_account", "enable_account"]

#: The address of a closed account: not an address, so no mail can reach anyone.
CLOSED_EMAIL = ""


def close_account(
    deps: Deps,
    ctx: Context,
    account: Account,
    *,
    password: str | None = None,
    auth_time: datetime | None = None,
) -> None:
    """Close the logged-in ``account`` for good, in one transaction, then mail its owner.

    An account with a second factor has proven a fresh step-up (the web layer
    asks); one without proves itself like before its first factor: with the
    password, or a login a few minutes old.

    Raises :class:`InvalidInput`, :class:`InvalidCredentials`,
    :class:`TooManyAttempts`, or :class:`LoginRequired` if the account is no longer active.
    """
    authorise_first(deps, ctx, account, password=password, auth_time=auth_time)
    now = deps.clock()
    with deps.store.transaction() as repo:
        current = repo.account(account.id)
        if current is None or not current.is_active:
            raise LoginRequired(extra={"pending": None})
        # The mail goes to the address that is erased here: keep what it needs.
        recipient = Account(
            id=current.id,
            username=current.username,
            email=current.email,
            language=current.language,
        )
        repo.erase_account_data(current.id)
        current.status = AccountStatus.CLOSED.value
        current.closed_at = now
        current.email = CLOSED_EMAIL
        current.person = None
        current.password_hash = None
        current.imported_username = None
        current.disabled_reason = None
        repo.bump_session_epoch(current)
        repo.audit("account_closed", account_id=current.id, at=now)  # no address: nobody's
    deps.notifier.deliver(recipient, "account_closed")


def disable_account(deps: Deps, ctx: Context, *, username: str, reason: str) -> bool:
    """An operator stops ``username`` from logging in; ``False`` if there is no such account.

    Its sessions and remembered browsers end; nothing else changes, so
    :func:`enable_account` gives it back as it was.
    """
    now = deps.clock()
    with deps.store.transaction() as repo:
        account = find_account(repo, normalize(username))
        if account is None:
            return False
        account.status = AccountStatus.DISABLED.value
        account.disabled_reason = reason
        repo.revoke_sessions(account.id, now=now)
        repo.revoke_account_browsers(account.id, now)
        repo.bump_session_epoch(account)
        audit(repo, ctx, "account_disabled", account_id=account.id, at=now, detail=_why(reason))
    return True


def enable_account(deps: Deps, ctx: Context, *, username: str, reason: str | None = None) -> bool:
    """Let a disabled ``username`` log in again; ``False`` if it is not a disabled account.

    It becomes active again, or pending if it was never activated.
    """
    now = deps.clock()
    with deps.store.transaction() as repo:
        account = find_account(repo, normalize(username))
        if account is None or account.status != AccountStatus.DISABLED.value:
            return False
        active = account.activated_at is not None
        account.status = (AccountStatus.ACTIVE if active else AccountStatus.PENDING).value
        account.disabled_reason = None
        audit(repo, ctx, "account_enabled", account_id=account.id, at=now, detail=_why(reason))
    return True


def _why(reason: str | None) -> dict[str, str] | None:
    return {"reason": reason} if reason else None
