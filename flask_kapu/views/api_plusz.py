"""The JSON API of Ügyfélkapu+: step-up (``/plusz/*``) and the account's factors (``/factors``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from werkzeug.wrappers import Response

from .. import services
from .. import session as kapu_session
from ..auth import (
    acting_account,
    add_method,
    current_account,
    enrolled_methods,
    rebind,
    refusal,
)
from ..errors import InvalidInput, LoginRequired, NotFound
from ..state import get_state, request_context
from ..store import Account, Factor
from .api import api, fields, read_json, session_body
from .common import (
    login_time,
    rate_limit,
    relying,
    remember_browser,
    require_offered,
    secret_context,
)

__all__ = ["factor_json"]


def factor_json(factor: Factor) -> dict[str, Any]:
    return {
        "id": factor.id,
        "method": factor.method,
        "label": factor.label,
        "created_at": factor.created_at.isoformat(),
        "last_used_at": factor.last_used_at.isoformat() if factor.last_used_at else None,
    }


def _factor_id(raw: str) -> int:
    """A factor id from the path; anything but a positive number is not found (a problem
    document, as the route takes any text)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise NotFound()
    return int(raw)


def logged_in() -> Account:
    if not current_account.is_authenticated:
        raise LoginRequired(extra={"pending": None})
    account: Account = current_account._get_current_object()
    return account


def may_change_factors(account: Account) -> None:
    """A first factor needs a login; another (or a removal) a fresh step-up."""
    if enrolled_methods(account):
        error = refusal(plusz=True, max_age=get_state().config.fresh_plusz_max_age)
        if error is not None:
            raise error


def stepped_up(account: Account, method: str) -> Response:
    add_method(account, method)
    return jsonify(session_body(account))


def remember_asked(data: dict[str, Any]) -> bool:
    """The optional ``remember_browser`` of a second factor: ``true`` or ``false`` (``null``
    is left out), else 422 before any code is judged. Only a login's second factor honours it."""
    value = data.get("remember_browser")
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(errors={"remember_browser": ["type"]})
    return value is True


def login_completed(account: Account, method: str, *, pending: bool, remember: bool) -> Response:
    """The answer to a proven second factor; a login's remembers the browser if asked."""
    response = stepped_up(account, method)
    return remember_browser(response, account) if pending and remember else response


# --- step-up ----------------------------------------------------------------------------


@api.post("/plusz/email")
def plusz_email() -> tuple[Response, int]:
    found = acting_account()
    if found is None:
        raise LoginRequired(extra={"pending": None})
    rate_limit("mail", "plusz-email")
    issued = services.send_email_code(get_state().deps, request_context(), found[0])
    return email_sent(issued)


def email_sent(issued: Any) -> tuple[Response, int]:
    expires_in = int((issued.expires_at - get_state().deps.clock()).total_seconds())
    return jsonify({"session_hint": issued.session_hint, "expires_in": expires_in}), 202


def _verify(method: str) -> Response:
    found = acting_account()
    if found is None:
        raise LoginRequired(extra={"pending": None})
    account, pending = found
    data = read_json()
    values = fields(data, "code")
    remember = remember_asked(data)
    rate_limit("secrets", "plusz")
    services.verify_code(
        get_state().deps,
        request_context(),
        account,
        method=method,
        code=values["code"],
        completes_login=pending,
    )
    return login_completed(account, method, pending=pending, remember=remember)


@api.post("/plusz/email/verify")
def plusz_email_verify() -> Response:
    return _verify("email")


@api.post("/plusz/totp/verify")
def plusz_totp_verify() -> Response:
    return _verify("totp")


@api.post("/plusz/recovery/verify")
def plusz_recovery_verify() -> Response:
    return _verify("recovery")


def _credential(data: dict[str, Any]) -> dict[str, Any]:
    credential = data.get("credential")
    if not isinstance(credential, dict):
        raise InvalidInput(errors={"credential": ["type"]})
    return credential


def _options(options: str) -> Response:
    return current_app.response_class(options, mimetype="application/json")


@api.post("/plusz/webauthn/options")
def plusz_webauthn_options() -> Response:
    found = acting_account()
    if found is None:
        raise LoginRequired(extra={"pending": None})
    rate_limit("secrets", "plusz-webauthn")
    options, challenge = services.passkeys.begin(
        get_state().deps, found[0], relying(), purpose=services.passkeys.SIGN_IN
    )
    kapu_session.remember_challenge(services.passkeys.SIGN_IN, challenge)
    return _options(options)


@api.post("/plusz/webauthn/verify")
def plusz_webauthn_verify() -> Response:
    found = acting_account()
    if found is None:
        raise LoginRequired(extra={"pending": None})
    account, pending = found
    data = read_json()
    credential = _credential(data)
    remember = remember_asked(data)
    rate_limit("secrets", "plusz")
    services.passkeys.finish_authentication(
        get_state().deps,
        request_context(),
        account,
        relying(),
        credential=credential,
        challenge=kapu_session.take_challenge(services.passkeys.SIGN_IN),
        completes_login=pending,
    )
    return login_completed(account, "webauthn", pending=pending, remember=remember)


