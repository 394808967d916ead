"""The step-up page ``/plusz``: prove a second factor, then back to ``next``."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from .. import services
from .. import session as kapu_session
from ..auth import acting_account, add_method
from ..errors import KapuHTTPError
from ..forms import ActionForm, PluszCodeForm
from ..i18n import problem_detail
from ..responses import safe_next
from ..state import get_state, request_context
from ..store import Account
from .common import rate_limit, remember_browser
from .html import Page, html, next_url, page, refused

__all__: list[str] = []

_METHODS = ("webauthn", "totp", "email", "recovery")
_CODE_METHODS = ("totp", "email", "recovery")


def _plusz_page(
    account: Account,
    pending: bool,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    failed: tuple[str, PluszCodeForm] | None = None,
    **context: object,
) -> Page:
    """The step-up page; ``failed`` is the method and submitted form that failed.

    Finishing a login, each method offers to remember the browser (unless the app does not).
    """
    state = get_state()
    code_forms = {m: PluszCodeForm(formdata=None, prefix=m) for m in _CODE_METHODS}
    if failed is not None:
        code_forms[failed[0]] = failed[1]
    with state.deps.store.reading() as repo:
        methods = services.usable_methods(repo, account)
        live = repo.live_code(account_id=account.id, purpose="email_login", now=state.deps.clock())
    return page(
        "kapu/plusz.html",
        status,
        headers,
        methods=[m for m in methods if m in _METHODS],
        pending=pending,
        remember_days=state.config.remember_browser_days if pending else 0,
        hint=live.session_hint if live else None,
        send_form=ActionForm(formdata=None),
        csrf=generate_csrf(),
        next_url=next_url(),
        code_forms=code_forms,
        failed_method=failed[0] if failed else None,
        **context,
    )


def _here() -> str:
    return url_for("kapu.plusz", next=safe_next(request.args.get("next"), "") or None)


def _to_login(next_url: str | None = None) -> Response:
    """To the login page, saying why when the login waited too long for its second factor."""
    timed_out = 1 if kapu_session.pending_expired() else None
    return redirect(url_for("kapu.login", next=next_url, timed_out=timed_out))


@html.get("/plusz")
def plusz() -> Response | Page:
    found = acting_account()
    if found is None:
        return _to_login(request.args.get("next"))
    return _plusz_page(*found)


@html.post("/plusz/email/send")
def plusz_email_send() -> Response | Page:
    found = acting_account()
    if found is None:
        return _to_login()
    account, pending = found
    if not ActionForm().validate_on_submit():
        return _plusz_page(account, pending, 400, message=problem_detail("csrf_failed"))
    try:
        rate_limit("mail", "plusz-email")
        services.send_email_code(get_state().deps, request_context(), account)
    except KapuHTTPError as error:
        message = problem_detail(error.problem)
        return _plusz_page(account, pending, error.status, error.headers(), message=message)
    return redirect(_here() + "#email")


@html.post("/plusz/<method>")
def plusz_verify(method: str) -> Response | Page:
    found = acting_account()
    if found is None:
        return _to_login()
    account, pending = found
    if method not in _CODE_METHODS:
        return _plusz_page(account, pending, 404, message=problem_detail("not_found"))
    form = PluszCodeForm(prefix=method)  # each method's form has field names of its own
    if not form.validate_on_submit():
        status, message = refused(form)
        return _plusz_page(account, pending, status, message=message, failed=(method, form))
    try:
        rate_limit("secrets", "plusz")
        services.verify_code(
            get_state().deps,
            request_context(),
            account,
            method=method,
            code=form.code.data,
            completes_login=pending,
        )
    except KapuHTTPError as error:
        message = problem_detail(error.problem)
        return _plusz_page(
            account, pending, error.status, error.headers(), message=message, failed=(method, form)
        )
    add_method(account, method)
    if pending and form.remember_browser.data:
        return remember_browser(redirect(next_url()), account)
    return redirect(next_url())
