"""Ügyfélkapu+: which logins need a second factor, e-mail codes, and step-up.

An account that enrolled an authenticator app or a passkey proves a second
factor at every login; one with only e-mail steps up when a view asks; after
the sunset date every login with a factor asks. Wrong codes count against
the username's ``plusz`` counter, and the failure that locks it mails the
account.
"""

from __future__ import annotations

import dataclasses
import math

from .. import signals
from ..errors import CodeExpired, EnrollmentRequired, InvalidCode, MailNotSent, TooManyAttempts
from ..factors.email_code import IssuedEmailCode
from ..store import Account, Repository
from .attempts import count_failure, held_lock, report_failure
from .base import Context, Deps, attempt_key, audit

__all__ = [
    "PLUSZ_SCOPE",
    "SignedIn",
    "login_factors",
    "send_email_code",
    "usable_methods",
    "verify_code",
]

PLUSZ_SCOPE = "plusz"
_LOGIN_FACTORS = frozenset({"totp", "webauthn"})


@dataclasses.dataclass(frozen=True)
class SignedIn:
    """A password (or code) proven; ``second_factor`` lists the methods still to prove, if any.

    ``remembered``: the second factor was skipped because the browser is remembered
    (the login is at password level all the same).
    """

    account: Account
    second_factor: tuple[str, ...] = ()
    remembered: bool = False


def login_factors(deps: Deps, repo: Repository, account: Account) -> tuple[str, ...]:
    """The methods this account must prove at login; empty when a password suffices."""
    enrolled = repo.enrolled_methods(account.id)
    if not enrolled:
        return ()
    if enrolled & _LOGIN_FACTORS or deps.sunset_passed():
        return tuple(usable_methods(repo, account, enrolled))
    return ()


def usable_methods(
    repo: Repository, account: Account, enrolled: set[str] | None = None
) -> list[str]:
    """Methods the account can prove now: its factors, plus recovery while codes remain."""
    methods = set(repo.enrolled_methods(account.id) if enrolled is None else enrolled)
    if methods and repo.unused_recovery_codes(account.id):
        methods.add("recovery")
    return sorted(methods)


def send_email_code(
    deps: Deps, ctx: Context, account: Account, *, enrolment: bool = False
) -> IssuedEmailCode:
    """Mail a six-digit code (replacing any earlier one) with its session hint.

    Step-up codes need an enrolled e-mail factor; a code is sent at most once
    a minute per purpose.
    """
    factor = deps.plusz.email_enrolment if enrolment else deps.plusz.email
    now = deps.clock()
    with deps.store.transaction() as repo:
        if not enrolment and "email" not in repo.enrolled_methods(account.id):
            raise EnrollmentRequired(enroll_methods=["email"])
        live = repo.live_code(account_id=account.id, purpose=factor.purpose, now=now)
        wait = deps.config.email_resend_interval - (now - live.created_at) if live else None
        if wait is not None and wait.total_seconds() > 0:
            raise TooManyAttempts(retry_after=math.ceil(wait.total_seconds()))
        issued = factor.issue(repo, account, now, deps.config.email_code_ttl)
        audit(
            repo,
            ctx,
            "email_code_sent",
            account_id=account.id,
            at=now,
            detail={"purpose": factor.purpose},
        )
    template = "email_enrol" if enrolment else "email_code"
    if not deps.notifier.deliver(
        account, template, code=issued.code, session_hint=issued.session_hint
    ):
        with deps.store.transaction() as repo:  # an unsent code must not hold up a retry
            repo.void_codes(account_id=account.id, purposes=(factor.purpose,))
        raise MailNotSent()
    return issued


def verify_code(
    deps: Deps,
    ctx: Context,
    account: Account,
    *,
    method: str,
    code: str,
    completes_login: bool = False,
) -> str:
    """Prove ``method`` with a typed ``code``; the method proven.

    With ``completes_login`` this is the second step of a login (audited as
    the login); otherwise a step-up of a logged-in session.

    Raises :class:`InvalidCode` (also for a replayed code), :class:`CodeExpired`,
    :class:`EnrollmentRequired` or :class:`TooManyAttempts`.
    """
    factor = deps.plusz.by_method(method)
    if factor is None:
        raise InvalidCode()
    key = attempt_key(PLUSZ_SCOPE, account.username)
    canonical = factor.normalize(code)
    now = deps.clock()
    expired = False
    with deps.store.transaction() as repo:  # the lock, the code and the outcome: one transaction
        failure = held_lock(repo, key, now)  # taken first: no code is judged once the lock holds
        if failure is None:
            if method != "recovery" and method not in repo.enrolled_methods(account.id):
                raise EnrollmentRequired(enroll_methods=[method])
            if canonical is not None and factor.verify(repo, account, canonical, now):
                repo.clear_failures(key)
                event = "login" if completes_login else "stepped_up"
                audit(repo, ctx, event, account_id=account.id, at=now, detail={"method": method})
            else:
                if canonical is not None and factor is deps.plusz.email:
                    expired = deps.plusz.email.expired(repo, account, canonical, now)
                failure = count_failure(deps, ctx, repo, key, account, event="plusz_failed")
    if failure is not None:
        if failure.counted and failure.locked_until is not None:
            deps.notifier.deliver(account, "plusz_failures")
        raise report_failure(
            deps, failure, account, now=now, error=CodeExpired() if expired else InvalidCode()
        )
    if method == "recovery":
        deps.notifier.deliver(account, "recovery_used")
    deps.emit(signals.stepped_up, account=account, method=method)
    if completes_login:
        deps.emit(signals.login_succeeded, account=account)
    return method
