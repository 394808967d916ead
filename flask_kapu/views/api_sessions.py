"""``{prefix}/api/sessions``: where the account is logged in (and which browsers it
remembers), and ending those logins.

Ending another session needs a fresh Ügyfélkapu+ (``KAPU_FRESH_PLUSZ_MAX_AGE``),
as removing a factor does: whoever holds a stolen session must not be able to
end its owner's. Ending this one is a logout. An id that is not one of the
account's live sessions is simply not found, whoever's it may be.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from ..auth import refusal
from ..errors import NotFound
from ..services.sessions import list_sessions, revoke, revoke_others
from ..services.trusted import list_trusted
from ..state import get_state, request_context
from ..store import LoginSession, TrustedBrowser
from ..store.repository import MAX_ID
from .api import api
from .api_plusz import logged_in
from .common import end_session

__all__ = ["browser_json", "session_json"]


def session_json(row: LoginSession, current: int | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "current": row.id == current,
        "browser": row.browser,
        "ip": row.ip,
        "created_at": row.created_at.isoformat(),
        "last_seen_at": row.last_seen_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "level": row.level,
        "methods": list(row.methods or []),
    }


def browser_json(row: TrustedBrowser) -> dict[str, Any]:
    return {
        "id": row.id,
        "browser": row.browser,
        "ip": row.ip,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }


def _session_id(raw: str) -> int:
    """A session id from the path; anything but a positive number an id column holds is
    not found (a problem document, as the route takes any text)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise NotFound()
    return int(raw)


def fresh_plusz() -> None:
    """Ending another login needs a step-up as fresh as removing a factor does."""
    error = refusal(plusz=True, max_age=get_state().config.fresh_plusz_max_age)
    if error is not None:
        raise error


@api.get("/sessions")
def sessions() -> Response:
    account = logged_in()
    deps = get_state().deps
    current = request_context().session_id
    now = deps.clock()
    return jsonify(
        {
            "sessions": [
                session_json(row, current) for row in list_sessions(deps, account.id, now)
            ],
            "browsers": [browser_json(row) for row in list_trusted(deps, account.id, now)],
        }
    )


@api.delete("/sessions/<session_id>")
def session_end(session_id: str) -> tuple[str, int]:
    account = logged_in()
    wanted = _session_id(session_id)
    ctx = request_context()
    if wanted == ctx.session_id:
        end_session()
        return "", 204
    fresh_plusz()
    if not revoke(get_state().deps, ctx, account, wanted):
        raise NotFound()
    return "", 204


@api.post("/sessions/end-others")
def sessions_end_others() -> Response:
    account = logged_in()
    fresh_plusz()
    ctx = request_context()
    ended = revoke_others(get_state().deps, ctx, account, ctx.session_id)
    return jsonify({"ended": ended})
