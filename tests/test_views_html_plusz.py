"""Ügyfélkapu+ in the HTML pages: enrolling factors, the second step of a login, step-up.

Pages are read in English (the ``kapu_lang`` cookie a user gets from ``?lang=en``) so
that the assertions hold while the Hungarian catalogue changes; the language tests at
the end use a browser without the cookie. Mails arrive at a real SMTP sink in the
account's language (Hungarian), so they are read for their codes and numbers only.
Forms are submitted as a browser would: the CSRF token from the page that shows the
form, posted to the form's ``action``.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pyotp
import pytest
from conftest import STRONG_PASSWORD, csrf_from, plain_text, submit
from sqlalchemy import select

from flask_kapu.i18n import problem_detail
from flask_kapu.store import AuditEvent, Factor, RecoveryCode

TOTP_STEP = 30  # seconds: an authenticator app shows a new code every step
RECOVERY_CODE = re.compile(r"^[0-9A-Z]{5}-[0-9A-Z]{5}$")
SIX_DIGITS = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
THREE_DIGITS = re.compile(r"(?<!\d)\d{3}(?!\d)")


# --- reading pages ------------------------------------------------------------------------


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def alert(response: Any) -> str | None:
    """The page-level message (role="alert"), as the user reads it."""
    found = re.search(
        r'class="kapu-alert" role="alert">(.*?)</', response.get_data(as_text=True), re.S
    )
    return html.unescape(found.group(1)).strip() if found else None


def detail(app, problem: str) -> str:
    """The page-level message for a problem code (API.md), in English."""
    with app.test_request_context("/?lang=en"):
        return problem_detail(problem)


def location(response: Any) -> str:
    return str(response.headers["Location"])


def path_and_next(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


def redirect_path_and_next(response: Any) -> tuple[str, str | None]:
    return path_and_next(location(response))


def html_lang(response: Any) -> str | None:
    found = re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True))
    return found.group(1) if found else None


def form_action(page: str, containing: str, default: str) -> str:
    """The action of the one form of ``page`` whose markup contains ``containing``."""
    found = [
        attrs
        for attrs, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.S)
        if containing in html.unescape(attrs + body)
    ]
    assert len(found) == 1, f"{len(found)} forms contain {containing!r}"
    action = re.search(r'\baction="([^"]*)"', found[0])
    return html.unescape(action.group(1)) if action else default


def post_form(client, page_path: str, containing: str, data: dict[str, str] | None = None) -> Any:
    """GET a page, then submit its form that contains ``containing`` to that form's action."""
    page = client.get(page_path)
    assert page.status_code == 200, page.status_code
    markup = page.get_data(as_text=True)
    action = form_action(markup, containing, default=page_path)
    return client.post(action, data={"csrf_token": csrf_from(markup), **(data or {})})


def shown_key(response: Any) -> str:
    """The authenticator key the enrolment page shows typed out (in groups of four)."""
    found = re.search(
        r'<code id="totp-secret" data-secret="([A-Z2-7]+)">([A-Z2-7 ]+)</code>',
        response.get_data(as_text=True),
    )
    assert found, "no typed-out key on the page"
    assert found.group(2).replace(" ", "") == found.group(1)
    return found.group(1)


def recovery_codes_on(response: Any) -> list[str]:
    found = re.search(
        r'<ol class="kapu-codes" id="recovery-codes">(.*?)</ol>',
        response.get_data(as_text=True),
        re.S,
    )
    assert found, "no recovery codes on the page"
    return re.findall(r"<code>([^<]+)</code>", found.group(1))


def factor_rows(response: Any) -> list[tuple[str, str]]:
    """(method, name) of each factor the security page lists."""
    table = re.search(r'<table class="kapu-factors">(.*?)</table>', text_of(response), re.S)
    if table is None:
        return []
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", table.group(1))
    return [(method.strip(), name.strip()) for method, name in rows]


def session_id_on(response: Any) -> str:
    """The 3-digit session ID a page shows next to a mailed code."""
    found = re.search(r"Session ID: (\d{3})\b", text_of(response))
    assert found, "no session ID on the page"
    return found.group(1)


def visible_inputs(page: str) -> list[dict[str, str]]:
    """The attributes of every input a user can see and fill in."""
    tags = [
        {name: html.unescape(value) for name, value in re.findall(r'([a-z-]+)="([^"]*)"', tag)}
        for tag in re.findall(r"<input\b[^>]*>", page)
    ]
    return [tag for tag in tags if tag.get("type") != "hidden"]


