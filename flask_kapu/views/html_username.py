"""``{prefix}/username``: the page where the owner of an imported account whose username
breaks the rules chooses a valid one before anything else opens."""

from __future__ import annotations

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from .. import services
from ..auth import username_pending_account
from ..forms import UsernameForm
from ..state import get_state, request_context
from .common import rate_limit
from .html import Page, handle, html, signed_in

__all__ = ["choose_username"]


@html.route("/username", methods=["GET", "POST"])
def choose_username() -> Response | Page:
    account = username_pending_account()
    if account is None:
        return redirect(url_for("kapu.login", next=request.args.get("next")))
    form = UsernameForm()

    def action() -> Response:
        rate_limit("register", "username")
        result = services.choose_username(
            get_state().deps,
            request_context(),
            account_id=account.id,
            epoch=account.session_epoch,
            username=form.username.data,
        )
        return signed_in(result)

    return handle(form, "kapu/choose_username.html", action, imported_username=account.username)
