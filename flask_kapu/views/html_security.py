"""The security page ``/security``: factors, recovery codes, password, recent activity.

It stays open to any logged-in account, even one that must enrol after the
sunset date, since enrolling happens here. A first factor asks for the
current password (unless the login is a few minutes old); adding a further
factor or removing one needs a fresh step-up, which sends the user through
``/plusz``. Every GET only shows; starting an enrolment is a POST.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from .. import services
from ..auth import add_method, current_account, enrolled_methods, rebind, refusal
from ..errors import KapuHTTPError
from ..forms import ActionForm, ChangePasswordForm, EmailEnrolForm, TotpEnrolForm
from ..i18n import problem_detail
from ..responses import safe_next
from ..state import get_state, request_context
from ..store import Account
from .common import login_time, rate_limit, require_offered, secret_context
from .history import login_notice
from .html import Page, html, page, refused, show_errors

__all__: list[str] = []


def _account() -> Account | None:
    if not current_account.is_authenticated:
        return None
    account: Account = current_account._get_current_object()
    return account


def _to_login() -> Response:
    return redirect(url_for("kapu.login", next=request.full_path.rstrip("?")))


def _next() -> str | None:
    return safe_next(request.args.get("next"), "") or None


def _security_page(account: Account, status: int = 200, **context: Any) -> Page:
    state = get_state()
    with state.deps.store.reading() as repo:
        factors = repo.factors(account.id)
        recovery_left = repo.unused_recovery_codes(account.id)
    context.setdefault("form", ChangePasswordForm(formdata=None))
    return page(
        "kapu/security.html",
        status,
        activity=services.history.recent_activity(state.deps, account.id),
        login_notice=login_notice(),
        factors=factors,
        recovery_left=recovery_left,
        first_factor=not factors,
        offered=state.config.second_factors,
        action_form=ActionForm(formdata=None),
        csrf=generate_csrf(),
        next=_next(),
        **context,
    )


def _enrolling() -> tuple[Account | None, Response | None]:
    """The account adding a factor, or where to send the user first: to log in, or (when
    the account already has a factor) to step up."""
    account = _account()
    if account is None:
        return None, _to_login()
    if enrolled_methods(account) and refusal(
        plusz=True, max_age=get_state().config.fresh_plusz_max_age
    ):
        return None, redirect(url_for("kapu.plusz", next=request.full_path.rstrip("?")))
    return account, None


def _done(account: Account, method: str, codes: list[str]) -> Response | Page:
    add_method(account, method)
    if codes:
        return page("kapu/recovery_codes.html", 201, codes=codes, next=_next())
    return redirect(_next() or url_for("kapu.security", added=method))


@html.get("/security")
def security() -> Response | Page:
    account = _account()
    return _to_login() if account is None else _security_page(account)


@html.post("/security/password")
def change_password() -> Response | Page:
    account = _account()
    if account is None:
        return _to_login()
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        status, message = refused(form)
        return _security_page(account, status, form=form, password_message=message)
    try:
        rate_limit("secrets", "password-change")
        changed = services.change_password(
            get_state().deps,
            secret_context(),
            account=account,
            current_password=form.current_password.data,
            new_password=form.new_password.data,
        )
    except KapuHTTPError as error:
        message = show_errors(form, error)
        return _security_page(account, error.status, form=form, password_message=message)
    rebind(changed)
    return redirect(url_for("kapu.security", changed=1))


@html.route("/security/email", methods=["GET", "POST"])
def enrol_email() -> Response | Page:
    """Send a code to the account's address (GET shows the form once sent), then confirm it."""
    require_offered("email")
    account, answer = _enrolling()
    if account is None:
        return answer or _to_login()
    state = get_state()
    form = EmailEnrolForm()
    if request.method == "POST" and "code" not in request.form:
        if not ActionForm().validate_on_submit():
            return _security_page(account, 400, message=problem_detail("csrf_failed"))
        try:
            rate_limit("mail", "factor-email")
            services.send_email_code(state.deps, request_context(), account, enrolment=True)
        except KapuHTTPError as error:
            return _security_page(account, error.status, message=problem_detail(error.problem))
        return redirect(url_for("kapu.enrol_email", next=_next()))
    if request.method == "POST" and not form.validate_on_submit():
        status, message = refused(form)
        return _email_page(account, form, status, message=message)
    if request.method == "POST":
        try:
            rate_limit("secrets", "factor-confirm")
            result = services.enrolment.confirm_email(
                state.deps,
                secret_context(),
                account,
                code=form.code.data,
                password=form.password.data or None,
                auth_time=login_time(),
            )
        except KapuHTTPError as error:
            message = show_errors(form, error)
            return _email_page(account, form, error.status, error.headers(), message=message)
        return _done(account, "email", result.recovery_codes)
    return _email_page(account, form)


