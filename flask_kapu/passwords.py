"""Password policy and argon2id hashing.

The policy returns machine codes so pages and the API can explain each
problem in the user's language. The hasher verifies against a fixed dummy
hash when there is no account, so an unknown username costs the same time as
a wrong password. A hash imported from the host app (see
:mod:`~flask_kapu.legacy_hashes`) is checked by its own library, and a check
quicker than argon2id is padded to argon2id's time, so that an imported account
answers no faster than any other.
"""

from __future__ import annotations

import dataclasses
import time
import unicodedata
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from . import legacy_hashes

__all__ = ["PasswordHashing", "PasswordPolicy", "common_passwords"]


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased."""
    text = resources.files("flask_kapu").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


@dataclasses.dataclass(frozen=True)
class PasswordPolicy:
    """What a new password must satisfy."""

    min_length: int = 8
    max_length: int = 1024
    require_mixed_case: bool = True
    require_digit_or_symbol: bool = True

    def problems(self, password: str, *, username: str = "") -> list[str]:
        """Machine codes of every rule ``password`` breaks, empty when it is fine.

        Codes: ``too_short``, ``too_long``, ``mixed_case``, ``digit_or_symbol``,
        ``contains_username``, ``common``, ``control_characters``.
        """
        if len(password) > self.max_length:
            return ["too_long"]
        problems = []
        if len(password) < self.min_length:
            problems.append("too_short")
        if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in password):
            problems.append("control_characters")
        if self.require_mixed_case and not (
            any(ch.islower() for ch in password) and any(ch.isupper() for ch in password)
        ):
            problems.append("mixed_case")
        if self.require_digit_or_symbol and all(ch.isalpha() for ch in password):
            problems.append("digit_or_symbol")
        if username and username.lower() in password.lower():
            problems.append("contains_username")
        if password.lower() in common_passwords():
            problems.append("common")
        return problems


class PasswordHashing:
    """argon2id with configured parameters; rehash when they change (or were not argon2id)."""

    #: Weight of the newest argon2 check in the running estimate of what one costs.
    _SMOOTHING = 0.2

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        started = time.perf_counter()
        self._dummy = self._hasher.hash("flask_kapu dummy password")
        # What an argon2 check costs on this machine now: hashing costs about as much.
        self._argon2_seconds = time.perf_counter() - started

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; with no hash, spend the same time and fail."""
        started = time.perf_counter()
        if stored and legacy_hashes.hash_kind(stored) not in {None, "argon2"}:
            matched = legacy_hashes.verify(stored, password)
            pad = self._argon2_seconds - (time.perf_counter() - started)
            if pad > 0:
                time.sleep(pad)
            return matched
        try:
            matched = self._hasher.verify(stored or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            matched = False
        finally:
            spent = time.perf_counter() - started
            self._argon2_seconds += self._SMOOTHING * (spent - self._argon2_seconds)
        return matched and bool(stored)

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
