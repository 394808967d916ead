"""The blueprints: ``kapu`` (HTML pages) and ``kapu_api`` (JSON)."""

from __future__ import annotations

from flask import Flask, request

from ..config import KapuConfig
from ..errors import FilesNotAccepted
from . import api_plusz, html_plusz, html_security, openapi
from .api import api
from .html import error_page, html

__all__ = [
    "api",
    "api_plusz",
    "error_page",
    "html",
    "html_plusz",
    "html_security",
    "openapi",
    "register_views",
]


def _refuse_files() -> None:
    """No form or endpoint of flask_kapu takes a file; refuse an upload before a form reads
    it, where a file would stand in for a text field."""
    if request.files:
        raise FilesNotAccepted()


# After each blueprint's own checks: the body limit first (and the API's CSRF token).
html.before_request(_refuse_files)
api.before_request(_refuse_files)


def register_views(app: Flask, config: KapuConfig) -> None:
    app.register_blueprint(html, url_prefix=config.url_prefix)
    app.register_blueprint(api, url_prefix=config.api_prefix)