def _email_page(
    account: Account,
    form: EmailEnrolForm,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Page:
    """The code form; with a password field when this is the account's first factor."""
    return page(
        "kapu/enrol_email.html",
        status,
        headers,
        form=form,
        hint=_hint(account),
        first_factor=not enrolled_methods(account),
        **context,
    )


def _hint(account: Account) -> str | None:
    state = get_state()
    with state.deps.store.reading() as repo:
        live = repo.live_code(account_id=account.id, purpose="email_enrol", now=state.deps.clock())
    return live.session_hint if live else None


@html.post("/security/totp/start")
def start_totp() -> Response | Page:
    """Make a new authenticator key (replacing one never confirmed), then show it."""
    require_offered("totp")
    account, answer = _enrolling()
    if account is None:
        return answer or _to_login()
    if not ActionForm().validate_on_submit():
        return _security_page(account, 400, message=problem_detail("csrf_failed"))
    services.enrolment.start_totp(get_state().deps, request_context(), account)
    return redirect(url_for("kapu.enrol_totp", next=_next()))


@html.route("/security/totp", methods=["GET", "POST"])
def enrol_totp() -> Response | Page:
    """Show the pending key as a QR code and typed out (or the start button); confirm it
    with the password and a code."""
    require_offered("totp")
    account, answer = _enrolling()
    if account is None:
        return answer or _to_login()
    state = get_state()
    form = TotpEnrolForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            rate_limit("secrets", "factor-confirm")
            result = services.enrolment.confirm_totp(
                state.deps,
                secret_context(),
                account,
                password=form.password.data,
                code=form.code.data,
                label=form.label.data,
            )
        except KapuHTTPError as error:
            message = show_errors(form, error)
            return _totp_page(account, form, error.status, error.headers(), message=message)
        return _done(account, "totp", result.recovery_codes)
    if request.method == "POST":
        status, message = refused(form)
        return _totp_page(account, form, status, message=message)
    return _totp_page(account, form)


def _totp_page(
    account: Account,
    form: TotpEnrolForm,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Page:
    """The key awaiting confirmation, shown again after a mistake; without one, the
    button that starts an enrolment."""
    pending = services.enrolment.pending_totp(get_state().deps, account)
    if pending is None:
        return page(
            "kapu/enrol_totp.html",
            status,
            headers,
            form=form,
            start_form=ActionForm(formdata=None),
            next=_next(),
            **context,
        )
    return page(
        "kapu/enrol_totp.html",
        status,
        headers,
        form=form,
        secret=pending.secret,
        grouped_secret=" ".join(
            pending.secret[i : i + 4] for i in range(0, len(pending.secret), 4)
        ),
        qr_svg=pending.qr_svg,
        **context,
    )


def _fresh_action() -> tuple[Account | None, Response | Page | None]:
    """For buttons that need a fresh step-up: the account, or the answer to give instead."""
    account = _account()
    if account is None:
        return None, _to_login()
    if not ActionForm().validate_on_submit():
        return None, _security_page(account, 400, message=problem_detail("csrf_failed"))
    if refusal(plusz=True, max_age=get_state().config.fresh_plusz_max_age) is not None:
        return None, redirect(url_for("kapu.plusz", next=url_for("kapu.security")))
    return account, None


@html.post("/security/factors/<int:factor_id>/remove")
def remove_factor(factor_id: int) -> Response | Page:
    account, answer = _fresh_action()
    if account is None:
        return answer or _to_login()
    try:
        removed = services.enrolment.remove_factor(
            get_state().deps, request_context(), account, factor_id=factor_id
        )
    except KapuHTTPError as error:
        return _security_page(account, error.status, message=problem_detail(error.problem))
    rebind(account, drop=removed.method)
    return redirect(url_for("kapu.security", removed=1))


@html.post("/security/factors/<int:factor_id>/rename")
def rename_factor(factor_id: int) -> Response | Page:
    account = _account()
    if account is None:
        return _to_login()
    if not ActionForm().validate_on_submit():
        return _security_page(account, 400, message=problem_detail("csrf_failed"))
    try:
        services.enrolment.rename_factor(
            get_state().deps,
            request_context(),
            account,
            factor_id=factor_id,
            label=request.form.get("label", "")[:256],
        )
    except KapuHTTPError as error:
        return _security_page(account, error.status, message=problem_detail(error.problem))
    return redirect(url_for("kapu.security", renamed=1))


@html.post("/security/recovery-codes")
def recovery_codes() -> Response | Page:
    account, answer = _fresh_action()
    if account is None:
        return answer or _to_login()
    codes = services.enrolment.regenerate_recovery_codes(
        get_state().deps, request_context(), account
    )
    return page("kapu/recovery_codes.html", 201, codes=codes, next=None)
