"""E-mailed six-digit codes, each with a three-digit session hint.

The hint is shown on the page and repeated in the mail, so the user can tell
that the mail belongs to this login. A new code replaces the old; a code
survives a limited number of wrong guesses.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from ..codes import CodeHasher, generate_digits, normalize_digits
from ..store import Account, OneTimeCode, Repository

__all__ = ["DIGITS", "EmailCodeFactor", "IssuedEmailCode"]

DIGITS = 6
HINT_DIGITS = 3


@dataclasses.dataclass(frozen=True)
class IssuedEmailCode:
    code: str
    session_hint: str
    expires_at: datetime


class EmailCodeFactor:
    method = "email"

    def __init__(self, codes: CodeHasher, *, purpose: str, max_attempts: int) -> None:
        self.codes = codes
        self.purpose = purpose
        self.max_attempts = max_attempts

    def normalize(self, raw: str) -> str | None:
        return normalize_digits(raw, DIGITS)

    def issue(
        self, repo: Repository, account: Account, now: datetime, ttl: timedelta
    ) -> IssuedEmailCode:
        code = generate_digits(DIGITS)
        stored: OneTimeCode = repo.replace_codes(
            account_id=account.id,
            purposes=(self.purpose,),
            purpose=self.purpose,
            code_hash=self.codes.hash("email", code),
            now=now,
            ttl=ttl,
            session_hint=generate_digits(HINT_DIGITS),
        )
        return IssuedEmailCode(code, stored.session_hint or "", stored.expires_at)

    def verify(self, repo: Repository, account: Account, code: str, now: datetime) -> bool:
        used = repo.consume_code(
            account_id=account.id,
            purposes=(self.purpose,),
            hashes=self.codes.candidates("email", code),
            now=now,
            max_attempts=self.max_attempts,
        )
        if used is None:
            repo.count_wrong_code(account_id=account.id, purposes=(self.purpose,))
        return used is not None

    def expired(self, repo: Repository, account: Account, code: str, now: datetime) -> bool:
        return repo.code_expired(
            account_id=account.id,
            purposes=(self.purpose,),
            hashes=self.codes.candidates("email", code),
            now=now,
        )
