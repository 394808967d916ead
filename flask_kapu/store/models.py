"""SQLAlchemy 2 models: every durable fact of flask_kapu is a row here.

Times are stored as naive UTC and handed back aware, so comparisons behave the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..usernames import username_problems

__all__ = [
    "Account",
    "AccountStatus",
    "AttemptCounter",
    "AuditEvent",
    "Base",
    "Factor",
    "LoginSession",
    "Meta",
    "OneTimeCode",
    "RecoveryCode",
    "TrustedBrowser",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, naive UTC in the column, aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class AccountStatus(str, enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"
    CLOSED = "closed"  # closed by its owner: personal data erased, the username kept reserved


class Account(Base):
    """An Ügyfélkapu account; also Flask-Login's user object."""

    __tablename__ = "kapu_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.PENDING.value)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    person: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    registered_via: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8), default="hu")
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The host app's username of an imported account, kept after the user chose another:
    # importing the same user again finds the account by it.
    imported_username: Mapped[str | None] = mapped_column(String(64), unique=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))  # an operator's words

    # Flask-Login's user protocol, without importing Flask into the store.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.status == AccountStatus.ACTIVE.value

    @property
    def must_choose_username(self) -> bool:
        """Imported with a username that breaks the rules: its owner must choose a valid one
        before anything else (only an import can store such a name)."""
        return bool(username_problems(self.username))

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.username!r} {self.status}>"


class AttemptCounter(Base):
    """Consecutive failures and lock of one scope, e.g. ``login:<username key>``.

    Keyed by name rather than account so that unknown usernames are limited
    exactly like real ones and a lock reveals nothing.
    """

    __tablename__ = "kapu_attempt_counter"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OneTimeCode(Base):
    """A mailed code, stored only as a keyed hash; consumed by one conditional UPDATE."""

    __tablename__ = "kapu_one_time_code"
    __table_args__ = (Index("ix_kapu_one_time_code_account_purpose", "account_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("kapu_account.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    session_hint: Mapped[str | None] = mapped_column(String(3))


class AuditEvent(Base):
    """Something that happened to an account; never holds a secret."""

    __tablename__ = "kapu_audit_event"
    __table_args__ = (Index("ix_kapu_audit_event_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("kapu_account.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Factor(Base):
    """An enrolled (or, until ``confirmed_at``, half-enrolled) second factor.

    TOTP keys are stored sealed (see :mod:`flask_kapu.crypto`); WebAuthn
    credentials keep their public key, which is not secret.
    """

    __tablename__ = "kapu_factor"
    __table_args__ = (Index("ix_kapu_factor_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("kapu_account.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str | None] = mapped_column(String(512))
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)  # unsigned 32-bit in WebAuthn
    transports: Mapped[list[str] | None] = mapped_column(JSON)
    aaguid: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest TOTP time step accepted; older or equal steps are refused (RFC 6238 §5.2).
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """A single-use recovery code ("törlőkód"), stored as a keyed hash."""

    __tablename__ = "kapu_recovery_code"
    __table_args__ = (Index("ix_kapu_recovery_code_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("kapu_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Meta(Base):
    """Facts about the installation itself, e.g. fingerprints of the keys that sealed secrets."""

    __tablename__ = "kapu_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class LoginSession(Base):
    """One login: the cookie carries a random token, the row only its keyed hash.

    A row revoked (logout, "end this session", password change) or past its
    idle or absolute limit ends that login on every instance.
    """

    __tablename__ = "kapu_session"
    __table_args__ = (Index("ix_kapu_session_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("kapu_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token a step-up replaced, still accepted briefly for requests already in flight.
    previous_token_hash: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the absolute limit
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    browser: Mapped[str | None] = mapped_column(String(120))  # "Firefox 128 on Windows 10"
    level: Mapped[str] = mapped_column(String(16))
    methods: Mapped[list[str] | None] = mapped_column(JSON)


class TrustedBrowser(Base):
    """A browser whose owner asked to skip the second factor at login for a while.

    The cookie carries a random token, the row only its keyed hash.
    """

    __tablename__ = "kapu_trusted_browser"
    __table_args__ = (Index("ix_kapu_trusted_browser_account", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("kapu_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    browser: Mapped[str | None] = mapped_column(String(120))
