"""The request's authentication: signing in, pending logins, and view requirements.

``refusal`` is the one place that decides whether the current session may
open a view that needs a login or Ügyfélkapu+; the decorators and the
factor-management views both ask it.

``current_account`` is the session's Ügyfélkapu account. Without a
LoginManager of the host's it is Flask-Login's ``current_user`` itself; in an
app with its own, ``current_user`` is the host's user that
``Kapu.user_for_account`` gives for the account, and every login flask_kapu
begins, re-issues or ends is the host's login too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy.exc import DBAPIError
from werkzeug.local import LocalProxy

from . import session as kapu_session
from .errors import (
    EnrollmentRequired,
    KapuConfigError,
    KapuHTTPError,
    LoginRequired,
    PluszRequired,
    ServiceUnavailable,
)
from .levels import Level, Proof
from .services import SignedIn, sessions, usable_methods
from .state import get_state, request_context
from .store import Account

__all__ = [
    "acting_account",
    "add_method",
    "current_account",
    "end_host_login_if_stale",
    "enrolled_methods",
    "load_account",
    "pending_account",
    "pending_step",
    "rebind",
    "refusal",
    "sign_in",
    "user_for",
    "username_pending_account",
    "waiting_login",
]


def user_for(account: Account) -> Any:
    """Flask-Login's user for ``account``: itself, or the host's (``Kapu.user_for_account``)."""
    if kapu_session.own_login():
        return account
    hook = get_state().hooks.get("user_for_account")
    if hook is None:
        raise KapuConfigError(
            "user_for_account",
            "the app has a LoginManager of its own: register @kapu.user_for_account "
            "to give flask_kapu the app's user for an Ügyfélkapu account",
        )
    user = hook(account)
    if user is None:
        raise KapuConfigError("user_for_account", f"gave no user for account {account.id}")
    return user


def sign_in(result: SignedIn) -> None:
    """Start the session a password (or code) earned: full, or waiting for a second factor
    or for an imported account's owner to choose a valid username."""
    deps = get_state().deps
    now = deps.clock()
    if result.second_factor or result.account.must_choose_username:
        kapu_session.start_pending(result.account, at=now)  # no session row until it completes
        return
    user = user_for(result.account)
    methods = {"password": now}
    row, token = sessions.open_session(
        deps, request_context(), result.account, level=_level(methods), methods=methods, now=now
    )
    kapu_session.start(result.account, user=user, methods=methods, auth_time=now, token=token)
    kapu_session.mark_checked(row.id)


def add_method(account: Account, method: str) -> None:
    """Record a second factor just proven: complete a pending login (its session row is
    created now) or step the session up (its row records the new level, its token rotates).

    Raises :class:`LoginRequired` when the session stepped up was ended meanwhile.
    """
    deps = get_state().deps
    now = deps.clock()
    user = user_for(account)
    methods, auth_time, stepping_up = kapu_session.next_login(account, method, at=now)
    token = kapu_session.session_token()
    if stepping_up and token is not None:
        reissued = sessions.reissue(
            deps, account_id=account.id, token=token, level=_level(methods), methods=methods
        )
        if reissued is None:
            kapu_session.end()
            raise LoginRequired(extra={"pending": None})
        row_id, token = reissued
    else:
        row, token = sessions.open_session(
            deps, request_context(), account, level=_level(methods), methods=methods, now=now
        )
        row_id = row.id
    kapu_session.add_method(account, methods=methods, auth_time=auth_time, token=token, user=user)
    kapu_session.mark_checked(row_id)


def rebind(account: Account, *, drop: str | None = None) -> None:
    """Keep this session at ``account``'s new epoch (see :func:`flask_kapu.session.rebind`):
    its session row stays, with what it still proves and a new token.

    Raises :class:`LoginRequired` when the session was ended meanwhile.
    """
    deps = get_state().deps
    proof = kapu_session.current_proof()
    token = kapu_session.session_token()
    reissued = None
    if proof is not None and token is not None and proof.account_id == account.id:
        methods = {m: at for m, at in proof.methods.items() if m != drop}
        reissued = sessions.reissue(
            deps, account_id=account.id, token=token, level=_level(methods), methods=methods
        )
    if reissued is None:
        kapu_session.end()
        raise LoginRequired(extra={"pending": None})
    row_id, token = reissued
    kapu_session.rebind(account, user=user_for(account), drop=drop, token=token)
    kapu_session.mark_checked(row_id)


def _level(methods: Mapping[str, datetime]) -> str:
    """The level a login with ``methods`` has reached, as a session row records it."""
    return (Level.PLUSZ if set(methods) - {"password"} else Level.UGYFELKAPU).label


def _store_down() -> ServiceUnavailable:
    """Note that the database is down: raised once per request, later lookups in the same
    request (the error page itself) see no account, so the 503 can be rendered."""
    g._kapu_store_down = True
    current_app.logger.exception("database unavailable while loading the session's account")
    return ServiceUnavailable()