def input_attrs(response: Any, field_id: str) -> dict[str, str]:
    found = [t for t in visible_inputs(response.get_data(as_text=True)) if t.get("id") == field_id]
    assert len(found) == 1, f"{len(found)} inputs with id {field_id!r}"
    return found[0]


def element_text(response: Any, element_id: str) -> str | None:
    found = re.search(
        rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>',
        response.get_data(as_text=True),
        re.S,
    )
    return html.unescape(found.group(2)).strip() if found else None


# --- reading mails ------------------------------------------------------------------------


def mails_with_code(mailbox, to: str, count: int = 1, timeout: float = 5.0) -> list[Any]:
    """The mails to ``to`` that carry a 6-digit code, once ``count`` have arrived.

    (Notices such as "a second factor was added" go to the same address.)
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mailbox.wait_for(to, timeout=0) if SIX_DIGITS.search(plain_text(m))]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def six_digit_code(message) -> str:
    found = SIX_DIGITS.findall(plain_text(message))
    assert len(found) == 1, plain_text(message)
    return str(found[0])


def numbers_in(message) -> list[str]:
    """The 3-digit numbers a mail carries (a code mail's session ID is one)."""
    return THREE_DIGITS.findall(plain_text(message))


# --- state --------------------------------------------------------------------------------


def confirmed_factors(state, username: str = "KisAnna") -> list[tuple[str, str]]:
    with state.deps.store.transaction() as repo:
        account = repo.account_by_username(username)
        assert account is not None
        return [(f.method, f.label) for f in repo.factors(account.id)]


def unused_recovery_codes(state, username: str = "KisAnna") -> int:
    with state.deps.store.transaction() as repo:
        account = repo.account_by_username(username)
        assert account is not None
        return repo.unused_recovery_codes(account.id)


def stored_recovery_codes(state) -> int:
    with state.deps.store.transaction() as repo:
        return len(list(repo.session.scalars(select(RecoveryCode))))


def audit_details(state, event: str) -> list[Any]:
    with state.deps.store.transaction() as repo:
        found = repo.session.scalars(select(AuditEvent).where(AuditEvent.event == event))
        return [e.detail for e in found]


# --- actions ------------------------------------------------------------------------------


@pytest.fixture
def client(app):
    """A browser whose user picked English (``?lang=en`` once)."""
    browser = app.test_client()
    browser.set_cookie("kapu_lang", "en")
    return browser


def log_in(client, username: str = "KisAnna", password: str = STRONG_PASSWORD, next_=None) -> Any:
    path = "/kapu/login" if next_ is None else f"/kapu/login?next={quote(next_, safe='')}"
    return submit(client, path, {"username": username, "password": password})


def log_out(client) -> None:
    assert submit(client, "/kapu/logout", {}).status_code == 302


def next_code(secret: str, clock) -> str:
    """The code the app shows once the clock has moved on to the next time step."""
    clock.advance(seconds=TOTP_STEP)
    return pyotp.TOTP(secret).at(clock())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def confirm_on_plusz(client, page_path: str, method: str, code: str) -> Any:
    """On the step-up page, type ``code`` into the form of ``method`` and confirm.

    Each method's form on the page has field names of its own (``totp-code``...).
    """
    page = client.get(page_path)
    assert page.status_code == 200, page.status_code
    markup = page.get_data(as_text=True)
    action = form_action(markup, f'action="/kapu/plusz/{method}?', default=page_path)
    token = csrf_from(markup)
    return client.post(action, data={f"{method}-csrf_token": token, f"{method}-code": code})


def send_code(client, next_: str = "/adohivatal") -> Any:
    """Press "Send me a code" (or "Send a new code") on the step-up page."""
    return post_form(client, f"/kapu/plusz?next={next_}", 'action="/kapu/plusz/email/send')


def ask_for_email_codes(client) -> Any:
    """Press "Codes by e-mail" on the security page."""
    return post_form(client, "/kapu/security", "Codes by e-mail to anna@example.hu")


def start_authenticator(client) -> Any:
    """Press "Authenticator app" on the security page: the page with a new key."""
    started = post_form(client, "/kapu/security", "Authenticator app (recommended)")
    assert location(started) == "/kapu/security/totp", started.status_code
    return client.get(location(started))


def enrol_authenticator_form(client, clock, **changes: str) -> tuple[str, Any]:
    """Start an authenticator and confirm its key (with ``changes`` to the form)."""
    page = start_authenticator(client)
    secret = shown_key(page)
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "label": "Telefon",
        "password": STRONG_PASSWORD,
        "code": pyotp.TOTP(secret).at(clock()),
        **changes,
    }
    return secret, client.post("/kapu/security/totp", data=data)


