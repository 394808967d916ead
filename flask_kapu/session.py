"""The only module that reads or writes flask_kapu's keys in ``flask.session``.

The session holds who, at which epoch, with which methods and when, and the
random token of its server-side row (see :mod:`flask_kapu.services.sessions`),
which alone opens nothing without that live row. It is cleared and re-issued
at every login and level change, and an account-wide ``session_epoch`` lets a
password change end every other session.
A login waiting for its second factor is kept apart (``pending``) and is no
login at all until a factor completes it; past its lifetime it is dropped.

Flask-Login's user is the account itself, or, in an app with a LoginManager of
its own, the host's user for the account; flask_kapu's proof then also names
that user, so a host login that is no longer the one flask_kapu began
(``bound``) counts as no login of flask_kapu's.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from flask import current_app, g, session
from flask_login import LoginManager, login_user, logout_user

from .errors import KapuConfigError, ServiceUnavailable
from .levels import Proof
from .store import Account

__all__ = [
    "AccountLoginManager",
    "LoginUser",
    "PendingLogin",
    "add_method",
    "bound",
    "checked_session",
    "current_proof",
    "drop",
    "end",
    "holds_login",
    "login_items",
    "mark_checked",
    "next_login",
    "pending",
    "pending_expired",
    "proof_data",
    "rebind",
    "remember_challenge",
    "session_token",
    "start",
    "start_pending",
    "take_challenge",
]

_KEY = "_kapu"
_PENDING = "_kapu_pending"
_CHALLENGE = "_kapu_webauthn"
_MAX_TOKEN = 128  # a genuine token is 43 characters
_CARRIED = ("csrf_token",)  # Flask-WTF's session key
_FLASK_LOGIN = ("_user_id", "_fresh", "_id", "_remember_seconds")  # Flask-Login's keys


class LoginUser(Protocol):
    """Flask-Login's user protocol, as much of it as a login needs."""

    def get_id(self) -> str | None: ...


class AccountLoginManager(LoginManager):  # type: ignore[misc]
    """The LoginManager flask_kapu brings to an app without one: its user is the account."""


def own_login() -> bool:
    """Whether Flask-Login's user is the account (flask_kapu brought the LoginManager)."""
    return isinstance(getattr(current_app, "login_manager", None), AccountLoginManager)


def _login(account: Account, user: LoginUser | None) -> None:
    """``login_user`` with the user given, or the account itself in an app without a
    LoginManager of its own; never the account as the host's user, whose ids differ."""
    if user is None and not own_login():
        raise KapuConfigError(
            "user_for_account",
            "the app has a LoginManager of its own: begin logins through flask_kapu.auth "
            "(sign_in, add_method, rebind), which give the host's user",
        )
    login_user(account if user is None else user)


@dataclasses.dataclass(frozen=True)
class PendingLogin:
    """A password proven, a second factor still owed."""

    account_id: int
    epoch: int
    password_time: datetime


def start(
    account: Account,
    *,
    methods: Mapping[str, datetime],
    auth_time: datetime,
    token: str,
    user: LoginUser | None = None,
) -> None:
    """Begin a fresh session for ``account``, proven with ``methods``, carrying the token of
    its session row; Flask-Login's user is ``user`` (the host's), or the account."""
    session.clear()
    g.pop("_kapu_proof", None)
    session[_KEY] = {
        **proof_data(account, methods=methods, auth_time=auth_time, token=token),
        **_bind(user),
    }
    _login(account, user)


def _bind(user: LoginUser | None) -> dict[str, Any]:
    """The host's user a login was given to; nothing when that is the account itself."""
    return {} if user is None or isinstance(user, Account) else {"u": user.get_id()}


def proof_data(
    account: Account, *, methods: Mapping[str, datetime], auth_time: datetime, token: str
) -> dict[str, Any]:
    """What flask_kapu keeps under its session key for a login (the test plugin writes it too):
    ``token`` is the random token of the login's session row."""
    return {
        "a": account.id,
        "e": account.session_epoch,
        "m": {method: _stamp(at) for method, at in methods.items()},
        "t": _stamp(auth_time),
        "s": token,
    }


def login_items(
    account: Account,
    *,
    methods: Mapping[str, datetime],
    auth_time: datetime,
    token: str,
    user: LoginUser | None = None,
) -> dict[str, Any]:
    """Every session item of a login: flask_kapu's proof and Flask-Login's user id (of
    ``user``, the host's user for the account in an app with a LoginManager of its own)."""
    proof = proof_data(account, methods=methods, auth_time=auth_time, token=token)
    return {
        _KEY: {**proof, **_bind(user)},
        "_user_id": (account if user is None else user).get_id(),
        "_fresh": True,
    }


def start_pending(account: Account, *, at: datetime) -> None:
    """Begin a fresh session that waits for ``account``'s second factor."""
    session.clear()
    g.pop("_kapu_proof", None)
    session[_PENDING] = {"a": account.id, "e": account.session_epoch, "t": _stamp(at)}


def pending(*, now: datetime, ttl: timedelta) -> PendingLogin | None:
    """The login waiting for its second factor, unless ``ttl`` has passed since its password.

    A login that waited too long is dropped from the session, so a password
    typed long ago cannot be completed later; :func:`pending_expired` tells
    the rest of the request why it is gone.
    """
    waiting = _parse_pending()
    if waiting is not None and now >= waiting.password_time + ttl:
        session.pop(_PENDING, None)
        g._kapu_pending_expired = True
        return None
    return waiting


def pending_expired() -> bool:
    """Whether this request dropped a login that waited too long for its second factor."""
    return bool(g.get("_kapu_pending_expired"))


