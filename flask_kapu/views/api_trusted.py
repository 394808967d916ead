"""The JSON API of remembered browsers: ``DELETE /browsers/<id>`` forgets one."""

from __future__ import annotations

from .. import services
from ..errors import NotFound
from ..state import get_state, request_context
from ..store.repository import MAX_ID
from .api import api
from .api_plusz import logged_in

__all__: list[str] = []


def _browser_id(raw: str) -> int:
    """A remembered browser's id from the path; anything but a positive number that an id
    column holds is not found (a problem document, as the route takes any text)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise NotFound()
    return int(raw)


@api.delete("/browsers/<trusted_id>")
def forget_browser(trusted_id: str) -> tuple[str, int]:
    """Its next login asks for the second factor again (a login is enough: no step-up)."""
    account = logged_in()
    if not services.trusted.forget_trusted(
        get_state().deps, request_context(), account, _browser_id(trusted_id)
    ):
        raise NotFound()
    return "", 204
