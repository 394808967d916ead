"""Use cases: each one transaction over the store, signals sent after commit."""

from .base import Context, Deps, Notifier
from .credentials import change_password, request_reset, use_password_code
from .login import login
from .maintenance import purge, unlock
from .registration import LANGUAGES, Registration, register, resend_activation, validate_person

__all__ = [
    "LANGUAGES",
    "Context",
    "Deps",
    "Notifier",
    "Registration",
    "change_password",
    "login",
    "purge",
    "register",
    "request_reset",
    "resend_activation",
    "unlock",
    "use_password_code",
    "validate_person",
]
