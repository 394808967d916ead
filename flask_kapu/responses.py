"""How flask_kapu answers: problem documents, JSON or HTML, safe redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import jsonify, request
from werkzeug.wrappers import Response

from .errors import KapuHTTPError
from .i18n import field_messages, problem_detail

__all__ = ["PROBLEM_JSON", "problem_response", "safe_next", "wants_json"]

PROBLEM_JSON = "application/problem+json"


def wants_json() -> bool:
    """A JSON client: a JSON body, or ``Accept`` preferring JSON over HTML."""
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_JSON])
    return best in {"application/json", PROBLEM_JSON}


def problem_body(error: KapuHTTPError, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": error.status,
        "code": error.problem,
        "title": error.title,
        "detail": problem_detail(error.detail_key or error.problem),
    }
    if error.errors:
        body["errors"] = field_messages(error.errors, **values)
    body.update(error.extra)
    return body


def problem_response(error: KapuHTTPError, **values: Any) -> Response:
    """``application/problem+json`` for ``error``, with its headers (``Retry-After``...)."""
    response = jsonify(problem_body(error, **values))
    response.status_code = error.status
    response.mimetype = PROBLEM_JSON
    response.headers.update(error.headers())
    return response


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a same-origin path, else ``default``."""
    if not target or len(target) > 2048:
        return default
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