# --- factors ----------------------------------------------------------------------------


@api.get("/factors")
def factors() -> Response:
    account = logged_in()
    listed = services.enrolment.factors(get_state().deps, account)
    return jsonify({"factors": [factor_json(f) for f in listed]})


@api.post("/factors/email")
def factor_email() -> tuple[Response, int]:
    require_offered("email")
    account = logged_in()
    may_change_factors(account)
    rate_limit("mail", "factor-email")
    issued = services.send_email_code(get_state().deps, request_context(), account, enrolment=True)
    return email_sent(issued)


def enrolled(account: Account, result: services.enrolment.Enrolled) -> tuple[Response, int]:
    add_method(account, result.factor.method)
    body = {"factor": factor_json(result.factor), "recovery_codes": result.recovery_codes}
    return jsonify(body), 201


@api.post("/factors/email/confirm")
def factor_email_confirm() -> tuple[Response, int]:
    require_offered("email")
    account = logged_in()
    values = fields(read_json(), "code", optional=("password",))
    may_change_factors(account)
    rate_limit("secrets", "factor-confirm")
    result = services.enrolment.confirm_email(
        get_state().deps,
        secret_context(),
        account,
        code=values["code"],
        password=values.get("password"),
        auth_time=login_time(),
    )
    return enrolled(account, result)


@api.post("/factors/totp")
def factor_totp() -> Response:
    require_offered("totp")
    account = logged_in()
    values = fields(read_json(), optional=("label",))
    may_change_factors(account)
    started = services.enrolment.start_totp(
        get_state().deps, request_context(), account, label=values.get("label")
    )
    return jsonify(
        {"secret": started.secret, "otpauth_uri": started.otpauth_uri, "qr_svg": started.qr_svg}
    )


@api.post("/factors/totp/confirm")
def factor_totp_confirm() -> tuple[Response, int]:
    require_offered("totp")
    account = logged_in()
    values = fields(read_json(), "password", "code")
    may_change_factors(account)
    rate_limit("secrets", "factor-confirm")
    result = services.enrolment.confirm_totp(
        get_state().deps,
        secret_context(),
        account,
        password=values["password"],
        code=values["code"],
    )
    return enrolled(account, result)


@api.post("/factors/webauthn/options")
def factor_webauthn_options() -> Response:
    require_offered("webauthn")
    account = logged_in()
    password = fields(read_json(), optional=("password",)).get("password")
    may_change_factors(account)
    if password:
        rate_limit("secrets", "factor-confirm")
    services.enrolment.authorise_first(
        get_state().deps, secret_context(), account, password=password, auth_time=login_time()
    )
    options, challenge = services.passkeys.begin(
        get_state().deps, account, relying(), purpose=services.passkeys.REGISTER
    )
    kapu_session.remember_challenge(services.passkeys.REGISTER, challenge)
    return _options(options)


@api.post("/factors/webauthn")
def factor_webauthn() -> tuple[Response, int]:
    require_offered("webauthn")
    account = logged_in()
    data = read_json()
    credential = _credential(data)
    values = fields(data, optional=("label", "password"))
    may_change_factors(account)
    rate_limit("secrets", "factor-confirm")
    result = services.passkeys.finish_registration(
        get_state().deps,
        secret_context(),
        account,
        relying(),
        credential=credential,
        challenge=kapu_session.take_challenge(services.passkeys.REGISTER),
        label=values.get("label"),
        password=values.get("password"),
        auth_time=login_time(),
    )
    return enrolled(account, result)


@api.patch("/factors/<factor_id>")
def factor_rename(factor_id: str) -> Response:
    account = logged_in()
    values = fields(read_json(), "label")
    factor = services.enrolment.rename_factor(
        get_state().deps,
        request_context(),
        account,
        factor_id=_factor_id(factor_id),
        label=values["label"],
    )
    return jsonify(factor_json(factor))


@api.delete("/factors/<factor_id>")
def factor_delete(factor_id: str) -> tuple[str, int]:
    account = logged_in()
    error = refusal(plusz=True, max_age=get_state().config.fresh_plusz_max_age)
    if error is not None:
        raise error
    removed = services.enrolment.remove_factor(
        get_state().deps, request_context(), account, factor_id=_factor_id(factor_id)
    )
    rebind(account, drop=removed.method)
    return "", 204


@api.post("/factors/recovery-codes")
def recovery_codes() -> tuple[Response, int]:
    account = logged_in()
    error = refusal(plusz=True, max_age=get_state().config.fresh_plusz_max_age)
    if error is not None:
        raise error
    codes = services.enrolment.regenerate_recovery_codes(
        get_state().deps, request_context(), account
    )
    return jsonify({"recovery_codes": codes}), 201
