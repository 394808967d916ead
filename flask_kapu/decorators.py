"""Thin view decorators: ask :func:`~flask_kapu.auth.refusal`, hand refusals to a handler.

The handlers are replaceable (``kapu.unauthorized_handler``,
``kapu.plusz_required_handler``, ``kapu.enrollment_required_handler``), like
Flask-Login's ``unauthorized_handler``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar, overload

from flask import current_app, make_response, redirect, request, url_for
from werkzeug.wrappers import Response

from . import session as kapu_session
from .auth import pending_step, refusal
from .errors import EnrollmentRequired, KapuHTTPError, LoginRequired, PluszRequired
from .levels import Level
from .responses import problem_response, wants_json
from .state import get_state

__all__ = [
    "login_required",
    "refuse",
    "refuse_enrollment",
    "refuse_login",
    "refuse_plusz",
    "requires_level",
    "requires_plusz",
]

P = ParamSpec("P")
R = TypeVar("R")

#: Methods let through unchecked, as Flask-Login's ``EXEMPT_METHODS``: a CORS preflight
#: carries no cookie, so a view that answers ``OPTIONS`` itself must see it.
EXEMPT_METHODS = frozenset({"OPTIONS"})


def _here() -> str:
    return request.full_path.rstrip("?")


def _answer_json() -> bool:
    """A JSON client, or any client when the app serves no pages (``KAPU_PAGES``)."""
    return wants_json() or not get_state().config.pages


def refuse_login() -> Response:
    """Default answer to a request without a (complete) login."""
    step = pending_step()
    if _answer_json():
        return problem_response(LoginRequired(extra={"pending": step}))
    if step == "username":
        return redirect(url_for("kapu.choose_username", next=_here()))
    if step is not None:
        return redirect(url_for("kapu.plusz", next=_here()))
    timed_out = 1 if kapu_session.pending_expired() else None
    return redirect(url_for("kapu.login", next=_here(), timed_out=timed_out))


def refuse_plusz(error: PluszRequired) -> Response:
    """Default answer when the view needs a step-up: the step-up page, or 401 with a challenge."""
    if _answer_json():
        return problem_response(error)
    return redirect(url_for("kapu.plusz", next=_here()))


def refuse_enrollment(error: EnrollmentRequired) -> Response:
    """Default answer when the account has no acceptable factor: enrolment, or 403."""
    if _answer_json():
        return problem_response(error)
    return redirect(url_for("kapu.security", next=_here()))


def refuse(error: KapuHTTPError) -> Response:
    """Hand ``error`` to the app's handler for it."""
    handlers = get_state().handlers
    if isinstance(error, PluszRequired):
        return handlers.get("plusz_required", refuse_plusz)(error)
    if isinstance(error, EnrollmentRequired):
        return handlers.get("enrollment_required", refuse_enrollment)(error)
    return handlers.get("unauthorized", refuse_login)()


def _guard(
    view: Callable[P, R], *, plusz: bool, max_age: timedelta | None, methods: frozenset[str] | None
) -> Callable[P, R | Response]:
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        # ``ensure_sync`` runs an ``async def`` view, as Flask and Flask-Login do.
        run: Callable[P, R] = current_app.ensure_sync(view)
        if request.method in EXEMPT_METHODS:
            return run(*args, **kwargs)
        error = refusal(plusz=plusz, max_age=max_age, methods=methods)
        answer = refuse(error) if error is not None else run(*args, **kwargs)
        if not get_state().config.no_store_protected_views:
            return answer
        return _no_store(make_response(answer))

    return guarded


def _no_store(response: Response) -> Response:
    """A page for one account must not be kept by the browser or a shared cache
    (``KAPU_NO_STORE_PROTECTED_VIEWS``); a Cache-Control the view chose wins."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let in a logged-in, active account at any level (after the sunset: an enrolled one)."""
    return _guard(view, plusz=False, max_age=None, methods=None)


@overload
def requires_plusz(view: Callable[P, R]) -> Callable[P, R | Response]: ...
@overload
def requires_plusz(
    view: None = None, *, max_age: timedelta | None = None, methods: Iterable[str] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]: ...
def requires_plusz(
    view: Callable[P, R] | None = None,
    *,
    max_age: timedelta | None = None,
    methods: Iterable[str] | None = None,
) -> Callable[P, R | Response] | Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Let in a session that proved a second factor (within ``max_age``, with one of ``methods``).

    Use bare (``@requires_plusz``) or with arguments
    (``@requires_plusz(max_age=timedelta(minutes=5), methods={"totp", "webauthn"})``).
    ``max_age`` defaults to ``KAPU_PLUSZ_MAX_AGE``.
    """
    allowed = None if methods is None else frozenset(methods)
    if allowed is not None and (not allowed or isinstance(methods, str)):
        raise ValueError("methods= takes a non-empty set of method names, e.g. {'totp'}")

    def decorate(inner: Callable[P, R]) -> Callable[P, R | Response]:
        return _guard(inner, plusz=True, max_age=max_age, methods=allowed)

    return decorate(view) if view is not None else decorate


def requires_level(level: str) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """The same by name: ``"ugyfelkapu"`` (a login) or ``"plusz"``."""
    required = Level.parse(level)
    if required is Level.NONE:
        raise ValueError("requires_level takes 'ugyfelkapu' or 'plusz'")
    if required is Level.PLUSZ:
        return requires_plusz()
    return login_required
