"""Use cases: each one transaction over the store, signals sent after commit."""

from . import closing, enrolment, export, history, passkeys, sessions, trusted
from .base import Context, Deps, Notifier, PluszFactors
from .credentials import change_password, request_reset, use_password_code
from .imports import Imported, import_account
from .keys import check_key_fingerprints, rotate_secrets
from .login import choose_username, login, logout
from .maintenance import purge, unlock
from .plusz import SignedIn, send_email_code, usable_methods, verify_code
from .registration import (
    Registration,
    register,
    resend_activation,
    validate_person,
)

__all__ = [
    "Context",
    "Deps",
    "Imported",
    "Notifier",
    "PluszFactors",
    "Registration",
    "SignedIn",
    "change_password",
    "check_key_fingerprints",
    "choose_username",
    "closing",
    "enrolment",
    "export",
    "history",
    "import_account",
    "login",
    "logout",
    "passkeys",
    "purge",
    "register",
    "request_reset",
    "resend_activation",
    "rotate_secrets",
    "send_email_code",
    "sessions",
    "trusted",
    "unlock",
    "usable_methods",
    "use_password_code",
    "validate_person",
    "verify_code",
]
