"""Fingerprints of the keys that protect stored secrets, to refuse a start without them.

Authenticator keys are sealed with the first encryption key, and codes (mailed
and recovery) are hashed with ``SECRET_KEY``. A start whose keys include
neither the one that sealed nor the one that hashed what is stored would
silently void every authenticator and recovery code, so ``kapu_meta`` keeps a
one-way fingerprint of each, and a start with no matching key is refused.
"""

from __future__ import annotations

from ..codes import CodeHasher
from ..crypto import SecretBox
from ..errors import KapuConfigError
from .base import Deps

__all__ = ["check_key_fingerprints", "rotate_secrets"]


def check_key_fingerprints(deps: Deps) -> None:
    """Refuse keys that cannot open what the stored ones protect; remember the first ones.

    One read when the fingerprints are known; raises :class:`KapuConfigError`
    naming the setting to fix when no configured key matches a stored one.
    """
    current = _fingerprints(deps)
    with deps.store.reading() as repo:
        stored = repo.meta(current)
    for name, fingerprints in current.items():
        if name in stored and stored[name] not in fingerprints:
            raise _key_dropped(name, own_encryption_keys=bool(deps.config.encryption_keys))
    missing = current.keys() - stored.keys()
    if missing:
        with deps.store.transaction() as repo:
            for name in sorted(missing):
                repo.set_meta(name, current[name][0], replace=False)


def rotate_secrets(deps: Deps) -> int:
    """Re-seal every stored authenticator key under the newest key, and record the new
    keys as the ones that protect what is stored; the number re-sealed."""
    box = deps.plusz.totp.box
    with deps.store.transaction() as repo:
        factors = repo.sealed_factors()
        for factor in factors:
            if factor.secret is not None:
                factor.secret = box.rotate(factor.secret)
        for name, fingerprints in _fingerprints(deps).items():
            repo.set_meta(name, fingerprints[0])
    return len(factors)


def _fingerprints(deps: Deps) -> dict[str, tuple[str, ...]]:
    """Each protecting key's fingerprints, the one in use first."""
    return {
        SecretBox.FINGERPRINT: deps.plusz.totp.box.fingerprints,
        CodeHasher.FINGERPRINT: deps.codes.fingerprints,
    }


def _key_dropped(name: str, *, own_encryption_keys: bool) -> KapuConfigError:
    if name == SecretBox.FINGERPRINT and own_encryption_keys:
        return KapuConfigError(
            "KAPU_ENCRYPTION_KEYS",
            "none of these keys is the one that sealed the stored authenticator keys; "
            "add the previous key after the new one (a key derived from SECRET_KEY is "
            "flask_kapu.crypto.derive_key(SECRET_KEY)), then run 'flask kapu rotate-keys'",
        )
    protected = "stored authenticator keys" if name == SecretBox.FINGERPRINT else "stored codes"
    return KapuConfigError(
        "SECRET_KEY",
        f"neither it nor SECRET_KEY_FALLBACKS is the key that protects the {protected}; "
        "put the previous SECRET_KEY into SECRET_KEY_FALLBACKS, then run "
        "'flask kapu rotate-keys'",
    )
