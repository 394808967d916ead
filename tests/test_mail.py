"""Mail: what a mail looks like, in which language, through which mailer, and when SMTP is down.

API.md: codes are 10 characters of ``0-9A-Z`` minus ``I L O U`` and stand in
the plain-text part as one whitespace-separated token (hyphen grouping
allowed); ``mailer.send(message)`` receives an ``email.message.EmailMessage``;
without ``MAIL_SERVER`` mail goes to an outbox. registration.py: a mail that
cannot be sent loses nothing; ``/password/forgot`` issues a new code later.
"""

from __future__ import annotations

import gettext
import logging
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import STRONG_PASSWORD, Api, code_in, empty_tables, free_port, make_app, plain_text
from conftest import register as office_register
from flask import Flask, current_app

import flask_kapu
from flask_kapu import Kapu
from flask_kapu.mail import OutboxMailer
from flask_kapu.state import KapuState
from flask_kapu.store import Account, AccountStatus

SENDER = "ugyfelkapu@example.hu"  # MAIL_DEFAULT_SENDER of conftest.make_app
CODE_ALPHABET = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")  # 0-9A-Z minus I L O U
GROUPED_TOKEN = re.compile(r"[0-9A-Z]+(?:-[0-9A-Z]+)+")
HU_CATALOGUE = (
    Path(flask_kapu.__file__).parent / "translations" / "hu" / "LC_MESSAGES" / "flask_kapu.mo"
)

ACTIVATION_SUBJECT = "Your Ügyfélkapu activation code"
ACTIVATION_LEAD = "Your Ügyfélkapu registration is complete. Your activation code:"
PASSWORD_CHANGED_SUBJECT = "Your Ügyfélkapu password was changed"

SELF_SERVICE = {
    "username": "NagyPeter",
    "email": "peter@example.hu",
    "accept_terms": True,
    "person": {"family_name": "Nagy", "given_name": "Péter", "birth_date": "1980-01-31"},
}


def code_tokens(message: EmailMessage) -> list[str]:
    """The whitespace-separated tokens of the plain-text part that look like a grouped code."""
    return [t for t in plain_text(message).split() if GROUPED_TOKEN.fullmatch(t)]


def parts(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk() if not part.is_multipart()]


def state_of(app: Flask) -> KapuState:
    return app.extensions["kapu"]  # type: ignore[no-any-return]


def account_named(app: Flask, username: str) -> Account | None:
    with state_of(app).deps.store.transaction() as repo:
        return repo.account_by_username(username)