@dataclass
class Authenticator:
    secret: str
    recovery_codes: list[str]


@pytest.fixture
def logged_in(client, active) -> str:
    """KisAnna is logged in with her password; she has no second factor yet."""
    assert log_in(client).status_code == 302
    return active


@pytest.fixture
def enrolled(client, logged_in, clock) -> Authenticator:
    """KisAnna, logged in, has just set up an authenticator app named "Telefon"."""
    secret, response = enrol_authenticator_form(client, clock)
    assert response.status_code == 201, text_of(response)
    return Authenticator(secret, recovery_codes_on(response))


@pytest.fixture
def pending(client, enrolled) -> Authenticator:
    """KisAnna logged out and typed her password again: the login waits for a second factor."""
    log_out(client)
    response = log_in(client, next_="/ugyintezes")
    assert redirect_path_and_next(response) == ("/kapu/plusz", "/ugyintezes")
    return enrolled


@pytest.fixture
def email_only(kapu_account, kapu_login, client):
    """NagyBela has only e-mail codes enrolled and is logged in with his password."""
    who = kapu_account("NagyBela", email="bela@example.hu", methods=("email",))
    kapu_login(client, who)
    return who


# --- enrolling an authenticator app -------------------------------------------------------


def test_the_authenticator_page_shows_an_inline_qr_code_and_the_key_typed_out(client, logged_in):
    response = start_authenticator(client)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<figure class="kapu-qr">\s*<svg\b.*?</svg>\s*</figure>', page, re.S)
    assert len(shown_key(response)) >= 32  # base32: at least 160 bits
    assert "Can't scan the code? Type in the key" in text_of(response)


def test_each_press_of_the_start_button_makes_a_new_key(client, logged_in):
    first = shown_key(start_authenticator(client))
    second = shown_key(start_authenticator(client))

    assert first != second


def test_opening_the_authenticator_page_shows_the_pending_key_and_changes_nothing(
    client, logged_in
):
    started = shown_key(start_authenticator(client))

    again = client.get("/kapu/security/totp")

    assert shown_key(again) == started
    assert shown_key(client.get("/kapu/security/totp")) == started


def test_without_a_pending_key_the_authenticator_page_only_offers_to_start(
    client, logged_in, state
):
    response = client.get("/kapu/security/totp")

    assert response.status_code == 200
    assert "totp-secret" not in response.get_data(as_text=True)
    action = form_action(response.get_data(as_text=True), "Make a key for the app", "")
    assert action == "/kapu/security/totp/start"
    with state.deps.store.transaction() as repo:
        assert repo.session.scalars(select(Factor)).all() == []


def test_starting_an_authenticator_needs_the_csrf_token(client, logged_in, state):
    response = client.post("/kapu/security/totp/start", data={})

    assert response.status_code == 400
    with state.deps.store.transaction() as repo:
        assert repo.session.scalars(select(Factor)).all() == []


def test_confirming_with_password_and_current_code_shows_ten_recovery_codes(
    client, logged_in, clock, state
):
    _secret, response = enrol_authenticator_form(client, clock)

    assert response.status_code == 201
    assert "Save your recovery codes" in text_of(response)
    codes = recovery_codes_on(response)
    assert len(set(codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes), codes
    assert confirmed_factors(state) == [("totp", "Telefon")]
    assert unused_recovery_codes(state) == 10


def test_recovery_codes_are_shown_only_once(client, enrolled):
    security = text_of(client.get("/kapu/security"))

    assert [code for code in enrolled.recovery_codes if code in security] == []
    assert "10 unused recovery codes left." in security


def test_the_security_page_then_lists_the_authenticator_with_its_label(client, enrolled):
    response = client.get("/kapu/security")

    assert response.status_code == 200
    assert factor_rows(response) == [("Authenticator app", "Telefon")]
    assert 'aria-label="Remove Telefon"' in text_of(response)


def test_confirming_the_authenticator_steps_the_session_up_with_it(api, enrolled):
    session = api.session()

    assert session["level"] == "plusz"
    assert "totp" in session["methods_used"]
    assert session["enrolled_methods"] == ["totp"]


def _wrong_password(code: str) -> dict[str, str]:
    return {"password": "Rossz-Jelszo-99", "code": code}


def _wrong_code(code: str) -> dict[str, str]:
    return {"password": STRONG_PASSWORD, "code": wrong(code)}


@pytest.mark.parametrize(
    ("mistake", "status", "problem"),
    [
        pytest.param(_wrong_password, 401, "wrong_password", id="wrong-password"),
        pytest.param(_wrong_code, 400, "invalid_code", id="wrong-code"),
    ],
)
def test_a_mistake_rerenders_the_form_with_an_error_and_the_same_key(
    client, app, logged_in, clock, state, mistake, status, problem
):
    page = start_authenticator(client)
    secret = shown_key(page)
    token = csrf_from(page.get_data(as_text=True))

    response = client.post(
        "/kapu/security/totp",
        data={"csrf_token": token, "label": "Telefon", **mistake(pyotp.TOTP(secret).at(clock()))},
    )

    assert response.status_code == status
    assert alert(response) == detail(app, problem)
    assert shown_key(response) == secret
    assert "<svg" in response.get_data(as_text=True)
    assert confirmed_factors(state) == []


def test_after_a_wrong_code_the_key_the_app_already_holds_still_confirms(
    client, logged_in, clock, state
):
    page = start_authenticator(client)
    secret = shown_key(page)
    form = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "label": "Telefon",
        "password": STRONG_PASSWORD,
    }
    code = pyotp.TOTP(secret).at(clock())
    client.post("/kapu/security/totp", data={**form, "code": wrong(code)})

    response = client.post("/kapu/security/totp", data={**form, "code": code})

    assert response.status_code == 201
    assert confirmed_factors(state) == [("totp", "Telefon")]


