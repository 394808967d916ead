"""The device cookie: a signed mark that this browser has logged in to an account before.

OWASP's answer to lockout abuse: attempts from a browser that holds the
account's cookie are counted apart from strangers', so locking a username
from elsewhere does not keep its owner out, while that browser is still
locked after as many failures. The cookie is signed with the app's
``SECRET_KEY`` (``SECRET_KEY_FALLBACKS`` still verify), names the account
and a random device id, and carries its issue time so that its age is
checked against flask_kapu's clock, not only the browser's word.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from .services.base import Device
from .store import Account

__all__ = ["COOKIE", "SALT", "presented", "remember"]

COOKIE = "kapu_device"
SALT = "flask_kapu.device"
_MAX_LENGTH = 512  # a genuine cookie is about 100 characters


def _serializer() -> URLSafeSerializer:
    """Signs with ``SECRET_KEY`` and accepts its fallbacks, as Flask's session does."""
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.secret_key]
    return URLSafeSerializer(keys, salt=SALT)


def presented(*, max_age: timedelta, now: datetime) -> Device | None:
    """The device this request's cookie vouches for; ``None`` for none, a forged or an old one."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > _MAX_LENGTH:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    account_id, device_id, issued = data.get("a"), data.get("d"), data.get("t")
    if (
        type(account_id) is not int
        or type(issued) is not int
        or not isinstance(device_id, str)
        or not device_id
    ):
        return None
    if not 0 <= now.timestamp() - issued <= max_age.total_seconds():
        return None
    return Device(account_id, device_id)


def remember(
    response: Response, account: Account, *, max_age: timedelta, path: str, now: datetime
) -> None:
    """Set (or renew) ``account``'s device cookie on ``response``.

    A browser that already holds this account's cookie keeps its device id
    (and so its counter); any other gets a new one.
    """
    known = presented(max_age=max_age, now=now)
    device_id = (
        known.id
        if known is not None and known.account_id == account.id
        else secrets.token_urlsafe(16)
    )
    value = _serializer().dumps({"a": account.id, "d": device_id, "t": int(now.timestamp())})
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(max_age.total_seconds()),
        path=path,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
