"""Login history on the web: the notice of the previous login, the activity list, and what
a completed login does for the browser that made it.

Every completed login (password alone, second factor, chosen username, a
password code) ends in :data:`flask_kapu.signals.login_succeeded`, sent in
the request that completed it. That request marks the browser known (the
device cookie), and mails the owner when it was not known for the account.
The cookie is set only when a login completes, so a browser that stopped at
the second factor is still a new one when it completes.
"""

from __future__ import annotations

from typing import Any

from flask import after_this_request, current_app, g, has_request_context, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import devices, services, signals
from .. import session as kapu_session
from ..auth import current_account
from ..i18n import activity_label
from ..levels import Proof
from ..services.history import Activity, LoginHistory
from ..state import get_state, request_context
from ..store import Account
from .common import remember_device
from .html import html, page

__all__ = ["activity_json", "history_json", "login_history", "login_notice"]


def login_history(proof: Proof) -> LoginHistory:
    """The previous login and the failures since, for the login ``proof`` tells of; read once
    a request."""
    cached = g.get("_kapu_history")
    if cached is not None and cached[0] is proof:
        found: LoginHistory = cached[1]
        return found
    history = services.history.login_history(
        get_state().deps, proof.account_id, login_at=proof.auth_time
    )
    g._kapu_history = (proof, history)
    return history


def _proof() -> Proof | None:
    """This session's login, if it is one still valid."""
    if not current_account.is_authenticated:
        return None
    return kapu_session.current_proof()


def history_json(history: LoginHistory | None) -> dict[str, Any]:
    """``last_login`` and ``failed_since`` of the session document."""
    if history is None:
        return {"last_login": None, "failed_since": None}
    last = history.last_login
    return {
        "last_login": None
        if last is None
        else {"at": last.at.isoformat(), "ip": last.ip, "browser": last.browser},
        "failed_since": history.failed_since,
    }


def activity_json(item: Activity) -> dict[str, Any]:
    return {
        "event": item.event,
        "label": activity_label(item.event, item.count, item.detail),
        "at": item.at.isoformat(),
        "last_at": item.last_at.isoformat(),
        "count": item.count,
        "ip": item.ip,
        "browser": item.browser,
    }


def login_notice() -> Markup:
    """The previous-login notice (``kapu/_login_notice.html``); empty without a login."""
    proof = _proof()
    if proof is None:
        return Markup("")
    # A flask_kapu template, rendered with autoescaping: safe to place as it is.
    return Markup(page("kapu/_login_notice.html", history=login_history(proof))[0])  # noqa: S704


@html.app_context_processor
def _host_helpers() -> dict[str, Any]:
    """``{{ kapu_login_notice() }}`` in any of the app's templates: computed only when used."""
    return {"kapu_login_notice": login_notice}


def _on_login(sender: object, *, account: Account, **_extra: Any) -> None:
    """A login of ``account`` completed in this request: mark the browser known and, when it
    was not known for the account, mail the owner (``KAPU_NEW_DEVICE_NOTICE``)."""
    if not has_request_context() or "kapu" not in current_app.extensions:
        return
    state = get_state()
    if sender is not state.deps.sender:  # another app's login
        return
    known = devices.presented(max_age=state.config.device_cookie_max_age, now=state.deps.clock())
    after_this_request(lambda response: _remember(response, account))
    if known is not None and known.account_id == account.id:
        return
    services.history.notify_new_device(
        state.deps,
        request_context(),
        account,
        security_url=url_for("kapu.security", _external=True, _anchor="sessions"),
    )


def _remember(response: Response, account: Account) -> Response:
    """Set the device cookie unless the view has already set it on this response."""
    if any(
        header.startswith(f"{devices.COOKIE}=") for header in response.headers.getlist("Set-Cookie")
    ):
        return response
    return remember_device(response, account)


signals.login_succeeded.connect(_on_login)
