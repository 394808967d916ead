"""Password hashes a host app already stores: which kind each is, checked by its own library.

flask_kapu stores argon2id. An imported account keeps its host's hash until
its first login, which checks it once and stores argon2id instead. Every format
is checked by a maintained library, never by hand: werkzeug for its
``pbkdf2:`` and ``scrypt:`` strings, argon2-cffi for argon2 strings (passlib's
and libpass's included), the ``bcrypt`` package for ``$2a$``/``$2b$``/``$2y$``,
and libpass (``passlib.hash``) for passlib's ``$pbkdf2-sha256$``,
``$pbkdf2-sha512$`` and ``$bcrypt-sha256$``. bcrypt and libpass come with the
``flask-kapu[legacy]`` extra.
"""

from __future__ import annotations

import logging
from types import ModuleType

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError
from werkzeug.security import check_password_hash

from .errors import ImportRefused

bcrypt: ModuleType | None
try:
    import bcrypt
except ImportError:  # the legacy extra is not installed
    bcrypt = None

try:
    import passlib.hash as passlib_hash
except ImportError:  # the legacy extra is not installed
    passlib_hash = None

__all__ = ["EXTRA", "check_importable", "hash_kind", "verify"]

EXTRA = "flask-kapu[legacy]"
_LOG = logging.getLogger("flask_kapu")
_ARGON2 = ("$argon2id$", "$argon2i$", "$argon2d$")
_WERKZEUG = ("pbkdf2:", "scrypt:")
_BCRYPT = ("$2a$", "$2b$", "$2y$")
#: passlib's own formats, by prefix: the ``passlib.hash`` handler that reads each.
_PASSLIB = {
    "$pbkdf2-sha256$": "pbkdf2_sha256",
    "$pbkdf2-sha512$": "pbkdf2_sha512",
    "$bcrypt-sha256$": "bcrypt_sha256",
}
#: bcrypt never looked past this many bytes of a password, and the package now refuses more.
_BCRYPT_MAX_BYTES = 72


def hash_kind(stored: str) -> str | None:
    """``"argon2"``, ``"werkzeug"``, ``"bcrypt"`` or ``"passlib"``; ``None`` for any other text."""
    if stored.startswith(_ARGON2):
        return "argon2"
    if stored.startswith(_WERKZEUG):
        return "werkzeug"
    if stored.startswith(_BCRYPT):
        return "bcrypt"
    if stored.startswith(tuple(_PASSLIB)):
        return "passlib"
    return None


def check_importable(stored: str) -> None:
    """Refuse a hash no library here can check later, before an account is made with it.

    Only the format is read (no password is hashed, so a large import stays quick).
    Raises :class:`ImportRefused` with reason ``unknown_hash`` or ``needs_legacy_extra``.
    """
    kind = hash_kind(stored)
    if kind == "argon2":
        try:
            extract_parameters(stored)
        except InvalidHashError:
            kind = None
    elif kind == "werkzeug":
        # werkzeug's own layout: method$salt$hash.
        if len([part for part in stored.split("$") if part]) != 3:
            kind = None
    elif kind == "bcrypt":
        if bcrypt is None:
            raise _needs_extra("bcrypt")
        if len(stored) != 60:
            kind = None
    elif kind == "passlib":
        if passlib_hash is None:
            raise _needs_extra("passlib")
        if not _passlib_handler(passlib_hash, stored).identify(stored):
            kind = None
    if kind is None:
        raise ImportRefused(
            "unknown_hash",
            "password hash format not recognised (werkzeug pbkdf2:/scrypt:, bcrypt $2a$/$2b$, "
            "argon2, passlib $pbkdf2-sha256$/$pbkdf2-sha512$/$bcrypt-sha256$ are)",
        )


def verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches a non-argon2 ``stored`` hash (argon2 is
    :class:`~flask_kapu.passwords.PasswordHashing`'s own); ``False`` for anything unreadable."""
    kind = hash_kind(stored)
    try:
        if kind == "werkzeug":
            return check_password_hash(stored, password)
        if kind == "bcrypt" and bcrypt is not None:
            secret = password.encode()[:_BCRYPT_MAX_BYTES]
            return bool(bcrypt.checkpw(secret, stored.encode()))
        if kind == "passlib" and passlib_hash is not None:
            return bool(_passlib_handler(passlib_hash, stored).verify(password, stored))
    except (ValueError, TypeError):
        return False
    if kind in {"bcrypt", "passlib"}:
        _LOG.error("a %s password hash cannot be checked: install %s", kind, EXTRA)
    return False


def _passlib_handler(module: ModuleType, stored: str) -> ModuleType:
    name = next(name for prefix, name in _PASSLIB.items() if stored.startswith(prefix))
    handler: ModuleType = getattr(module, name)
    return handler


def _needs_extra(kind: str) -> ImportRefused:
    return ImportRefused(
        "needs_legacy_extra", f"{kind} password hashes need the extra: pip install '{EXTRA}'"
    )
