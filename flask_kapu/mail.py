"""Mail: render a message in the account's language and hand it to a mailer.

With ``MAIL_SERVER`` set, mail goes over SMTP using Flask's usual ``MAIL_*``
keys. Without it, an :class:`OutboxMailer` keeps messages in memory and logs
who got what (never the code), and the dev outbox page shows them when the
app runs in debug mode.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from flask import Flask, render_template

from .config import KapuConfig
from .errors import MailDeliveryError
from .i18n import config_texts, force_locale, gettext, template_helpers
from .store import Account

__all__ = ["MailNotifier", "Mailer", "OutboxMailer", "SmtpMailer", "mailer_from_config"]

log = logging.getLogger(__name__)


class Mailer(Protocol):
    """Anything that can send an :class:`~email.message.EmailMessage`."""

    def send(self, message: EmailMessage) -> None: ...


class OutboxMailer:
    """Keeps the last messages in memory (development and tests without SMTP)."""

    def __init__(self, size: int = 200) -> None:
        self.messages: deque[EmailMessage] = deque(maxlen=size)
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.messages.append(message)
        log.info("outbox: mail %r to %s", message["Subject"], message["To"])


class SmtpMailer:
    """Sends over SMTP; every failure becomes :class:`MailDeliveryError`."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        use_tls: bool = False,
        use_ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.username, self.password = username, password
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        try:
            if self.use_ssl:
                context = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailDeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc


def mailer_from_config(config: Mapping[str, Any]) -> Mailer:
    """SMTP when ``MAIL_SERVER`` is set, else the in-memory outbox."""
    host = config.get("MAIL_SERVER")
    if not host:
        return OutboxMailer()
    return SmtpMailer(
        host,
        int(config.get("MAIL_PORT") or (465 if config.get("MAIL_USE_SSL") else 25)),
        use_tls=bool(config.get("MAIL_USE_TLS")),
        use_ssl=bool(config.get("MAIL_USE_SSL")),
        username=config.get("MAIL_USERNAME"),
        password=config.get("MAIL_PASSWORD"),
    )


def _subjects() -> dict[str, str]:
    return {
        "activation": gettext("Your Ügyfélkapu activation code"),
        "reset": gettext("Your Ügyfélkapu password reset code"),
        "email_code": gettext("Your Ügyfélkapu+ login code"),
        "email_enrol": gettext("Your code to set up Ügyfélkapu+"),
        "new_device": gettext("A new browser logged in to your Ügyfélkapu account"),
        **{name: subject for name, (subject, _text) in _notices({}).items()},
    }


def _notices(context: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Security notices: subject and text of each (rendered through ``_notice``)."""
    label = context.get("label", "")
    return {
        "password_changed": (
            gettext("Your Ügyfélkapu password was changed"),
            gettext(
                "The password of your Ügyfélkapu account was changed, "
                "and your other sessions were ended."
            ),
        ),
        "factor_added": (
            gettext("A second factor was added to your Ügyfélkapu account"),
            gettext(
                "A new Ügyfélkapu+ second factor was added to your account: %(name)s.", name=label
            ),
        ),
        "factor_removed": (
            gettext("A second factor was removed from your Ügyfélkapu account"),
            gettext(
                "An Ügyfélkapu+ second factor was removed from your account: %(name)s.", name=label
            ),
        ),
        "recovery_used": (
            gettext("A recovery code was used on your Ügyfélkapu account"),
            gettext("Someone confirmed a login to your account with one of your recovery codes."),
        ),
        "recovery_codes_renewed": (
            gettext("New recovery codes for your Ügyfélkapu account"),
            gettext(
                "New recovery codes were made for your account; the earlier ones no longer work."
            ),
        ),
        "plusz_failures": (
            gettext("Wrong Ügyfélkapu+ codes on your account"),
            gettext(
                "Several wrong Ügyfélkapu+ codes were entered for your account, "
                "so confirming is paused for a while."
            ),
        ),
        "factors_reset": (
            gettext("Your Ügyfélkapu+ second factors were removed"),
            gettext(
                "At your request the office removed every second factor of your account. "
                "Set up Ügyfélkapu+ again after you log in."
            ),
        ),
        "account_closed": (
            gettext("Your Ügyfélkapu account was closed"),
            gettext(
                "At your request your Ügyfélkapu account was closed: your personal data, "
                "second factors and sessions were erased. Your username cannot be used again. "
                "This is the last mail we send to this address."
            ),
        ),
    }


class MailNotifier:
    """The services' notifier: renders ``kapu/mail/<template>.{txt,html}`` and sends it."""

    def __init__(self, app: Flask, mailer: Mailer, config: KapuConfig) -> None:
        self.mailer = mailer
        self.config = config
        self.subject_prefix = config.mail_subject_prefix
        self.sender = app.config.get("MAIL_DEFAULT_SENDER") or "noreply@localhost"
        self._app = app
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kapu-mail")

    def compose(self, account: Account, template: str, **context: Any) -> EmailMessage:
        with force_locale(account.language):
            values = {
                **template_helpers(),
                **config_texts(self.config),
                "account": account,
                **context,
            }
            notice = _notices(context).get(template)
            if notice is not None:
                values["notice"] = notice[1]
            page = "_notice" if notice is not None else template
            text = render_template(f"kapu/mail/{page}.txt", **values)
            html = render_template(f"kapu/mail/{page}.html", **values)
            subject = self.subject_prefix + _subjects()[template]
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender if isinstance(self.sender, str) else _address(self.sender)
        message["To"] = account.email
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="flask-kapu")
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        message["Content-Language"] = account.language  # set_content clears Content-* headers
        return message

    def deliver(self, account: Account, template: str, **context: Any) -> bool:
        """Send now; ``True`` if it went out (a failure is logged)."""
        message = self.compose(account, template, **context)
        try:
            self.mailer.send(message)
        except MailDeliveryError:
            log.exception("mail to %s could not be sent", message["To"])
            return False
        return True

    def run_later(self, job: Callable[[], object]) -> None:
        """Run ``job`` in the mail thread, in an app context, while the caller answers.

        For work whose duration would tell the caller something, such as
        whether an account exists. A failure is logged, like a mail that
        cannot be sent: nobody is waiting for it.
        """
        self._background.submit(self._run_logged, job)

    def _run_logged(self, job: Callable[[], object]) -> None:
        with self._app.app_context():
            try:
                job()
            except Exception:
                log.exception("background work failed")  # not the job: it holds the config

    def wait(self) -> None:
        """Block until background work, mail included, is done (tests, shutdown)."""
        self._background.submit(lambda: None).result()


def _address(pair: Any) -> str:
    name, address = pair
    return str(Address(display_name=name, addr_spec=address))
