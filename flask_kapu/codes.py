"""One-time codes: generation, input normalisation and keyed hashes.

Codes are stored only as HMAC-SHA256 digests under a key derived from the
app's ``SECRET_KEY`` (and its fallbacks, so a key rotation does not void the
codes already mailed). Expiry, single use and attempt counting live in the
store, where they can be atomic.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Sequence

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CodeHasher",
    "format_code",
    "generate_code",
    "generate_digits",
    "normalize_code",
    "normalize_digits",
]

CODE_ALPHABET = "".join(ch for ch in string.digits + string.ascii_uppercase if ch not in "ILOU")
CODE_LENGTH = 10
_SEPARATORS = str.maketrans("", "", " -\t")


def generate_code(length: int = CODE_LENGTH) -> str:
    """A random code of ``length`` characters of :data:`CODE_ALPHABET` (5 bits each)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def generate_digits(length: int) -> str:
    """A random string of ``length`` decimal digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def format_code(code: str) -> str:
    """Group a code in fives with hyphens, for mails and screens: ``ABCDE-FGHJK``."""
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def normalize_code(raw: str, length: int = CODE_LENGTH) -> str | None:
    """Canonical form of a typed code (any case, spaces and hyphens allowed), or ``None``."""
    if len(raw) > length * 3 or not raw.isascii():
        return None
    code = raw.translate(_SEPARATORS).upper()
    if len(code) != length or not all(ch in CODE_ALPHABET for ch in code):
        return None
    return code


def normalize_digits(raw: str, length: int) -> str | None:
    """``raw`` if it is exactly ``length`` ASCII digits (spaces allowed), else ``None``."""
    if len(raw) > length * 3 or not raw.isascii():
        return None
    code = raw.translate(_SEPARATORS)
    if len(code) != length or not all(ch in string.digits for ch in code):
        return None
    return code


class CodeHasher:
    """Keyed hashes of codes; the first key hashes, every key is tried when matching.

    ``fingerprints`` are one-way tags of the keys, current first, kept in
    ``kapu_meta`` under :attr:`FINGERPRINT` to notice a key dropped too early.
    """

    FINGERPRINT = "code_key"

    def __init__(self, secret_keys: Sequence[str | bytes]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._keys = [
            hmac.new(_as_bytes(key), b"flask_kapu.codes", hashlib.sha256).digest()
            for key in secret_keys
        ]
        self.fingerprints = tuple(
            hmac.new(key, b"flask_kapu.fingerprint:codes", hashlib.sha256).hexdigest()[:32]
            for key in self._keys
        )

    def hash(self, purpose: str, code: str) -> str:
        return self._digest(self._keys[0], purpose, code)

    def candidates(self, purpose: str, code: str) -> list[str]:
        """Every digest ``code`` may be stored under (current key first)."""
        return [self._digest(key, purpose, code) for key in self._keys]

    @staticmethod
    def _digest(key: bytes, purpose: str, code: str) -> str:
        message = f"{purpose}:{code}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()


def _as_bytes(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode()
