"""The example portal in a real browser: one journey per flow, each from an empty database.

Every journey reads what a citizen would read (the page, the developer outbox)
and saves a full-page screenshot of its last page under ``test-artifacts/``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pyotp
import pytest
from browser import (
    add_virtual_authenticator,
    chromium_browser,
    free_port,
    new_page,
    portal_app,
    require_chromium,
    save_screenshot,
    served,
)

from example_app import DEMO_EMAIL, DEMO_USERNAME, seed_demo_account
from example_app.extensions import kapu

pytestmark = pytest.mark.browser

PASSWORD = "Tavaszi-Szel-42"
NEW_PASSWORD = "Nyari-Zapor-77"
PASSWORD_CODE = re.compile(r"^\s+([0-9A-Z]{5}-[0-9A-Z]{5})\s*$", re.MULTILINE)
EMAIL_CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
PHONE = {"width": 390, "height": 844}


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def app(tmp_path, port):
    """The example app on an empty SQLite file, in debug mode (outbox, demo cards)."""
    require_chromium()
    application = portal_app(tmp_path / "portal.sqlite3", port)
    application.debug = True
    yield application
    application.extensions["kapu"].notifier.wait()


@pytest.fixture
def site(app, port) -> Iterator[str]:
    with served(app, port) as base:
        yield base


@pytest.fixture
def page(browser, site, request) -> Iterator[Any]:
    """A fresh browser tab; its last page is saved as test-artifacts/journey-<test>.png.

    Nothing on the way may break the Content Security Policy (no inline script or style).
    """
    refused: list[str] = []
    with new_page(browser) as (tab, _cdp):
        tab.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
        yield tab
        save_screenshot(tab, "journey-" + request.node.name.removeprefix("test_"))
    assert not refused, refused


# --- what a citizen does ---------------------------------------------------------------------


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def submit(page) -> None:
    """Press the page's form button (the header has links only, no buttons)."""
    page.click("main form button[type=submit]")


