"""Ügyfélkapu username rules (DOMAIN.md, API.md).

Letters of the Hungarian alphabet only, 4 to 64 of them, at least three
different ones ignoring case. Usernames are compared exactly (after NFC) at
login, but two names that differ only in case may not both exist: their
:func:`username_key` is the same.
"""

from __future__ import annotations

import unicodedata

__all__ = ["ALPHABET", "MAX_LENGTH", "MIN_LENGTH", "normalize", "username_key", "username_problems"]

MIN_LENGTH = 4
MAX_LENGTH = 64
MIN_DISTINCT = 3
_LOWER = "abcdefghijklmnopqrstuvwxyzáéíóöőúüű"
ALPHABET = frozenset(_LOWER + _LOWER.upper())


def normalize(raw: str) -> str:
    """NFC-normalise; the only normalisation a username gets (no trimming)."""
    return unicodedata.normalize("NFC", raw)


def username_key(name: str) -> str:
    """The key that makes case-only (and NFC-equal) variants collide."""
    return normalize(name).lower()


def username_problems(raw: str) -> list[str]:
    """Why ``raw`` is not a valid username: machine codes, empty when valid.

    Codes: ``length``, ``alphabet``, ``distinct``.
    """
    if len(raw) > MAX_LENGTH * 4:  # refuse huge input before normalising it
        return ["length"]
    name = normalize(raw)
    problems = []
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        problems.append("length")
    if not set(name) <= ALPHABET:
        problems.append("alphabet")
    if len(set(name.lower())) < MIN_DISTINCT:
        problems.append("distinct")
    return problems