def test_a_rerendered_enrolment_form_never_echoes_the_password(client, logged_in, clock):
    _secret, response = enrol_authenticator_form(client, clock, password="Titkos-Jelszo-77")

    assert response.status_code == 401
    assert "Titkos-Jelszo-77" not in response.get_data(as_text=True)
    assert input_attrs(response, "password")["type"] == "password"


# --- logging in with the authenticator ----------------------------------------------------


def test_a_password_login_of_an_account_with_an_authenticator_goes_on_to_the_plusz_page(
    client, enrolled
):
    log_out(client)

    response = log_in(client, next_="/ugyintezes")

    assert response.status_code == 302
    assert redirect_path_and_next(response) == ("/kapu/plusz", "/ugyintezes")


def test_a_login_waiting_for_its_second_factor_is_no_login(client, api, pending):
    session = api.session()

    assert session["authenticated"] is False
    assert session["pending"] == "second_factor"
    assert path_and_next(location(client.get("/kapu/security")))[0] == "/kapu/login"


def test_the_plusz_page_offers_the_authenticator_form(client, pending):
    response = client.get("/kapu/plusz?next=/ugyintezes")

    assert response.status_code == 200
    page = text_of(response)
    assert (
        "Your password is correct. To finish logging in, confirm with your second factor." in page
    )
    assert "Authenticator app" in page
    action = form_action(page, 'action="/kapu/plusz/totp?', default="")
    assert path_and_next(action) == ("/kapu/plusz/totp", "/ugyintezes")
    assert "Send me a code" not in page  # no e-mail factor enrolled


def test_the_right_code_finishes_the_login_and_returns_to_next(client, api, state, clock, pending):
    code = next_code(pending.secret, clock)

    response = confirm_on_plusz(client, "/kapu/plusz?next=/ugyintezes", "totp", code)

    assert response.status_code == 302
    assert location(response) == "/ugyintezes"
    session = api.session()
    assert session["authenticated"] is True
    assert session["pending"] is None
    assert session["level"] == "plusz"
    assert session["acr"] == "urn:eksz.gov.hu:1.0:azonositas:kau:2:uk:totp"
    assert {"method": "totp"} in audit_details(state, "login")


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"],
)
def test_the_plusz_page_returns_only_to_a_safe_path(client, clock, pending, target):
    code = next_code(pending.secret, clock)

    response = confirm_on_plusz(client, f"/kapu/plusz?next={quote(target, safe='')}", "totp", code)

    assert response.status_code == 302
    assert location(response) == "/"


def test_an_unsafe_next_at_login_ends_on_the_home_page_after_the_code(client, clock, enrolled):
    log_out(client)
    plusz = location(log_in(client, next_="https://evil.example/"))

    response = confirm_on_plusz(client, plusz, "totp", next_code(enrolled.secret, clock))

    assert response.status_code == 302
    assert location(response) == "/"


def test_a_code_used_once_is_refused_in_a_new_login(client, app, api, clock, pending):
    code = next_code(pending.secret, clock)
    confirm_on_plusz(client, "/kapu/plusz?next=/ugyintezes", "totp", code)
    log_out(client)
    log_in(client, next_="/ugyintezes")

    replay = confirm_on_plusz(client, "/kapu/plusz?next=/ugyintezes", "totp", code)

    assert replay.status_code == 400
    assert alert(replay) == detail(app, "invalid_code")
    assert api.session()["pending"] == "second_factor"


