"""Password login.

Unknown usernames, wrong passwords and pending accounts take the same path:
one argon2 verify (against a dummy hash when there is nothing to verify), one
counted failure, one answer. A hash imported from the host app is checked
the same way, once, and replaced by argon2id in the login's transaction. A
login whose account must prove a second factor ends half-way: the caller keeps
it pending until ``verify_code``; so does one whose imported username breaks
the rules, until ``choose_username``.
"""

from __future__ import annotations

from .. import signals
from ..errors import InvalidCredentials, InvalidInput, LoginRequired, UsernameTaken
from ..store import FailureOutcome
from ..usernames import normalize, username_key, username_problems
from .attempts import (
    LOGIN_SCOPE,
    count_failure,
    counter_key,
    held_lock,
    locked,
    report_failure,
    verify_password,
)
from .base import Context, Deps, audit, find_account
from .plusz import SignedIn, login_factors
from .sessions import token_hashes
from .trusted import skips_second_factor

__all__ = ["choose_username", "login", "logout"]


def login(deps: Deps, ctx: Context, *, username: str, password: str) -> SignedIn:
    """The account whose exact username and password these are, and what it must prove next.

    A caller with the account's device cookie is judged by that browser's own
    counter, any other by the username's (see :func:`counter_key`).

    Raises :class:`InvalidCredentials` or :class:`TooManyAttempts`.
    """
    name = normalize(username)
    with deps.store.reading() as repo:  # one read for the account and its lock
        account = find_account(repo, name)
        key = counter_key(LOGIN_SCOPE, name, account, ctx)
        until = repo.locked_until(key, deps.clock())
    if until is not None:
        raise locked(until, deps.clock())
    stored = account.password_hash if account is not None and account.is_active else None
    ok = verify_password(deps, stored, password)
    rehashed = (
        deps.hashing.hash(password) if ok and stored and deps.hashing.needs_rehash(stored) else None
    )
    now = deps.clock()
    second: tuple[str, ...] = ()
    remembered = False
    with deps.store.transaction() as repo:
        if not ok or account is None:
            outcome: FailureOutcome | None = count_failure(
                deps, ctx, repo, key, account, event="login_failed"
            )
        else:
            outcome = held_lock(repo, key, now)
            if outcome is None:
                repo.clear_failures(key)
                if rehashed is not None and stored is not None:
                    # Only over the hash just checked: a concurrent change of password wins.
                    repo.replace_password_hash(account.id, stored, rehashed)
                second = login_factors(deps, repo, account)
                # A remembered browser skips the second factor (not the level it would give).
                remembered = (
                    bool(second)
                    and not account.must_choose_username
                    and skips_second_factor(deps, repo, account, ctx.trusted_browser, now)
                )
                if remembered:
                    second = ()
                event = "password_verified" if second else "login"
                if account.must_choose_username:
                    event = "username_asked"
                detail: dict[str, object] = {"method": "password"}
                if remembered:
                    detail["remembered_browser"] = True
                audit(repo, ctx, event, account_id=account.id, at=now, detail=detail)
    if outcome is not None or account is None:
        raise report_failure(deps, outcome, account, now=now, error=InvalidCredentials())
    if not second and not account.must_choose_username:
        deps.emit(signals.login_succeeded, account=account)
    return SignedIn(account, second, remembered)


def choose_username(
    deps: Deps, ctx: Context, *, account_id: int, epoch: int, username: str
) -> SignedIn:
    """Give an imported account whose username breaks the rules the valid one its owner chose,
    then go on with the login it interrupted (which may still need a second factor).

    The new name is compared exactly from then on; the imported one stays recorded.
    Raises :class:`InvalidInput`, :class:`UsernameTaken`, or :class:`LoginRequired`
    when the login is no longer valid or has nothing to choose.
    """
    problems = username_problems(username)
    if problems:
        raise InvalidInput(errors={"username": problems})
    name = normalize(username)
    key = username_key(name)
    now = deps.clock()
    with deps.store.transaction() as repo:
        account = repo.account(account_id)
        if (
            account is None
            or not account.is_active
            or account.session_epoch != epoch
            or not account.must_choose_username
        ):
            raise LoginRequired(extra={"pending": None})
        old = account.username
        if repo.username_key_taken(key) or not repo.rename_account(account, name, key):
            raise UsernameTaken(errors={"username": ["taken"]})
        second = login_factors(deps, repo, account)
        audit(repo, ctx, "username_chosen", account_id=account.id, at=now, detail={"from": old})
        if not second:
            audit(repo, ctx, "login", account_id=account.id, at=now, detail={"method": "password"})
    if not second:
        deps.emit(signals.login_succeeded, account=account)
    return SignedIn(account, second)


def logout(deps: Deps, ctx: Context, *, account_id: int, token: str | None = None) -> None:
    """Revoke the session row of ``token`` (a copy of the cookie opens nothing after) and
    record that the account logged out; the caller has cleared the cookie already."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        account = repo.account(account_id)
        if account is None:
            return
        if token is not None:
            repo.revoke_sessions(account.id, now=now, hashes=token_hashes(deps, token))
        audit(repo, ctx, "logout", account_id=account.id, at=now)
    deps.emit(signals.logged_out, account=account)
