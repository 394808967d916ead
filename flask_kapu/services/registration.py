"""Registration: at the office, by self-service, and with the e-ID card.

Each way creates a pending account and its activation code in one
transaction, then mails the code. A mail that cannot be sent loses nothing:
the account exists and ``/password/forgot`` issues a new code later.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email

from .. import signals
from ..codes import format_code, generate_code
from ..errors import InvalidInput, UsernameTaken
from ..store import Account, AccountStatus, Repository
from ..usernames import normalize, username_key, username_problems
from .base import Context, Deps, audit, find_account

__all__ = [
    "PASSWORD_CODE_PURPOSES",
    "Registration",
    "issue_password_code",
    "normalize_email",
    "register",
    "resend_activation",
    "validate_person",
]

PASSWORD_CODE_PURPOSES = ("activation", "reset")
_PERSON_FIELDS = (
    "family_name",
    "given_name",
    "birth_date",
    "birth_place",
    "mother_name",
    "address",
)
_PERSON_MAX = 200


@dataclasses.dataclass(frozen=True)
class Registration:
    account: Account
    mail_sent: bool


def register(
    deps: Deps,
    ctx: Context,
    *,
    username: str,
    email: str,
    via: str,
    person: Mapping[str, Any] | None = None,
    language: str = "hu",
) -> Registration:
    """Create a pending account and mail its activation code.

    Raises :class:`InvalidInput` (with per-field machine codes) or
    :class:`UsernameTaken`.
    """
    errors: dict[str, list[str]] = {}
    problems = username_problems(username)
    if problems:
        errors["username"] = problems
    address = normalize_email(email)
    if address is None:
        errors["email"] = ["email"]
    if language not in deps.languages:
        errors["language"] = ["choice"]
    if errors or address is None:
        raise InvalidInput(errors=errors)
    name = normalize(username)
    now = deps.clock()
    with deps.store.transaction() as repo:
        account = Account(
            username=name,
            username_key=username_key(name),
            email=address,
            status=AccountStatus.PENDING.value,
            person=dict(person) if person else None,
            registered_via=via,
            language=language,
            session_epoch=0,
            created_at=now,
        )
        if repo.username_key_taken(account.username_key) or not repo.add_account(account):
            raise UsernameTaken(errors={"username": ["taken"]})
        code = issue_password_code(deps, repo, account, purpose="activation")
        audit(repo, ctx, "registered", account_id=account.id, at=now, detail={"via": via})
    sent = deps.notifier.deliver(account, "activation", code=format_code(code))
    deps.emit(signals.account_registered, account=account, via=via)
    return Registration(account=account, mail_sent=sent)


def resend_activation(deps: Deps, ctx: Context, *, username: str) -> bool:
    """Office use: mail a new activation code to a pending account (the old one dies).

    ``False`` when ``username`` is no pending account, or the mail could not go out.
    """
    with deps.store.transaction() as repo:
        account = find_account(repo, normalize(username))
        if account is None or account.status != AccountStatus.PENDING.value:
            return False
        code = issue_password_code(deps, repo, account, purpose="activation")
        audit(repo, ctx, "activation_resent", account_id=account.id, at=deps.clock())
    return deps.notifier.deliver(account, "activation", code=format_code(code))


def issue_password_code(deps: Deps, repo: Repository, account: Account, *, purpose: str) -> str:
    """A new activation or reset code for ``account``, replacing any live one."""
    code = generate_code()
    repo.replace_codes(
        account_id=account.id,
        purposes=PASSWORD_CODE_PURPOSES,
        purpose=purpose,
        code_hash=deps.codes.hash("password", code),
        now=deps.clock(),
        ttl=deps.config.activation_code_ttl,
    )
    return code


def validate_person(data: object, *, required: tuple[str, ...], today: date) -> dict[str, str]:
    """Self-service person data: known string fields, ``birth_date`` an ISO date in the past."""
    if not isinstance(data, Mapping):
        raise InvalidInput(errors={"person": ["type"]})
    errors: dict[str, list[str]] = {}
    person: dict[str, str] = {}
    for field in _PERSON_FIELDS:
        value = data.get(field)
        if value is None or value == "":
            if field in required:
                errors[f"person.{field}"] = ["required"]
            continue
        if not isinstance(value, str):
            errors[f"person.{field}"] = ["type"]
        elif len(value) > _PERSON_MAX or not value.isprintable() or not value.strip():
            errors[f"person.{field}"] = ["text"]
        else:
            person[field] = value.strip()
    if "birth_date" in person and not _is_past_date(person["birth_date"], today):
        errors["person.birth_date"] = ["date"]
    unknown = sorted(set(data) - set(_PERSON_FIELDS), key=str)
    if unknown:
        errors["person"] = ["unknown_fields"]
    if errors:
        raise InvalidInput(errors=errors)
    return person


def _is_past_date(text: str, today: date) -> bool:
    try:
        born = date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10 and date(1900, 1, 1) <= born <= today


def normalize_email(email: str) -> str | None:
    if len(email) > 254:
        return None
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
