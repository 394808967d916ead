"""The request's authentication: signing in, pending logins, and view requirements.

``refusal`` is the one place that decides whether the current session may
open a view that needs a login or Ügyfélkapu+; the decorators and the
factor-management views both ask it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g
from flask_login import current_user
from sqlalchemy.exc import DBAPIError

from . import session as kapu_session
from .errors import (
    EnrollmentRequired,
    KapuHTTPError,
    LoginRequired,
    PluszRequired,
    ServiceUnavailable,
)
from .services import SignedIn, usable_methods
from .state import get_state
from .store import Account

__all__ = [
    "acting_account",
    "enrolled_methods",
    "load_account",
    "pending_account",
    "refusal",
    "sign_in",
    "waiting_login",
]


def sign_in(result: SignedIn) -> None:
    """Start the session a password (or code) earned: full, or waiting for a second factor."""
    now = get_state().deps.clock()
    if result.second_factor:
        kapu_session.start_pending(result.account, at=now)
    else:
        kapu_session.start(result.account, methods={"password": now}, auth_time=now)


def _live_account(account_id: int, epoch: int) -> Account | None:
    """The account, if it is still active at the session's epoch.

    With the database down this raises :class:`ServiceUnavailable` once per
    request; later lookups in the same request (the error page itself) see
    no account, so the 503 can be rendered.
    """
    if g.get("_kapu_store_down"):
        return None
    try:
        account = get_state().deps.store.load_account(account_id)
    except DBAPIError:
        g._kapu_store_down = True
        current_app.logger.exception("database unavailable while loading the session's account")
        raise ServiceUnavailable() from None
    if account is None or not account.is_active or account.session_epoch != epoch:
        return None
    return account


def load_account(user_id: str) -> Account | None:
    """Flask-Login's user loader: the session's account, if still valid."""
    proof = kapu_session.current_proof()
    if proof is None or str(proof.account_id) != user_id:
        return None
    return _live_account(proof.account_id, proof.epoch)


def waiting_login() -> kapu_session.PendingLogin | None:
    """The login waiting for its second factor, unless ``KAPU_PENDING_LOGIN_TTL`` has passed."""
    state = get_state()
    return kapu_session.pending(now=state.deps.clock(), ttl=state.config.pending_login_ttl)


def pending_account() -> Account | None:
    """The account of a login waiting for its second factor, if still valid."""
    waiting = waiting_login()
    return None if waiting is None else _live_account(waiting.account_id, waiting.epoch)


def acting_account() -> tuple[Account, bool] | None:
    """The logged-in account, or the pending one (``True``) that a factor would complete."""
    if current_user.is_authenticated:
        return current_user._get_current_object(), False
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
    if not current_user.is_authenticated:
        waiting = waiting_login() is not None
        return LoginRequired(extra={"pending": "second_factor" if waiting else None})
    if not plusz and not state.deps.sunset_passed():
        return None
    proof = kapu_session.current_proof()
    age = max_age if max_age is not None else (state.config.plusz_max_age if plusz else None)
    now = state.deps.clock()
    if proof is not None and proof.has_plusz(now=now, max_age=age, methods=methods):
        return None
    account: Account = current_user._get_current_object()
    with state.deps.store.reading() as repo:
        usable = usable_methods(repo, account)
    allowed = [m for m in usable if methods is None or m in methods]
    if not [m for m in allowed if m != "recovery"]:
        offered = [m for m in state.config.second_factors if methods is None or m in methods]
        return EnrollmentRequired(enroll_methods=offered)
    return PluszRequired(
        methods=allowed, max_age=int(age.total_seconds()) if age is not None else None
    )
