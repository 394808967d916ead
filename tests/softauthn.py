"""A software WebAuthn authenticator (and the browser around it), written from the spec.

It holds one ES256 credential and answers creation and request options the way
``navigator.credentials.create()`` / ``.get()`` followed by ``toJSON()`` would:

- authenticator data (WebAuthn §6.1): SHA-256 of the RP ID, flags (UP, UV, and AT
  when attested credential data follows), a 32-bit big-endian signature counter;
- attested credential data (§6.5.2): an all-zero AAGUID, the credential id's length
  and the id, then the public key as a COSE_Key (kty 2 EC2, alg -7 ES256, crv 1 P-256);
- the attestation object (§6.5.4) in the "none" format: ``{"fmt": "none",
  "attStmt": {}, "authData": ...}`` in CBOR;
- an assertion signature (§6.3.3) is ECDSA-SHA-256 (DER) over
  ``authenticatorData || SHA-256(clientDataJSON)``;
- client data (§5.8.1): type, challenge (as the options give it), origin, crossOrigin.

Every binary value is base64url without padding. Keyword arguments forge bad
answers: another RP ID or challenge than the options name, no user verification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["AAGUID", "FLAG_AT", "FLAG_UP", "FLAG_UV", "SoftAuthenticator", "b64url", "unb64url"]

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_AT = 0x40  # attested credential data included

AAGUID = bytes(16)

# COSE (RFC 9052/9053) labels and values for an EC2 P-256 ES256 key
_COSE_KTY, _COSE_ALG, _COSE_CRV, _COSE_X, _COSE_Y = 1, 3, -1, -2, -3
_KTY_EC2, _ALG_ES256, _CRV_P256 = 2, -7, 1


def b64url(data: bytes) -> str:
    """base64url without padding, as WebAuthn's JSON forms use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One passkey on a software "platform authenticator".

    ``sign_count`` is the counter the next assertion reports minus one: each
    assertion adds ``counter_step`` (1; 0 for an authenticator without a
    counter). Set it back to act as a clone of an authenticator used since.
    """

    def __init__(self, *, credential_id: bytes | None = None) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = credential_id if credential_id is not None else secrets.token_bytes(32)
        self.sign_count = 0
        self.counter_step = 1
        self.user_handle: bytes | None = None

    # --- what the authenticator stores and shows ------------------------------------

    @property
    def id(self) -> str:
        """The credential id as ``PublicKeyCredential.id`` shows it."""
        return b64url(self.credential_id)

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                _COSE_KTY: _KTY_EC2,
                _COSE_ALG: _ALG_ES256,
                _COSE_CRV: _CRV_P256,
                _COSE_X: numbers.x.to_bytes(32, "big"),
                _COSE_Y: numbers.y.to_bytes(32, "big"),
            }
        )

    # --- navigator.credentials.create() ----------------------------------------------

    def create(
        self,
        options_json: dict[str, Any],
        origin: str,
        *,
        rp_id: str | None = None,
        challenge: str | None = None,
        flags: int = FLAG_UP | FLAG_UV | FLAG_AT,
        client_type: str = "webauthn.create",
    ) -> dict[str, Any]:
        """The registration credential for creation options, as ``toJSON()`` gives it.

        ``rp_id`` and ``challenge`` replace what the options say (to forge answers).
        """
        if rp_id is None:
            rp_id = (options_json.get("rp") or {}).get("id") or _effective_domain(origin)
        user = options_json.get("user") or {}
        if isinstance(user.get("id"), str):
            self.user_handle = unb64url(user["id"])
        client_data = self.client_data(
            client_type, options_json["challenge"] if challenge is None else challenge, origin
        )
        auth_data = self.authenticator_data(rp_id, flags, self.sign_count, attested=True)
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    # --- navigator.credentials.get() -------------------------------------------------

    def get(
        self,
        options_json: dict[str, Any],
        origin: str,
        *,
        rp_id: str | None = None,
        challenge: str | None = None,
        flags: int = FLAG_UP | FLAG_UV,
        client_type: str = "webauthn.get",
        check_allowed: bool = True,
    ) -> dict[str, Any]:
        """An assertion for request options, as ``toJSON()`` gives it.

        Like a real authenticator it answers only if the options allow its
        credential (an empty list allows any); ``check_allowed=False`` answers anyway.
        """
        allowed = [c.get("id") for c in options_json.get("allowCredentials") or []]
        if check_allowed and allowed and self.id not in allowed:
            raise LookupError("the options do not allow this authenticator's credential")
        if rp_id is None:
            rp_id = options_json.get("rpId") or _effective_domain(origin)
        self.sign_count += self.counter_step
        client_data = self.client_data(
            client_type, options_json["challenge"] if challenge is None else challenge, origin
        )
        auth_data = self.authenticator_data(rp_id, flags, self.sign_count)
        signature = self.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle) if self.user_handle is not None else None,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    # --- the pieces -----------------------------------------------------------------

    @staticmethod
    def client_data(client_type: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": client_type, "challenge": challenge, "origin": origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def authenticator_data(
        self, rp_id: str, flags: int, sign_count: int, *, attested: bool = False
    ) -> bytes:
        data = hashlib.sha256(rp_id.encode()).digest() + struct.pack(">BI", flags, sign_count)
        if attested:
            data += AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id
            data += self.cose_public_key()
        return data


def _effective_domain(origin: str) -> str:
    """The RP ID a browser uses when the options name none: the origin's host."""
    return urlsplit(origin).hostname or ""