def test_a_wrong_authenticator_code_shows_an_error_and_keeps_the_login_pending(
    client, app, api, clock, pending
):
    code = next_code(pending.secret, clock)

    response = confirm_on_plusz(client, "/kapu/plusz?next=/ugyintezes", "totp", wrong(code))

    assert response.status_code == 400
    assert alert(response) == detail(app, "invalid_code")
    assert api.session()["pending"] == "second_factor"


def test_the_plusz_page_sends_a_visitor_without_a_login_to_the_login_page(client):
    response = client.get("/kapu/plusz?next=/ugyintezes")

    assert response.status_code == 302
    assert redirect_path_and_next(response) == ("/kapu/login", "/ugyintezes")


# --- adding a passkey on the security page -----------------------------------------------


def passkey_button(page: str) -> dict[str, str]:
    found = re.search(r'<button\b[^>]*data-kapu-webauthn="register"[^>]*>', page)
    assert found, "no passkey button"
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', found.group(0)))


def test_a_first_passkey_is_added_with_the_password_field_beside_its_button(client, logged_in):
    page = client.get("/kapu/security")

    button = passkey_button(page.get_data(as_text=True))
    assert button["data-password-input"] == "passkey-password"
    field = input_attrs(page, "passkey-password")
    assert (field["type"], field["autocomplete"]) == ("password", "current-password")
    assert 'for="passkey-password"' in page.get_data(as_text=True)


def test_a_further_passkey_needs_no_password_field(client, enrolled):
    page = client.get("/kapu/security").get_data(as_text=True)

    assert "data-password-input" not in passkey_button(page)
    assert 'id="passkey-password"' not in page


# --- enrolling e-mail codes ---------------------------------------------------------------


def test_the_codes_by_email_button_mails_a_code_whose_session_id_the_page_shows(
    client, logged_in, mailbox
):
    response = ask_for_email_codes(client)

    assert response.status_code == 302
    assert urlsplit(location(response)).path == "/kapu/security/email"
    page = client.get(location(response))
    assert page.status_code == 200
    (mail,) = mails_with_code(mailbox, "anna@example.hu")
    assert session_id_on(page) in numbers_in(mail)
    assert "No mail? Check your spam folder" in text_of(page)


def test_confirming_the_mailed_code_adds_the_email_factor(client, api, logged_in, mailbox, state):
    sent = ask_for_email_codes(client)
    (mail,) = mails_with_code(mailbox, "anna@example.hu")

    response = submit(client, location(sent), {"code": six_digit_code(mail)})

    assert response.status_code == 201  # the first factor: recovery codes come with it
    assert len(recovery_codes_on(response)) == 10
    assert confirmed_factors(state) == [("email", "anna@example.hu")]
    assert factor_rows(client.get("/kapu/security")) == [("Code by e-mail", "anna@example.hu")]
    assert "email" in api.session()["methods_used"]


def test_a_wrong_enrolment_code_shows_an_error_and_adds_no_factor(
    client, app, logged_in, mailbox, state
):
    sent = ask_for_email_codes(client)
    (mail,) = mails_with_code(mailbox, "anna@example.hu")

    response = submit(client, location(sent), {"code": wrong(six_digit_code(mail))})

    assert response.status_code == 400
    assert alert(response) == detail(app, "invalid_code")
    assert confirmed_factors(state) == []


def test_a_stale_login_confirms_the_first_email_factor_only_with_the_password(
    client, logged_in, clock, mailbox, state
):
    sent = ask_for_email_codes(client)
    code = six_digit_code(mails_with_code(mailbox, "anna@example.hu")[0])
    clock.advance(minutes=6)

    without = submit(client, location(sent), {"code": code})
    wrong_password = submit(client, location(sent), {"code": code, "password": "Rossz-Jelszo-9"})
    right = submit(client, location(sent), {"code": code, "password": STRONG_PASSWORD})

    assert without.status_code == 422
    assert element_text(without, "password-error") == "This field is required."
    assert wrong_password.status_code == 401
    assert "Type your current password" in alert(wrong_password)
    assert right.status_code == 201
    assert confirmed_factors(state) == [("email", "anna@example.hu")]


@pytest.mark.parametrize(
    ("who", "asks_for_password"),
    [
        pytest.param("logged_in", True, id="first-factor"),
        pytest.param("enrolled", False, id="more"),
    ],
)
def test_the_email_code_form_asks_for_the_password_for_a_first_factor_only(
    client, request, who, asks_for_password
):
    request.getfixturevalue(who)

    page = client.get(location(ask_for_email_codes(client)))

    names = [attrs.get("name") for attrs in visible_inputs(page.get_data(as_text=True))]
    assert "code" in names
    assert ("password" in names) is asks_for_password