def _live_account(account_id: int, epoch: int) -> Account | None:
    """The account of a pending login, if it is still active at the login's epoch."""
    if g.get("_kapu_store_down"):
        return None
    try:
        account = get_state().deps.store.load_account(account_id)
    except DBAPIError:
        raise _store_down() from None
    if account is None or not account.is_active or account.session_epoch != epoch:
        return None
    return account


def _live_login(proof: Proof) -> Account | None:
    """The account of a login, if it is still active at the login's epoch and its session
    row is live (not revoked, idle or expired): one statement reads both."""
    token = kapu_session.session_token()
    if token is None or g.get("_kapu_store_down"):
        return None
    try:
        found = sessions.live_session(
            get_state().deps, account_id=proof.account_id, epoch=proof.epoch, token=token
        )
    except DBAPIError:
        raise _store_down() from None
    if found is None:
        return None
    kapu_session.mark_checked(found.session_id)
    return found.account


def _session_account() -> Account | None:
    """The account of the session's login, if still valid: loaded once per request."""
    proof = kapu_session.current_proof()
    if proof is None:
        return None
    cached = g.get("_kapu_account")
    if cached is not None and cached[0] is proof:  # a re-issued login is parsed anew
        account: Account | None = cached[1]
        return account
    account = _live_login(proof)
    g._kapu_account = (proof, account)
    return account


def load_account(user_id: str) -> Account | None:
    """Flask-Login's user loader: the session's account, if still valid."""
    proof = kapu_session.current_proof()
    if proof is None or str(proof.account_id) != user_id:
        return None
    return _session_account()


def _current_account() -> Any:
    if kapu_session.own_login():
        return current_user._get_current_object()
    account = _session_account() if kapu_session.bound() else None
    return account if account is not None else AnonymousUserMixin()


#: The session's Ügyfélkapu account (Flask-Login's anonymous user when there is none).
current_account: Any = LocalProxy(_current_account)


def end_host_login_if_stale(_app: Flask, **_extra: Any) -> None:
    """On Flask-Login's ``user_accessed`` in an app with its own LoginManager: a login that
    flask_kapu began ends with its account's (logged out everywhere, password changed,
    disabled), before the host's ``user_loader`` could load the user. A login the host
    replaced or ended itself ends flask_kapu's alone."""
    if kapu_session.own_login() or not kapu_session.holds_login():
        return
    if not kapu_session.bound():
        kapu_session.drop(host=False)
    elif _session_account() is None:
        kapu_session.drop(host=True)


def waiting_login() -> kapu_session.PendingLogin | None:
    """The login waiting for its second factor, unless ``KAPU_PENDING_LOGIN_TTL`` has passed."""
    state = get_state()
    return kapu_session.pending(now=state.deps.clock(), ttl=state.config.pending_login_ttl)


def _waiting_account() -> Account | None:
    waiting = waiting_login()
    return None if waiting is None else _live_account(waiting.account_id, waiting.epoch)


def pending_account() -> Account | None:
    """The account of a login waiting for its second factor, if still valid."""
    account = _waiting_account()
    return None if account is None or account.must_choose_username else account


def username_pending_account() -> Account | None:
    """The account of a login waiting for its owner to choose a valid username."""
    account = _waiting_account()
    return account if account is not None and account.must_choose_username else None


def pending_step() -> str | None:
    """What the session's waiting login still needs: ``"username"`` (chosen first) or
    ``"second_factor"``; ``None`` without one. Reads the account only when a login waits."""
    if waiting_login() is None:
        return None
    return "username" if username_pending_account() is not None else "second_factor"


def acting_account() -> tuple[Account, bool] | None:
    """The logged-in account, or the pending one (``True``) that a factor would complete."""
    if current_account.is_authenticated:
        return current_account._get_current_object(), False
    account = pending_account()
    return (account, True) if account is not None else None


def enrolled_methods(account: Account) -> list[str]:
    with get_state().deps.store.reading() as repo:
        return sorted(repo.enrolled_methods(account.id))


def refusal(
    *,
    plusz: bool,
    max_age: timedelta | None = None,
    methods: frozenset[str] | None = None,
) -> KapuHTTPError | None:
    """Why the current session may not open a view with these needs, or ``None``.

    After the sunset date a login alone needs what ``plusz`` needs.
    """
    state = get_state()
    if not current_account.is_authenticated:
        return LoginRequired(extra={"pending": pending_step()})
    if not plusz and not state.deps.sunset_passed():
        return None
    proof = kapu_session.current_proof()
    age = max_age if max_age is not None else (state.config.plusz_max_age if plusz else None)
    now = state.deps.clock()
    if proof is not None and proof.has_plusz(now=now, max_age=age, methods=methods):
        return None
    account: Account = current_account._get_current_object()
    with state.deps.store.reading() as repo:
        usable = usable_methods(repo, account)
    allowed = [m for m in usable if methods is None or m in methods]
    if not [m for m in allowed if m != "recovery"]:
        offered = [m for m in state.config.second_factors if methods is None or m in methods]
        return EnrollmentRequired(enroll_methods=offered)
    return PluszRequired(
        methods=allowed, max_age=int(age.total_seconds()) if age is not None else None
    )
