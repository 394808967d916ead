"""A passkey in a real browser: enrol on /security, then step up with it at login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from browser import (
    add_virtual_authenticator,
    chromium_page,
    free_port,
    portal_app,
    require_chromium,
    served,
)
from sqlalchemy import select

from flask_kapu.clock import utcnow
from flask_kapu.store import Factor

pytestmark = pytest.mark.browser


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def app(tmp_path, port):
    """The example app on a fresh SQLite file, its passkeys bound to localhost:<port>."""
    require_chromium()
    application = portal_app(tmp_path / "browser.sqlite3", port)
    return application


def log_in(page, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_enrol_a_passkey_then_step_up_with_it(app, port, kapu_account):
    citizen = kapu_account("PasskeyPolgar", methods=())
    state = app.extensions["kapu"]
    with served(app, port) as base, chromium_page() as (page, cdp):
        add_virtual_authenticator(cdp)

        page.goto(f"{base}/kapu/login?lang=en")
        log_in(page, citizen.username, citizen.password)
        page.wait_for_url(f"{base}/")

        page.goto(f"{base}/kapu/security")
        page.fill("#passkey-label", "Telefon")
        page.click("[data-kapu-webauthn=register]")
        page.wait_for_selector("#recovery-codes li")
        assert page.locator("#recovery-codes li").count() == 10

        page.goto(f"{base}/kapu/logout")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/kapu/login**")

        page.goto(f"{base}/tax-return")
        page.wait_for_url(f"{base}/kapu/login**")
        log_in(page, citizen.username, citizen.password)
        page.wait_for_url(f"{base}/kapu/plusz**")
        assert page.locator("[data-kapu-webauthn=authenticate]").is_visible()
        page.click("[data-kapu-webauthn=authenticate]")
        page.wait_for_url(f"{base}/tax-return")
        assert "Személyijövedelemadó-bevallás" in page.content()

    with state.deps.store.transaction() as repo:
        passkey = repo.session.scalars(select(Factor).where(Factor.method == "webauthn")).one()
    assert passkey.label == "Telefon"
    assert passkey.sign_count >= 1
    assert passkey.last_used_at is not None


@pytest.fixture
def later(monkeypatch):
    """Move the example app's clock on by ``minutes`` (the app runs in this process)."""
    from example_app.extensions import kapu

    def move(minutes: float) -> None:
        moved = utcnow() + timedelta(minutes=minutes)
        monkeypatch.setattr(kapu, "clock", lambda: moved)

    return move


def test_a_first_passkey_after_a_stale_login_is_added_with_the_typed_password(
    app, port, kapu_account, later
):
    citizen = kapu_account("JelszavasPolgar", methods=())
    with served(app, port) as base, chromium_page() as (page, cdp):
        add_virtual_authenticator(cdp)
        page.goto(f"{base}/kapu/login?lang=en")
        log_in(page, citizen.username, citizen.password)
        page.wait_for_url(f"{base}/")
        later(minutes=6)

        from playwright.sync_api import expect  # only once Chromium is known to be there

        page.goto(f"{base}/kapu/security")
        page.click("[data-kapu-webauthn=register]")
        expect(page.locator("#passkey-status")).to_have_text("This field is required.")
        page.fill("#passkey-password", "Rossz-Jelszo-99")
        page.click("[data-kapu-webauthn=register]")
        expect(page.locator("#passkey-status")).to_have_text(
            "The password is not correct. Type your current password."
        )
        page.fill("#passkey-password", citizen.password)
        page.click("[data-kapu-webauthn=register]")
        page.wait_for_selector("#recovery-codes li")
        assert page.locator("#recovery-codes li").count() == 10
