"""Thin view decorators: check the session, hand refusals to a replaceable handler."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .errors import LoginRequired
from .responses import problem_response, wants_json
from .state import get_state

__all__ = ["login_required", "refuse_login"]

P = ParamSpec("P")
R = TypeVar("R")


def refuse_login() -> Response:
    """The default answer to an anonymous request for a protected view."""
    if wants_json():
        return problem_response(LoginRequired())
    return redirect(url_for("kapu.login", next=request.full_path.rstrip("?")))


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let only a logged-in, active account in (any level)."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if not current_user.is_authenticated:
            handler = get_state().unauthorized_handler or refuse_login
            return handler()
        return view(*args, **kwargs)

    return guarded
