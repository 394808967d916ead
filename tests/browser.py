"""Real-browser helpers: the example app served on localhost, Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")


def portal_app(database: Path, port: int) -> Flask:
    """The example app on an empty SQLite file with its tables, passkeys bound to
    localhost:<port>, and cheap password hashing."""
    from example_app import create_app

    app = create_app(
        {
            "SECRET_KEY": "browser test secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "KAPU_WEBAUTHN_ORIGINS": f"http://localhost:{port}",
            "KAPU_ARGON2_TIME_COST": 1,
            "KAPU_ARGON2_MEMORY_COST": 8,
            "KAPU_ARGON2_PARALLELISM": 1,
        }
    )
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app: Flask, port: int) -> Iterator[str]:
    """Serve ``app`` on http://localhost:<port> from a thread; yields the base URL."""
    server = make_server("localhost", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium_page() -> Iterator[tuple[Any, Any]]:
    """A fresh headless Chromium page and its CDP session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale="hu-HU")
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page, context.new_cdp_session(page)
        finally:
            browser.close()


def add_virtual_authenticator(cdp: Any) -> str:
    """A platform passkey authenticator (CTAP2, internal, resident keys, user verification)."""
    cdp.send("WebAuthn.enable", {"enableUI": False})
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return str(result["authenticatorId"])


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium for several tests; each takes a fresh context with ``new_page``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_page(
    browser: Any, *, width: int = 1280, height: int = 900, locale: str = "hu-HU"
) -> Iterator[tuple[Any, Any]]:
    """A page in a fresh context (no cookies) of ``browser``, and its CDP session."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page, context.new_cdp_session(page)
    finally:
        context.close()


def save_screenshot(target: Any, name: str) -> Path:
    """A screenshot under test-artifacts/ (git-ignored): a page in full, or one element."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if hasattr(target, "goto"):
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path