@pytest.fixture
def build_app(database_url: str) -> Iterator[Any]:
    """Apps of this test's own making, on the test database (emptied by the first one)."""
    built: list[Flask] = []

    def _build(smtp_port: int, *, mailer: Any = None, **config: Any) -> tuple[Flask, Kapu]:
        if mailer is None:
            app, kapu = make_app(database_url, smtp_port, **config)
        else:
            app = Flask("custom_mailer_host")
            app.config.update(
                SECRET_KEY="test secret key",
                TESTING=True,
                KAPU_DATABASE_URL=database_url,
                KAPU_ARGON2_TIME_COST=1,
                KAPU_ARGON2_MEMORY_COST=8,
                KAPU_ARGON2_PARALLELISM=1,
                MAIL_SERVER="127.0.0.1",
                MAIL_PORT=smtp_port,
                MAIL_DEFAULT_SENDER=SENDER,
                **config,
            )
            kapu = Kapu(app, mailer=mailer)
        state = state_of(app)
        if not built:
            empty_tables(state)
        state.limiter.reset()
        built.append(app)
        return app, kapu

    yield _build
    for app in built:
        state_of(app).notifier.wait()
        state_of(app).deps.store.dispose()


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on: an SMTP server that is down."""
    return free_port()


# --- the activation mail --------------------------------------------------------------


@pytest.fixture
def activation_mail(app: Flask, mailbox: Any) -> EmailMessage:
    office_register(app)
    (message,) = mailbox.wait_for("anna@example.hu")
    return message


def test_the_activation_mail_has_a_plain_text_and_an_html_part(activation_mail):
    assert activation_mail.get_content_type() == "multipart/alternative"
    assert sorted(parts(activation_mail)) == ["text/html", "text/plain"]
    html = activation_mail.get_body(preferencelist=("html",))
    assert html is not None
    assert "<html" in html.get_content().lower()


def test_the_activation_mail_has_subject_from_to_date_and_message_id(activation_mail):
    assert activation_mail["Subject"].strip()
    assert activation_mail["From"] == SENDER
    assert activation_mail["To"] == "anna@example.hu"
    assert activation_mail["Date"]
    assert activation_mail["Message-ID"]


def test_the_activation_code_is_one_hyphen_grouped_token_of_the_code_alphabet(activation_mail):
    (token,) = code_tokens(activation_mail)
    code = token.replace("-", "")
    assert len(code) == 10
    assert set(code) <= CODE_ALPHABET


def test_the_mailed_activation_code_activates_the_account(activation_mail, api):
    (token,) = code_tokens(activation_mail)
    response = api.post(
        "/activate", {"username": "KisAnna", "code": token, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["level"] == "ugyfelkapu"


# --- language ---------------------------------------------------------------------------


def test_an_english_registration_gets_an_english_mail(app, mailbox):
    office_register(app, language="en")
    (message,) = mailbox.wait_for("anna@example.hu")
    assert message["Subject"].endswith(ACTIVATION_SUBJECT)
    assert ACTIVATION_LEAD in plain_text(message)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert '<html lang="en">' in html.get_content()


def test_every_mail_declares_its_language_in_a_content_language_header(app, mailbox):
    office_register(app, language="hu")
    office_register(app, username="NagyPeter", email="peter@example.hu", language="en")
    (hungarian,) = mailbox.wait_for("anna@example.hu")
    (english,) = mailbox.wait_for("peter@example.hu")
    assert hungarian["Content-Language"] == "hu"
    assert english["Content-Language"] == "en"


@pytest.mark.skipif(not HU_CATALOGUE.exists(), reason="Hungarian catalogue not compiled")
def test_a_hungarian_registration_gets_hungarian_text(app, mailbox):
    with HU_CATALOGUE.open("rb") as fp:
        hungarian = gettext.GNUTranslations(fp)
    assert hungarian.gettext(ACTIVATION_SUBJECT) != ACTIVATION_SUBJECT
    office_register(app, language="hu")
    (message,) = mailbox.wait_for("anna@example.hu")
    assert message["Subject"].endswith(hungarian.gettext(ACTIVATION_SUBJECT))
    text = plain_text(message)
    assert hungarian.gettext(ACTIVATION_LEAD) in text
    assert ACTIVATION_LEAD not in text


def test_the_request_language_of_a_self_service_registration_sets_the_mail_language(api, mailbox):
    response = api.post("/register", SELF_SERVICE, headers={"Accept-Language": "en"})
    assert response.status_code == 201, response.get_json()
    (message,) = mailbox.wait_for("peter@example.hu")
    assert message["Subject"].endswith(ACTIVATION_SUBJECT)
    assert ACTIVATION_LEAD in plain_text(message)


# --- mailers ----------------------------------------------------------------------------


class RecordingMailer:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def send(self, message: Any) -> None:
        self.messages.append(message)


def test_a_custom_mailer_receives_an_email_message_instead_of_smtp(build_app, smtp_server, mailbox):
    mailer = RecordingMailer()
    app, kapu = build_app(smtp_server[1], mailer=mailer)
    with app.app_context():
        kapu.register("KisAnna", "anna@example.hu", language="en")
    (message,) = mailer.messages
    assert isinstance(message, EmailMessage)
    assert message["To"] == "anna@example.hu"
    assert len(code_tokens(message)) == 1
    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []


def test_without_mail_server_the_outbox_keeps_the_mail_and_logs_no_code(build_app, caplog):
    caplog.set_level(logging.DEBUG)
    app, _kapu = build_app(0, MAIL_SERVER=None)
    state = state_of(app)
    assert isinstance(state.mailer, OutboxMailer)
    office_register(app, language="en")
    (message,) = state.mailer.messages
    assert message["To"] == "anna@example.hu"
    token = code_in(message)
    logged = [record.getMessage() for record in caplog.records]
    assert any("anna@example.hu" in line and message["Subject"] in line for line in logged)
    assert token not in caplog.text
    assert token.replace("-", "") not in caplog.text


# --- SMTP down: nothing is lost ---------------------------------------------------------


def test_self_service_registration_with_smtp_down_is_saved_and_says_to_ask_for_a_new_code(
    build_app, closed_port
):
    app, _kapu = build_app(closed_port)
    response = Api(app.test_client()).post(
        "/register", SELF_SERVICE, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending_activation"
    assert body["mail_sent"] is False
    assert "new code" in body["detail"]
    account = account_named(app, "NagyPeter")
    assert account is not None
    assert account.status == AccountStatus.PENDING.value


def test_after_smtp_comes_back_forgot_password_mails_a_code_that_activates_the_account(
    build_app, closed_port, smtp_server, mailbox
):
    down, _ = build_app(closed_port)
    response = Api(down.test_client()).post("/register", SELF_SERVICE)
    assert response.get_json()["mail_sent"] is False

    up, _ = build_app(smtp_server[1])  # the same database, a working mail server
    api = Api(up.test_client())
    forgot = api.post("/password/forgot", {"username": "NagyPeter", "email": "peter@example.hu"})
    assert (forgot.status_code, forgot.get_json()) == (202, {})
    (message,) = mailbox.wait_for("peter@example.hu")
    activated = api.post(
        "/activate",
        {"username": "NagyPeter", "code": code_in(message), "new_password": STRONG_PASSWORD},
    )
    assert activated.status_code == 200, activated.get_json()
    assert activated.get_json()["username"] == "NagyPeter"
    account = account_named(up, "NagyPeter")
    assert account is not None
    assert account.status == AccountStatus.ACTIVE.value


def test_forgot_password_with_smtp_down_still_answers_202_empty(build_app, closed_port, caplog):
    app, _kapu = build_app(closed_port)
    state = state_of(app)
    office_register(app)
    api = Api(app.test_client())
    known = api.post("/password/forgot", {"username": "KisAnna", "email": "anna@example.hu"})
    unknown = api.post("/password/forgot", {"username": "NincsIlyen", "email": "x@example.hu"})
    state.notifier.wait()
    assert (known.status_code, known.get_json()) == (202, {})
    assert (unknown.status_code, unknown.get_json()) == (202, {})
    assert any(
        "could not be sent" in record.getMessage() and "anna@example.hu" in record.getMessage()
        for record in caplog.records
    )


def test_work_run_later_has_the_app_and_a_failure_is_logged_without_stopping_the_rest(
    app, state, caplog
):
    ran_in: list[str] = []

    def fails() -> None:
        raise RuntimeError("the database is gone")

    state.notifier.run_later(fails)
    state.notifier.run_later(lambda: ran_in.append(current_app.name))
    state.notifier.wait()

    assert ran_in == [app.name]
    (failure,) = [r for r in caplog.records if r.getMessage() == "background work failed"]
    assert failure.exc_info is not None
    assert "the database is gone" in str(failure.exc_info[1])


# --- the password-changed notice --------------------------------------------------------


@pytest.fixture
def english_session(app: Flask, api: Api, mailbox: Any) -> Api:
    """An English-speaking account, activated and logged in; its mailbox emptied."""
    office_register(app, language="en")
    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    response = api.post(
        "/activate", {"username": "KisAnna", "code": code, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    mailbox.clear()
    return api


def test_a_password_change_sends_a_notice_without_any_code(english_session, mailbox):
    response = english_session.post(
        "/password/change",
        {"current_password": STRONG_PASSWORD, "new_password": "Nyari-Zapor-2026"},
    )
    assert response.status_code == 200, response.get_json()
    (message,) = mailbox.wait_for("anna@example.hu")
    assert message["Subject"].endswith(PASSWORD_CHANGED_SUBJECT)
    assert message["From"] == SENDER
    assert sorted(parts(message)) == ["text/html", "text/plain"]
    assert "password" in plain_text(message)
    assert code_tokens(message) == []


def test_a_refused_password_change_sends_no_notice(english_session, mailbox):
    response = english_session.post(
        "/password/change",
        {"current_password": "Rossz-Jelszo-1", "new_password": "Nyari-Zapor-2026"},
    )
    assert response.status_code == 401
    assert mailbox.wait_for("anna@example.hu", timeout=0.5) == []
