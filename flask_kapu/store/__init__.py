"""Storage: SQLAlchemy models, the repository (the only place with queries) and the engine."""

from .database import Store
from .models import (
    Account,
    AccountStatus,
    AttemptCounter,
    AuditEvent,
    Base,
    Factor,
    Meta,
    OneTimeCode,
    RecoveryCode,
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
    "Meta",
    "OneTimeCode",
    "PurgeResult",
    "RecoveryCode",
    "Repository",
    "Store",
]
