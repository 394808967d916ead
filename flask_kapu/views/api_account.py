"""``{prefix}/api/account/...``: the owner closes the account, or downloads its data.

Both need a fresh Ügyfélkapu+ step-up when the account has a second factor
(``KAPU_FRESH_PLUSZ_MAX_AGE``): a stolen session cookie alone must neither
destroy an account nor read everything stored about it.
"""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from .. import services
from .. import session as kapu_session
from ..auth import enrolled_methods, refusal
from ..errors import InvalidInput, KapuHTTPError
from ..state import get_state
from ..store import Account
from .api import api, fields, read_json
from .api_plusz import logged_in
from .common import login_time, rate_limit, secret_context

__all__ = ["close_account", "export_account", "fresh_refusal"]


def fresh_refusal(account: Account) -> KapuHTTPError | None:
    """Why this session may not close or export ``account`` now: an account with a second
    factor needs a fresh step-up; one without proves itself when it closes (the service)."""
    if not enrolled_methods(account):
        return None
    return refusal(plusz=True, max_age=get_state().config.fresh_plusz_max_age)


@api.post("/account/close")
def close_account() -> tuple[str, int]:
    account = logged_in()
    error = fresh_refusal(account)
    if error is not None:
        raise error
    data = read_json()
    values = fields(data, optional=("password",))
    if data.get("confirm") is not True:
        raise InvalidInput(errors={"confirm": ["required"]})
    if values.get("password"):
        rate_limit("secrets", "close-account")
    services.closing.close_account(
        get_state().deps,
        secret_context(),
        account,
        password=values.get("password"),
        auth_time=login_time(),
    )
    kapu_session.end()
    return "", 204


@api.get("/account/export")
def export_account() -> Response:
    account = logged_in()
    error = fresh_refusal(account)
    if error is not None:
        raise error
    return jsonify(services.export.export_account(get_state().deps, account))
