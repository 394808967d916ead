"""Authentication levels, their ``acr`` values, and what a session has proven.

``ugyfelkapu`` is a password login; ``plusz`` adds a second factor in the
same session. The ``acr`` URNs are the ones the government's identity broker
uses; WebAuthn has one of flask_kapu's own.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import datetime, timedelta

__all__ = ["ACR", "ACR_RECOVERY", "ACR_WEBAUTHN", "Level", "Proof", "acr_for"]


class Level(enum.IntEnum):
    """Ordered so that ``Level.PLUSZ > Level.UGYFELKAPU``."""

    NONE = 0
    UGYFELKAPU = 1
    PLUSZ = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Level:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown level {name!r}; levels: ugyfelkapu, plusz") from None


_URN = "urn:eksz.gov.hu:1.0:azonositas:kau"
# The broker defines no URN for these two; flask_kapu names them in its own namespace.
ACR_WEBAUTHN = "urn:flask-kapu:1.0:azonositas:kau:3:dap:webauthn"
ACR_RECOVERY = "urn:flask-kapu:1.0:azonositas:kau:2:uk:recovery"
ACR: Mapping[str, str] = {
    "password": f"{_URN}:1:uk:uidpwd",
    "totp": f"{_URN}:2:uk:totp",
    "email": f"{_URN}:2:uk:email",
    "recovery": ACR_RECOVERY,
    "webauthn": ACR_WEBAUTHN,
}
_STRENGTH = {"password": 0, "recovery": 1, "email": 1, "totp": 2, "webauthn": 3}


def acr_for(methods: Mapping[str, datetime]) -> str | None:
    """The ``acr`` of the strongest method used, or ``None`` before any."""
    if not methods:
        return None
    strongest = max(methods, key=lambda m: _STRENGTH.get(m, 1))
    return ACR.get(strongest)


@dataclasses.dataclass(frozen=True)
class Proof:
    """What a session has proven: who, with which methods, when."""

    account_id: int
    epoch: int
    methods: Mapping[str, datetime]
    auth_time: datetime

    @property
    def second_factors(self) -> dict[str, datetime]:
        return {m: at for m, at in self.methods.items() if m != "password"}

    @property
    def level(self) -> Level:
        return Level.PLUSZ if self.second_factors else Level.UGYFELKAPU

    @property
    def plusz_time(self) -> datetime | None:
        return max(self.second_factors.values(), default=None)

    def has_plusz(
        self,
        *,
        now: datetime,
        max_age: timedelta | None = None,
        methods: frozenset[str] | None = None,
    ) -> bool:
        """Whether a second factor (of ``methods``, within ``max_age``) was done."""
        return any(
            (methods is None or method in methods) and (max_age is None or now - at <= max_age)
            for method, at in self.second_factors.items()
        )