def test_the_email_enrolment_page_without_a_code_sent_says_to_ask_for_one(client, logged_in):
    response = client.get("/kapu/security/email")

    assert response.status_code == 200
    assert "No code is waiting. Ask for one on the security page." in text_of(response)
    assert visible_inputs(response.get_data(as_text=True)) == []


# --- step-up by e-mail on /kapu/plusz -----------------------------------------------------


def test_an_email_only_account_logs_in_with_its_password_alone(client, api, kapu_account):
    kapu_account("NagyBela", email="bela@example.hu", methods=("email",), password=STRONG_PASSWORD)

    response = log_in(client, "NagyBela", next_="/ugyintezes")

    assert location(response) == "/ugyintezes"
    assert api.session()["level"] == "ugyfelkapu"


def test_the_plusz_page_offers_to_send_a_code_by_email(client, email_only):
    response = client.get("/kapu/plusz?next=/adohivatal")

    assert response.status_code == 200
    page = text_of(response)
    assert "This page needs Ügyfélkapu+: confirm with your second factor." in page
    assert "Send me a code" in page
    assert "Session ID" not in page


def test_sending_a_code_shows_the_session_id_of_the_mail_and_the_spam_advice(
    client, mailbox, email_only
):
    sent = send_code(client)

    assert sent.status_code == 302
    assert redirect_path_and_next(sent) == ("/kapu/plusz", "/adohivatal")
    page = client.get(location(sent))
    (mail,) = mails_with_code(mailbox, "bela@example.hu")
    assert session_id_on(page) in numbers_in(mail)
    text = text_of(page)
    assert "Check your spam folder" in text
    assert "Send a new code" in text


def test_the_mailed_code_steps_the_session_up_and_returns_to_next(
    client, api, mailbox, state, email_only
):
    send_code(client)
    (mail,) = mails_with_code(mailbox, "bela@example.hu")

    response = confirm_on_plusz(
        client, "/kapu/plusz?next=/adohivatal", "email", six_digit_code(mail)
    )

    assert response.status_code == 302
    assert location(response) == "/adohivatal"
    session = api.session()
    assert session["level"] == "plusz"
    assert session["acr"] == "urn:eksz.gov.hu:1.0:azonositas:kau:2:uk:email"
    assert {"method": "email"} in audit_details(state, "stepped_up")


def test_a_wrong_email_code_shows_an_error_and_does_not_step_up(
    client, app, api, mailbox, email_only
):
    send_code(client)
    (mail,) = mails_with_code(mailbox, "bela@example.hu")

    response = confirm_on_plusz(
        client, "/kapu/plusz?next=/adohivatal", "email", wrong(six_digit_code(mail))
    )

    assert response.status_code == 400
    assert alert(response) == detail(app, "invalid_code")
    assert api.session()["level"] == "ugyfelkapu"


def test_asking_for_a_new_code_within_a_minute_is_refused_with_429_and_asks_to_wait(
    client, app, mailbox, state, clock, email_only
):
    first = client.get(location(send_code(client)))
    clock.advance(seconds=30)

    again = send_code(client)

    assert again.status_code == 429
    assert alert(again) == detail(app, "too_many_attempts")
    assert 0 < int(again.headers["Retry-After"]) <= 30
    assert session_id_on(again) == session_id_on(first)  # the code already sent still works
    state.notifier.wait()
    assert len(mails_with_code(mailbox, "bela@example.hu", timeout=0)) == 1


def test_a_new_code_after_a_minute_replaces_the_old_one(client, mailbox, clock, email_only):
    send_code(client)
    (old,) = mails_with_code(mailbox, "bela@example.hu")
    clock.advance(seconds=61)

    again = send_code(client)

    assert again.status_code == 302
    new = mails_with_code(mailbox, "bela@example.hu", count=2)[-1]
    assert session_id_on(client.get(location(again))) in numbers_in(new)
    refused = confirm_on_plusz(client, "/kapu/plusz?next=/adohivatal", "email", six_digit_code(old))
    assert refused.status_code == 400


# --- recovery codes -----------------------------------------------------------------------


def test_a_recovery_code_completes_a_pending_login(client, api, state, pending):
    response = confirm_on_plusz(
        client, "/kapu/plusz?next=/ugyintezes", "recovery", pending.recovery_codes[0]
    )

    assert response.status_code == 302
    assert location(response) == "/ugyintezes"
    session = api.session()
    assert session["authenticated"] is True
    assert "recovery" in session["methods_used"]
    assert unused_recovery_codes(state) == 9
    assert "9 unused recovery codes left." in text_of(client.get("/kapu/security"))


