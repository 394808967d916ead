"""Helpers the HTML and JSON views share."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from ..errors import InvalidInput, ServiceUnavailable
from ..factors.webauthn import Relying
from ..state import get_state

__all__ = [
    "MAX_BODY",
    "home_url",
    "language",
    "limit_body",
    "rate_limit",
    "too_long",
    "unavailable",
]

MAX_BODY = 1024 * 1024
MAX_FIELD = 256


def limit_body() -> None:
    """Cap request bodies at ``MAX_CONTENT_LENGTH`` (1 MiB unless the app sets it)."""
    request.max_content_length = current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY


def language() -> str:
    """The request's language, one flask_kapu speaks."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in ("hu", "en") else "hu"


def home_url() -> str:
    endpoint = get_state().config.home_endpoint
    return url_for(endpoint) if endpoint else "/"


def rate_limit(kind: str, scope: str) -> None:
    """Count this request against the per-IP limit named ``kind`` (secrets/register/mail)."""
    state = get_state()
    limit = getattr(state.config, f"ratelimit_{kind}")
    state.limiter.hit_ip(limit, scope)


def too_long(values: dict[str, Any], limit: int = MAX_FIELD) -> None:
    """Refuse any string field over ``limit`` characters before it reaches a service."""
    errors = {
        name: ["too_long_input"]
        for name, value in values.items()
        if isinstance(value, str) and len(value) > limit
    }
    if errors:
        raise InvalidInput(errors=errors)


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
    current_app.logger.exception("database unavailable")
    return ServiceUnavailable()
