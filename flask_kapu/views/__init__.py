"""The blueprints: ``kapu`` (HTML pages) and ``kapu_api`` (JSON)."""

from __future__ import annotations

from flask import Flask, abort, request

from ..auth import current_account
from ..config import KapuConfig
from ..errors import FilesNotAccepted
from ..state import get_state
from . import (
    api_account,
    api_history,
    api_plusz,
    api_sessions,
    api_trusted,
    api_username,
    html_account,
    html_plusz,
    html_security,
    html_sessions,
    html_trusted,
    html_username,
    openapi,
)
from .api import api
from .html import error_page, html

__all__ = [
    "api",
    "api_account",
    "api_history",
    "api_plusz",
    "api_sessions",
    "api_trusted",
    "api_username",
    "error_page",
    "html",
    "html_account",
    "html_plusz",
    "html_security",
    "html_sessions",
    "html_trusted",
    "html_username",
    "openapi",
    "register_views",
]


def _refuse_files() -> None:
    """No form or endpoint of flask_kapu takes a file; refuse an upload before a form reads
    it, where a file would stand in for a text field."""
    if request.files:
        raise FilesNotAccepted()


def _pages_served() -> None:
    """``KAPU_PAGES = False``: the app serves the JSON API only. The blueprint stays
    registered for the mail templates, but none of its pages answers."""
    if not get_state().config.pages:
        abort(404)


html.before_request(_pages_served)
# flask_kapu's pages name the account, which is not ``current_user`` in an app with a
# LoginManager of its own.
html.context_processor(lambda: {"current_account": current_account})
# After each blueprint's own checks: the body limit first (and the API's CSRF token).
html.before_request(_refuse_files)
api.before_request(_refuse_files)


def register_views(app: Flask, config: KapuConfig) -> None:
    app.register_blueprint(html, url_prefix=config.url_prefix)
    app.register_blueprint(api, url_prefix=config.api_prefix)
