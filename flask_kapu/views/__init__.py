"""The blueprints: ``kapu`` (HTML pages) and ``kapu_api`` (JSON)."""

from __future__ import annotations

from flask import Flask

from ..config import KapuConfig
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


def register_views(app: Flask, config: KapuConfig) -> None:
    app.register_blueprint(html, url_prefix=config.url_prefix)
    app.register_blueprint(api, url_prefix=config.api_prefix)
