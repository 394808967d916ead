"""flask_kapu's own translation domain and the language of a request.

flask_kapu keeps its messages in a Babel domain of its own (``flask_kapu``),
so they work whether or not the host app has catalogues. A host overrides any
message, or adds a language, with a compiled ``<lang>/LC_MESSAGES/flask_kapu.mo``
in its own translations folder (``KAPU_TRANSLATION_DIRECTORIES``, by default its
``BABEL_TRANSLATION_DIRECTORIES``): its catalogue is read after flask_kapu's, so
its texts win. Hungarian is the source-of-truth language for users; message ids
are English.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel.support import Translations
from flask import Flask, current_app, has_app_context, has_request_context, request
from flask_babel import Babel, Domain, force_locale

from .config import KapuConfig

__all__ = [
    "COOKIE",
    "LANGUAGES",
    "Catalogues",
    "activity_label",
    "config_texts",
    "domain",
    "duration_text",
    "event_label",
    "field_message",
    "field_messages",
    "find_catalogues",
    "force_locale",
    "gettext",
    "install",
    "languages",
    "lazy_gettext",
    "local_time",
    "method_label",
    "ngettext",
    "problem_detail",
    "select_locale",
    "template_helpers",
]

LANGUAGES = ("hu", "en")
COOKIE = "kapu_lang"

_PACKAGE_CATALOGUES = str(resources.files("flask_kapu").joinpath("translations"))
_EXTENSION = "kapu_i18n"


@dataclasses.dataclass(frozen=True)
class Catalogues:
    """One app's ``flask_kapu`` catalogue folders (flask_kapu's first) and its languages."""

    directories: tuple[str, ...]
    languages: tuple[str, ...]


class _AppDomain(Domain):  # type: ignore[misc]
    """flask_kapu's domain over the current app's folders, cached per set of folders
    (Flask-Babel's own cache is one per domain object, shared by every app)."""

    def __init__(self) -> None:
        super().__init__(translation_directories=[_PACKAGE_CATALOGUES], domain="flask_kapu")
        self._caches: dict[tuple[str, ...], dict[Any, Translations]] = {}

    @property
    def translation_directories(self) -> list[str]:
        catalogues = current_app.extensions.get(_EXTENSION) if has_app_context() else None
        return list(catalogues.directories) if catalogues else [_PACKAGE_CATALOGUES]

    def get_translations_cache(self, ctx: object) -> dict[Any, Translations]:
        return self._caches.setdefault(tuple(self.translation_directories), {})


domain = _AppDomain()
gettext = domain.gettext
ngettext = domain.ngettext
lazy_gettext = domain.lazy_gettext


def languages() -> tuple[str, ...]:
    """Hungarian, English and the languages the current app added catalogues for."""
    catalogues = current_app.extensions.get(_EXTENSION) if has_app_context() else None
    return catalogues.languages if catalogues else LANGUAGES


def select_locale() -> str:
    """``?lang=``, then the remembered cookie, then ``Accept-Language``, then Hungarian."""
    if not has_request_context():
        return "hu"
    offered = languages()
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in offered:
            return candidate
    return request.accept_languages.best_match(offered) or "hu"


def find_catalogues(app: Flask, config: KapuConfig) -> Catalogues:
    """flask_kapu's catalogues and the app's own ``flask_kapu`` ones, which win; the
    languages are Hungarian, English and each one the app added a catalogue for."""
    folders = config.translation_directories
    if folders is None:
        folders = tuple(app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations").split(";"))
    host = [os.path.join(app.root_path, folder) for folder in folders]
    added = sorted(
        {
            lang
            for folder in host
            if os.path.isdir(folder)
            for lang in os.listdir(folder)
            if os.path.isfile(os.path.join(folder, lang, "LC_MESSAGES", "flask_kapu.mo"))
        }
        - set(LANGUAGES)
    )
    return Catalogues(directories=(_PACKAGE_CATALOGUES, *host), languages=(*LANGUAGES, *added))


def install(app: Flask, config: KapuConfig, catalogues: Catalogues) -> None:
    """Use ``catalogues`` in this app; give the app Flask-Babel with flask_kapu's
    selector unless it has set Babel up itself or ``KAPU_BABEL`` is off."""
    app.extensions[_EXTENSION] = catalogues
    if config.babel and "babel" not in app.extensions:
        app.config.setdefault("BABEL_DEFAULT_LOCALE", "hu")
        Babel(app, locale_selector=select_locale)


def template_helpers() -> dict[str, Any]:
    """Names every flask_kapu template (page or mail) uses for its text."""
    return {
        "_": gettext,
        "gettext": gettext,
        "ngettext": ngettext,
        "event_label": event_label,
        "activity_label": activity_label,
        "local_time": local_time,
        "method_label": method_label,
        "webauthn_messages": webauthn_messages,
    }


def webauthn_messages() -> str:
    """The texts the passkey script shows, as JSON for a data attribute."""
    return json.dumps(
        {
            "cancelled": gettext("The passkey prompt was cancelled. Try again when ready."),
            "unsupported": gettext(
                "This browser cannot use passkeys. Use another second factor or another browser."
            ),
            "failed": gettext("The passkey did not work. Try again or use another second factor."),
            "saved": gettext(
                "Your passkey is ready. Save these recovery codes now: they are shown only once."
            ),
            "continue": gettext("I have saved them — continue"),
        },
        ensure_ascii=False,
    )


def method_label(method: str) -> str:
    """The user-facing name of a second-factor method."""
    labels = {
        "password": gettext("Password"),
        "totp": gettext("Authenticator app"),
        "email": gettext("Code by e-mail"),
        "webauthn": gettext("Passkey"),
        "recovery": gettext("Recovery code"),
    }
    return str(labels.get(method, method))


def event_label(event: str) -> str:
    """The user-facing name of an audit event."""
    labels = {
        "registered": gettext("Registered"),
        "activated": gettext("Account activated"),
        "login": gettext("Logged in"),
        "logout": gettext("Logged out"),
        "login_failed": gettext("Failed login"),
        "code_failed": gettext("Wrong code entered"),
        "locked": gettext("Temporarily locked after failed attempts"),
        "unlocked": gettext("Unlocked by an administrator"),
        "reset_requested": gettext("New code requested"),
        "activation_resent": gettext("New activation code sent by the office"),
        "password_reset": gettext("Password reset with a code"),
        "password_changed": gettext("Password changed"),
        "password_change_failed": gettext("Failed password change"),
        "password_verified": gettext("Password accepted, second factor asked"),
        "username_asked": gettext("Password accepted, a new username asked"),
        "username_chosen": gettext("New username chosen"),
        "imported": gettext("Brought over from the previous system"),
        "password_check_failed": gettext("Wrong password while setting up Ügyfélkapu+"),
        "email_code_sent": gettext("E-mail code sent"),
        "stepped_up": gettext("Confirmed with Ügyfélkapu+"),
        "plusz_failed": gettext("Wrong Ügyfélkapu+ code"),
        "factor_added": gettext("Second factor added"),
        "factor_removed": gettext("Second factor removed"),
        "recovery_codes_renewed": gettext("New recovery codes made"),
        "factors_reset": gettext("Second factors removed by the office"),
        "factor_renamed": gettext("Second factor renamed"),
        "browser_remembered": gettext("Browser remembered: its logins skip the second factor"),
        "browser_forgotten": gettext("Remembered browser forgotten"),
        "session_ended": gettext("A session was ended"),
        "sessions_ended": gettext("Every other session was ended"),
        "account_closed": gettext("Account closed"),
        "account_disabled": gettext("Account disabled by an administrator"),
        "account_enabled": gettext("Account enabled again by an administrator"),
        "webauthn_clone_suspected": gettext(
            "A passkey answered with an old counter: it may have been copied"
        ),
    }
    return str(labels.get(event, event))


def activity_label(event: str, count: int = 1, detail: Mapping[str, Any] | None = None) -> str:
    """An activity-list line in plain words: a burst of the same failure with its count,
    and what was used where the method tells more than the event."""
    if count > 1:
        bursts = {
            "login_failed": ngettext("%(num)s failed login", "%(num)s failed logins", count),
            "plusz_failed": ngettext(
                "%(num)s wrong Ügyfélkapu+ code", "%(num)s wrong Ügyfélkapu+ codes", count
            ),
            "code_failed": ngettext(
                "%(num)s wrong code entered", "%(num)s wrong codes entered", count
            ),
            "password_change_failed": ngettext(
                "%(num)s failed password change", "%(num)s failed password changes", count
            ),
        }
        if event in bursts:
            return str(bursts[event])
    if (detail or {}).get("method") == "recovery":
        if event == "login":
            return str(gettext("Logged in with a recovery code"))
        if event == "stepped_up":
            return str(gettext("Confirmed with a recovery code"))
    return event_label(event)


def local_time(at: datetime, zone: str) -> str:
    """``2026-03-02 10:00``: an instant as the clock on the wall in ``zone`` shows it."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def config_texts(config: KapuConfig) -> dict[str, str]:
    """Texts that depend on settings, for pages and mails."""
    rules = [
        ngettext(
            "At least %(num)s character; it must not contain your username.",
            "At least %(num)s characters; it must not contain your username.",
            config.password_min_length,
        )
    ]
    if config.password_require_mixed_case:
        rules.append(gettext("Use both lower-case and upper-case letters."))
    if config.password_require_digit_or_symbol:
        rules.append(gettext("Use at least one digit or symbol."))
    return {
        "code_validity": duration_text(config.activation_code_ttl),
        "email_validity": duration_text(config.email_code_ttl),
        "password_hint": " ".join(rules),
        "kapu_timezone": config.timezone,
    }


def duration_text(duration: timedelta) -> str:
    """``5 days``, ``36 hours`` or ``10 minutes``: the largest whole unit."""
    seconds = int(duration.total_seconds())
    if seconds % 86400 == 0:
        return str(ngettext("%(num)s day", "%(num)s days", seconds // 86400))
    if seconds % 3600 == 0:
        return str(ngettext("%(num)s hour", "%(num)s hours", seconds // 3600))
    minutes = max(1, seconds // 60)
    return str(ngettext("%(num)s minute", "%(num)s minutes", minutes))


def field_message(code: str, **values: Any) -> str:
    """The user-facing text of one field problem code."""
    messages = {
        "required": gettext("This field is required."),
        "type": gettext("This value has the wrong type."),
        "text": gettext("Use printable text of at most 200 characters."),
        "too_long_input": gettext("This value is too long."),
        "length": gettext("Use 4 to 64 letters."),
        "alphabet": gettext(
            "Use only letters of the Hungarian alphabet: no digits, spaces, hyphens or symbols."
        ),
        "distinct": gettext("Use at least 3 different letters."),
        "taken": gettext("This username is taken; choose another one."),
        "email": gettext("Enter a valid e-mail address."),
        "choice": gettext("Choose one of the offered values."),
        "date": gettext("Enter a date in the past as YYYY-MM-DD."),
        "unknown_fields": gettext("Only the listed personal data fields are accepted."),
        "accept_terms": gettext("You must accept the terms of use."),
        "too_short": ngettext(
            "Use at least %(num)s character.",
            "Use at least %(num)s characters.",
            values.get("min_length", 8),
        ),
        "too_long": ngettext(
            "Use at most %(num)s character.",
            "Use at most %(num)s characters.",
            values.get("max_length", 1024),
        ),
        "mixed_case": gettext("Use both lower-case and upper-case letters."),
        "digit_or_symbol": gettext("Use at least one digit or symbol."),
        "contains_username": gettext("The password must not contain your username."),
        "common": gettext("This password is too common; choose a less guessable one."),
        "control_characters": gettext("The password must not contain control characters."),
        "document_id": gettext(
            "Enter the document ID as six digits and two letters, e.g. 123456AB."
        ),
        "registration_code": gettext(
            "Enter the 11-character registration code from the plastic card in the green envelope."
        ),
        "code": gettext("Enter the code from the e-mail."),
    }
    return str(messages.get(code) or gettext("This value is not valid."))


def field_messages(errors: Mapping[str, Sequence[str]], **values: Any) -> dict[str, list[str]]:
    return {
        field: [field_message(code, **values) for code in codes] for field, codes in errors.items()
    }


def problem_detail(problem: str) -> str:
    """What the user should know and do next, for each problem code."""
    details = {
        "invalid_json": gettext("The request body is not valid JSON."),
        "invalid_input": gettext("Some fields are missing or not valid; see the errors."),
        "weak_password": gettext("The new password does not meet the rules; see the errors."),
        "username_taken": gettext("This username is taken; choose another one."),
        "invalid_credentials": gettext(
            "Wrong username or password. Usernames are case-sensitive. "
            "Forgot your password? Ask for a new code."
        ),
        "wrong_password": gettext("The password is not correct. Type your current password."),
        "invalid_code": gettext(
            "The code is not valid. Check the username and the code, or ask for a new code."
        ),
        "code_expired": gettext("The code has expired. Ask for a new one."),
        "eid_not_recognised": gettext(
            "The document ID and registration code were not recognised. Check them on your e-ID "
            "card and on the plastic card in the green envelope."
        ),
        "token_invalid": gettext("The card check has expired. Check the card again."),
        "csrf_failed": gettext("The form has expired. Reload the page and try again."),
        "files_not_accepted": gettext(
            "This form takes no files. Send its fields as text, as the page's form does."
        ),
        "login_required": gettext("Please log in first."),
        "plusz_required": gettext("This page needs Ügyfélkapu+: confirm with your second factor."),
        "enrollment_required": gettext(
            "This page needs Ügyfélkapu+: set up a second factor first."
        ),
        "too_many_attempts": gettext("Too many attempts. Wait a little and try again."),
        "service_unavailable": gettext("The service is temporarily unavailable. Try again soon."),
        "not_found": gettext("Not found."),
        "payload_too_large": gettext("The request is too large."),
        "mail_failed": gettext(
            "We could not send the e-mail just now. Your registration is saved: ask for a new "
            "code under “Forgot password” a little later."
        ),
    }
    return str(details.get(problem) or gettext("The request could not be processed."))
