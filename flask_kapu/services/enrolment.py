"""Enrolling and removing second factors, and recovery codes.

The first factor an account enrols comes with ten recovery codes and raises
the session to Ügyfélkapu+, so a stolen password-level session must not be
enough for it: :func:`authorise_first` wants the password typed again, or a
login only minutes old. Every change is audited and mailed to the account,
with the browser and address it came from. Whether the session may add a
further factor (a fresh step-up) is the web layer's check.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from .. import signals
from ..errors import CodeExpired, InvalidCode, InvalidInput, NotFound, WrongPassword
from ..store import Account, Factor, Repository
from .attempts import (
    LOGIN_SCOPE,
    check_not_locked,
    count_failure,
    counter_key,
    report_failure,
    verify_password,
)
from .base import Context, Deps, attempt_key, audit, find_account
from .plusz import PLUSZ_SCOPE

__all__ = [
    "Enrolled",
    "TotpEnrolment",
    "add_confirmed",
    "announce",
    "authorise_first",
    "check_password",
    "clean_label",
    "confirm_email",
    "confirm_totp",
    "factors",
    "finish",
    "pending_totp",
    "regenerate_recovery_codes",
    "remove_factor",
    "rename_factor",
    "reset_factors",
    "start_totp",
]

_LABEL_MAX = 64


@dataclasses.dataclass(frozen=True)
class Enrolled:
    factor: Factor
    recovery_codes: list[str]


@dataclasses.dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def factors(deps: Deps, account: Account) -> list[Factor]:
    with deps.store.reading() as repo:
        return repo.factors(account.id)


def clean_label(label: str | None, default: str) -> str:
    """A factor's name: printable, at most 64 characters; ``default`` when empty."""
    text = (label or "").strip()
    if len(text) > _LABEL_MAX or not text.isprintable():
        raise InvalidInput(errors={"label": ["text"]})
    return text or default


def finish(
    deps: Deps, ctx: Context, repo: Repository, account: Account, factor: Factor
) -> list[str]:
    """Confirm ``factor``; the first factor gets a fresh set of recovery codes."""
    now = deps.clock()
    first = not repo.enrolled_methods(account.id)
    factor.confirmed_at = now
    factor.last_used_at = now
    repo.session.flush()
    audit(
        repo, ctx, "factor_added", account_id=account.id, at=now, detail={"method": factor.method}
    )
    return deps.plusz.recovery.new_set(repo, account, now) if first else []


def announce(deps: Deps, ctx: Context, account: Account, factor: Factor) -> None:
    """Mail the owner that a factor was added, and from which browser and address."""
    deps.notifier.deliver(
        account,
        "factor_added",
        method=factor.method,
        label=factor.label,
        browser=_browser(ctx),
        ip=ctx.ip,
    )
    deps.emit(signals.factor_added, account=account, method=factor.method)


def _browser(ctx: Context) -> str | None:
    """The caller's User-Agent for the owner's notice, as long as the audit trail keeps it."""
    return (ctx.user_agent or "")[:255] or None


def check_password(deps: Deps, ctx: Context, account: Account, password: str) -> None:
    """The account's current password, typed to confirm a change.

    A wrong one counts against the login attempts (:class:`WrongPassword`): the
    browser's own counter when it holds the account's device cookie, so that
    strangers locking the username do not stop the owner from securing it.
    """
    login_key = counter_key(LOGIN_SCOPE, account.username, account, ctx)
    check_not_locked(deps, login_key)
    if not verify_password(deps, account.password_hash, password):
        now = deps.clock()
        with deps.store.transaction() as repo:
            failure = count_failure(
                deps, ctx, repo, login_key, account, event="password_check_failed"
            )
        raise report_failure(deps, failure, account, now=now, error=WrongPassword())


