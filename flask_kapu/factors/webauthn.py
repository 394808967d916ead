"""WebAuthn passkeys and security keys (py_webauthn), flask_kapu's stand-in for DÁP.

Pure functions over options and stored credentials: registration and
authentication options, and verification that checks origin, RP ID,
challenge, user verification and the signature counter. A counter that goes
backwards (when either side is non-zero) is a possibly cloned authenticator.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import webauthn
from webauthn.helpers import (
    base64url_to_bytes,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    options_to_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.decode_credential_public_key import (
    DecodedEC2PublicKey,
    DecodedRSAPublicKey,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..store import Factor

__all__ = [
    "CloneSuspected",
    "NewCredential",
    "Relying",
    "VerificationFailed",
    "authentication_options",
    "credential_id_of",
    "registration_options",
    "verify_authentication",
    "verify_registration",
]

TIMEOUT_MS = 120_000
MAX_CREDENTIAL_ID = 1023  # WebAuthn L3 7.1: longer ids are refused
# What a hostile answer can make py_webauthn's parsers raise besides its own errors.
_PARSE_ERRORS = (WebAuthnException, ValueError, KeyError, TypeError, IndexError, OverflowError)
_EC2_ALGS = {COSEAlgorithmIdentifier.ECDSA_SHA_256, COSEAlgorithmIdentifier.ECDSA_SHA_512}


class VerificationFailed(ValueError):
    """The browser's answer did not verify (any reason; the message says which)."""


class CloneSuspected(VerificationFailed):
    """The signature counter did not grow: the authenticator may have been cloned."""


@dataclasses.dataclass(frozen=True)
class Relying:
    """Who the credentials are for: the RP ID and the origins pages come from."""

    rp_id: str
    rp_name: str
    origins: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: list[str]


def _descriptors(factors: Sequence[Factor]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=f.credential_id,
            transports=[AuthenticatorTransport(t) for t in f.transports or [] if t in known],
        )
        for f in factors
        if f.credential_id
    ]


def registration_options(
    relying: Relying,
    *,
    user_id: bytes,
    username: str,
    display_name: str,
    existing: Sequence[Factor],
    challenge: bytes,
) -> str:
    """Creation options as JSON: resident key preferred, user verification required."""
    options = webauthn.generate_registration_options(
        rp_id=relying.rp_id,
        rp_name=relying.rp_name,
        user_id=user_id,
        user_name=username,
        user_display_name=display_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    return str(options_to_json(options))


def authentication_options(relying: Relying, *, allowed: Sequence[Factor], challenge: bytes) -> str:
    """Request options as JSON, limited to the account's own credentials."""
    options = webauthn.generate_authentication_options(
        rp_id=relying.rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return str(options_to_json(options))


def verify_registration(relying: Relying, credential: Any, *, challenge: bytes) -> NewCredential:
    """Check a ``navigator.credentials.create`` answer; the credential to store."""
    try:
        verified = webauthn.verify_registration_response(
            credential=_json(credential),
            expected_challenge=challenge,
            expected_rp_id=relying.rp_id,
            expected_origin=list(relying.origins),
            require_user_verification=True,
        )
    except _PARSE_ERRORS as exc:
        raise VerificationFailed(str(exc) or type(exc).__name__) from None
    if len(verified.credential_id) > MAX_CREDENTIAL_ID:
        raise VerificationFailed("credential id longer than 1023 bytes")
    _require_usable_key(verified.credential_public_key)
    response = credential.get("response") if isinstance(credential, dict) else None
    transports = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(transports, list):
        transports = []
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=str(verified.aaguid),
        transports=[t for t in transports if isinstance(t, str) and len(t) <= 32][:8],
    )


def verify_authentication(
    relying: Relying, credential: Any, *, challenge: bytes, factor: Factor
) -> int:
    """Check a ``navigator.credentials.get`` answer against ``factor``; the new sign count.

    Raises :class:`CloneSuspected` when the counter did not grow.
    """
    if factor.public_key is None:
        raise VerificationFailed("credential has no public key")
    try:
        verified = webauthn.verify_authentication_response(
            credential=_json(credential),
            expected_challenge=challenge,
            expected_rp_id=relying.rp_id,
            expected_origin=list(relying.origins),
            credential_public_key=factor.public_key,
            credential_current_sign_count=0,  # the counter is checked below, to tell clones apart
            require_user_verification=True,
        )
    except _PARSE_ERRORS as exc:
        raise VerificationFailed(str(exc) or type(exc).__name__) from None
    new_count = int(verified.new_sign_count)
    if (new_count > 0 or factor.sign_count > 0) and new_count <= factor.sign_count:
        raise CloneSuspected(f"sign count {new_count} not above {factor.sign_count}")
    return new_count


def _require_usable_key(public_key: bytes) -> None:
    """Refuse a key no signature could ever verify against (off-curve, wrong algorithm...)."""
    try:
        decoded = decode_credential_public_key(public_key)
        decoded_public_key_to_cryptography(decoded)
    except _PARSE_ERRORS as exc:
        raise VerificationFailed(f"unusable public key: {exc}") from None
    if isinstance(decoded, DecodedEC2PublicKey) and decoded.alg not in _EC2_ALGS:
        raise VerificationFailed("an EC2 key must use an ECDSA algorithm")
    if isinstance(decoded, DecodedRSAPublicKey) and decoded.alg in _EC2_ALGS:
        raise VerificationFailed("an RSA key cannot use an ECDSA algorithm")


def credential_id_of(credential: Any) -> bytes | None:
    """The raw credential id a browser answer names, or ``None`` if it names none."""
    if not isinstance(credential, dict) or not isinstance(
        credential.get("rawId", credential.get("id")), str
    ):
        return None
    try:
        return base64url_to_bytes(credential.get("rawId") or credential["id"])
    except (ValueError, TypeError, KeyError):
        return None


def _json(credential: Any) -> str:
    """py_webauthn parses JSON text; hand it exactly that."""
    if not isinstance(credential, dict):
        raise VerificationFailed("credential must be a JSON object")
    return json.dumps(credential)