def test_a_recovery_code_may_be_typed_in_lower_case_with_a_space(client, pending):
    typed = pending.recovery_codes[0].replace("-", " ").lower()

    response = confirm_on_plusz(client, "/kapu/plusz?next=/ugyintezes", "recovery", typed)

    assert response.status_code == 302
    assert location(response) == "/ugyintezes"


def test_a_recovery_code_is_refused_the_second_time(client, app, api, pending):
    code = pending.recovery_codes[0]
    confirm_on_plusz(client, "/kapu/plusz?next=/ugyintezes", "recovery", code)
    log_out(client)
    log_in(client, next_="/ugyintezes")

    again = confirm_on_plusz(client, "/kapu/plusz?next=/ugyintezes", "recovery", code)

    assert again.status_code == 400
    assert alert(again) == detail(app, "invalid_code")
    assert api.session()["pending"] == "second_factor"
    assert '<details id="recovery" open>' in again.get_data(as_text=True)  # the form stays open


# --- removing factors and renewing recovery codes -----------------------------------------


def test_removing_a_factor_with_a_fresh_step_up_removes_it_and_its_recovery_codes(
    client, state, enrolled
):
    response = post_form(client, "/kapu/security", 'aria-label="Remove Telefon"')

    assert response.status_code == 302
    assert location(response) == "/kapu/security?removed=1"
    page = client.get(location(response))
    assert "The second factor was removed." in text_of(page)
    assert factor_rows(page) == []
    assert confirmed_factors(state) == []
    assert unused_recovery_codes(state) == 0
    assert {"method": "totp"} in audit_details(state, "factor_removed")


@pytest.mark.parametrize(
    "button",
    [
        pytest.param('aria-label="Remove Telefon"', id="remove-factor"),
        pytest.param("Make new recovery codes", id="new-recovery-codes"),
    ],
)
def test_a_stale_step_up_sends_the_user_to_plusz_first_and_changes_nothing(
    client, state, clock, enrolled, button
):
    clock.advance(minutes=11)

    response = post_form(client, "/kapu/security", button)

    assert response.status_code == 302
    assert redirect_path_and_next(response) == ("/kapu/plusz", "/kapu/security")
    assert confirmed_factors(state) == [("totp", "Telefon")]
    assert audit_details(state, "recovery_codes_renewed") == []


def test_after_stepping_up_again_on_plusz_the_factor_can_be_removed(client, state, clock, enrolled):
    clock.advance(minutes=11)
    sent_to_plusz = post_form(client, "/kapu/security", 'aria-label="Remove Telefon"')

    back = confirm_on_plusz(
        client, location(sent_to_plusz), "totp", next_code(enrolled.secret, clock)
    )
    removed = post_form(client, location(back), 'aria-label="Remove Telefon"')

    assert location(back) == "/kapu/security"
    assert location(removed) == "/kapu/security?removed=1"
    assert confirmed_factors(state) == []


