"""Recovery codes ("törlőkód"): ten single-use codes, shown once, stored hashed."""

from __future__ import annotations

from datetime import datetime

from ..codes import CodeHasher, format_code, generate_code, normalize_code
from ..store import Account, Repository

__all__ = ["COUNT", "RecoveryFactor"]

COUNT = 10


class RecoveryFactor:
    method = "recovery"

    def __init__(self, codes: CodeHasher) -> None:
        self.codes = codes

    def normalize(self, raw: str) -> str | None:
        return normalize_code(raw)

    def new_set(self, repo: Repository, account: Account, now: datetime) -> list[str]:
        """Replace the account's codes with ten new ones; the only time they are readable."""
        codes = [generate_code() for _ in range(COUNT)]
        repo.replace_recovery_codes(
            account.id, [self.codes.hash("recovery", c) for c in codes], now
        )
        return [format_code(c) for c in codes]

    def verify(self, repo: Repository, account: Account, code: str, now: datetime) -> bool:
        return repo.consume_recovery_code(account.id, self.codes.candidates("recovery", code), now)
