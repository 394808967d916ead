"""The only module that reads or writes flask_kapu's keys in ``flask.session``.

The session holds who, at which epoch, with which methods and when; nothing
secret. It is cleared and re-issued at every login and level change, and an
account-wide ``session_epoch`` lets a password change end every other session.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import session
from flask_login import login_user, logout_user

from .levels import Proof
from .store import Account

__all__ = ["current_proof", "end", "rebind", "start"]

_KEY = "_kapu"


def start(account: Account, *, method: str, at: datetime) -> None:
    """Begin a fresh session for ``account`` proven with ``method``."""
    session.clear()
    session[_KEY] = {
        "a": account.id,
        "e": account.session_epoch,
        "m": {method: _stamp(at)},
        "t": _stamp(at),
    }
    login_user(account)


def rebind(account: Account) -> None:
    """Re-issue this session at ``account``'s new epoch (after its password changed)."""
    data = dict(session.get(_KEY) or {})
    session.clear()
    session[_KEY] = {**data, "e": account.session_epoch}
    login_user(account)


def end() -> None:
    """Log out and forget everything the session held."""
    logout_user()
    session.clear()


def current_proof() -> Proof | None:
    """What this session has proven, or ``None`` if it holds no (well-formed) login."""
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