def authorise_first(
    deps: Deps,
    ctx: Context,
    account: Account,
    *,
    password: str | None,
    auth_time: datetime | None,
) -> None:
    """May this session add the account's first factor?

    The password typed with the request, or a login (``auth_time``) younger
    than ``KAPU_FRESH_LOGIN_MAX_AGE``: a replayed session cookie alone is not
    enough. A further factor needs none of this (the web layer asks for a
    fresh step-up instead); a typed password is checked whenever given.
    """
    with deps.store.reading() as repo:
        first = not repo.enrolled_methods(account.id)
    if password:
        check_password(deps, ctx, account, password)
        return
    if not first:
        return
    if auth_time is None or deps.clock() - auth_time > deps.config.fresh_login_max_age:
        raise InvalidInput(errors={"password": ["required"]})


def confirm_email(
    deps: Deps,
    ctx: Context,
    account: Account,
    *,
    code: str,
    password: str | None = None,
    auth_time: datetime | None = None,
) -> Enrolled:
    """Enrol the account's address as a factor with the code mailed to it."""
    authorise_first(deps, ctx, account, password=password, auth_time=auth_time)
    factor_logic = deps.plusz.email_enrolment
    key = attempt_key(PLUSZ_SCOPE, account.username)
    check_not_locked(deps, key)
    canonical = factor_logic.normalize(code)
    now = deps.clock()
    with deps.store.transaction() as repo:
        ok = canonical is not None and factor_logic.verify(repo, account, canonical, now)
        if not ok:
            expired = canonical is not None and factor_logic.expired(repo, account, canonical, now)
            failure = count_failure(deps, ctx, repo, key, account, event="plusz_failed")
        else:
            existing = repo.factors(account.id, "email")
            factor = (
                existing[0]
                if existing
                else repo.add_factor(
                    Factor(
                        account_id=account.id,
                        method="email",
                        label=account.email,
                        sign_count=0,
                        created_at=now,
                    )
                )
            )
            codes = finish(deps, ctx, repo, account, factor)
            repo.clear_failures(key)
    if not ok:
        raise report_failure(
            deps, failure, account, now=now, error=CodeExpired() if expired else InvalidCode()
        )
    announce(deps, ctx, account, factor)
    return Enrolled(factor, codes)


def add_confirmed(
    deps: Deps,
    ctx: Context,
    account: Account,
    *,
    method: str,
    label: str | None,
    password: str | None = None,
    auth_time: datetime | None = None,
) -> Enrolled:
    """Store a host's own method (``kapu.add_factor``) once the host has confirmed possession.

    The same rules as the built-in methods: :func:`authorise_first`, recovery
    codes with the first factor, the audit row and the owner's notice.
    """
    name = clean_label(label, method)
    authorise_first(deps, ctx, account, password=password, auth_time=auth_time)
    now = deps.clock()
    with deps.store.transaction() as repo:
        factor = repo.add_factor(
            Factor(account_id=account.id, method=method, label=name, sign_count=0, created_at=now)
        )
        codes = finish(deps, ctx, repo, account, factor)
    announce(deps, ctx, account, factor)
    return Enrolled(factor, codes)


def start_totp(
    deps: Deps, ctx: Context, account: Account, *, label: str | None = None
) -> TotpEnrolment:
    """A new authenticator key, kept sealed until confirmed; the QR code shows it once."""
    totp = deps.plusz.totp
    name = clean_label(label, "Authenticator")
    secret = totp.new_secret()
    now = deps.clock()
    with deps.store.transaction() as repo:
        repo.start_factor(
            Factor(
                account_id=account.id,
                method="totp",
                label=name,
                secret=totp.box.seal(secret),
                sign_count=0,
                created_at=now,
            )
        )
    return _enrolment(deps, account, secret, name)


def pending_totp(deps: Deps, account: Account) -> TotpEnrolment | None:
    """The authenticator key awaiting confirmation, to show again after a mistyped code."""
    with deps.store.reading() as repo:
        factor = repo.unconfirmed_factor(account.id, "totp")
    if factor is None or factor.secret is None:
        return None
    return _enrolment(deps, account, deps.plusz.totp.box.open(factor.secret), factor.label)


def _enrolment(deps: Deps, account: Account, secret: str, label: str) -> TotpEnrolment:
    uri = deps.plusz.totp.uri(secret, account.username)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=deps.plusz.totp.qr_svg(uri, label))


