""" "Remember this browser": skipping the second factor at login, and only there.

At the end of a login's second factor its owner may ask that this browser be
remembered for ``KAPU_REMEMBER_BROWSER_DAYS``. The browser gets a random token
(an HttpOnly cookie, set by the web layer); the row keeps only its keyed hash,
so a database dump presents no browser. A later password login of the same
account that presents a live token owes no second factor, but it is a
password-level login all the same: every view that needs Ügyfélkapu+ (its
``max_age`` and ``methods=`` too) still asks for a step-up, and after the
sunset date the token skips nothing. A password change or reset and a factor
removal revoke every token of the account (the repository's
``revoke_account_browsers``, inside those services' own transactions).
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime, timedelta

from ..store import Account, Repository, TrustedBrowser
from ..useragents import summary
from .base import Context, Deps, audit

__all__ = [
    "PURPOSE",
    "Remembered",
    "forget_trusted",
    "list_trusted",
    "remember",
    "skips_second_factor",
]

#: The purpose of the keyed hash of a remembered browser's token (apart from codes and sessions).
PURPOSE = "trusted_browser"


@dataclasses.dataclass(frozen=True)
class Remembered:
    """The token for the browser's cookie, and when it stops working."""

    token: str
    expires_at: datetime


def remember(deps: Deps, ctx: Context, account: Account) -> Remembered | None:
    """Remember the caller's browser for ``account``; ``None`` when the app does not offer it
    (``KAPU_REMEMBER_BROWSER_DAYS = 0``). The caller has just proven a second factor at login."""
    days = deps.config.remember_browser_days
    if not days:
        return None
    token = secrets.token_urlsafe(32)
    now = deps.clock()
    expires_at = now + timedelta(days=days)
    with deps.store.transaction() as repo:
        repo.add_trusted_browser(
            TrustedBrowser(
                account_id=account.id,
                token_hash=deps.codes.hash(PURPOSE, token),
                created_at=now,
                expires_at=expires_at,
                ip=ctx.ip,
                browser=summary(ctx.user_agent),
            )
        )
        audit(repo, ctx, "browser_remembered", account_id=account.id, at=now, detail={"days": days})
    return Remembered(token, expires_at)


def skips_second_factor(
    deps: Deps, repo: Repository, account: Account, token: str | None, now: datetime
) -> bool:
    """Whether the browser's ``token`` lets this login of ``account`` skip its second factor
    (marking the row used); never after the sunset date or with the feature turned off."""
    if not token or len(token) > 128 or not deps.config.remember_browser_days:
        return False
    if deps.sunset_passed():
        return False
    return repo.use_trusted_browser(account.id, deps.codes.candidates(PURPOSE, token), now)


def list_trusted(deps: Deps, account_id: int, now: datetime) -> list[TrustedBrowser]:
    """The account's remembered browsers still in force, newest first (for the devices list)."""
    with deps.store.reading() as repo:
        return repo.trusted_browsers(account_id, now)


def forget_trusted(deps: Deps, ctx: Context, account: Account, trusted_id: int) -> bool:
    """Forget one of the account's remembered browsers: its next login asks for the second
    factor again. ``False`` when ``trusted_id`` is no live remembered browser of the account."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        forgotten = repo.revoke_trusted_browser(account.id, trusted_id, now)
        if forgotten:
            audit(repo, ctx, "browser_forgotten", account_id=account.id, at=now)
    return forgotten
