"""The OpenAPI 3.1 document of the JSON API, served at ``{prefix}/api/openapi.json``.

Paths are absolute (they include the prefix). Every operation lists the
problem answers it can give, so generated clients and schema checkers see
the same contract as API.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response, jsonify

from ..state import get_state
from .api import api
from .common import offers

__all__ = ["document"]

_STR = {"type": "string"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_METHODS = {"type": "array", "items": {"type": "string"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": required, "properties": properties}
            }
        },
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict[str, Any]:
    """Problem answers every POST can give, plus ``statuses``."""
    answers = {400, 413, 422, 429, 503, *statuses}
    problem = {"application/problem+json": {"schema": _ref("Problem")}}
    return {
        str(s): {"description": "A problem (RFC 9457)", "content": problem} for s in sorted(answers)
    }


def _operation(
    summary: str,
    success: tuple[int, dict[str, Any]],
    *,
    body: dict[str, Any] | None = None,
    errors: tuple[int, ...] = (),
    tag: str = "account",
) -> dict[str, Any]:
    status, answer = success
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {str(status): answer, **_problems(*errors)},
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _session_answer(status: int = 200) -> tuple[int, dict[str, Any]]:
    return status, _json(_ref("Session"), "The session after the change")


#: Operations served only when the app offers a way in (``KAPU_REGISTRATION_METHODS``).
REGISTRATION_PATHS = {
    "/register": "self_service",
    "/register/eid/check": "eid",
    "/register/eid": "eid",
}
_OFFERED = {
    "self_service": "Served when `KAPU_REGISTRATION_METHODS` includes `self_service`.",
    "eid": "Served when `KAPU_REGISTRATION_METHODS` includes `eid` and the app passes "
    "`Kapu(registry=...)`.",
}


def document(
    prefix: str, *, registration: Iterable[str] = ("self_service", "eid")
) -> dict[str, Any]:
    """The OpenAPI document for an API mounted at ``prefix`` (e.g. ``/kapu/api``), with the
    registration operations of the ways in the app offers (``registration``)."""
    # Honoured when the second factor completes a login and KAPU_REMEMBER_BROWSER_DAYS > 0.
    remember = {
        "type": "boolean",
        "description": "Remember this browser: its next login skips the second factor",
    }
    code_body = _body(["code"], {"code": _STR, "remember_browser": remember})
    # The current password: a first factor needs it unless the login is a few minutes old.
    password = {
        "type": "string",
        "description": "The current password (see KAPU_FRESH_LOGIN_MAX_AGE)",
    }
    credential_body = _body(
        ["credential"],
        {"credential": {"type": "object"}, "label": _STR, "password": password},
    )
    passkey_body = _body(
        ["credential"], {"credential": {"type": "object"}, "remember_browser": remember}
    )
    empty = (204, {"description": "Done"})
    sent = (202, _json(_ref("CodeSent"), "A code was mailed"))
    enrolled = (201, _json(_ref("Enrolled"), "The factor is enrolled"))
    options = (200, _json({"type": "object"}, "WebAuthn options (py_webauthn options_to_json)"))
    paths: dict[str, Any] = {
        "/session": {
            "get": {
                "summary": "This session: who, which level, the CSRF token",
                "tags": ["account"],
                "responses": {"200": _json(_ref("Session"), "The session")},
            }
        },
        "/register": {
            "post": _operation(
                "Self-service registration",
                (201, _json(_ref("Registered"), "A pending account; the code is mailed")),
                body=_body(
                    ["username", "email", "accept_terms", "person"],
                    {
                        "username": _STR,
                        "email": _STR,
                        "accept_terms": {"type": "boolean"},
                        "person": _ref("PersonInput"),
                    },
                ),
                errors=(409,),
            )
        },
        "/register/eid/check": {
            "post": _operation(
                "Look up an e-ID card in the identity registry",
                (200, _json(_ref("EidCheck"), "The person on the card and a registration token")),
                body=_body(
                    ["document_id", "registration_code"],
                    {"document_id": _STR, "registration_code": _STR},
                ),
                errors=(404,),
            )
        },
        "/register/eid": {
            "post": _operation(
                "Registration with a checked e-ID card",
                (201, _json(_ref("Registered"), "A pending account; the code is mailed")),
                body=_body(
                    ["token", "username", "email", "accept_terms"],
                    {
                        "token": _STR,
                        "username": _STR,
                        "email": _STR,
                        "accept_terms": {"type": "boolean"},
                    },
                ),
                errors=(404, 409),
            )
        },
        "/activate": {
            "post": _operation(
                "Activate with the mailed code and set the password",
                _session_answer(),
                body=_body(
                    ["username", "code", "new_password"],
                    {"username": _STR, "code": _STR, "new_password": _STR},
                ),
            )
        },
        "/login": {
            "post": _operation(
                "Log in with username and password",
                _session_answer(),
                body=_body(["username", "password"], {"username": _STR, "password": _STR}),
                errors=(401,),
            )
        },
        "/username": {
            "post": _operation(
                "Choose a valid username for an imported account (login `pending: username`)",
                _session_answer(),
                body=_body(["username"], {"username": _STR}),
                errors=(401, 409),
            )
        },
        "/logout": {"post": _operation("Log out", empty)},
        "/password/forgot": {
            "post": _operation(
                "Ask for a reset code (same answer whatever the input)",
                (202, _json({"type": "object", "maxProperties": 0}, "Accepted")),
                body=_body(["username", "email"], {"username": _STR, "email": _STR}),
            )
        },
        "/password/reset": {
            "post": _operation(
                "Set a new password with a reset or activation code",
                _session_answer(),
                body=_body(
                    ["username", "code", "new_password"],
                    {"username": _STR, "code": _STR, "new_password": _STR},
                ),
            )
        },
        "/password/change": {
            "post": _operation(
                "Change the password (other sessions end)",
                _session_answer(),
                body=_body(
                    ["current_password", "new_password"],
                    {"current_password": _STR, "new_password": _STR},
                ),
                errors=(401,),
            )
        },
        "/plusz/email": {
            "post": _operation("Mail a step-up code", sent, errors=(401, 403), tag="plusz")
        },
        "/plusz/email/verify": {
            "post": _operation(
                "Step up with the mailed code",
                _session_answer(),
                body=code_body,
                errors=(401, 403),
                tag="plusz",
            )
        },
        "/plusz/totp/verify": {
            "post": _operation(
                "Step up with an authenticator code",
                _session_answer(),
                body=code_body,
                errors=(401, 403),
                tag="plusz",
            )
        },
        "/plusz/recovery/verify": {
            "post": _operation(
                "Step up with a recovery code",
                _session_answer(),
                body=code_body,
                errors=(401,),
                tag="plusz",
            )
        },
        "/plusz/webauthn/options": {
            "post": _operation("Passkey request options", options, errors=(401,), tag="plusz")
        },
        "/plusz/webauthn/verify": {
            "post": _operation(
                "Step up with a passkey",
                _session_answer(),
                body=passkey_body,
                errors=(401,),
                tag="plusz",
            )
        },
        "/factors": {
            "get": {
                "summary": "The account's second factors",
                "tags": ["factors"],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["factors"],
                            "properties": {"factors": {"type": "array", "items": _ref("Factor")}},
                        },
                        "The factors",
                    ),
                    **{k: v for k, v in _problems(401).items() if k in {"401", "503"}},
                },
            }
        },
        "/factors/email": {
            "post": _operation(
                "Mail a code to enrol the e-mail factor", sent, errors=(401, 403), tag="factors"
            )
        },
        "/factors/email/confirm": {
            "post": _operation(
                "Enrol the e-mail factor",
                enrolled,
                body=_body(["code"], {"code": _STR, "password": password}),
                errors=(401, 403),
                tag="factors",
            )
        },
        "/factors/totp": {
            "post": _operation(
                "Start enrolling an authenticator app",
                (200, _json(_ref("TotpStart"), "The key, its URI and QR code")),
                errors=(401, 403),
                tag="factors",
            )
        },
        "/factors/totp/confirm": {
            "post": _operation(
                "Confirm the authenticator with the password and a code",
                enrolled,
                body=_body(["password", "code"], {"password": _STR, "code": _STR}),
                errors=(401, 403),
                tag="factors",
            )
        },
        "/factors/webauthn/options": {
            "post": _operation(
                "Passkey creation options",
                options,
                body={**_body([], {"password": password}), "required": False},
                errors=(401, 403),
                tag="factors",
            )
        },
        "/factors/webauthn": {
            "post": _operation(
                "Enrol a passkey", enrolled, body=credential_body, errors=(401, 403), tag="factors"
            )
        },
        "/factors/{factor_id}": {
            "parameters": [
                {
                    "name": "factor_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
            ],
            "patch": _operation(
                "Rename a factor",
                (200, _json(_ref("Factor"), "The renamed factor")),
                body=_body(["label"], {"label": _STR}),
                errors=(401, 404),
                tag="factors",
            ),
            "delete": _operation(
                "Remove a factor (needs a fresh step-up; other sessions end)",
                empty,
                errors=(401, 403, 404),
                tag="factors",
            ),
        },
        "/account/close": {
            "post": _operation(
                "Close the account for good: personal data, factors and sessions are erased, "
                "the username stays reserved, this session ends (needs a fresh step-up; "
                "an account without a factor, the password)",
                empty,
                body=_body(["confirm"], {"confirm": {"const": True}, "password": password}),
                errors=(401, 403),
            )
        },
        "/account/export": {
            "get": {
                "summary": "Everything stored about the account but its secrets "
                "(needs a fresh step-up when the account has a factor)",
                "tags": ["account"],
                "responses": {
                    "200": _json(_ref("AccountExport"), "The account's data"),
                    **{k: v for k, v in _problems(401, 403).items() if k in {"401", "403", "503"}},
                },
            }
        },
        "/browsers/{trusted_id}": {
            "parameters": [
                {
                    "name": "trusted_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
            ],
            "delete": _operation(
                "Forget a remembered browser: its next login asks for the second factor",
                empty,
                errors=(401, 404),
                tag="sessions",
            ),
        },
        "/factors/recovery-codes": {
            "post": _operation(
                "A new set of recovery codes (needs a fresh step-up)",
                (
                    201,
                    _json(
                        {
                            "type": "object",
                            "required": ["recovery_codes"],
                            "properties": {"recovery_codes": {"type": "array", "items": _STR}},
                        },
                        "Ten new codes",
                    ),
                ),
                errors=(401, 403),
                tag="factors",
            )
        },
        "/activity": {
            "get": {
                "summary": "The account's last 20 events in plain words, newest first "
                "(a burst of the same failure is one entry with its count)",
                "tags": ["account"],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {"events": {"type": "array", "items": _ref("Activity")}},
                        },
                        "The activity",
                    ),
                    **{k: v for k, v in _problems(401).items() if k in {"401", "503"}},
                },
            }
        },
        "/sessions": {
            "get": {
                "summary": "Where the account is logged in (`current` marks this session) "
                "and the browsers it remembers",
                "tags": ["sessions"],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["sessions", "browsers"],
                            "properties": {
                                "sessions": {"type": "array", "items": _ref("LoginSession")},
                                "browsers": {"type": "array", "items": _ref("RememberedBrowser")},
                            },
                        },
                        "The live sessions and the remembered browsers, newest first",
                    ),
                    **{k: v for k, v in _problems(401).items() if k in {"401", "503"}},
                },
            }
        },
        "/sessions/{session_id}": {
            "parameters": [
                {
                    "name": "session_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
            ],
            "delete": _operation(
                "End a session: another one needs a fresh step-up; this one is a logout",
                empty,
                errors=(401, 403, 404),
                tag="sessions",
            ),
        },
        "/sessions/end-others": {
            "post": _operation(
                "End every other session of the account (needs a fresh step-up)",
                (
                    200,
                    _json(
                        {
                            "type": "object",
                            "required": ["ended"],
                            "properties": {"ended": {"type": "integer", "minimum": 0}},
                        },
                        "How many sessions were ended",
                    ),
                ),
                errors=(401, 403),
                tag="sessions",
            )
        },
    }
    offered = set(registration)
    for path, method in REGISTRATION_PATHS.items():
        if method in offered:
            paths[path]["post"]["description"] = _OFFERED[method]
        else:
            del paths[path]
    csrf: list[dict[str, list[str]]] = [{"csrf": []}]
    for item in paths.values():
        for method, operation in item.items():
            if method in {"post", "patch", "delete"}:
                operation["security"] = csrf
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "flask_kapu JSON API",
            "version": "1",
            "description": "Ügyfélkapu accounts and Ügyfélkapu+ step-up for single-page apps. "
            "Every state-changing request needs the CSRF token of GET /session in X-CSRFToken.",
        },
        "paths": {f"{prefix}{path}": item for path, item in paths.items()},
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"}},
        },
    }


def _schemas() -> dict[str, Any]:
    person = {
        "type": "object",
        "properties": {
            k: _STR
            for k in (
                "family_name",
                "given_name",
                "birth_date",
                "birth_place",
                "mother_name",
                "address",
            )
        },
    }
    return {
        "Problem": {
            "type": "object",
            "required": ["status", "code", "title", "detail"],
            "properties": {
                "status": {"type": "integer"},
                "code": _STR,
                "title": _STR,
                "detail": _STR,
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": _STR},
                },
                "methods": _METHODS,
                "enroll_methods": _METHODS,
                "max_age": {"type": "integer"},
                "pending": {"type": ["string", "null"]},
                "retry_after": {"type": "integer"},
            },
        },
        "Session": {
            "type": "object",
            "required": [
                "authenticated",
                "username",
                "level",
                "acr",
                "methods_used",
                "auth_time",
                "plusz_time",
                "enrolled_methods",
                "pending",
                "last_login",
                "failed_since",
                "csrf_token",
            ],
            "properties": {
                "authenticated": {"type": "boolean"},
                "username": {"type": ["string", "null"]},
                "level": {"enum": ["none", "ugyfelkapu", "plusz"]},
                "acr": {"type": ["string", "null"]},
                "methods_used": _METHODS,
                "auth_time": _TIME,
                "plusz_time": _TIME,
                "enrolled_methods": _METHODS,
                "pending": {"enum": [None, "second_factor", "username"]},
                "methods": _METHODS,
                "last_login": {
                    "oneOf": [{"type": "null"}, _ref("LastLogin")],
                    "description": "The login before this session's; null for the first, "
                    "or without a login",
                },
                "failed_since": {
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "description": "Wrong passwords and codes typed on the account between "
                    "that login and this one; null without a login",
                },
                "csrf_token": _STR,
                "browser_remembered": {
                    "type": "boolean",
                    "description": "Login answers: the second factor was skipped because this "
                    "browser is remembered (the level is still ugyfelkapu)",
                },
            },
        },
        "PersonInput": person,
        "Registered": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"const": "pending_activation"},
                "mail_sent": {"type": "boolean"},
                "detail": _STR,
            },
        },
        "EidCheck": {
            "type": "object",
            "required": ["person", "token"],
            "properties": {"person": person, "token": _STR},
        },
        "CodeSent": {
            "type": "object",
            "required": ["session_hint", "expires_in"],
            "properties": {
                "session_hint": {"type": "string", "pattern": "^[0-9]{3}$"},
                "expires_in": {"type": "integer"},
            },
        },
        "Factor": {
            "type": "object",
            "required": ["id", "method", "label", "created_at", "last_used_at"],
            "properties": {
                "id": {"type": "integer"},
                "method": _STR,
                "label": _STR,
                "created_at": {"type": "string", "format": "date-time"},
                "last_used_at": _TIME,
            },
        },
        "Enrolled": {
            "type": "object",
            "required": ["factor", "recovery_codes"],
            "properties": {
                "factor": _ref("Factor"),
                "recovery_codes": {"type": "array", "items": _STR},
            },
        },
        "LastLogin": {
            "type": "object",
            "required": ["at", "ip", "browser"],
            "properties": {
                "at": {"type": "string", "format": "date-time"},
                "ip": {"type": ["string", "null"]},
                "browser": {
                    "type": ["string", "null"],
                    "description": "Browser and system, e.g. Firefox 128 on Windows 10",
                },
            },
        },
        "Activity": {
            "type": "object",
            "required": ["event", "label", "at", "last_at", "count", "ip", "browser"],
            "properties": {
                "event": {"type": "string", "description": "The audit event, e.g. login"},
                "label": {
                    "type": "string",
                    "description": "In plain words, in the request's language",
                },
                "at": {"type": "string", "format": "date-time"},
                "last_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "The last of a burst of the same failure (else = at)",
                },
                "count": {"type": "integer", "minimum": 1},
                "ip": {"type": ["string", "null"]},
                "browser": {"type": ["string", "null"]},
            },
        },
        "LoginSession": {
            "type": "object",
            "required": [
                "id",
                "current",
                "browser",
                "ip",
                "created_at",
                "last_seen_at",
                "expires_at",
                "level",
                "methods",
            ],
            "properties": {
                "id": {"type": "integer"},
                "current": {"type": "boolean"},
                "browser": {"type": ["string", "null"]},
                "ip": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "last_seen_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "level": {"enum": ["ugyfelkapu", "plusz"]},
                "methods": _METHODS,
            },
        },
        "AccountExport": {
            "type": "object",
            "required": [
                "exported_at",
                "account",
                "person",
                "factors",
                "recovery_codes_left",
                "sessions",
                "trusted_browsers",
                "events",
            ],
            "properties": {
                "exported_at": {"type": "string", "format": "date-time"},
                "account": {
                    "type": "object",
                    "required": ["username", "email", "status", "language", "created_at"],
                    "properties": {
                        "username": _STR,
                        "email": _STR,
                        "status": _STR,
                        "language": _STR,
                        "registered_via": _STR,
                        "created_at": {"type": "string", "format": "date-time"},
                        "activated_at": _TIME,
                        "password_changed_at": _TIME,
                        "imported_username": {"type": ["string", "null"]},
                    },
                },
                "person": {"type": ["object", "null"]},
                "factors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["method", "label", "created_at"],
                        "properties": {
                            "method": _STR,
                            "label": _STR,
                            "created_at": {"type": "string", "format": "date-time"},
                            "confirmed_at": _TIME,
                            "last_used_at": _TIME,
                        },
                    },
                },
                "recovery_codes_left": {"type": "integer", "minimum": 0},
                "sessions": {"type": "array", "items": {"type": "object"}},
                "trusted_browsers": {"type": "array", "items": {"type": "object"}},
                "events": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["event", "at"],
                        "properties": {
                            "event": _STR,
                            "at": {"type": "string", "format": "date-time"},
                            "ip": {"type": ["string", "null"]},
                            "user_agent": {"type": ["string", "null"]},
                            "detail": {"type": ["object", "null"]},
                        },
                    },
                },
            },
        },
        "RememberedBrowser": {
            "type": "object",
            "required": ["id", "browser", "ip", "created_at", "expires_at", "last_used_at"],
            "properties": {
                "id": {"type": "integer"},
                "browser": {"type": ["string", "null"]},
                "ip": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "last_used_at": _TIME,
            },
        },
        "TotpStart": {
            "type": "object",
            "required": ["secret", "otpauth_uri", "qr_svg"],
            "properties": {"secret": _STR, "otpauth_uri": _STR, "qr_svg": _STR},
        },
    }


@api.get("/openapi.json")
def openapi() -> Response:
    offered = [method for method in _OFFERED if offers(method)]
    return jsonify(document(get_state().config.api_prefix, registration=offered))