def _parse_pending() -> PendingLogin | None:
    data = session.get(_PENDING)
    if not isinstance(data, dict):
        return None
    try:
        return PendingLogin(int(data["a"]), int(data["e"]), _time(data["t"]))
    except (KeyError, TypeError, ValueError):
        return None


def next_login(
    account: Account, method: str, *, at: datetime
) -> tuple[dict[str, datetime], datetime, bool]:
    """The methods and login time of this session once ``method`` is added, and whether that
    steps a login up (``True``) or completes a pending one.

    Raises :class:`LookupError` when the session holds no login of ``account``.
    """
    proof = current_proof()
    waiting = _parse_pending()  # its lifetime was checked when the request found the account
    if proof is not None and proof.account_id == account.id:
        return {**proof.methods, method: at}, proof.auth_time, True
    if waiting is not None and waiting.account_id == account.id:
        return {"password": waiting.password_time, method: at}, at, False
    raise LookupError("no login of this account to add a factor to")


def add_method(
    account: Account,
    *,
    methods: Mapping[str, datetime],
    auth_time: datetime,
    token: str,
    user: LoginUser | None = None,
) -> None:
    """Re-issue the session with a second factor added (see :func:`next_login`): a pending
    login completed or a login stepped up, with its session row's new token."""
    carried = _carried()
    start(account, user=user, methods=methods, auth_time=auth_time, token=token)
    session.update(carried)


def _carried() -> dict[str, Any]:
    """What survives a re-issue for the same account: the CSRF token, so a page or SPA
    can go on posting. A new login never carries it."""
    return {key: session[key] for key in _CARRIED if key in session}


def remember_challenge(purpose: str, challenge: bytes) -> None:
    """Keep the WebAuthn challenge just issued (its single use is enforced in the store)."""
    session[_CHALLENGE] = {"p": purpose, "c": base64.urlsafe_b64encode(challenge).decode()}


def take_challenge(purpose: str) -> bytes | None:
    """The challenge issued for ``purpose``, removed from the session; ``None`` if there is none."""
    data = session.pop(_CHALLENGE, None)
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("c"), str):
        return None
    try:
        return base64.urlsafe_b64decode(data["c"].encode())
    except (ValueError, TypeError):
        return None


def rebind(
    account: Account, *, token: str, drop: str | None = None, user: LoginUser | None = None
) -> None:
    """Re-issue this session at ``account``'s new epoch (its password or factors changed),
    with its session row's new ``token``.

    ``drop`` forgets a method the session proved with a factor now removed.
    """
    data = dict(session.get(_KEY) or {})
    if drop is not None and isinstance(data.get("m"), dict):
        data["m"] = {m: at for m, at in data["m"].items() if m != drop}
    data.pop("u", None)
    carried = _carried()
    session.clear()
    g.pop("_kapu_proof", None)
    session[_KEY] = {**data, "e": account.session_epoch, "s": token, **_bind(user)}
    session.update(carried)
    _login(account, user)


def end() -> None:
    """Log out and forget everything the session held, even with the database down."""
    # Flask-Login's user_logged_out receives the account; if it cannot be loaded,
    # clearing the session is the logout.
    with contextlib.suppress(ServiceUnavailable):
        logout_user()
    session.clear()
    g.pop("_kapu_proof", None)
    g.pop("_kapu_session_id", None)


def holds_login() -> bool:
    """Whether the session carries a login flask_kapu began (well-formed or not)."""
    return _KEY in session


def bound() -> bool:
    """Whether Flask-Login's user is still the host's user flask_kapu's login was given to:
    the host's own ``logout_user`` or ``login_user`` since then ends flask_kapu's login."""
    data = session.get(_KEY)
    return isinstance(data, dict) and data.get("u") == session.get("_user_id")


def drop(*, host: bool) -> None:
    """End flask_kapu's login and, with ``host``, the host's login it began, while
    Flask-Login is loading its user (so without ``logout_user``, which would load it
    again); the host's remember-me cookie goes too."""
    session.pop(_KEY, None)
    session.pop(_PENDING, None)
    g.pop("_kapu_proof", None)
    g.pop("_kapu_session_id", None)
    if host:
        for key in _FLASK_LOGIN:
            session.pop(key, None)
        session["_remember"] = "clear"


def session_token() -> str | None:
    """The token of the session row this session's login refers to, if it carries one."""
    data = session.get(_KEY)
    token = data.get("s") if isinstance(data, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN else None


def mark_checked(session_id: int | None) -> None:
    """Note the session row this request's login was found live in (``None``: none was)."""
    g._kapu_session_id = session_id


def checked_session() -> int | None:
    """The id of the session row this request's login was found live in, if it was checked."""
    session_id: int | None = g.get("_kapu_session_id")
    return session_id


def current_proof() -> Proof | None:
    """What this session has proven, or ``None`` if it holds no (well-formed) login.

    Parsed once per request; every write of the login below forgets the parse.
    """
    if "_kapu_proof" not in g:
        g._kapu_proof = _parse_proof()
    proof: Proof | None = g._kapu_proof
    return proof


def _parse_proof() -> Proof | None:
    data = session.get(_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return Proof(
            account_id=int(data["a"]),
            epoch=int(data["e"]),
            methods={str(m): _time(ts) for m, ts in dict(data["m"]).items()},
            auth_time=_time(data["t"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _stamp(at: datetime) -> int:
    return int(at.timestamp())


def _time(stamp: object) -> datetime:
    if not isinstance(stamp, int):
        raise TypeError("timestamp")
    return datetime.fromtimestamp(stamp, timezone.utc)
