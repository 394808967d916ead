"""Forgetting a remembered browser, from the security page's list of devices."""

from __future__ import annotations

from flask import redirect, url_for
from werkzeug.wrappers import Response

from .. import services
from ..auth import current_account
from ..errors import CsrfFailed, NotFound
from ..forms import ActionForm
from ..state import get_state, request_context
from .html import html

__all__: list[str] = []


@html.post("/security/browsers/<int:trusted_id>/forget")
def forget_browser(trusted_id: int) -> Response:
    """The browser's next login asks for the second factor again. A login is enough, no
    step-up: forgetting takes trust away and gives none."""
    if not current_account.is_authenticated:
        return redirect(url_for("kapu.login", next=url_for("kapu.security")))
    if not ActionForm().validate_on_submit():
        raise CsrfFailed()
    account = current_account._get_current_object()
    if not services.trusted.forget_trusted(
        get_state().deps, request_context(), account, trusted_id
    ):
        raise NotFound()
    return redirect(url_for("kapu.security", forgotten=1))
