"""Every query flask_kapu makes, over one SQLAlchemy session (one transaction).

Single use and counters are single conditional statements whose row count or
``RETURNING`` decides, never a read followed by a write, so they hold across
threads, processes and app instances.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Delete, Update, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import (
    Account,
    AccountStatus,
    AttemptCounter,
    AuditEvent,
    Factor,
    LoginSession,
    Meta,
    OneTimeCode,
    RecoveryCode,
    TrustedBrowser,
)

__all__ = ["MAX_ID", "FailureOutcome", "PurgeResult", "Repository"]

MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on every supported database
_EVENT_LOCKS = 0x6B617075  # "kapu": the advisory-lock namespace of ``event_times``


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
    stale: int = 0  # factors never confirmed
    events: int = 0  # audit events past their retention
    sessions: int = 0  # login sessions revoked, idle or expired
    browsers: int = 0  # remembered browsers forgotten or expired


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

    def account_by_imported_username(self, username: str) -> Account | None:
        """The account imported under the host's exact ``username``, whatever it is called now."""
        return self.session.scalars(
            select(Account).where(Account.imported_username == username)
        ).first()

    def replace_password_hash(self, account_id: int, old: str, new: str) -> bool:
        """Store ``new`` (a rehash, an imported hash's argon2id) if the hash is still ``old``."""
        return (
            self._changed(
                update(Account)
                .where(Account.id == account_id, Account.password_hash == old)
                .values(password_hash=new)
                .execution_options(synchronize_session=False)
            )
            == 1
        )

    def rename_account(self, account: Account, username: str, key: str) -> bool:
        """Give ``account`` a new username unless another account holds its key meanwhile."""
        try:
            with self.session.begin_nested():
                account.username = username
                account.username_key = key
                self.session.flush()
        except IntegrityError:
            return False
        return True

    def bump_session_epoch(self, account: Account) -> None:
        account.session_epoch = Account.session_epoch + 1
        self.session.flush()
        self.session.refresh(account, ["session_epoch"])

    def revoke_account_browsers(self, account_id: int, now: datetime) -> None:
        """Forget every remembered browser of the account (an operator disabling it, a
        password changed or reset, a factor removed)."""
        self.session.execute(
            update(TrustedBrowser)
            .where(TrustedBrowser.account_id == account_id, TrustedBrowser.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    def erase_account_data(self, account_id: int) -> None:
        """Delete what a closed account leaves behind except its audit rows, which lose
        the address, browser and details that could name a person."""
        for model in (Factor, RecoveryCode, OneTimeCode, LoginSession, TrustedBrowser):
            self.session.execute(delete(model).where(model.account_id == account_id))
        self.session.execute(
            update(AuditEvent)
            .where(AuditEvent.account_id == account_id)
            .values(ip=None, user_agent=None, detail=None)
            .execution_options(synchronize_session=False)
        )

    def account_sessions(self, account_id: int) -> list[LoginSession]:
        """Every stored session of the account, newest first (its data export)."""
        return list(
            self.session.scalars(
                select(LoginSession)
                .where(LoginSession.account_id == account_id)
                .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
            )
        )

    def account_trusted_browsers(self, account_id: int) -> list[TrustedBrowser]:
        """Every remembered browser of the account, newest first (its data export)."""
        return list(
            self.session.scalars(
                select(TrustedBrowser)
                .where(TrustedBrowser.account_id == account_id)
                .order_by(TrustedBrowser.created_at.desc(), TrustedBrowser.id.desc())
            )
        )

    def account_events(self, account_id: int) -> list[AuditEvent]:
        """The account's whole audit trail, oldest first (its data export)."""
        return list(
            self.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.account_id == account_id)
                .order_by(AuditEvent.at, AuditEvent.id)
            )
        )

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

    def void_codes(self, *, account_id: int, purposes: Collection[str]) -> None:
        """Forget the account's live codes of ``purposes`` (one that could not be mailed)."""
        self.session.execute(
            delete(OneTimeCode).where(
                OneTimeCode.account_id == account_id,
                OneTimeCode.purpose.in_(purposes),
                OneTimeCode.used_at.is_(None),
            )
        )

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

    def live_code(self, *, account_id: int, purpose: str, now: datetime) -> OneTimeCode | None:
        """The newest unused, unexpired code of ``purpose`` (for resend throttling and hints)."""
        return self.session.scalars(
            select(OneTimeCode)
            .where(
                OneTimeCode.account_id == account_id,
                OneTimeCode.purpose == purpose,
                OneTimeCode.used_at.is_(None),
                OneTimeCode.expires_at > now,
            )
            .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        ).first()

    # Second factors -------------------------------------------------------------

    def factors(self, account_id: int, method: str | None = None) -> list[Factor]:
        """The account's confirmed factors (of ``method``), oldest first."""
        query = select(Factor).where(
            Factor.account_id == account_id, Factor.confirmed_at.is_not(None)
        )
        if method is not None:
            query = query.where(Factor.method == method)
        return list(self.session.scalars(query.order_by(Factor.id)))

    def enrolled_methods(self, account_id: int) -> set[str]:
        return set(
            self.session.scalars(
                select(Factor.method)
                .where(Factor.account_id == account_id, Factor.confirmed_at.is_not(None))
                .distinct()
            )
        )

    def factor(self, account_id: int, factor_id: int) -> Factor | None:
        """A confirmed factor of this account (never another account's)."""
        if not 0 < factor_id <= MAX_ID:
            return None
        return self.session.scalars(
            select(Factor).where(
                Factor.id == factor_id,
                Factor.account_id == account_id,
                Factor.confirmed_at.is_not(None),
            )
        ).first()

    def unconfirmed_factor(self, account_id: int, method: str) -> Factor | None:
        return self.session.scalars(
            select(Factor)
            .where(
                Factor.account_id == account_id,
                Factor.method == method,
                Factor.confirmed_at.is_(None),
            )
            .order_by(Factor.id.desc())
        ).first()

    def start_factor(self, factor: Factor) -> Factor:
        """Store a half-enrolled factor, replacing any earlier one of the same method."""
        self.session.execute(
            delete(Factor).where(
                Factor.account_id == factor.account_id,
                Factor.method == factor.method,
                Factor.confirmed_at.is_(None),
            )
        )
        self.session.add(factor)
        self.session.flush()
        return factor

    def add_factor(self, factor: Factor) -> Factor:
        self.session.add(factor)
        self.session.flush()
        return factor

    def remove_factor(self, account_id: int, factor_id: int) -> bool:
        if not 0 < factor_id <= MAX_ID:
            return False
        return (
            self._changed(
                delete(Factor).where(Factor.id == factor_id, Factor.account_id == account_id)
            )
            == 1
        )

    def remove_factors(self, account_id: int) -> int:
        """Every factor and recovery code of the account (office reset)."""
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
        return self._changed(delete(Factor).where(Factor.account_id == account_id))

    def factor_by_credential(self, credential_id: bytes) -> Factor | None:
        """The factor of a WebAuthn credential id, whoever's it is."""
        return self.session.scalars(
            select(Factor).where(Factor.credential_id == credential_id)
        ).first()

    def advance_sign_count(self, factor_id: int, seen: int, new: int, now: datetime) -> bool:
        """Store a passkey's new signature count if nobody moved it since we read ``seen``."""
        return (
            self._changed(
                update(Factor)
                .where(Factor.id == factor_id, Factor.sign_count == seen)
                .values(sign_count=new, last_used_at=now)
                .execution_options(synchronize_session=False)
            )
            == 1
        )

    def sealed_factors(self) -> list[Factor]:
        """Every factor with a sealed secret (for key rotation)."""
        return list(self.session.scalars(select(Factor).where(Factor.secret.is_not(None))))

    def touch_factor(self, factor_id: int, now: datetime) -> None:
        self.session.execute(
            update(Factor)
            .where(Factor.id == factor_id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )

    def advance_totp_step(self, factor_id: int, step: int) -> bool:
        """Accept TOTP time ``step`` for the authenticator if it is newer than every step
        accepted before (RFC 6238 §5.2); ``False`` for a replayed or older one."""
        return (
            self._changed(
                update(Factor)
                .where(
                    Factor.id == factor_id,
                    Factor.last_step.is_(None) | (Factor.last_step < step),
                )
                .values(last_step=step)
                .execution_options(synchronize_session=False)
            )
            == 1
        )

    # Recovery codes -------------------------------------------------------------

    def replace_recovery_codes(self, account_id: int, hashes: Sequence[str], now: datetime) -> None:
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
        self.session.add_all(
            RecoveryCode(account_id=account_id, code_hash=h, created_at=now) for h in hashes
        )
        self.session.flush()

    def consume_recovery_code(self, account_id: int, hashes: Sequence[str], now: datetime) -> bool:
        """Use one matching unused code in one UPDATE; whether one was used."""
        used = self._changed(
            update(RecoveryCode)
            .where(
                RecoveryCode.account_id == account_id,
                RecoveryCode.code_hash.in_(hashes),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return used == 1

    def unused_recovery_codes(self, account_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))
            )
            or 0
        )

    # Attempt counters -----------------------------------------------------------

    def locked_until(self, key: str, now: datetime) -> datetime | None:
        until = self.session.scalar(
            select(AttemptCounter.locked_until).where(AttemptCounter.key == key)
        )
        return until if until is not None and until > now else None

    def hold_counter(self, key: str, now: datetime) -> datetime | None:
        """Take ``key``'s counter row (made if missing) until commit; its lock, if one holds.

        One upsert both reads the lock and locks the row, so concurrent checks
        of one key queue here: a secret judged after it cannot race a lock.
        """
        counter = AttemptCounter
        statement = (
            self._insert()(counter)
            .values(key=key, failures=0, lockouts=0, locked_until=None, updated_at=now)
            .on_conflict_do_update(
                index_elements=[counter.key], set_={"failures": counter.failures}
            )
            .returning(counter.locked_until)
        )
        until = self.session.execute(statement).scalar_one()
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
        counter = AttemptCounter
        not_locked = counter.locked_until.is_(None) | (counter.locked_until <= now)
        statement = (
            self._insert()(counter)
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

    def clear_failures(self, key: str, *, devices: bool = False) -> None:
        """Forget ``key``'s failures and lock; with ``devices``, its known browsers' too."""
        match = AttemptCounter.key == key
        if devices:
            match = match | AttemptCounter.key.startswith(f"{key}:", autoescape=True)
        self.session.execute(delete(AttemptCounter).where(match))

    def _insert(self) -> Callable[..., Any]:
        """The dialect's INSERT, which knows ``ON CONFLICT`` (SQLite and PostgreSQL)."""
        dialect = self.session.get_bind().dialect.name
        return pg_insert if dialect == "postgresql" else sqlite_insert

    # Login sessions ---------------------------------------------------------------

    def add_session(self, row: LoginSession) -> LoginSession:
        self.session.add(row)
        self.session.flush()
        return row

    def reissue_session(
        self,
        account_id: int,
        hashes: Sequence[str],
        *,
        new_hash: str,
        now: datetime,
        level: str,
        methods: list[str],
    ) -> int | None:
        """Give the live session of one of ``hashes`` a new token hash, level and methods;
        its id, or ``None`` when no such live session of ``account_id`` is left."""
        row_id = self.session.scalar(
            update(LoginSession)
            .where(
                LoginSession.account_id == account_id,
                LoginSession.token_hash.in_(hashes),
                LoginSession.revoked_at.is_(None),
                LoginSession.expires_at > now,
            )
            .values(
                previous_token_hash=LoginSession.token_hash,
                rotated_at=now,
                token_hash=new_hash,
                level=level,
                methods=methods,
                last_seen_at=now,
            )
            .returning(LoginSession.id)
        )
        return None if row_id is None else int(row_id)

    def touch_session(self, session_id: int, *, now: datetime, before: datetime) -> bool:
        """Mark a session seen at ``now`` unless it was seen since ``before``: of concurrent
        requests only the first writes."""
        return (
            self._changed(
                update(LoginSession)
                .where(LoginSession.id == session_id, LoginSession.last_seen_at < before)
                .values(last_seen_at=now)
            )
            > 0
        )

    def revoke_sessions(
        self,
        account_id: int,
        *,
        now: datetime,
        keep: int | None = None,
        only: int | None = None,
        hashes: Sequence[str] | None = None,
    ) -> int:
        """Revoke the account's live sessions: all, all but ``keep``, only the one ``only``,
        or only the one of ``hashes``; how many."""
        statement = update(LoginSession).where(
            LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None)
        )
        if keep is not None:
            statement = statement.where(LoginSession.id != keep)
        if only is not None:
            statement = statement.where(LoginSession.id == only)
        if hashes is not None:
            statement = statement.where(
                LoginSession.token_hash.in_(hashes) | LoginSession.previous_token_hash.in_(hashes)
            )
        return self._changed(statement.values(revoked_at=now))

    def live_sessions(
        self, account_id: int, *, now: datetime, seen_after: datetime
    ) -> list[LoginSession]:
        """The account's sessions neither revoked, expired nor idle since ``seen_after``;
        newest first."""
        return list(
            self.session.scalars(
                select(LoginSession)
                .where(
                    LoginSession.account_id == account_id,
                    LoginSession.revoked_at.is_(None),
                    LoginSession.expires_at > now,
                    LoginSession.last_seen_at > seen_after,
                )
                .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
            )
        )

    def purge_sessions(self, *, now: datetime, seen_before: datetime) -> int:
        """Delete sessions revoked, past their absolute limit, or unused since ``seen_before``."""
        return self._changed(
            delete(LoginSession).where(
                LoginSession.revoked_at.is_not(None)
                | (LoginSession.expires_at <= now)
                | (LoginSession.last_seen_at <= seen_before)
            )
        )

    def purge_trusted_browsers(self, *, now: datetime) -> int:
        """Delete remembered browsers forgotten or past their time."""
        return self._changed(
            delete(TrustedBrowser).where(
                TrustedBrowser.revoked_at.is_not(None) | (TrustedBrowser.expires_at <= now)
            )
        )

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

    def event_times(self, account_id: int, event: str, *, after: datetime) -> list[datetime]:
        """When the account's ``event`` happened since ``after`` (per-account mail limits).

        On PostgreSQL a transaction-scoped advisory lock on the account comes
        first, so that a concurrent transaction deciding on the same account
        waits for this one to commit; unlike a row lock it cannot deadlock with
        one that uses a code. SQLite's write transactions run one at a time anyway.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(_EVENT_LOCKS, account_id)))
        return list(
            self.session.scalars(
                select(AuditEvent.at).where(
                    AuditEvent.account_id == account_id,
                    AuditEvent.event == event,
                    AuditEvent.at > after,
                )
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

    # Remembered browsers --------------------------------------------------------------

    def add_trusted_browser(self, browser: TrustedBrowser) -> TrustedBrowser:
        self.session.add(browser)
        self.session.flush()
        return browser

    def use_trusted_browser(self, account_id: int, hashes: Sequence[str], now: datetime) -> bool:
        """Mark the account's live remembered browser of one of ``hashes`` used, in one
        UPDATE; whether there was one (revoked, expired and other accounts' rows never match)."""
        used = self._changed(
            update(TrustedBrowser)
            .where(
                TrustedBrowser.account_id == account_id,
                TrustedBrowser.token_hash.in_(hashes),
                TrustedBrowser.revoked_at.is_(None),
                TrustedBrowser.expires_at > now,
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        return used == 1

    def trusted_browsers(self, account_id: int, now: datetime) -> list[TrustedBrowser]:
        """The account's live remembered browsers, newest first."""
        return list(
            self.session.scalars(
                select(TrustedBrowser)
                .where(
                    TrustedBrowser.account_id == account_id,
                    TrustedBrowser.revoked_at.is_(None),
                    TrustedBrowser.expires_at > now,
                )
                .order_by(TrustedBrowser.created_at.desc(), TrustedBrowser.id.desc())
            )
        )

    def revoke_trusted_browser(self, account_id: int, browser_id: int, now: datetime) -> bool:
        """Forget one live remembered browser of the account; whether there was one."""
        if not 0 < browser_id <= MAX_ID:
            return False
        revoked = self._changed(
            update(TrustedBrowser)
            .where(
                TrustedBrowser.id == browser_id,
                TrustedBrowser.account_id == account_id,
                TrustedBrowser.revoked_at.is_(None),
                TrustedBrowser.expires_at > now,
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return revoked == 1

    def latest_events(
        self, account_id: int, events: Collection[str], *, before: datetime, limit: int
    ) -> list[AuditEvent]:
        """The account's newest ``events`` that happened before ``before``, newest first."""
        return list(
            self.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.account_id == account_id,
                    AuditEvent.event.in_(events),
                    AuditEvent.at < before,
                )
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(limit)
            )
        )

    def count_events(
        self,
        account_id: int,
        events: Collection[str],
        *,
        after: datetime | None,
        before: datetime,
    ) -> int:
        """How many of the account's ``events`` happened after ``after`` (from the start when
        ``None``) and before ``before``."""
        query = select(func.count()).where(
            AuditEvent.account_id == account_id,
            AuditEvent.event.in_(events),
            AuditEvent.at < before,
        )
        if after is not None:
            query = query.where(AuditEvent.at > after)
        return int(self.session.scalar(query) or 0)

    def purge_events(self, *, before: datetime) -> int:
        """Delete audit events older than ``before``, whoever's (a closed account's too)."""
        return self._changed(delete(AuditEvent).where(AuditEvent.at < before))

    # Facts about the installation ---------------------------------------------------

    def meta(self, names: Collection[str]) -> dict[str, str]:
        """The stored values of ``names``; absent names are left out."""
        rows = self.session.execute(select(Meta.name, Meta.value).where(Meta.name.in_(names)))
        return {name: value for name, value in rows}

    def set_meta(self, name: str, value: str, *, replace: bool = True) -> None:
        """Store ``value`` under ``name``; ``replace=False`` keeps a value already there."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(Meta).values(name=name, value=value)
        if replace:
            self.session.execute(
                statement.on_conflict_do_update(index_elements=[Meta.name], set_={"value": value})
            )
        else:
            self.session.execute(statement.on_conflict_do_nothing(index_elements=[Meta.name]))

    # Housekeeping ---------------------------------------------------------------

    def purge(
        self, *, now: datetime, pending_before: datetime, counters_before: datetime
    ) -> PurgeResult:
        """Remove expired or used codes, stale counters, never-activated accounts
        and factors never confirmed within a day."""
        codes = self._changed(
            delete(OneTimeCode).where(
                (OneTimeCode.expires_at <= now) | OneTimeCode.used_at.is_not(None)
            )
        )
        accounts = self._changed(
            delete(Account).where(
                Account.status == AccountStatus.PENDING.value,
                Account.created_at < pending_before,
            )
        )
        counters = self._changed(
            delete(AttemptCounter).where(
                AttemptCounter.updated_at < counters_before,
                AttemptCounter.locked_until.is_(None) | (AttemptCounter.locked_until <= now),
            )
        )
        stale = self._changed(
            delete(Factor).where(
                Factor.confirmed_at.is_(None), Factor.created_at < now - timedelta(days=1)
            )
        )
        return PurgeResult(codes=codes, accounts=accounts, counters=counters, stale=stale)

    def _changed(self, statement: Delete | Update) -> int:
        """Rows a DELETE or UPDATE touched."""
        result = self.session.execute(statement)
        return int(cast("CursorResult[Any]", result).rowcount or 0)

    def count(self, model: type[Any]) -> int:
        """Rows of ``model``; used by tests and the CLI."""
        return int(self.session.scalar(select(func.count()).select_from(model)) or 0)
