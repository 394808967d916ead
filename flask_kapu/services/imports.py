"""Bringing a host app's existing users over, with the password hashes it already stores.

Each user is one transaction: created whole, found unchanged, or refused with
a reason, never half-written. The host's hash is kept as it is until the
first login checks it once and stores argon2id instead (``services.login``).

An account whose e-mail the host vouches for starts active, with no mail. One
it does not vouch for starts pending and gets the usual activation code: it
cannot log in until the code proves the address, and the new password set
with the code replaces the old one, which is therefore not stored at all.

A username that breaks the Hungarian rules is imported as it was, so that
its owner can log in with it once and must then choose a valid one
(``choose_username``). The host's name stays recorded on the account, so
importing the same user again is recognised after the rename too, and the
name cannot be taken by anyone else (no registration accepts it anyway).
"""

from __future__ import annotations

import dataclasses

from .. import legacy_hashes, signals
from ..codes import format_code
from ..errors import ImportRefused
from ..store import Account, AccountStatus, Repository
from ..usernames import normalize, username_key
from .base import Context, Deps, audit, storable_username
from .registration import issue_password_code, normalize_email

__all__ = ["CREATED", "UNCHANGED", "Imported", "import_account"]

CREATED = "created"
UNCHANGED = "unchanged"


@dataclasses.dataclass(frozen=True)
class Imported:
    """What importing one user did: ``outcome`` is ``created`` or ``unchanged``."""

    account: Account
    outcome: str
    mail_sent: bool = False


def import_account(
    deps: Deps,
    ctx: Context,
    *,
    username: object,
    email: object,
    password_hash: object,
    email_verified: object = False,
) -> Imported:
    """Create the account of one of the host's users, or find it imported already.

    Values come as the host gives them (a JSON line, a row), so each is type-checked here.
    Raises :class:`ImportRefused` naming the reason: ``invalid_username``,
    ``invalid_email``, ``invalid_email_verified``, ``unknown_hash``,
    ``needs_legacy_extra``, ``username_taken`` or ``different_data``.
    """
    if not isinstance(username, str) or not storable_username(normalize(username)):
        raise ImportRefused(
            "invalid_username", "username must be printable text of 1 to 64 characters"
        )
    name = normalize(username)
    address = normalize_email(email) if isinstance(email, str) else None
    if address is None:
        raise ImportRefused("invalid_email", f"not a valid e-mail address: {email!r}")
    if not isinstance(email_verified, bool):
        raise ImportRefused("invalid_email_verified", "email_verified must be true or false")
    if not isinstance(password_hash, str):
        raise ImportRefused("unknown_hash", "password_hash must be a string")
    legacy_hashes.check_importable(password_hash)
    now = deps.clock()
    with deps.store.transaction() as repo:
        existing = repo.account_by_imported_username(name) or repo.account_by_username(name)
        if existing is not None:
            _check_same(deps, existing, address, password_hash)
            return Imported(existing, UNCHANGED)
        account = Account(
            username=name,
            username_key=username_key(name),
            imported_username=name,
            email=address,
            status=(AccountStatus.ACTIVE if email_verified else AccountStatus.PENDING).value,
            password_hash=password_hash if email_verified else None,
            registered_via="import",
            language="hu",
            session_epoch=0,
            created_at=now,
            activated_at=now if email_verified else None,
        )
        if repo.username_key_taken(account.username_key) or not repo.add_account(account):
            raise ImportRefused(
                "username_taken", f"{name!r} differs only in case from an existing username"
            )
        code = None if email_verified else _activation_code(deps, repo, account)
        audit(
            repo,
            ctx,
            "imported",
            account_id=account.id,
            at=now,
            detail={"email_verified": email_verified},
        )
    sent = code is not None and deps.notifier.deliver(account, "activation", code=code)
    deps.emit(signals.account_registered, account=account, via="import")
    return Imported(account, CREATED, mail_sent=sent)


def _activation_code(deps: Deps, repo: Repository, account: Account) -> str:
    return format_code(issue_password_code(deps, repo, account, purpose="activation"))


def _check_same(deps: Deps, account: Account, address: str, password_hash: str) -> None:
    """Refuse a row that names an account already here but says something else about it.

    Once imported, the password is flask_kapu's: a hash that differs is only
    refused while the imported one still waits for the first login (it is not
    argon2id with this app's parameters yet); after that the account has moved on.
    """
    if account.registered_via != "import":
        raise ImportRefused(
            "username_taken", f"{account.username!r} belongs to an account not imported"
        )
    stored = account.password_hash
    waiting = stored is not None and deps.hashing.needs_rehash(stored)
    if account.email.lower() != address.lower() or (waiting and stored != password_hash):
        raise ImportRefused(
            "different_data",
            f"{account.imported_username!r} was imported already with other data",
        )