def log_in(page, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    submit(page)


def log_out(page, base: str) -> None:
    page.click(".account-menu a[href$='/kapu/logout']")
    submit(page)
    page.wait_for_url(f"{base}/kapu/login**")


def read_mail(page, base: str, to: str) -> str:
    """The newest mail to ``to``, read in the developer outbox in another tab."""
    tab = page.context.new_page()
    try:
        deadline = time.monotonic() + 10
        while True:
            tab.goto(f"{base}/kapu/outbox")
            mails = tab.locator("article.kapu-mail", has_text=to)
            if mails.count():
                return str(mails.first.inner_text())
            assert time.monotonic() < deadline, f"no mail to {to} in the outbox"
            tab.wait_for_timeout(200)
    finally:
        tab.close()


def code_in(mail: str, pattern: re.Pattern[str] = PASSWORD_CODE) -> str:
    found = pattern.search(mail)
    assert found is not None, mail
    return found.group(1)


def activate(page, base: str, username: str, code: str, password: str = PASSWORD) -> None:
    """On the activation page: the mailed code, then the chosen password twice."""
    expect(page.locator("#username")).to_have_value(username)
    page.fill("#code", code)
    page.fill("#new_password", password)
    page.fill("#confirm", password)
    submit(page)
    page.wait_for_url(f"{base}/")
    expect(page.locator(".account-name")).to_have_text(username)


# --- the journeys ------------------------------------------------------------------------------


def test_office_registration_then_activation_from_the_outbox(app, site, page):
    with app.app_context():
        seed_demo_account()  # what `make demo` does: the clerk registers Mintapolgar

    page.goto(f"{site}/")
    page.click(".try-it a[href$='/kapu/outbox']")
    expect(page.locator("h1")).to_have_text("Fejlesztői kimenő levelek")
    mail = page.locator("article.kapu-mail").first
    expect(mail).to_contain_text(DEMO_EMAIL)
    code = code_in(mail.locator("pre").inner_text())

    page.goto(f"{site}/")
    page.click(".flows a[href*='/kapu/activate']")
    activate(page, site, DEMO_USERNAME, code)

    log_out(page, site)
    expect(page.locator("main")).to_contain_text("Ön kilépett.")
    log_in(page, DEMO_USERNAME, PASSWORD)
    page.wait_for_url(f"{site}/")
    page.click(".main-nav a[href='/my-data']")
    expect(page.locator("#my-username")).to_have_text(DEMO_USERNAME)
    expect(page.locator("main")).to_contain_text("okmányirodában")
    expect(page.locator("[data-field=family_name]")).to_have_text("Minta")


def test_self_service_registration(site, page):
    page.goto(f"{site}/")
    page.click(".hero a[href$='/kapu/register']")
    expect(page.locator("h1")).to_have_text("Ügyfélkapu-regisztráció")
    page.fill("#username", "NagyPéter")
    page.fill("#email", "nagy.peter@example.hu")
    page.fill("#family_name", "Nagy")
    page.fill("#given_name", "Péter")
    page.fill("#birth_date", "1990-05-17")
    page.check("#accept_terms")
    submit(page)
    expect(page.locator("h1")).to_have_text("Regisztrációját rögzítettük")
    expect(page.locator("main")).to_contain_text("nagy.peter@example.hu")

    code = code_in(read_mail(page, site, "nagy.peter@example.hu"))
    page.click("main a[href*='/kapu/activate']")
    activate(page, site, "NagyPéter", code)

    page.click(".main-nav a[href='/my-data']")
    expect(page.locator("#person-source")).to_have_text("Ahogy regisztrációkor megadta.")
    expect(page.locator("[data-field=given_name]")).to_have_text("Péter")
    expect(page.locator("[data-field=birth_date]")).to_have_text("1990. május 17.")


def test_eid_registration_with_a_demo_card(site, page):
    page.goto(f"{site}/")
    page.click(".devbar a[href='/dev/cards']")
    card = page.locator(".id-card").first
    expect(card).to_contain_text("Kiss Anna")
    document_id = card.locator(".document-id").inner_text()
    registration_code = card.locator(".registration-code").inner_text()

    page.click("main a[href$='/kapu/register/eid']")
    page.fill("#document_id", document_id)
    page.fill("#registration_code", registration_code)
    submit(page)
    expect(page.locator("main")).to_contain_text(
        "Adatai a nyilvántartásból származnak, itt nem módosíthatók."
    )
    for field, value in {
        "family-name": "Kiss",
        "given-name": "Anna",
        "birth-place": "Szeged",
        "address": "6720 Szeged, Példa utca 3.",
    }.items():
        person = page.locator(f"#person-{field}")
        expect(person).to_have_value(value)
        expect(person).not_to_be_editable()

    page.fill("#username", "KisAnna")
    page.fill("#email", "kis.anna@example.hu")
    page.check("#accept_terms")
    submit(page)
    expect(page.locator("h1")).to_have_text("Regisztrációját rögzítettük")
    code = code_in(read_mail(page, site, "kis.anna@example.hu"))
    page.click("main a[href*='/kapu/activate']")
    activate(page, site, "KisAnna", code)

    page.click(".main-nav a[href='/my-data']")
    expect(page.locator("#person-source")).to_contain_text("személyiadat- és lakcímnyilvántartás")
    expect(page.locator("[data-field=mother_name]")).to_have_text("Nagy Ilona")
    expect(page.locator("[data-field=address]")).to_have_text("6720 Szeged, Példa utca 3.")


def test_the_tax_return_steps_up_with_an_email_code(site, page, kapu_account):
    citizen = kapu_account("AdózóÁgnes", email="agnes@example.hu", methods=("email",))

    page.goto(f"{site}/kapu/login")
    log_in(page, citizen.username, citizen.password)
    page.wait_for_url(f"{site}/")
    page.click(".main-nav a[href='/tax-return']")
    page.wait_for_url(f"{site}/kapu/plusz?next=/tax-return")
    expect(page.locator("h1")).to_have_text("Megerősítés Ügyfélkapu+-szal")
    page.click("#email form[action*='/email/send'] button")
    note = page.locator("#email .kapu-note")
    expect(note).to_contain_text("Munkamenet-azonosító")
    hint = re.search(r"Munkamenet-azonosító: (\d{3})", note.inner_text())
    assert hint is not None

    mail = read_mail(page, site, "agnes@example.hu")
    assert f"Munkamenet-azonosító: {hint.group(1)}" in mail  # the same number as the page
    page.fill("#email-code", code_in(mail, EMAIL_CODE))
    page.click("#email form:has(#email-code) button[type=submit]")
    page.wait_for_url(f"{site}/tax-return")
    expect(page.locator("h1")).to_have_text("Személyijövedelemadó-bevallás")
    expect(page.locator(".notice-plusz")).to_contain_text("Ügyfélkapu+")
    expect(page.locator("#income")).not_to_have_value("")

    page.check("#declare")
    page.click("#tax-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Bevallását befogadtuk")
    expect(page.locator("#filing-number")).to_have_text("SZJA-2025-000001")


def test_an_authenticator_app_is_asked_for_at_every_login(site, page, kapu_account):
    citizen = kapu_account("AppHasználó", methods=())

    page.goto(f"{site}/kapu/login")
    log_in(page, citizen.username, citizen.password)
    page.click(".account-menu a[href$='/kapu/security']")
    page.click("form[action*='/kapu/security/totp/start'] button")
    expect(page.locator("h1")).to_have_text("Hitelesítő alkalmazás beállítása")
    page.click("summary")  # "Can't scan the code? Type in the key"
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert_the_qr_code_carries(page, secret)

    page.fill("#label", "Telefonom")
    page.fill("#password", citizen.password)
    page.fill("#code", pyotp.TOTP(secret).now())
    submit(page)
    expect(page.locator("h1")).to_have_text("Mentse el törlőkódjait")
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    page.goto(f"{site}/")
    log_out(page, site)
    log_in(page, citizen.username, citizen.password)
    page.wait_for_url(f"{site}/kapu/plusz**")
    expect(page.locator("main")).to_contain_text("Jelszava helyes.")
    expect(page.locator("#totp-code")).to_be_visible()
    page.fill("#totp-code", pyotp.TOTP(secret).at(time.time() + 30))  # the next code: fresh
    page.click("#totp button[type=submit]")
    page.wait_for_url(f"{site}/")
    expect(page.locator(".account-name")).to_have_text(citizen.username)


def assert_the_qr_code_carries(page, secret: str) -> None:
    """With zbarimg installed, scan the QR code from the screen as a phone would."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        return
    image = save_screenshot(page.locator(".kapu-qr"), "qr-code")
    scanned = subprocess.run(
        [zbarimg, "--quiet", "--raw", str(image)], capture_output=True, text=True, check=False
    )
    assert scanned.returncode == 0, f"zbarimg could not read the QR code: {scanned.stderr}"
    uri = scanned.stdout.strip()
    assert uri.startswith("otpauth://totp/")
    assert f"secret={secret}" in uri


def test_a_passkey_opens_the_mandates_page(site, page, kapu_account):
    add_virtual_authenticator(page.context.new_cdp_session(page))
    citizen = kapu_account("KulcsosKata", methods=())

    page.goto(f"{site}/kapu/login")
    log_in(page, citizen.username, citizen.password)
    page.wait_for_url(f"{site}/")
    page.click(".main-nav a[href='/mandates']")
    page.wait_for_url(f"{site}/kapu/security?next=/mandates")
    page.fill("#passkey-label", "Telefon")
    page.click("[data-kapu-webauthn=register]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#add-passkey > a")  # "I have saved them — continue"

    page.wait_for_url(f"{site}/mandates")
    expect(page.locator("h1")).to_have_text("Meghatalmazások")
    expect(page.locator(".notice-passkey")).to_contain_text("passkey-jel")
    page.fill("#agent", "Kiss Anna")
    page.select_option("#scope", "health")
    page.fill("#valid_until", "2030-12-31")
    page.click("#mandate-form button[type=submit]")
    expect(page.locator(".flash")).to_have_text("A meghatalmazást rögzítettük.")
    expect(page.locator("#mandate-list")).to_contain_text("Kiss Anna")
    expect(page.locator("#mandate-list")).to_contain_text("Egészségügy")


def test_forgot_password_then_the_old_one_is_refused(site, page, kapu_account):
    citizen = kapu_account("FeledékenyFeri", email="feri@example.hu", methods=())

    page.goto(f"{site}/kapu/login")
    page.click("a[href$='/kapu/password/forgot']")
    page.fill("#username", citizen.username)
    page.fill("#email", "feri@example.hu")
    submit(page)
    expect(page.locator("h1")).to_have_text("Ellenőrizze a postafiókját")
    code = code_in(read_mail(page, site, "feri@example.hu"))
    page.click("main a[href$='/kapu/password/reset']")
    expect(page.locator("h1")).to_have_text("Új jelszó beállítása")
    page.fill("#username", citizen.username)
    page.fill("#code", code.lower())  # case and hyphens do not matter
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page)
    page.wait_for_url(f"{site}/")
    expect(page.locator(".account-name")).to_have_text(citizen.username)

    log_out(page, site)
    log_in(page, citizen.username, citizen.password)
    expect(page.locator(".kapu-alert")).to_contain_text("Hibás felhasználónév vagy jelszó.")
    expect(page.locator(".account-name")).to_have_count(0)


def test_five_wrong_passwords_lock_the_account(site, page, kapu_account):
    citizen = kapu_account("ZároltZoltán", methods=())

    page.goto(f"{site}/kapu/login")
    for attempt in range(5):
        log_in(page, citizen.username, f"Rossz-Jelszo-{attempt}")
        expect(page.locator(".kapu-alert")).to_contain_text("Hibás felhasználónév vagy jelszó.")
    log_in(page, citizen.username, citizen.password)  # even the right one, for now
    expect(page.locator(".kapu-alert")).to_contain_text("Túl sok próbálkozás.")
    expect(page.locator(".kapu-help")).to_contain_text("+36 1 555 0100")
    expect(page.locator(".account-name")).to_have_count(0)


class MovedClock:
    """The portal's clock, moved on by hand: a journey skips minutes without waiting them."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def portal_clock(app) -> Iterator[MovedClock]:
    clock = MovedClock()
    real, kapu.clock = kapu.clock, clock
    try:
        yield clock
    finally:
        kapu.clock = real


def log_in_with_authenticator(page, base: str, citizen, code: str) -> None:
    page.goto(f"{base}/kapu/login")
    log_in(page, citizen.username, citizen.password)
    page.wait_for_url(f"{base}/kapu/plusz**")
    page.fill("#totp-code", code)
    page.click("#totp button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_end_my_other_session(browser, site, page, kapu_account, portal_clock):
    citizen = kapu_account("KétgépesKata", methods=("totp",))
    authenticator = pyotp.TOTP(citizen.totp_secret)
    log_in_with_authenticator(page, site, citizen, authenticator.at(portal_clock()))

    with new_page(browser, **PHONE) as (phone, _cdp):
        next_code = authenticator.at(portal_clock() + timedelta(seconds=30))  # each code once
        log_in_with_authenticator(phone, site, citizen, next_code)
        phone.goto(f"{site}/kapu/security")
        portal_clock.advance(minutes=11)  # the laptop's Ügyfélkapu+ is no longer fresh

        page.click(".account-menu a[href$='/kapu/security']")
        sessions = page.locator("#sessions tbody tr")
        expect(sessions).to_have_count(2)
        expect(page.locator("#sessions tr.kapu-current .kapu-badge")).to_be_visible()
        page.click("#sessions tr:not(.kapu-current) button[type=submit]")
        page.wait_for_url(f"{site}/kapu/plusz**")
        page.fill("#totp-code", authenticator.at(portal_clock()))
        page.click("#totp button[type=submit]")
        page.wait_for_url(f"{site}/kapu/security")
        page.click("#sessions tr:not(.kapu-current) button[type=submit]")
        page.wait_for_url(f"{site}/kapu/security?ended=one#sessions")
        expect(page.locator("#sessions .kapu-note")).to_be_visible()
        expect(sessions).to_have_count(1)
        expect(page.locator("#sessions tr.kapu-current")).to_have_count(1)

        phone.reload()
        phone.wait_for_url(f"{site}/kapu/login**")
        expect(phone.locator(".account-name")).to_have_count(0)
        save_screenshot(phone, "journey-end_my_other_session-phone")


def test_the_english_switch(site, page):
    page.goto(f"{site}/")
    expect(page.locator("html")).to_have_attribute("lang", "hu")
    expect(page.locator("h1")).to_have_text("Intézze ügyeit otthonról, biztonságosan.")

    page.click(".lang-switch a[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Your town's business, from home — safely.")
    expect(page.locator(".main-nav")).to_contain_text("Tax return")

    page.click(".header-tools a[href^='/kapu/login']")  # flask_kapu's page remembers it
    expect(page.locator("h1")).to_have_text("Log in to Ügyfélkapu")
    expect(page.locator(".lang-switch a[aria-current]")).to_have_text("English")
    page.click(".lang-switch a[hreflang=hu]")
    expect(page.locator("h1")).to_have_text("Belépés az Ügyfélkapuba")
    page.click(".lang-switch a[hreflang=en]")
    expect(page.locator("h1")).to_have_text("Log in to Ügyfélkapu")


def test_pages_fit_a_phone_screen(browser, site, kapu_account):
    citizen = kapu_account("TelefonosTeri", methods=("totp",))
    with new_page(browser, **PHONE) as (page, _cdp):
        pages = ["/", "/forum", "/dev/cards", "/kapu/register", "/kapu/register/eid"]
        for path in pages:
            page.goto(f"{site}{path}")
            assert_fits(page, path)
        page.goto(f"{site}/kapu/login?next=/tax-return")
        log_in(page, citizen.username, citizen.password)
        page.wait_for_url(f"{site}/kapu/plusz**")
        assert_fits(page, "/kapu/plusz")
        page.fill("#totp-code", pyotp.TOTP(citizen.totp_secret).now())
        page.click("#totp button[type=submit]")
        page.wait_for_url(f"{site}/tax-return")
        for path in ["/tax-return", "/my-data", "/kapu/security", "/kapu/outbox"]:
            page.goto(f"{site}{path}")
            assert_fits(page, path)
        page.goto(f"{site}/tax-return")
        save_screenshot(page, "phone-tax-return")
        page.goto(f"{site}/")
        save_screenshot(page, "phone-home")


def assert_fits(page, path: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px phone"
