"""Login history: the previous login and the failures since, the account's own activity in
plain words and local time, how long audit rows are kept, and the new-browser mail.

The test clock stands at 2026-03-02 09:00 UTC, which is 10:00 in Budapest (CET).
Pages are read in English (``?lang=en`` leaves the ``kapu_lang`` cookie).
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from conftest import STRONG_PASSWORD, Api, plain_text, submit
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from flask_kapu.devices import COOKIE
from flask_kapu.i18n import force_locale, gettext
from flask_kapu.store import AuditEvent

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def browser(app: Flask, ip: str, user_agent: str) -> FlaskClient:
    """A client that is a browser of its own: its own address, User-Agent and cookies."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)
    client.get("/kapu/login?lang=en")
    return client


def api_login(client: FlaskClient, username: str, password: str = STRONG_PASSWORD) -> Any:
    return Api(client).post("/login", {"username": username, "password": password})


def page_login(client: FlaskClient, username: str, password: str = STRONG_PASSWORD) -> Any:
    return submit(client, "/kapu/login", {"username": username, "password": password})


def logout(client: FlaskClient) -> None:
    assert Api(client).post("/logout").status_code == 204


@pytest.fixture
def firefox(app: Flask) -> FlaskClient:
    return browser(app, "203.0.113.7", FIREFOX)


@pytest.fixture
def phone(app: Flask) -> FlaskClient:
    return browser(app, "198.51.100.23", CHROME_ANDROID)


@pytest.fixture
def history(active, firefox, phone, clock) -> str:
    """KisAnna logged in on Firefox at 09:00 UTC, then three wrong passwords were typed on a
    phone an hour later; a second login follows at 11:00 UTC."""
    assert api_login(firefox, active).status_code == 200
    logout(firefox)
    clock.advance(hours=1)
    for _ in range(3):
        assert api_login(phone, active, "Rossz-Jelszo-1").status_code == 401
    clock.advance(hours=1)
    return active


# --- the previous login -----------------------------------------------------------------


def test_the_login_answer_tells_the_previous_login_and_the_failures_since(history, phone):
    body = api_login(phone, history).get_json()

    assert body["authenticated"] is True
    assert body["last_login"] == {
        "at": "2026-03-02T09:00:00+00:00",
        "ip": "203.0.113.7",
        "browser": "Firefox 128 on Windows 10",
    }
    assert body["failed_since"] == 3


def test_the_session_document_keeps_telling_it_during_the_session(history, phone, clock):
    api_login(phone, history)
    clock.advance(minutes=5)

    body = Api(phone).session()

    assert body["last_login"]["ip"] == "203.0.113.7"
    assert body["failed_since"] == 3


def test_failures_before_the_previous_login_are_not_counted_again(history, phone, firefox, clock):
    api_login(phone, history)
    logout(phone)
    clock.advance(hours=1)

    body = api_login(firefox, history).get_json()

    assert body["last_login"]["ip"] == "198.51.100.23"
    assert body["last_login"]["at"] == "2026-03-02T11:00:00+00:00"
    assert body["failed_since"] == 0


def test_failures_of_unknown_usernames_are_nobodys(history, phone):
    api_login(phone, "NincsIlyen", "Rossz-Jelszo-1")

    assert api_login(phone, history).get_json()["failed_since"] == 3


def test_the_first_login_after_activation_names_the_activation(active, firefox):
    body = api_login(firefox, active).get_json()

    assert body["last_login"]["at"] == "2026-03-02T09:00:00+00:00"
    assert body["failed_since"] == 0


def test_an_anonymous_session_document_tells_no_history(api):
    body = api.session()

    assert body["last_login"] is None
    assert body["failed_since"] is None


def test_the_security_page_shows_the_previous_login_in_local_time(history, phone):
    page_login(phone, history)

    page = phone.get("/kapu/security").get_data(as_text=True)

    assert "Your previous login: 2026-03-02 10:00 (Europe/Budapest)" in page
    assert "from 203.0.113.7, Firefox 128 on Windows 10" in page
    assert "3 failed login attempts since then." in page


@pytest.fixture
def host_page(app: Flask) -> str:
    """A page of the host app's own that shows the notice (routed before any request)."""

    @app.get("/host-page")
    def host_page() -> str:
        return render_template_string("<main>{{ kapu_login_notice() }}</main>")

    return "/host-page"


