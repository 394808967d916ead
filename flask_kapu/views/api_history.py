"""The JSON API of the account's own activity: ``GET /activity``."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from .. import services
from ..state import get_state
from .api import api
from .api_plusz import logged_in
from .history import activity_json

__all__: list[str] = []


@api.get("/activity")
def activity() -> Response:
    """The last 20 entries of the account's audit trail in plain words, newest first."""
    account = logged_in()
    items = services.history.recent_activity(get_state().deps, account.id)
    return jsonify({"events": [activity_json(item) for item in items]})
