"""Storage: SQLAlchemy models, the repository (the only place with queries) and the engine."""

from .database import LiveLogin, Store
from .models import (
    Account,
    AccountStatus,
    AttemptCounter,
    AuditEvent,
    Base,
    Factor,
    LoginSession,
    Meta,
    OneTimeCode,
    RecoveryCode,
    TrustedBrowser,
)
from .repository import FailureOutcome, PurgeResult, Repository

__all__ = [
    "Account",
    "AccountStatus",
    "AttemptCounter",
    "AuditEvent",
    "Base",
    "Factor",
    "FailureOutcome",
    "LiveLogin",
    "LoginSession",
    "Meta",
    "OneTimeCode",
    "PurgeResult",
    "RecoveryCode",
    "Repository",
    "Store",
    "TrustedBrowser",
]
