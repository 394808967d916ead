"""``POST {prefix}/api/username``: the owner of an imported account whose username breaks
the rules chooses a valid one, which completes the login that waits for it."""

from __future__ import annotations

from werkzeug.wrappers import Response

from .. import services
from ..auth import pending_step, username_pending_account
from ..errors import LoginRequired
from ..state import get_state, request_context
from .api import api, fields, read_json, signed_in
from .common import rate_limit

__all__ = ["choose_username"]


@api.post("/username")
def choose_username() -> Response:
    account = username_pending_account()
    if account is None:
        raise LoginRequired(extra={"pending": pending_step()})
    values = fields(read_json(), "username")
    rate_limit("register", "username")  # a taken name is told, as at registration
    result = services.choose_username(
        get_state().deps,
        request_context(),
        account_id=account.id,
        epoch=account.session_epoch,
        username=values["username"],
    )
    return signed_in(result)