def test_the_notice_is_a_partial_host_templates_include(host_page, history, phone):
    page_login(phone, history)

    page = phone.get(host_page).get_data(as_text=True)

    assert "Your previous login: 2026-03-02 10:00 (Europe/Budapest)" in page
    assert "3 failed login attempts since then." in page


def test_the_partial_is_empty_without_a_login(host_page, firefox):
    assert firefox.get(host_page).get_data(as_text=True) == "<main></main>"


# --- the activity list ------------------------------------------------------------------


def test_the_security_page_lists_the_accounts_activity_in_plain_words(history, phone):
    page_login(phone, history)

    page = phone.get("/kapu/security").get_data(as_text=True)
    activity = page[page.index('id="activity-heading"') :]

    assert "When (Europe/Budapest)" in activity
    assert "2026-03-02 12:00" in activity  # this login, 11:00 UTC
    assert "3 failed logins" in activity  # one burst, not three rows
    assert "2026-03-02 11:00" in activity
    assert "Account activated" in activity
    assert "Chrome Mobile 126 on Android 14" in activity
    assert "UTC" not in activity


def test_a_burst_is_told_apart_from_a_single_failure(active, phone, firefox, clock):
    api_login(phone, active, "Rossz-Jelszo-1")
    clock.advance(minutes=1)
    api_login(firefox, active)

    items = firefox.get("/kapu/api/activity?lang=en").get_json()["events"]

    assert [(i["event"], i["count"]) for i in items[:2]] == [("login", 1), ("login_failed", 1)]
    assert items[1]["label"] == "Failed login"


def test_the_api_lists_the_same_activity(history, phone):
    api_login(phone, history)

    response = phone.get("/kapu/api/activity?lang=en")

    assert response.status_code == 200
    items = response.get_json()["events"]
    assert items[0] == {
        "event": "login",
        "label": "Logged in",
        "at": "2026-03-02T11:00:00+00:00",
        "last_at": "2026-03-02T11:00:00+00:00",
        "count": 1,
        "ip": "198.51.100.23",
        "browser": "Chrome Mobile 126 on Android 14",
    }
    assert items[1]["event"] == "login_failed"
    assert items[1]["count"] == 3
    assert items[1]["label"] == "3 failed logins"


def test_the_api_activity_needs_a_login(api):
    response = api.client.get("/kapu/api/activity")

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_the_list_holds_the_last_twenty_events(active, firefox, clock):
    for _ in range(15):
        api_login(firefox, active)
        logout(firefox)
        clock.advance(minutes=1)
    api_login(firefox, active)

    items = firefox.get("/kapu/api/activity").get_json()["events"]

    assert len(items) == 20
    assert items[0]["event"] == "login"
    assert items[-1]["at"] == "2026-03-02T09:05:00+00:00"  # older ones are left out


def test_recovery_code_logins_are_named(app, active, firefox, state, clock):
    with app.app_context(), state.deps.store.transaction() as repo:
        account = repo.account_by_username(active)
        assert account is not None
        repo.audit("login", account_id=account.id, at=clock(), detail={"method": "recovery"})
    api_login(firefox, active)

    items = firefox.get("/kapu/api/activity").get_json()["events"]

    assert items[1]["label"] == "Logged in with a recovery code"


# --- retention --------------------------------------------------------------------------


def events(app: Flask, state: Any) -> list[str]:
    with app.app_context(), state.deps.store.reading() as repo:
        return [e.at.isoformat() for e in repo.session.query(AuditEvent).all()]


def test_purge_removes_audit_rows_past_the_retention(app, state, history, phone, clock):
    api_login(phone, history)
    clock.advance(days=365, minutes=-30)  # a year after 10:30 UTC: 09:00 and 10:00 are older

    result = app.test_cli_runner().invoke(args=["kapu", "purge"])

    assert result.exit_code == 0, result.output
    assert "8 audit events" in result.output
    assert events(app, state) == ["2026-03-02T11:00:00+00:00"]


@pytest.mark.parametrize("app_config", [{"KAPU_AUDIT_RETENTION": None}], indirect=True)
def test_a_retention_of_none_keeps_audit_rows_forever(app, state, history, clock):
    clock.advance(days=3650)

    result = app.test_cli_runner().invoke(args=["kapu", "purge"])

    assert "0 audit events" in result.output
    assert len(events(app, state)) == 8


@pytest.mark.parametrize("app_config", [{"KAPU_AUDIT_RETENTION": 86400 * 30}], indirect=True)
def test_the_retention_is_a_setting(app, state, history, clock):
    clock.advance(days=30, minutes=-90)  # 30 days after 09:30 UTC

    app.test_cli_runner().invoke(args=["kapu", "purge"])

    assert events(app, state) == ["2026-03-02T10:00:00+00:00"] * 3  # the failures are kept


