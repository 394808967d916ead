"""Passkeys (WebAuthn): enrolment and proof, with single-use challenges.

A challenge is kept in the session and, as a keyed hash, in the store; the
store's conditional UPDATE makes it single use even if an old session cookie
is replayed. Failures count against the username's ``plusz`` counter; a
signature counter that went backwards is refused and audited. A first
passkey needs what any first factor needs (:func:`.enrolment.authorise_first`),
both for its options, so that no authenticator makes a credential in vain,
and for the registration itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from .. import signals
from ..errors import WebauthnFailed
from ..factors import webauthn as wa
from ..store import Account, Factor, FailureOutcome
from .attempts import check_not_locked, count_failure, report_failure
from .base import Context, Deps, attempt_key, audit
from .enrolment import Enrolled, announce, authorise_first, clean_label, finish
from .plusz import PLUSZ_SCOPE

__all__ = ["REGISTER", "SIGN_IN", "begin", "finish_authentication", "finish_registration"]

REGISTER = "webauthn_reg"
SIGN_IN = "webauthn_auth"


def _encoded(challenge: bytes) -> str:
    return base64.urlsafe_b64encode(challenge).decode()


def _user_handle(deps: Deps, account: Account) -> bytes:
    """An opaque, stable WebAuthn user id: no personal data in it."""
    return hashlib.sha256(deps.codes.hash("webauthn-user", str(account.id)).encode()).digest()


def begin(deps: Deps, account: Account, relying: wa.Relying, *, purpose: str) -> tuple[str, bytes]:
    """Options JSON for ``navigator.credentials.create`` (REGISTER) or ``.get`` (SIGN_IN)."""
    challenge = secrets.token_bytes(32)
    with deps.store.transaction() as repo:
        existing = repo.factors(account.id, "webauthn")
        repo.replace_codes(
            account_id=account.id,
            purposes=(purpose,),
            purpose=purpose,
            code_hash=deps.codes.hash("webauthn", _encoded(challenge)),
            now=deps.clock(),
            ttl=deps.config.webauthn_challenge_ttl,
        )
    if purpose == REGISTER:
        options = wa.registration_options(
            relying,
            user_id=_user_handle(deps, account),
            username=account.username,
            display_name=account.username,
            existing=existing,
            challenge=challenge,
        )
    else:
        options = wa.authentication_options(relying, allowed=existing, challenge=challenge)
    return options, challenge


def _use_challenge(deps: Deps, account: Account, purpose: str, challenge: bytes | None) -> bool:
    if challenge is None:
        return False
    with deps.store.transaction() as repo:
        used = repo.consume_code(
            account_id=account.id,
            purposes=(purpose,),
            hashes=deps.codes.candidates("webauthn", _encoded(challenge)),
            now=deps.clock(),
            max_attempts=1,
        )
    return used is not None


def finish_registration(
    deps: Deps,
    ctx: Context,
    account: Account,
    relying: wa.Relying,
    *,
    credential: object,
    challenge: bytes | None,
    label: str | None,
    password: str | None = None,
    auth_time: datetime | None = None,
) -> Enrolled:
    """Verify a new passkey and store it; raises :class:`WebauthnFailed`."""
    name = clean_label(label, "Passkey")
    authorise_first(deps, ctx, account, password=password, auth_time=auth_time)
    if not _use_challenge(deps, account, REGISTER, challenge) or challenge is None:
        raise WebauthnFailed("no live passkey challenge; start again")
    try:
        new = wa.verify_registration(relying, credential, challenge=challenge)
    except wa.VerificationFailed as exc:
        raise WebauthnFailed(str(exc)) from None
    now = deps.clock()
    with deps.store.transaction() as repo:
        if repo.factor_by_credential(new.credential_id) is not None:
            raise WebauthnFailed("this passkey is registered already")
        factor = repo.add_factor(
            Factor(
                account_id=account.id,
                method="webauthn",
                label=name,
                credential_id=new.credential_id,
                public_key=new.public_key,
                sign_count=new.sign_count,
                transports=new.transports,
                aaguid=new.aaguid,
                created_at=now,
            )
        )
        codes = finish(deps, ctx, repo, account, factor)
    announce(deps, ctx, account, factor)
    return Enrolled(factor, codes)


def finish_authentication(
    deps: Deps,
    ctx: Context,
    account: Account,
    relying: wa.Relying,
    *,
    credential: object,
    challenge: bytes | None,
    completes_login: bool = False,
) -> None:
    """Prove a passkey of ``account``; raises :class:`WebauthnFailed` or ``TooManyAttempts``."""
    key = attempt_key(PLUSZ_SCOPE, account.username)
    check_not_locked(deps, key)
    reason = None
    factor = None
    if not _use_challenge(deps, account, SIGN_IN, challenge) or challenge is None:
        reason = "no live passkey challenge; start again"
    else:
        credential_id = wa.credential_id_of(credential)
        with deps.store.transaction() as repo:
            factor = next(
                (
                    f
                    for f in repo.factors(account.id, "webauthn")
                    if credential_id is not None
                    and f.credential_id is not None
                    and hmac.compare_digest(f.credential_id, credential_id)
                ),
                None,
            )
        if factor is None:
            reason = "not a passkey of this account"
    new_count = 0
    clone = False
    if reason is None and factor is not None and challenge is not None:
        try:
            new_count = wa.verify_authentication(
                relying, credential, challenge=challenge, factor=factor
            )
        except wa.CloneSuspected as exc:
            reason, clone = str(exc), True
        except wa.VerificationFailed as exc:
            reason = str(exc)
    now = deps.clock()
    failure: FailureOutcome | None = None
    with deps.store.transaction() as repo:
        if reason is not None or factor is None:
            if clone and factor is not None:
                audit(
                    repo,
                    ctx,
                    "webauthn_clone_suspected",
                    account_id=account.id,
                    at=now,
                    detail={"factor": factor.id},
                )
            failure = count_failure(deps, ctx, repo, key, account, event="plusz_failed")
        elif not repo.advance_sign_count(factor.id, factor.sign_count, new_count, now):
            reason = "this passkey answer was used already"
            failure = count_failure(deps, ctx, repo, key, account, event="plusz_failed")
        else:
            repo.clear_failures(key)
            event = "login" if completes_login else "stepped_up"
            audit(repo, ctx, event, account_id=account.id, at=now, detail={"method": "webauthn"})
    if failure is not None:
        if failure.counted and failure.locked_until is not None:
            deps.notifier.deliver(account, "plusz_failures")
        raise report_failure(deps, failure, account, now=now, error=WebauthnFailed(reason))
    deps.emit(signals.stepped_up, account=account, method="webauthn")
    if completes_login:
        deps.emit(signals.login_succeeded, account=account)
