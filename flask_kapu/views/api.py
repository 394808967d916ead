"""The JSON API (API.md): thin handlers that parse, call a service, answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response
from wtforms import ValidationError

from .. import services
from .. import session as kapu_session
from ..auth import (
    current_account,
    enrolled_methods,
    pending_account,
    rebind,
    sign_in,
    username_pending_account,
)
from ..errors import (
    CsrfFailed,
    InvalidInput,
    InvalidJson,
    KapuHTTPError,
    LoginRequired,
    NotFound,
)
from ..i18n import problem_detail
from ..levels import acr_for
from ..responses import PROBLEM_JSON, problem_response
from ..state import get_state
from ..store import Account
from .common import (
    check_eid,
    end_session,
    limit_body,
    offers,
    rate_limit,
    register_here,
    remember_device,
    reset_later,
    secret_context,
    security_headers,
    too_long,
    unavailable,
)
from .history import history_json, login_history

__all__ = ["api"]

api = Blueprint("kapu_api", __name__)

_SELF_SERVICE_PERSON = ("family_name", "given_name", "birth_date")
# Fields that may be longer than a name: passwords (the policy bounds them) and signed tokens.
_LONG_FIELDS = frozenset({"password", "current_password", "new_password", "token"})


api.after_request(security_headers)


@api.before_request
def _guard() -> None:
    limit_body()
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            raise CsrfFailed() from None


@api.errorhandler(KapuHTTPError)
def _kapu_error(error: KapuHTTPError) -> Response:
    config = get_state().config
    return problem_response(
        error, min_length=config.password_min_length, max_length=config.password_max_length
    )


@api.errorhandler(DBAPIError)
def _database_error(error: DBAPIError) -> Response:
    return problem_response(unavailable(error))


@api.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    problem = {
        413: "payload_too_large",
        404: "not_found",
        405: "method_not_allowed",
        500: "server_error",
    }
    response = jsonify(
        {
            "status": status,
            "code": problem.get(status, "bad_request"),
            "title": error.name,
            "detail": error.description,
        }
    )
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def read_json() -> dict[str, Any]:
    """The request body as a JSON object; empty bodies are ``{}``."""
    if not request.get_data(cache=True):
        return {}
    try:
        data = request.get_json(force=True)
    except (BadRequest, RecursionError):  # nesting deeper than the parser's stack
        raise InvalidJson() from None
    if not isinstance(data, dict):
        raise InvalidInput(errors={"body": ["type"]})
    return data


def fields(data: dict[str, Any], *names: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """String fields ``names`` (required) and ``optional`` of ``data``, or 422."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in (*names, *optional):
        value = data.get(name)
        if value is None:
            if name in names:
                errors[name] = ["required"]
        elif not isinstance(value, str):
            errors[name] = ["type"]
        elif not _encodable(value):
            errors[name] = ["text"]
        else:
            values[name] = value
    if errors:
        raise InvalidInput(errors=errors)
    too_long({k: v for k, v in values.items() if k in _LONG_FIELDS}, limit=4096)
    too_long({k: v for k, v in values.items() if k not in _LONG_FIELDS})
    return values


