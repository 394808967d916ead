""" "Download my data" (GDPR Art. 15 and 20): everything stored about an account but its secrets.

Left out on purpose: the password hash, authenticator keys, passkey
credentials and counters, and the hashes of codes. They are secrets, or
useless to anyone but flask_kapu; the export says how many recovery codes are left.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..store import Account
from .base import Deps

__all__ = ["export_account"]


def export_account(deps: Deps, account: Account) -> dict[str, Any]:
    """The account's data as a JSON-ready document, read in one transaction."""
    with deps.store.reading() as repo:
        current = repo.account(account.id)
        if current is None:
            return {}
        factors = repo.factors(current.id)
        recovery_left = repo.unused_recovery_codes(current.id)
        sessions = repo.account_sessions(current.id)
        browsers = repo.account_trusted_browsers(current.id)
        events = repo.account_events(current.id)
        return {
            "exported_at": _time(deps.clock()),
            "account": {
                "username": current.username,
                "email": current.email,
                "status": current.status,
                "language": current.language,
                "registered_via": current.registered_via,
                "created_at": _time(current.created_at),
                "activated_at": _time(current.activated_at),
                "password_changed_at": _time(current.password_changed_at),
                "imported_username": current.imported_username,
            },
            "person": current.person,
            "factors": [
                {
                    "method": f.method,
                    "label": f.label,
                    "created_at": _time(f.created_at),
                    "confirmed_at": _time(f.confirmed_at),
                    "last_used_at": _time(f.last_used_at),
                }
                for f in factors
            ],
            "recovery_codes_left": recovery_left,
            "sessions": [
                {
                    "created_at": _time(s.created_at),
                    "last_seen_at": _time(s.last_seen_at),
                    "expires_at": _time(s.expires_at),
                    "revoked_at": _time(s.revoked_at),
                    "ip": s.ip,
                    "browser": s.browser,
                    "level": s.level,
                    "methods": s.methods or [],
                }
                for s in sessions
            ],
            "trusted_browsers": [
                {
                    "created_at": _time(b.created_at),
                    "expires_at": _time(b.expires_at),
                    "last_used_at": _time(b.last_used_at),
                    "revoked_at": _time(b.revoked_at),
                    "ip": b.ip,
                    "browser": b.browser,
                }
                for b in browsers
            ],
            "events": [
                {
                    "event": e.event,
                    "at": _time(e.at),
                    "ip": e.ip,
                    "user_agent": e.user_agent,
                    "detail": e.detail,
                }
                for e in events
            ],
        }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
