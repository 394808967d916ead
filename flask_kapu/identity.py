"""The e-ID identity registry: its interface, a demo registry, and check tokens.

The real registry (personal data and address registry) is an outside system:
a host app passes any object with ``lookup(document_id, registration_code)``
to ``Kapu(registry=...)``. A successful check is carried to the registration
step in a signed, short-lived token, so the person data cannot be changed on
the way.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer

from .errors import TokenInvalid

__all__ = [
    "DemoRegistry",
    "EidTokens",
    "IdentityRegistry",
    "normalize_document_id",
    "normalize_registration_code",
]

_DOCUMENT_ID = re.compile(r"[0-9]{6}[A-Z]{2}")
_REGISTRATION_CODE = re.compile(r"[A-Z0-9]{11}")


class IdentityRegistry(Protocol):
    """Looks up a card; returns the person (``family_name``, ``given_name``, ``birth_date``,
    ``birth_place``, ``mother_name``, ``address``) or ``None``."""

    def lookup(self, document_id: str, registration_code: str) -> Mapping[str, Any] | None: ...


def normalize_document_id(raw: str) -> str | None:
    """``123456AB`` (letters in any case, spaces ignored), or ``None``."""
    text = raw.replace(" ", "").upper()
    return text if len(text) == 8 and _DOCUMENT_ID.fullmatch(text) else None


def normalize_registration_code(raw: str) -> str | None:
    """Eleven letters and digits (any case, spaces and hyphens ignored), or ``None``."""
    text = raw.replace(" ", "").replace("-", "").upper()
    return text if len(text) == 11 and _REGISTRATION_CODE.fullmatch(text) else None


class DemoRegistry:
    """A registry of invented cards read from a JSON file (the bundled one by default)."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            text = (
                resources.files("flask_kapu").joinpath("data/demo_registry.json").read_text("utf-8")
            )
        else:
            text = Path(path).read_text("utf-8")
        self.cards: list[dict[str, Any]] = json.loads(text)["cards"]

    def lookup(self, document_id: str, registration_code: str) -> Mapping[str, Any] | None:
        found = None
        for card in self.cards:
            same_card = hmac.compare_digest(card["document_id"], document_id)
            same_code = hmac.compare_digest(card["registration_code"], registration_code)
            if same_card and same_code:
                found = card["person"]
        return found


class EidTokens:
    """Signs the checked person data for the registration step (itsdangerous)."""

    def __init__(self, secret_keys: Sequence[str | bytes], max_age: timedelta) -> None:
        # itsdangerous signs with the last key and accepts all of them.
        keys = [key.encode() if isinstance(key, str) else key for key in reversed(secret_keys)]
        self._serializer = URLSafeTimedSerializer(keys, salt="flask_kapu.eid")
        self._max_age = int(max_age.total_seconds())

    def issue(self, person: Mapping[str, Any], document_id: str) -> str:
        return self._serializer.dumps({"person": dict(person), "document_id": document_id})

    def person(self, token: str) -> dict[str, Any]:
        """The person data of a valid token; :class:`TokenInvalid` otherwise."""
        if len(token) > 4096:
            raise TokenInvalid()
        try:
            data = self._serializer.loads(token, max_age=self._max_age)
        except BadSignature:
            raise TokenInvalid() from None
        return dict(data["person"])