def _encodable(value: str) -> bool:
    """JSON can carry lone surrogates (``"\\ud800"``); no real text contains them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def accepted_terms(data: dict[str, Any]) -> None:
    if data.get("accept_terms") is not True:
        raise InvalidInput(errors={"accept_terms": ["accept_terms"]})


def session_body(account: Account | None = None) -> dict[str, Any]:
    """The ``GET /session`` document of this session."""
    if account is None and current_account.is_authenticated:
        account = current_account._get_current_object()
    proof = kapu_session.current_proof() if account is not None else None
    body: dict[str, Any] = {
        "authenticated": False,
        "username": None,
        "level": "none",
        "acr": None,
        "methods_used": [],
        "auth_time": None,
        "plusz_time": None,
        "enrolled_methods": [],
        "pending": None,
        **history_json(None),
    }
    if account is not None and proof is not None:
        plusz_time = proof.plusz_time
        body.update(
            authenticated=True,
            username=account.username,
            level=proof.level.label,
            acr=acr_for(proof.methods),
            methods_used=sorted(proof.methods),
            auth_time=proof.auth_time.isoformat(),
            plusz_time=plusz_time.isoformat() if plusz_time else None,
            enrolled_methods=enrolled_methods(account),
            **history_json(login_history(proof)),
        )
    elif username_pending_account() is not None:
        body.update(pending="username")
    else:
        waiting = pending_account()
        if waiting is not None:
            with get_state().deps.store.reading() as repo:
                methods = services.usable_methods(repo, waiting)
            body.update(pending="second_factor", methods=methods)
    body["csrf_token"] = generate_csrf()
    return body


def signed_in(result: services.SignedIn) -> Response:
    """Answer a proven password: the new session, complete or waiting for a second factor."""
    sign_in(result)
    body = session_body(None if result.second_factor else result.account)
    return jsonify({**body, "browser_remembered": result.remembered})


@api.get("/session")
def session_view() -> Response:
    return jsonify(session_body())


@api.post("/register")
def register() -> tuple[Response, int]:
    if not offers("self_service"):
        raise NotFound()
    data = read_json()
    values = fields(data, "username", "email")
    state = get_state()
    person = services.validate_person(
        data.get("person"), required=_SELF_SERVICE_PERSON, today=state.deps.clock().date()
    )
    accepted_terms(data)
    result = register_here(
        username=values["username"], email=values["email"], person=person, via="self"
    )
    return registered(result)


def registered(result: services.Registration) -> tuple[Response, int]:
    body: dict[str, Any] = {"status": "pending_activation", "mail_sent": result.mail_sent}
    if not result.mail_sent:
        body["detail"] = problem_detail("mail_failed")
    return jsonify(body), 201


@api.post("/register/eid/check")
def eid_check() -> Response:
    if not offers("eid"):
        raise NotFound()
    values = fields(read_json(), "document_id", "registration_code")
    person, token = check_eid(values["document_id"], values["registration_code"])
    return jsonify({"person": person, "token": token})


@api.post("/register/eid")
def eid_register() -> tuple[Response, int]:
    if not offers("eid"):
        raise NotFound()
    state = get_state()
    data = read_json()
    values = fields(data, "token", "username", "email")
    accepted_terms(data)
    person = state.eid_tokens.person(values["token"])
    result = register_here(
        username=values["username"], email=values["email"], person=person, via="eid"
    )
    return registered(result)


@api.post("/activate")
@api.post("/password/reset")
def use_code() -> Response:
    values = fields(read_json(), "username", "code", "new_password")
    rate_limit("secrets", "code")
    result = services.use_password_code(
        get_state().deps,
        secret_context(),
        username=values["username"],
        code=values["code"],
        new_password=values["new_password"],
    )
    return remember_device(signed_in(result), result.account)


@api.post("/login")
def login() -> Response:
    values = fields(read_json(), "username", "password")
    rate_limit("secrets", "login")
    result = services.login(
        get_state().deps,
        secret_context(),
        username=values["username"],
        password=values["password"],
    )
    return signed_in(result)  # a completed login marks the browser known (views.history)


@api.post("/logout")
def logout() -> tuple[str, int]:
    end_session()
    return "", 204


@api.post("/password/forgot")
def forgot() -> tuple[Response, int]:
    values = fields(read_json(), "username", "email")
    reset_later(username=values["username"], email=values["email"])
    return jsonify({}), 202


@api.post("/password/change")
def change_password() -> Response:
    if not current_account.is_authenticated:
        raise LoginRequired()
    values = fields(read_json(), "current_password", "new_password")
    rate_limit("secrets", "password-change")
    account = services.change_password(
        get_state().deps,
        secret_context(),
        account=current_account._get_current_object(),
        current_password=values["current_password"],
        new_password=values["new_password"],
    )
    rebind(account)
    return jsonify(session_body(account))
