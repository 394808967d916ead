"""Helpers the HTML and JSON views share."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from flask import current_app, g, request, url_for
from flask_babel import get_locale
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response

from .. import devices, i18n, services
from .. import session as kapu_session
from ..errors import EidNotRecognised, InvalidInput, NotFound, ServiceUnavailable
from ..factors.webauthn import Relying
from ..identity import normalize_document_id, normalize_registration_code
from ..state import get_state, request_context
from ..store import Account

__all__ = [
    "MAX_BODY",
    "check_eid",
    "end_session",
    "home_url",
    "language",
    "limit_body",
    "login_time",
    "offers",
    "rate_limit",
    "register_here",
    "relying",
    "remember_browser",
    "remember_device",
    "require_offered",
    "reset_later",
    "secret_context",
    "security_headers",
    "too_long",
    "unavailable",
]

MAX_BODY = 1024 * 1024
MAX_FIELD = 256
#: The "remember this browser" cookie: a random token, its keyed hash in ``kapu_trusted_browser``.
TRUSTED_COOKIE = "kapu_trusted"


def limit_body() -> None:
    """Cap request bodies at ``MAX_CONTENT_LENGTH`` (1 MiB unless the app sets it)."""
    request.max_content_length = current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY


def language() -> str:
    """The request's language: Hungarian, English or one the app added a catalogue for."""
    locale = get_locale()
    return str(locale) if locale is not None and str(locale) in i18n.languages() else "hu"


def home_url() -> str:
    """``KAPU_HOME_ENDPOINT``; else the app's ``/`` if it routes one, else the account's
    own page, so that a login never lands on a page that does not exist."""
    endpoint = get_state().config.home_endpoint
    if endpoint:
        return url_for(endpoint)
    if current_app.url_map.bind("").test("/", "GET"):
        return "/"
    return url_for("kapu.security")


def rate_limit(kind: str, scope: str) -> None:
    """Count this request against the per-IP limit named ``kind`` (secrets/register/mail)."""
    state = get_state()
    limit = getattr(state.config, f"ratelimit_{kind}")
    state.limiter.hit_ip(limit, scope)


def secret_context() -> services.Context:
    """The request's context for a typed password or code: with the browser's device cookie,
    so that its failures count apart from strangers', and its "remember this browser" token
    (a login checks it)."""
    state = get_state()
    device = devices.presented(max_age=state.config.device_cookie_max_age, now=state.deps.clock())
    trusted = request.cookies.get(TRUSTED_COOKIE) or None
    return dataclasses.replace(request_context(), device=device, trusted_browser=trusted)


def remember_browser(response: Response, account: Account) -> Response:
    """Remember this browser for ``account`` (it asked to, finishing a login's second factor):
    the token goes into an HttpOnly cookie for the login pages and API, the row keeps its hash.
    Nothing happens when the app does not offer it (``KAPU_REMEMBER_BROWSER_DAYS = 0``)."""
    state = get_state()
    remembered = services.trusted.remember(state.deps, request_context(), account)
    if remembered is not None:
        response.set_cookie(
            TRUSTED_COOKIE,
            remembered.token,
            max_age=state.config.remember_browser_days * 24 * 60 * 60,
            path=state.config.url_prefix,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def remember_device(response: Response, account: Account) -> Response:
    """Mark this browser as one that has logged in to ``account`` (the device cookie)."""
    state = get_state()
    devices.remember(
        response,
        account,
        max_age=state.config.device_cookie_max_age,
        path=state.config.url_prefix,
        now=state.deps.clock(),
    )
    return response


def reset_later(*, username: str, email: str) -> None:
    """Forgot password: the lookup, the code and the mail run after the answer, so that
    the answer takes the same time whether or not the account exists (per-IP limited)."""
    rate_limit("mail", "forgot")
    state = get_state()
    state.notifier.run_later(
        partial(
            services.request_reset,
            state.deps,
            request_context(),
            username=username,
            email=email,
        )
    )


def too_long(values: dict[str, Any], limit: int = MAX_FIELD) -> None:
    """Refuse any string field over ``limit`` characters before it reaches a service."""
    errors = {
        name: ["too_long_input"]
        for name, value in values.items()
        if isinstance(value, str) and len(value) > limit
    }
    if errors:
        raise InvalidInput(errors=errors)


def offers(method: str) -> bool:
    """Whether the app offers the registration ``method`` (``KAPU_REGISTRATION_METHODS``);
    e-ID registration also needs an identity registry."""
    state = get_state()
    offered = method in state.config.registration_methods
    return offered and (method != "eid" or state.registry is not None)


def register_here(
    *, username: str, email: str, person: Mapping[str, Any] | None, via: str
) -> services.Registration:
    """Register from this request (its language, address and rate limit)."""
    rate_limit("register", "register")
    return services.register(
        get_state().deps,
        request_context(),
        username=username,
        email=email,
        person=person,
        via=via,
        language=language(),
    )


def check_eid(raw_document_id: str, raw_registration_code: str) -> tuple[dict[str, Any], str]:
    """Look a card up in the registry: its person and a registration token.

    Raises :class:`InvalidInput` for malformed card data, :class:`EidNotRecognised`
    or ``TooManyAttempts`` (per address and per document).
    """
    state = get_state()
    document_id = normalize_document_id(raw_document_id)
    code = normalize_registration_code(raw_registration_code)
    errors = {}
    if document_id is None:
        errors["document_id"] = ["document_id"]
    if code is None:
        errors["registration_code"] = ["registration_code"]
    if errors or document_id is None or code is None or state.registry is None:
        raise InvalidInput(errors=errors)
    rate_limit("secrets", "eid")
    state.limiter.hit(state.config.eid_check_limit, "eid-document", document_id)
    person = state.registry.lookup(document_id, code)
    if person is None:
        raise EidNotRecognised()
    return dict(person), state.eid_tokens.issue(person, document_id)


def end_session() -> None:
    """Log out: the session ends first, so logging out works even with the database down;
    revoking its session row and recording it is best effort."""
    proof = kapu_session.current_proof()
    token = kapu_session.session_token()
    kapu_session.end()
    if proof is None:
        return
    try:
        services.logout(
            get_state().deps, request_context(), account_id=proof.account_id, token=token
        )
    except DBAPIError:
        current_app.logger.warning("logout not recorded: database unavailable")


def require_offered(method: str) -> None:
    """Enrolling a method the app does not offer (``KAPU_SECOND_FACTORS``) is not found."""
    if method not in get_state().config.second_factors:
        raise NotFound()


def login_time() -> datetime | None:
    """When this session's login happened: a first factor wants it recent, or the password."""
    proof = kapu_session.current_proof()
    return proof.auth_time if proof is not None else None


def relying() -> Relying:
    """The WebAuthn relying party: configured, or (development) this request's host and origin."""
    config = get_state().config
    origin = f"{request.scheme}://{request.host}"
    return Relying(
        rp_id=config.webauthn_rp_id or request.host.rsplit(":", 1)[0].strip("[]"),
        rp_name=config.webauthn_rp_name,
        origins=config.webauthn_origins or (origin,),
    )


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def security_headers(response: Response) -> Response:
    """Headers every flask_kapu page and API answer carries (a host's own values win)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint != "kapu.static":
        headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def unavailable(_error: Exception) -> ServiceUnavailable:
    """The answer while the database is down; the error page then loads no account."""
    g._kapu_store_down = True
    current_app.logger.exception("database unavailable")
    return ServiceUnavailable()
