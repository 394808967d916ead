"""Every error flask_kapu raises, under one root.

HTTP-facing errors also subclass werkzeug's ``HTTPException`` so that, even
outside the extension's own error handlers, Flask answers them with the right
status instead of a 500. Each carries a machine ``problem`` code (API.md) and
the data a page or a problem document needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException

__all__ = [
    "CodeExpired",
    "CsrfFailed",
    "EidNotRecognised",
    "EnrollmentRequired",
    "FilesNotAccepted",
    "ImportRefused",
    "InvalidCode",
    "InvalidCredentials",
    "InvalidInput",
    "InvalidJson",
    "KapuConfigError",
    "KapuError",
    "KapuHTTPError",
    "LoginRequired",
    "MailDeliveryError",
    "MailNotSent",
    "NotFound",
    "PluszRequired",
    "ServiceUnavailable",
    "TokenInvalid",
    "TooManyAttempts",
    "UsernameTaken",
    "WeakPassword",
    "WebauthnFailed",
    "WrongPassword",
]


class KapuError(Exception):
    """Root of every flask_kapu error."""


class KapuConfigError(KapuError, ValueError):
    """A ``KAPU_*`` setting is unknown, ill-typed or missing; names the key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class ImportRefused(KapuError, ValueError):
    """A user the host brings over was not imported; ``reason`` is a machine code, the
    message one line an operator can act on."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class MailDeliveryError(KapuError):
    """A mail could not be handed to the mail server."""


class KapuHTTPError(KapuError, HTTPException):
    """An error with an HTTP status and a problem document (RFC 9457).

    ``code`` (the status) is set by each subclass; leaving it ``None`` here lets
    Flask find one handler registered for this class for every subclass.
    """

    code: int | None = None
    problem: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    #: The key of the user-facing text (``i18n.problem_detail``); the problem code by default.
    detail_key: ClassVar[str | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.errors = {field: list(messages) for field, messages in (errors or {}).items()}
        self.extra = dict(extra or {})
        problems = "; ".join(f"{field}: {', '.join(codes)}" for field, codes in self.errors.items())
        super().__init__(description=f"{self.detail} ({problems})" if problems else self.detail)

    @property
    def status(self) -> int:
        return self.code or 400

    def headers(self) -> dict[str, str]:
        """Extra response headers this error needs."""
        return {}


class InvalidJson(KapuHTTPError):
    code = 400
    problem = "invalid_json"
    title = "Malformed JSON"


class InvalidInput(KapuHTTPError):
    code = 422
    problem = "invalid_input"
    title = "Invalid input"


class WeakPassword(KapuHTTPError):
    code = 422
    problem = "weak_password"
    title = "Password too weak"


class UsernameTaken(KapuHTTPError):
    code = 409
    problem = "username_taken"
    title = "Username taken"


class InvalidCredentials(KapuHTTPError):
    code = 401
    problem = "invalid_credentials"
    title = "Invalid credentials"


class WrongPassword(InvalidCredentials):
    """The logged-in account's current password, typed to confirm a change, was wrong.

    The same problem code as a failed login, but the message speaks of the password only.
    """

    detail_key = "wrong_password"


class InvalidCode(KapuHTTPError):
    code = 400
    problem = "invalid_code"
    title = "Invalid code"


class CodeExpired(KapuHTTPError):
    code = 400
    problem = "code_expired"
    title = "Code expired"


class EidNotRecognised(KapuHTTPError):
    code = 400
    problem = "eid_not_recognised"
    title = "Card data not recognised"


class WebauthnFailed(KapuHTTPError):
    code = 400
    problem = "webauthn_failed"
    title = "Passkey check failed"


class TokenInvalid(KapuHTTPError):
    code = 400
    problem = "token_invalid"
    title = "Token invalid or expired"


class CsrfFailed(KapuHTTPError):
    code = 400
    problem = "csrf_failed"
    title = "CSRF token missing or invalid"


class FilesNotAccepted(KapuHTTPError):
    """A request carried a file upload: no flask_kapu form or endpoint takes one."""

    code = 415
    problem = "files_not_accepted"
    title = "File uploads not accepted"


class NotFound(KapuHTTPError):
    code = 404
    problem = "not_found"
    title = "Not found"


class LoginRequired(KapuHTTPError):
    code = 401
    problem = "login_required"
    title = "Login required"


class PluszRequired(KapuHTTPError):
    """The view needs a second factor this session has not (recently) proven.

    ``methods`` are those the account can use and the view accepts; the
    ``WWW-Authenticate`` challenge has the shape of RFC 9470.
    """

    code = 401
    problem = "plusz_required"
    title = "Ügyfélkapu+ step-up required"

    def __init__(self, *, methods: Sequence[str], max_age: int | None = None) -> None:
        extra: dict[str, Any] = {"methods": list(methods)}
        if max_age is not None:
            extra["max_age"] = max_age
        super().__init__(extra=extra)
        self.methods = list(methods)
        self.max_age = max_age

    def headers(self) -> dict[str, str]:
        challenge = 'Kapu error="insufficient_user_authentication", acr_values="plusz"'
        if self.max_age is not None:
            challenge += f", max_age={self.max_age}"
        return {"WWW-Authenticate": challenge}


class EnrollmentRequired(KapuHTTPError):
    """The account has no second factor the view accepts; ``enroll_methods`` it could add."""

    code = 403
    problem = "enrollment_required"
    title = "Ügyfélkapu+ enrolment required"

    def __init__(self, *, enroll_methods: Sequence[str]) -> None:
        super().__init__(extra={"enroll_methods": list(enroll_methods)})
        self.enroll_methods = list(enroll_methods)


class TooManyAttempts(KapuHTTPError):
    code = 429
    problem = "too_many_attempts"
    title = "Too many attempts"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class MailNotSent(KapuHTTPError):
    """The code could not be mailed; nothing was kept, so asking again works at once."""

    code = 503
    problem = "mail_failed"
    title = "The e-mail could not be sent"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "30"}


class ServiceUnavailable(KapuHTTPError):
    code = 503
    problem = "service_unavailable"
    title = "Service temporarily unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
