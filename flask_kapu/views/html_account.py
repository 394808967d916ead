"""``{prefix}/security/close`` and ``{prefix}/security/export``: the owner closes the
account after a page that names what is lost, or downloads what is stored about it.

An account with a second factor is sent through ``/plusz`` for a fresh step-up
first (see :func:`~flask_kapu.views.api_account.fresh_refusal`).
"""

from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

from .. import services
from .. import session as kapu_session
from ..auth import current_account, enrolled_methods
from ..errors import KapuHTTPError
from ..forms import CloseAccountForm
from ..state import get_state
from ..store import Account
from .api_account import fresh_refusal
from .common import login_time, rate_limit, secret_context
from .html import Page, html, page, refused, show_errors

__all__ = ["close_account", "export_account"]


def _owner() -> tuple[Account | None, Response | None]:
    """The logged-in account, or where to send the user first: to log in, or to step up."""
    here = request.full_path.rstrip("?")
    if not current_account.is_authenticated:
        return None, redirect(url_for("kapu.login", next=here))
    account: Account = current_account._get_current_object()
    if fresh_refusal(account) is not None:
        return None, redirect(url_for("kapu.plusz", next=here))
    return account, None


@html.route("/security/close", methods=["GET", "POST"])
def close_account() -> Response | Page:
    account, elsewhere = _owner()
    if account is None:
        return elsewhere or redirect(url_for("kapu.login"))
    form = CloseAccountForm()
    ask_password = not enrolled_methods(account)
    if request.method == "GET":
        return page("kapu/close_account.html", form=form, ask_password=ask_password)
    if not form.validate_on_submit():
        status, message = refused(form)
        return page(
            "kapu/close_account.html", status, form=form, ask_password=ask_password, message=message
        )
    try:
        if form.password.data:
            rate_limit("secrets", "close-account")
        services.closing.close_account(
            get_state().deps,
            secret_context(),
            account,
            password=form.password.data or None,
            auth_time=login_time(),
        )
    except KapuHTTPError as error:
        message = show_errors(form, error)
        return page(
            "kapu/close_account.html",
            error.status,
            error.headers(),
            form=form,
            ask_password=ask_password,
            message=message,
        )
    kapu_session.end()
    return page("kapu/close_account.html", closed=True)


@html.get("/security/export")
def export_account() -> Response:
    account, elsewhere = _owner()
    if account is None:
        return elsewhere or redirect(url_for("kapu.login"))
    response = jsonify(services.export.export_account(get_state().deps, account))
    response.headers.set(
        "Content-Disposition", "attachment", filename=f"ugyfelkapu-{account.username}.json"
    )
    return response