# --- the new-browser mail ---------------------------------------------------------------


NEW_BROWSER_SUBJECT = "A new browser logged in to your Ügyfélkapu account"


def in_hungarian(app: Flask, text: str) -> str:
    with app.test_request_context(), force_locale("hu"):
        return gettext(text)


def test_a_login_from_a_new_browser_is_mailed(app, active, firefox, mailbox):
    assert page_login(firefox, active).status_code == 302

    [mail] = mailbox.wait_for("anna@example.hu")
    text = plain_text(mail)
    assert mail["Subject"] == "[Ügyfélkapu] " + in_hungarian(app, NEW_BROWSER_SUBJECT)
    assert "2026-03-02 10:00 (Europe/Budapest)" in text
    assert "Firefox 128 on Windows 10" in text
    assert "203.0.113.7" in text
    assert "http://localhost/kapu/security#sessions" in text


def test_a_login_from_a_known_browser_is_not_mailed(active, firefox, mailbox, clock):
    api_login(firefox, active)
    logout(firefox)
    mailbox.wait_for("anna@example.hu")
    mailbox.clear()
    clock.advance(days=1)

    assert api_login(firefox, active).status_code == 200

    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []


def test_the_browser_that_activated_the_account_is_known(active, api, mailbox):
    assert api.post("/login", {"username": active, "password": STRONG_PASSWORD}).status_code == 200

    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []


def test_activation_itself_is_not_mailed_as_a_new_browser(registered, firefox, mailbox):
    username, code = registered
    mailbox.clear()

    response = Api(firefox).post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )

    assert response.status_code == 200
    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []


def test_a_failed_login_from_a_new_browser_is_not_mailed(active, firefox, mailbox):
    api_login(firefox, active, "Rossz-Jelszo-1")

    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []


def test_the_new_browser_is_known_after_its_login(active, firefox):
    api_login(firefox, active)

    assert firefox.get_cookie(COOKIE, path="/kapu") is not None


@pytest.mark.parametrize("app_config", [{"KAPU_NEW_DEVICE_NOTICE": False}], indirect=True)
def test_the_notice_can_be_turned_off(active, firefox, mailbox):
    assert api_login(firefox, active).status_code == 200

    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []
    assert firefox.get_cookie(COOKIE, path="/kapu") is not None  # still a known browser after


# --- logins with a second factor --------------------------------------------------------


@pytest.fixture
def totp_secret(active, api, clock, mailbox) -> str:
    """KisAnna has an authenticator app (enrolled in the activating browser), logged out."""
    assert api.post("/login", {"username": active, "password": STRONG_PASSWORD}).status_code == 200
    secret = api.post("/factors/totp", {}).get_json()["secret"]
    code = pyotp.TOTP(secret).at(clock())
    confirmed = api.post("/factors/totp/confirm", {"password": STRONG_PASSWORD, "code": code})
    assert confirmed.status_code == 201
    api.post("/logout")
    clock.advance(minutes=1)
    mailbox.clear()
    return secret


def test_a_new_browser_stopping_at_the_second_factor_is_not_mailed(
    active, totp_secret, firefox, mailbox
):
    assert api_login(firefox, active).get_json()["pending"] == "second_factor"

    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []
    assert firefox.get_cookie(COOKIE, path="/kapu") is None  # not known before its login completes


def test_a_new_browser_is_mailed_when_its_second_factor_completes_the_login(
    active, totp_secret, firefox, mailbox, clock
):
    client = Api(firefox)
    client.post("/login", {"username": active, "password": STRONG_PASSWORD})

    done = client.post("/plusz/totp/verify", {"code": pyotp.TOTP(totp_secret).at(clock())})

    assert done.status_code == 200
    assert done.get_json()["last_login"]["at"] == "2026-03-02T09:00:00+00:00"
    [mail] = mailbox.wait_for("anna@example.hu")
    assert "Firefox 128 on Windows 10" in plain_text(mail)
    assert firefox.get_cookie(COOKIE, path="/kapu") is not None


def test_a_known_browser_completing_its_second_factor_is_not_mailed(
    active, totp_secret, api, mailbox, clock
):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})

    done = api.post("/plusz/totp/verify", {"code": pyotp.TOTP(totp_secret).at(clock())})

    assert done.status_code == 200
    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []
