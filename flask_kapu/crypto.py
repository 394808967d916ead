"""Secrets at rest: authenticator keys sealed with Fernet, rotatable.

Keys come from ``KAPU_ENCRYPTION_KEYS`` (newest first) or, by default, are
derived from ``SECRET_KEY`` and its fallbacks with HKDF. Sealing always uses
the first key; opening tries each, so rotating means putting a new key first
and running ``flask kapu rotate-keys``.

A key's *fingerprint* (an HMAC of the key over a fixed label) lets the app
notice at start-up that the key which sealed the stored secrets is no longer
configured, without revealing anything about the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SecretBox", "derive_key"]


def derive_key(secret: str | bytes) -> bytes:
    """A Fernet key derived from an app secret (HKDF-SHA256, purpose-bound)."""
    material = secret.encode() if isinstance(secret, str) else secret
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"flask_kapu", info=b"flask_kapu.secrets"
    ).derive(material)
    return base64.urlsafe_b64encode(key)


def _fingerprint(key: str | bytes, label: bytes) -> str:
    """A short one-way tag of ``key`` (HMAC-SHA256 over ``label``, 128 bits, hex)."""
    material = key.encode() if isinstance(key, str) else key
    return hmac.new(material, b"flask_kapu.fingerprint:" + label, hashlib.sha256).hexdigest()[:32]


class SecretBox:
    """Seals and opens short secrets; ``rotate`` re-seals under the newest key.

    ``fingerprints`` tag the keys, newest (the sealing one) first; they are
    kept in ``kapu_meta`` under :attr:`FINGERPRINT`.
    """

    FINGERPRINT = "sealing_key"

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self.fingerprints = tuple(_fingerprint(key, b"sealing") for key in keys)

    @classmethod
    def from_settings(
        cls, encryption_keys: Sequence[str], secret_keys: Sequence[str | bytes]
    ) -> SecretBox:
        if encryption_keys:
            return cls(list(encryption_keys))
        return cls([derive_key(secret) for secret in secret_keys])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        """The plaintext; ``ValueError`` if no key opens it."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("no encryption key opens this secret") from None

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()
