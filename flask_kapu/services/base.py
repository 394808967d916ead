"""What every service needs: its dependencies, the caller's context, a notifier.

Services know nothing of requests: the web layer passes a :class:`Context`
(who is asking, from where) and a :class:`Notifier` that turns events into
mail. Each service is one transaction and sends its signals after commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from blinker import NamedSignal

from ..clock import Clock
from ..codes import CodeHasher
from ..config import KapuConfig
from ..errors import WeakPassword
from ..factors import EmailCodeFactor, Factor, RecoveryFactor, TotpFactor
from ..passwords import PasswordHashing, PasswordPolicy
from ..store import Account, AccountStatus, Repository, Store
from ..usernames import MAX_LENGTH, username_key, username_problems

__all__ = [
    "Context",
    "Deps",
    "Device",
    "Notifier",
    "PluszFactors",
    "attempt_key",
    "audit",
    "find_account",
    "require_strong_password",
    "storable_username",
]


class Notifier(Protocol):
    """Delivers a mail about ``account``; ``False`` when it could not be sent."""

    def deliver(self, account: Account, template: str, **context: Any) -> bool: ...


@dataclasses.dataclass(frozen=True)
class Device:
    """A browser that has logged in to ``account_id`` before (its signed device cookie)."""

    account_id: int
    id: str


@dataclasses.dataclass(frozen=True)
class Context:
    """Who is asking: for the audit trail, and the known browser whose failures count apart."""

    ip: str | None = None
    user_agent: str | None = None
    device: Device | None = None
    #: The token of the browser's "remember this browser" cookie, as presented (unchecked).
    trusted_browser: str | None = None
    session_id: int | None = None  # the caller's own live login session, checked this request


def audit(
    repo: Repository,
    ctx: Context,
    event: str,
    *,
    account_id: int | None,
    at: datetime,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record ``event`` with the caller's address and user agent."""
    repo.audit(
        event, account_id=account_id, at=at, ip=ctx.ip, user_agent=ctx.user_agent, detail=detail
    )


@dataclasses.dataclass(frozen=True)
class Deps:
    """The collaborators of every service, built once per app."""

    config: KapuConfig
    store: Store
    hashing: PasswordHashing
    policy: PasswordPolicy
    codes: CodeHasher
    clock: Clock
    notifier: Notifier
    sender: object
    plusz: PluszFactors
    languages: tuple[str, ...] = ("hu", "en")  # Hungarian, English and the app's added ones

    def emit(self, signal: NamedSignal, **data: Any) -> None:
        signal.send(self.sender, **data)

    def sunset_passed(self) -> bool:
        """Whether ``KAPU_PLUSZ_REQUIRED_FROM`` is in the past: a password alone is not enough."""
        sunset = self.config.sunset
        return sunset is not None and self.clock() >= sunset


@dataclasses.dataclass(frozen=True)
class PluszFactors:
    """The second-factor methods of one app: the built-in ones and any a host added."""

    totp: TotpFactor
    email: EmailCodeFactor
    email_enrolment: EmailCodeFactor
    recovery: RecoveryFactor
    extra: dict[str, Factor] = dataclasses.field(default_factory=dict)

    def by_method(self, method: str) -> Factor | None:
        """The factor that checks typed codes of ``method``."""
        builtin: dict[str, Factor] = {
            "totp": self.totp,
            "email": self.email,
            "recovery": self.recovery,
        }
        return builtin.get(method) or self.extra.get(method)


def attempt_key(scope: str, username: str) -> str:
    """The attempt-counter key of ``username`` in ``scope``; unknown names get one too."""
    digest = hashlib.sha256(username_key(username).encode()).hexdigest()[:40]
    return f"{scope}:{digest}"


def find_account(repo: Repository, username: str) -> Account | None:
    """The account of an exact, NFC username.

    A name that breaks the rules can only be an imported one still waiting for
    its owner to choose another; names that cannot be stored never reach the
    database (a NUL, for one, is not storable text in PostgreSQL). A closed
    account is nobody's: its name stays taken, but it answers like an unknown one.
    """
    if username_problems(username) and not storable_username(username):
        return None
    account = repo.account_by_username(username)
    if account is not None and account.status == AccountStatus.CLOSED.value:
        return None
    return account


def storable_username(name: str) -> bool:
    """Whether ``name`` fits the username column as printable text (an imported name may
    break the Hungarian rules, but not this)."""
    return 0 < len(name) <= MAX_LENGTH and name.isprintable()


def require_strong_password(deps: Deps, password: str, *, username: str) -> None:
    problems = deps.policy.problems(password, username=username)
    if problems:
        raise WeakPassword(errors={"new_password": problems})