def test_making_new_recovery_codes_shows_ten_new_ones_and_the_old_ones_stop_working(
    client, app, state, enrolled
):
    response = post_form(client, "/kapu/security", "Make new recovery codes")

    assert response.status_code == 201
    codes = recovery_codes_on(response)
    assert len(set(codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes), codes
    assert set(codes).isdisjoint(enrolled.recovery_codes)
    assert stored_recovery_codes(state) == 10
    old = confirm_on_plusz(client, "/kapu/plusz?next=/", "recovery", enrolled.recovery_codes[0])
    assert old.status_code == 400
    assert alert(old) == detail(app, "invalid_code")


# --- accessibility ------------------------------------------------------------------------


def _security(client, fixture) -> Any:
    log_in(client)
    return client.get("/kapu/security")


def _authenticator_enrolment(client, fixture) -> Any:
    log_in(client)
    return start_authenticator(client)


def _email_enrolment(client, fixture) -> Any:
    log_in(client)
    return client.get(location(ask_for_email_codes(client)))


def _plusz_with_a_mailed_code(client, fixture) -> Any:
    fixture("email_only")
    send_code(client, "/")
    return client.get("/kapu/plusz?next=/")


def _plusz_with_authenticator_and_recovery(client, fixture) -> Any:
    fixture("pending")
    return client.get("/kapu/plusz?next=/ugyintezes")


PAGES = [
    pytest.param(_security, id="security"),
    pytest.param(_authenticator_enrolment, id="authenticator-enrolment"),
    pytest.param(_email_enrolment, id="email-enrolment"),
    pytest.param(_plusz_with_a_mailed_code, id="plusz-email"),
    pytest.param(
        _plusz_with_authenticator_and_recovery,
        id="plusz-authenticator-and-recovery",
    ),
]


@pytest.mark.parametrize("open_page", PAGES)
def test_every_input_has_a_label_of_its_own(client, active, request, open_page):
    response = open_page(client, request.getfixturevalue)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    inputs = visible_inputs(page)
    assert inputs
    for attrs in inputs:
        field_id = attrs.get("id")
        assert field_id, attrs
        assert page.count(f'id="{field_id}"') == 1, f"id {field_id!r} is not unique"
        assert page.count(f'<label for="{field_id}"') == 1, f"no label of its own: {field_id!r}"
        for described_by in attrs.get("aria-describedby", "").split():
            assert page.count(f'id="{described_by}"') == 1, f"{described_by!r} is not unique"


@pytest.mark.parametrize("open_page", PAGES[:2])
def test_password_inputs_are_masked(client, active, request, open_page):
    page = open_page(client, request.getfixturevalue).get_data(as_text=True)

    password_inputs = [t for t in visible_inputs(page) if "password" in t.get("name", "")]
    assert password_inputs
    assert all(t.get("type") == "password" for t in password_inputs), password_inputs


def test_field_errors_on_the_enrolment_form_are_tied_to_their_inputs(client, app, logged_in):
    page = start_authenticator(client)

    response = client.post(
        "/kapu/security/totp", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )

    assert response.status_code == 422
    assert alert(response) == detail(app, "invalid_input")
    for field_id in ("password", "code"):
        attrs = input_attrs(response, field_id)
        assert attrs.get("aria-invalid") == "true"
        assert f"{field_id}-error" in attrs.get("aria-describedby", "").split()
        assert element_text(response, f"{field_id}-error") == "This field is required."


def test_an_empty_code_on_the_email_enrolment_page_is_an_error_tied_to_its_input(client, logged_in):
    sent = ask_for_email_codes(client)

    response = submit(client, location(sent), {"code": ""})

    attrs = input_attrs(response, "code")
    assert attrs.get("aria-invalid") == "true"
    assert "code-error" in attrs.get("aria-describedby", "").split()
    assert element_text(response, "code-error") == "This field is required."


def test_an_invalid_email_enrolment_form_is_refused_with_422_and_an_alert(client, app, logged_in):
    sent = ask_for_email_codes(client)

    response = submit(client, location(sent), {"code": ""})

    assert response.status_code == 422
    assert alert(response) == detail(app, "invalid_input")


def test_an_empty_code_on_the_plusz_page_is_an_error_tied_to_its_input(client, app, email_only):
    send_code(client)

    response = confirm_on_plusz(client, "/kapu/plusz?next=/adohivatal", "email", "")

    assert response.status_code == 422
    assert alert(response) == detail(app, "invalid_input")
    attrs = input_attrs(response, "email-code")
    assert attrs.get("aria-invalid") == "true"
    assert "email-code-error" in attrs.get("aria-describedby", "").split()
    assert element_text(response, "email-code-error") == "This field is required."


# --- language -----------------------------------------------------------------------------


@pytest.fixture
def browser_without_language(app, enrolled) -> Any:
    """A browser with no language cookie, whose login as KisAnna waits for a second factor."""
    browser = app.test_client()
    response = log_in(browser, next_="/ugyintezes")
    assert redirect_path_and_next(response) == ("/kapu/plusz", "/ugyintezes")
    return browser


def test_lang_en_shows_the_plusz_page_in_english(browser_without_language):
    response = browser_without_language.get("/kapu/plusz?next=/ugyintezes&lang=en")

    assert response.status_code == 200
    assert html_lang(response) == "en"
    page = text_of(response)
    assert "Confirm with Ügyfélkapu+" in page
    assert (
        "Your password is correct. To finish logging in, confirm with your second factor." in page
    )
    assert "Lost your phone? Use a recovery code" in page


def test_the_plusz_page_is_hungarian_by_default(browser_without_language):
    response = browser_without_language.get("/kapu/plusz?next=/ugyintezes")

    assert response.status_code == 200
    assert html_lang(response) == "hu"
    page = text_of(response)
    # Both translated in translations/hu/LC_MESSAGES/flask_kapu.po.
    assert "Megerősítés Ügyfélkapu+-szal" in page  # "Confirm with Ügyfélkapu+"
    assert "Jelszava helyes." in page  # "Your password is correct."
    assert "Confirm with Ügyfélkapu+" not in page
