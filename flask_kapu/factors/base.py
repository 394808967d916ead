"""The ``Factor`` protocol: a second-factor method proven by a typed code.

The built-in e-mail, authenticator-app and recovery-code methods implement
it, and a host app plugs in a method of its own (an SMS gateway, say) the
same way, with ``kapu.add_factor(...)``. WebAuthn is not a typed code and has
its own flow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ..store import Account, Repository

__all__ = ["Factor"]


class Factor(Protocol):
    """A second-factor method checked by a code the user types."""

    #: The method name used in sessions, ``methods=`` and ``acr`` (e.g. ``"totp"``).
    method: str

    def normalize(self, raw: str) -> str | None:
        """The canonical code, or ``None`` when ``raw`` cannot be one."""
        ...

    def verify(self, repo: Repository, account: Account, code: str, now: datetime) -> bool:
        """Whether ``code`` proves the factor now; consumes it (single use)."""
        ...