def confirm_totp(
    deps: Deps,
    ctx: Context,
    account: Account,
    *,
    password: str,
    code: str,
    label: str | None = None,
) -> Enrolled:
    """Confirm the pending authenticator with the current password and a current code."""
    name = clean_label(label, "") if label else None
    check_password(deps, ctx, account, password)
    key = attempt_key(PLUSZ_SCOPE, account.username)
    check_not_locked(deps, key)
    totp = deps.plusz.totp
    canonical = totp.normalize(code)
    now = deps.clock()
    with deps.store.transaction() as repo:
        factor = repo.unconfirmed_factor(account.id, "totp")
        ok = (
            factor is not None
            and canonical is not None
            and totp.check(repo, factor, canonical, now)
        )
        if ok and factor is not None:
            if name:
                factor.label = name
            codes = finish(deps, ctx, repo, account, factor)
            repo.clear_failures(key)
        else:
            failure = count_failure(deps, ctx, repo, key, account, event="plusz_failed")
    if not ok or factor is None:
        raise report_failure(deps, failure, account, now=now, error=InvalidCode())
    announce(deps, ctx, account, factor)
    return Enrolled(factor, codes)


def remove_factor(deps: Deps, ctx: Context, account: Account, *, factor_id: int) -> Factor:
    """Remove one of the account's factors (:class:`NotFound` for anything else).

    Every session of the account ends; the caller re-issues its own without
    the removed method.
    """
    now = deps.clock()
    with deps.store.transaction() as repo:
        factor = repo.factor(account.id, factor_id)
        if factor is None or not repo.remove_factor(account.id, factor_id):
            raise NotFound()
        if not repo.enrolled_methods(account.id):
            repo.replace_recovery_codes(account.id, [], now)
        current = repo.account(account.id)
        if current is not None:  # sessions proven with it end; the caller re-issues its own
            repo.bump_session_epoch(current)
            account.session_epoch = current.session_epoch
            repo.revoke_sessions(account.id, now=now, keep=ctx.session_id)
        repo.revoke_account_browsers(account.id, now)
        audit(
            repo,
            ctx,
            "factor_removed",
            account_id=account.id,
            at=now,
            detail={"method": factor.method},
        )
    deps.notifier.deliver(account, "factor_removed", method=factor.method, label=factor.label)
    deps.emit(signals.factor_removed, account=account, method=factor.method)
    return factor


def rename_factor(
    deps: Deps, ctx: Context, account: Account, *, factor_id: int, label: str
) -> Factor:
    """Give one of the account's factors a new name (:class:`NotFound` for anything else)."""
    name = clean_label(label, "")
    if not name:
        raise InvalidInput(errors={"label": ["required"]})
    with deps.store.transaction() as repo:
        factor = repo.factor(account.id, factor_id)
        if factor is None:
            raise NotFound()
        factor.label = name
        audit(
            repo,
            ctx,
            "factor_renamed",
            account_id=account.id,
            at=deps.clock(),
            detail={"method": factor.method},
        )
    return factor


def regenerate_recovery_codes(deps: Deps, ctx: Context, account: Account) -> list[str]:
    """A new set of ten codes; the old set stops working."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        codes = deps.plusz.recovery.new_set(repo, account, now)
        audit(repo, ctx, "recovery_codes_renewed", account_id=account.id, at=now)
    deps.notifier.deliver(account, "recovery_codes_renewed", browser=_browser(ctx), ip=ctx.ip)
    return codes


def reset_factors(deps: Deps, ctx: Context, *, username: str) -> bool:
    """Office use: remove every factor of ``username`` (a lost phone, say)."""
    now = deps.clock()
    with deps.store.transaction() as repo:
        account = find_account(repo, username)
        if account is None:
            return False
        methods = repo.enrolled_methods(account.id)
        repo.remove_factors(account.id)
        repo.bump_session_epoch(account)
        repo.revoke_sessions(account.id, now=now)
        repo.revoke_account_browsers(account.id, now)
        audit(repo, ctx, "factors_reset", account_id=account.id, at=now)
    deps.notifier.deliver(account, "factors_reset")
    for method in sorted(methods):
        deps.emit(signals.factor_removed, account=account, method=method)
    return True
