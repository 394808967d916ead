"""Every query flask_kapu makes, over one SQLAlchemy session (one transaction).

Single use and counters are single conditional statements whose row count or
``RETURNING`` decides, never a read followed by a write, so they hold across
threads, processes and app instances.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Delete, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import Account, AccountStatus, AttemptCounter, AuditEvent, OneTimeCode

__all__ = ["FailureOutcome", "PurgeResult", "Repository"]


@dataclasses.dataclass(frozen=True)
class FailureOutcome:
    """What one counted failure did: ``counted`` is false while a lock holds."""

    counted: bool
    failures: int
    locked_until: datetime | None

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the lock ends (at least 1)."""
        if self.locked_until is None:
            return 1
        return max(1, math.ceil((self.locked_until - now).total_seconds()))


@dataclasses.dataclass(frozen=True)
class PurgeResult:
    codes: int
    accounts: int
    counters: int


class Repository:
    """Queries over one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # Accounts -----------------------------------------------------------------

    def account(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def account_by_username(self, username: str) -> Account | None:
        """Exact (case-sensitive) match on the NFC username."""
        return self.session.scalars(select(Account).where(Account.username == username)).first()

    def username_key_taken(self, key: str) -> bool:
        return bool(self.session.scalar(select(exists().where(Account.username_key == key))))

    def add_account(self, account: Account) -> bool:
        """Insert ``account``; ``False`` if its username key was taken meanwhile."""
        try:
            with self.session.begin_nested():
                self.session.add(account)
        except IntegrityError:
            return False
        return True

    def bump_session_epoch(self, account: Account) -> None:
        account.session_epoch = Account.session_epoch + 1
        self.session.flush()
        self.session.refresh(account, ["session_epoch"])

    # One-time codes -----------------------------------------------------------

    def replace_codes(
        self,
        *,
        account_id: int,
        purposes: Collection[str],
        purpose: str,
        code_hash: str,
        now: datetime,
        ttl: timedelta,
        session_hint: str | None = None,
    ) -> OneTimeCode:
        """Void the account's live codes of ``purposes`` and store a new one."""
        self.session.execute(
            delete(OneTimeCode).where(
                OneTimeCode.account_id == account_id,
                OneTimeCode.purpose.in_(purposes),
                OneTimeCode.used_at.is_(None),
            )
        )
        code = OneTimeCode(
            account_id=account_id,
            purpose=purpose,
            code_hash=code_hash,
            created_at=now,
            expires_at=now + ttl,
            attempts=0,
            session_hint=session_hint,
        )
        self.session.add(code)
        self.session.flush()
        return code

    def consume_code(
        self,
        *,
        account_id: int,
        purposes: Collection[str],
        hashes: Sequence[str],
        now: datetime,
        max_attempts: int,
    ) -> str | None:
        """Use a live matching code in one UPDATE; its purpose, or ``None``."""
        purpose: str | None = self.session.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.account_id == account_id,
                OneTimeCode.purpose.in_(purposes),
                OneTimeCode.code_hash.in_(hashes),
                OneTimeCode.used_at.is_(None),
                OneTimeCode.expires_at > now,
                OneTimeCode.attempts < max_attempts,
            )
            .values(used_at=now)
            .returning(OneTimeCode.purpose)
            .execution_options(synchronize_session=False)
        ).scalar()
        return purpose

    def code_expired(
        self, *, account_id: int, purposes: Collection[str], hashes: Sequence[str], now: datetime
    ) -> bool:
        """Whether a matching, unused code exists that has run out of time."""
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        OneTimeCode.account_id == account_id,
                        OneTimeCode.purpose.in_(purposes),
                        OneTimeCode.code_hash.in_(hashes),
                        OneTimeCode.used_at.is_(None),
                        OneTimeCode.expires_at <= now,
                    )
                )
            )
        )

    def count_wrong_code(self, *, account_id: int, purposes: Collection[str]) -> None:
        """Charge one wrong guess to each live code of ``purposes``."""
        self.session.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.account_id == account_id,
                OneTimeCode.purpose.in_(purposes),
                OneTimeCode.used_at.is_(None),
            )
            .values(attempts=OneTimeCode.attempts + 1)
            .execution_options(synchronize_session=False)
        )

    # Attempt counters -----------------------------------------------------------

    def locked_until(self, key: str, now: datetime) -> datetime | None:
        until = self.session.scalar(
            select(AttemptCounter.locked_until).where(AttemptCounter.key == key)
        )
        return until if until is not None and until > now else None

    def record_failure(
        self,
        key: str,
        *,
        now: datetime,
        max_failures: int,
        lock_for: timedelta,
        max_lock: timedelta,
    ) -> FailureOutcome:
        """Count one failure; the one that reaches ``max_failures`` starts a lock.

        Each lock doubles the previous one up to ``max_lock``. A failure while
        a lock holds is not counted. The row stays locked until commit, so
        concurrent failures are counted one after the other.
        """
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        counter = AttemptCounter
        not_locked = counter.locked_until.is_(None) | (counter.locked_until <= now)
        statement = (
            insert(counter)
            .values(key=key, failures=1, lockouts=0, locked_until=None, updated_at=now)
            .on_conflict_do_update(
                index_elements=[counter.key],
                set_={"failures": counter.failures + 1, "updated_at": now},
                where=not_locked,
            )
            .returning(counter.failures, counter.lockouts)
        )
        row = self.session.execute(statement).first()
        if row is None:
            return FailureOutcome(False, 0, self.locked_until(key, now))
        failures, lockouts = row
        if failures < max_failures:
            return FailureOutcome(True, failures, None)
        until = now + min(lock_for * (2 ** min(lockouts, 30)), max_lock)
        self.session.execute(
            update(AttemptCounter)
            .where(AttemptCounter.key == key)
            .values(failures=0, lockouts=AttemptCounter.lockouts + 1, locked_until=until)
            .execution_options(synchronize_session=False)
        )
        return FailureOutcome(True, failures, until)

    def clear_failures(self, key: str) -> None:
        self.session.execute(delete(AttemptCounter).where(AttemptCounter.key == key))

    # Audit ----------------------------------------------------------------------

    def audit(
        self,
        event: str,
        *,
        account_id: int | None,
        at: datetime,
        ip: str | None = None,
        user_agent: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                account_id=account_id,
                event=event,
                at=at,
                ip=ip,
                user_agent=(user_agent or None) and user_agent[:255],
                detail=dict(detail) if detail is not None else None,
            )
        )

    def recent_events(self, account_id: int, limit: int = 20) -> list[AuditEvent]:
        return list(
            self.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.account_id == account_id)
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(limit)
            )
        )

    # Housekeeping ---------------------------------------------------------------

    def purge(
        self, *, now: datetime, pending_before: datetime, counters_before: datetime
    ) -> PurgeResult:
        """Remove expired or used codes, stale counters and never-activated accounts."""
        codes = self._deleted(
            delete(OneTimeCode).where(
                (OneTimeCode.expires_at <= now) | OneTimeCode.used_at.is_not(None)
            )
        )
        accounts = self._deleted(
            delete(Account).where(
                Account.status == AccountStatus.PENDING.value,
                Account.created_at < pending_before,
            )
        )
        counters = self._deleted(
            delete(AttemptCounter).where(
                AttemptCounter.updated_at < counters_before,
                AttemptCounter.locked_until.is_(None) | (AttemptCounter.locked_until <= now),
            )
        )
        return PurgeResult(codes=codes, accounts=accounts, counters=counters)

    def _deleted(self, statement: Delete) -> int:
        result = self.session.execute(statement)
        return int(cast("CursorResult[Any]", result).rowcount or 0)

    def count(self, model: type[Any]) -> int:
        """Rows of ``model``; used by tests and the CLI."""
        return int(self.session.scalar(select(func.count()).select_from(model)) or 0)
