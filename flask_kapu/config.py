"""Every ``KAPU_*`` setting: its default, its type and one line of doc.

This module is the one place where settings are defined. ``load_config``
reads a Flask config mapping, refuses unknown ``KAPU_`` keys and ill-typed
values with a :class:`~flask_kapu.errors.KapuConfigError` naming the key, and
returns a frozen :class:`KapuConfig`. The documentation's configuration page
is generated from :data:`SETTINGS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from limits import parse_many

from .errors import KapuConfigError

__all__ = ["SETTINGS", "KapuConfig", "Setting", "load_config"]


def _duration(key: str, value: object) -> timedelta:
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            result = timedelta(seconds=value)
        except (OverflowError, ValueError) as exc:
            raise KapuConfigError(key, f"not a usable number of seconds: {value!r}") from exc
    else:
        raise KapuConfigError(key, f"expected a timedelta or seconds, got {value!r}")
    if result <= timedelta(0):
        raise KapuConfigError(key, "must be positive")
    return result


def _optional_duration(key: str, value: object) -> timedelta | None:
    return None if value is None else _duration(key, value)


def _positive_int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise KapuConfigError(key, f"expected a positive integer, got {value!r}")
    return value


def _count(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise KapuConfigError(key, f"expected a whole number (0 or more), got {value!r}")
    return value


def _days(key: str, value: object) -> int:
    days = _count(key, value)
    if days > 365:
        raise KapuConfigError(key, f"at most 365 days, got {value!r}")
    return days


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise KapuConfigError(key, f"expected True or False, got {value!r}")
    return value


def _str(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise KapuConfigError(key, f"expected a string, got {value!r}")
    return value


def _optional_str(key: str, value: object) -> str | None:
    return None if value is None else _str(key, value)


def _prefix(key: str, value: object) -> str:
    text = _str(key, value)
    if not text.startswith("/") or text.endswith("/") or "//" in text:
        raise KapuConfigError(key, f"expected a path like '/kapu', got {value!r}")
    return text


def _zone(key: str, value: object) -> str:
    name = _str(key, value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise KapuConfigError(key, f"unknown time zone {name!r}") from exc
    return name


def _sunset(key: str, value: object) -> date | datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise KapuConfigError(key, "a datetime must be timezone-aware (or give a date)")
        return value
    if isinstance(value, date):
        return value
    raise KapuConfigError(key, f"expected a date or an aware datetime, got {value!r}")


def _methods(key: str, value: object) -> tuple[str, ...]:
    known = {"totp", "email", "webauthn"}
    if isinstance(value, str) or not isinstance(value, (tuple, list, set, frozenset)):
        raise KapuConfigError(key, f"expected a sequence of method names, got {value!r}")
    methods = tuple(value)
    unknown = [m for m in methods if not isinstance(m, str) or m not in known]
    if unknown:
        raise KapuConfigError(key, f"unknown methods {unknown!r}; known: {sorted(known)}")
    return methods


def _registration_methods(key: str, value: object) -> tuple[str, ...]:
    known = ("office", "self_service", "eid")
    if isinstance(value, str) or not isinstance(value, (tuple, list, set, frozenset)):
        raise KapuConfigError(key, f"expected a sequence of registration methods, got {value!r}")
    unknown = [m for m in value if m not in known]
    if unknown:
        raise KapuConfigError(key, f"unknown registration methods {unknown!r}; known: {known}")
    return tuple(m for m in known if m in value)


def _directories(key: str, value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(d, str) and d for d in items):
        raise KapuConfigError(key, "expected a folder path or a list of folder paths")
    return tuple(items)


def _rate(key: str, value: object) -> str:
    text = _str(key, value)
    try:
        parse_many(text)
    except ValueError as exc:
        raise KapuConfigError(key, f"not a rate limit like '30 per minute': {text!r}") from exc
    return text


def _origins(key: str, value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise KapuConfigError(key, "expected an origin like 'https://example.hu' or a list of them")
    for origin in items:
        if not isinstance(origin, str) or not origin.startswith(("https://", "http://localhost")):
            raise KapuConfigError(key, f"not an https origin (or http://localhost...): {origin!r}")
        if origin.endswith("/"):
            raise KapuConfigError(key, f"an origin has no trailing slash: {origin!r}")
    return tuple(items)


def _keys(key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(k, str) and k for k in value):
        raise KapuConfigError(key, "expected a key string or a list of key strings")
    for position, item in enumerate(value, start=1):
        try:
            Fernet(item)
        except ValueError:
            raise KapuConfigError(
                key,
                f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with cryptography.fernet.Fernet.generate_key()",
            ) from None
    return tuple(value)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One ``KAPU_*`` key: where it lands in :class:`KapuConfig` and how it is read."""

    key: str
    default: Any
    type: str
    doc: str
    parse: Callable[[str, object], Any]

    @property
    def attribute(self) -> str:
        return self.key.removeprefix("KAPU_").lower()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "KAPU_DATABASE_URL",
        None,
        "str | None",
        "SQLAlchemy URL; default: a SQLite file `kapu.sqlite3` in the instance folder.",
        _optional_str,
    ),
    Setting(
        "KAPU_URL_PREFIX",
        "/kapu",
        "str",
        "Where the HTML pages live; the JSON API is under `{prefix}/api`.",
        _prefix,
    ),
    Setting(
        "KAPU_PAGES",
        True,
        "bool",
        "Serve the HTML pages; False: the JSON API only (pages answer 404, refusals problem+json).",
        _bool,
    ),
    Setting(
        "KAPU_REGISTRATION_METHODS",
        ("office", "self_service", "eid"),
        "sequence of str",
        "Ways in: `office` (`kapu.register`, the CLI), `self_service`, `eid` (needs a registry).",
        _registration_methods,
    ),
    Setting(
        "KAPU_BABEL",
        True,
        "bool",
        "Set up Flask-Babel with flask_kapu's language choice if the app has not; False: never.",
        _bool,
    ),
    Setting(
        "KAPU_TRANSLATION_DIRECTORIES",
        None,
        "str | list[str] | None",
        "The app's folders of `flask_kapu` catalogues (override and add languages); "
        "None: its `BABEL_TRANSLATION_DIRECTORIES`.",
        _directories,
    ),
    Setting(
        "KAPU_SESSION_COOKIE_DEFAULTS",
        True,
        "bool",
        "Session cookie `SameSite=Lax` unless the app set it, and `Secure` on HTTPS requests.",
        _bool,
    ),
    Setting(
        "KAPU_ACTIVATION_CODE_TTL",
        timedelta(days=5),
        "timedelta | seconds",
        "Lifetime of activation and password-reset codes.",
        _duration,
    ),
    Setting(
        "KAPU_EMAIL_CODE_TTL",
        timedelta(minutes=10),
        "timedelta | seconds",
        "Lifetime of e-mailed Ügyfélkapu+ codes.",
        _duration,
    ),
    Setting(
        "KAPU_EMAIL_RESEND_INTERVAL",
        timedelta(minutes=1),
        "timedelta | seconds",
        "Shortest wait before another e-mail code of the same purpose is sent.",
        _duration,
    ),
    Setting(
        "KAPU_PLUSZ_MAX_AGE",
        None,
        "timedelta | seconds | None",
        "Default `max_age` of `@requires_plusz`; None: as long as the session.",
        _optional_duration,
    ),
    Setting(
        "KAPU_FRESH_PLUSZ_MAX_AGE",
        timedelta(minutes=10),
        "timedelta | seconds",
        "How recent a step-up must be to add or remove a factor.",
        _duration,
    ),
    Setting(
        "KAPU_PENDING_LOGIN_TTL",
        timedelta(minutes=10),
        "timedelta | seconds",
        "How long a login waits for its second factor after the password; then it is gone.",
        _duration,
    ),
    Setting(
        "KAPU_SESSION_IDLE_TIMEOUT",
        timedelta(minutes=30),
        "timedelta | seconds",
        "A session unused this long is over (checked server-side at every request).",
        _duration,
    ),
    Setting(
        "KAPU_SESSION_LIFETIME",
        timedelta(hours=12),
        "timedelta | seconds",
        "A session is over this long after its login, however busy (server-side).",
        _duration,
    ),
    Setting(
        "KAPU_FRESH_LOGIN_MAX_AGE",
        timedelta(minutes=5),
        "timedelta | seconds",
        "How recent a login must be to add a first factor without typing the password again.",
        _duration,
    ),
    Setting(
        "KAPU_PLUSZ_REQUIRED_FROM",
        None,
        "date | aware datetime | None",
        "Sunset: from then on a password alone lets nobody in.",
        _sunset,
    ),
    Setting(
        "KAPU_TIMEZONE",
        "Europe/Budapest",
        "str",
        "Zone of the times pages, mails and lists show; a sunset `date` starts at its midnight.",
        _zone,
    ),
    Setting(
        "KAPU_SECOND_FACTORS",
        ("totp", "email", "webauthn"),
        "sequence of str",
        "Second-factor methods offered.",
        _methods,
    ),
    Setting(
        "KAPU_MAX_FAILED_ATTEMPTS",
        5,
        "int",
        "Consecutive failures of a username before it is temporarily locked.",
        _positive_int,
    ),
    Setting(
        "KAPU_LOCKOUT_DURATION",
        timedelta(minutes=1),
        "timedelta | seconds",
        "First lock's length; each further lock doubles it.",
        _duration,
    ),
    Setting(
        "KAPU_LOCKOUT_MAX_DURATION",
        timedelta(hours=1),
        "timedelta | seconds",
        "Longest a lock can grow.",
        _duration,
    ),
    Setting(
        "KAPU_DEVICE_COOKIE_MAX_AGE",
        timedelta(days=180),
        "timedelta | seconds",
        "How long a browser stays known after a login; its failures count apart from strangers'.",
        _duration,
    ),
    Setting(
        "KAPU_NEW_DEVICE_NOTICE",
        True,
        "bool",
        "Mail the owner when a login succeeds from a browser not known for the account.",
        _bool,
    ),
    Setting(
        "KAPU_AUDIT_RETENTION",
        timedelta(days=365),
        "timedelta | seconds | None",
        "How long `flask kapu purge` keeps audit events; None keeps them forever.",
        _optional_duration,
    ),
    Setting(
        "KAPU_REMEMBER_BROWSER_DAYS",
        30,
        "int",
        "Days (0-365) a browser may skip the second factor at login if asked to; 0: never offered.",
        _days,
    ),
    Setting(
        "KAPU_CODE_MAX_ATTEMPTS",
        5,
        "int",
        "Wrong guesses one mailed code survives before it is void.",
        _positive_int,
    ),
    Setting(
        "KAPU_PENDING_ACCOUNT_TTL",
        timedelta(days=60),
        "timedelta | seconds",
        "Never-activated accounts older than this are removed by `flask kapu purge`.",
        _duration,
    ),
    Setting("KAPU_PASSWORD_MIN_LENGTH", 8, "int", "Shortest password accepted.", _positive_int),
    Setting(
        "KAPU_PASSWORD_MAX_LENGTH",
        1024,
        "int",
        "Longest password accepted (bounds hashing work).",
        _positive_int,
    ),
    Setting(
        "KAPU_PASSWORD_REQUIRE_MIXED_CASE",
        True,
        "bool",
        "Require upper- and lower-case letters.",
        _bool,
    ),
    Setting(
        "KAPU_PASSWORD_REQUIRE_DIGIT_OR_SYMBOL", True, "bool", "Require a digit or a symbol.", _bool
    ),
    Setting(
        "KAPU_ARGON2_TIME_COST",
        3,
        "int",
        "argon2id passes; a change rehashes at the next login.",
        _positive_int,
    ),
    Setting(
        "KAPU_ARGON2_MEMORY_COST",
        65536,
        "int",
        "argon2id memory in KiB; a change rehashes at the next login.",
        _positive_int,
    ),
    Setting(
        "KAPU_ARGON2_PARALLELISM",
        4,
        "int",
        "argon2id lanes; a change rehashes at the next login.",
        _positive_int,
    ),
    Setting(
        "KAPU_RATELIMIT_STORAGE_URI",
        "memory://",
        "str",
        "Per-IP limit storage (`redis://...` to share it between instances).",
        _str,
    ),
    Setting(
        "KAPU_TRUSTED_PROXIES",
        0,
        "int",
        "Reverse proxies in front of the app; > 0 trusts that many X-Forwarded-* hops (ProxyFix).",
        _count,
    ),
    Setting(
        "KAPU_RATELIMIT_SECRETS",
        "30 per minute",
        "str",
        "Per-IP limit on requests that check a typed secret.",
        _rate,
    ),
    Setting(
        "KAPU_RATELIMIT_REGISTER", "10 per minute", "str", "Per-IP limit on registrations.", _rate
    ),
    Setting(
        "KAPU_RATELIMIT_MAIL",
        "10 per minute",
        "str",
        "Per-IP limit on requests that send a mail on demand.",
        _rate,
    ),
    Setting(
        "KAPU_RESET_MAIL_LIMIT",
        "1 per minute; 5 per hour",
        "str",
        "Per-account limit on forgot-password mails; requests over it are answered alike.",
        _rate,
    ),
    Setting(
        "KAPU_EID_CHECK_LIMIT", "5 per hour", "str", "Limit of e-ID checks per document ID.", _rate
    ),
    Setting(
        "KAPU_EID_TOKEN_TTL",
        timedelta(minutes=30),
        "timedelta | seconds",
        "How long a checked e-ID stays valid for registration.",
        _duration,
    ),
    Setting(
        "KAPU_ENCRYPTION_KEYS",
        None,
        "str | list[str] | None",
        "Fernet keys for secrets at rest, newest first; default: derived from SECRET_KEY.",
        _keys,
    ),
    Setting(
        "KAPU_WEBAUTHN_RP_ID",
        None,
        "str | None",
        "WebAuthn relying-party ID (a domain); None: the request's host, for development only.",
        _optional_str,
    ),
    Setting(
        "KAPU_WEBAUTHN_RP_NAME",
        "Ügyfélkapu",
        "str",
        "The name a passkey prompt shows.",
        _str,
    ),
    Setting(
        "KAPU_WEBAUTHN_ORIGINS",
        None,
        "str | list[str] | None",
        "Origins passkey answers may come from; None: the request's origin (development only).",
        _origins,
    ),
    Setting(
        "KAPU_WEBAUTHN_CHALLENGE_TTL",
        timedelta(minutes=5),
        "timedelta | seconds",
        "How long a passkey challenge may be answered.",
        _duration,
    ),
    Setting(
        "KAPU_TOTP_ISSUER",
        "Ügyfélkapu",
        "str",
        "Issuer name an authenticator app shows beside the account.",
        _str,
    ),
    Setting(
        "KAPU_NO_STORE_PROTECTED_VIEWS",
        True,
        "bool",
        "Send `Cache-Control: no-store` from the host's protected views (unless they set it).",
        _bool,
    ),
    Setting(
        "KAPU_HELP_TEXT",
        "",
        "str",
        "Help-line text shown where a user may be stuck (empty: none).",
        _str,
    ),
    Setting(
        "KAPU_HOME_ENDPOINT",
        None,
        "str | None",
        "Endpoint to land on after login when no `next` is given; default `/`.",
        _optional_str,
    ),
    Setting(
        "KAPU_MAIL_SUBJECT_PREFIX", "[Ügyfélkapu] ", "str", "Prefix of every mail subject.", _str
    ),
)

_BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclasses.dataclass(frozen=True)
class KapuConfig:
    """The parsed settings of one app; attribute names are the keys without ``KAPU_``."""

    database_url: str | None
    url_prefix: str
    pages: bool
    registration_methods: tuple[str, ...]
    babel: bool
    translation_directories: tuple[str, ...] | None
    session_cookie_defaults: bool
    activation_code_ttl: timedelta
    email_code_ttl: timedelta
    email_resend_interval: timedelta
    plusz_max_age: timedelta | None
    fresh_plusz_max_age: timedelta
    pending_login_ttl: timedelta
    session_idle_timeout: timedelta
    session_lifetime: timedelta
    fresh_login_max_age: timedelta
    plusz_required_from: date | datetime | None
    timezone: str
    second_factors: tuple[str, ...]
    max_failed_attempts: int
    lockout_duration: timedelta
    lockout_max_duration: timedelta
    device_cookie_max_age: timedelta
    new_device_notice: bool
    audit_retention: timedelta | None
    remember_browser_days: int
    code_max_attempts: int
    pending_account_ttl: timedelta
    password_min_length: int
    password_max_length: int
    password_require_mixed_case: bool
    password_require_digit_or_symbol: bool
    argon2_time_cost: int
    argon2_memory_cost: int
    argon2_parallelism: int
    ratelimit_storage_uri: str
    trusted_proxies: int
    ratelimit_secrets: str
    ratelimit_register: str
    ratelimit_mail: str
    reset_mail_limit: str
    eid_check_limit: str
    eid_token_ttl: timedelta
    encryption_keys: tuple[str, ...]
    webauthn_rp_id: str | None
    webauthn_rp_name: str
    webauthn_origins: tuple[str, ...] | None
    webauthn_challenge_ttl: timedelta
    totp_issuer: str
    no_store_protected_views: bool
    help_text: str
    home_endpoint: str | None
    mail_subject_prefix: str

    @property
    def api_prefix(self) -> str:
        return f"{self.url_prefix}/api"

    @property
    def sunset(self) -> datetime | None:
        """``KAPU_PLUSZ_REQUIRED_FROM`` as an aware UTC instant."""
        value = self.plusz_required_from
        if value is None:
            return None
        if not isinstance(value, datetime):
            zone: tzinfo = ZoneInfo(self.timezone)
            value = datetime.combine(value, time.min, tzinfo=zone)
        return value.astimezone(timezone.utc)


def load_config(mapping: Mapping[str, Any]) -> KapuConfig:
    """Read every ``KAPU_*`` key of ``mapping``; refuse unknown and ill-typed ones."""
    unknown = sorted(k for k in mapping if k.startswith("KAPU_") and k not in _BY_KEY)
    if unknown:
        raise KapuConfigError(unknown[0], "unknown flask_kapu setting (see the configuration docs)")
    values = {
        setting.attribute: setting.parse(setting.key, mapping.get(setting.key, setting.default))
        for setting in SETTINGS
    }
    if values["password_min_length"] > values["password_max_length"]:
        raise KapuConfigError("KAPU_PASSWORD_MIN_LENGTH", "is larger than KAPU_PASSWORD_MAX_LENGTH")
    return KapuConfig(**values)
