"""``Kapu``: the extension object a host app creates (Flask-Login style).

``init_app`` reads and checks every ``KAPU_*`` key, builds the store, mailer
and services, wires Flask-Login, Flask-Babel and the blueprints, and keeps
all of it in ``app.extensions["kapu"]`` so one ``Kapu`` serves an app factory.

An app with a Flask-Login ``LoginManager`` of its own keeps it (its
``current_user`` is then the host's user, see ``user_for_account``); an app
with Flask-SQLAlchemy and no ``KAPU_DATABASE_URL`` keeps flask_kapu's tables in
its own database.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_login import user_accessed
from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from . import i18n, services
from .auth import end_host_login_if_stale, load_account
from .cli import kapu_cli
from .clock import Clock, utcnow
from .codes import CodeHasher
from .config import KapuConfig, load_config
from .crypto import SecretBox
from .decorators import refuse_login
from .errors import KapuConfigError, KapuHTTPError
from .factors import EmailCodeFactor, Factor, RecoveryFactor, TotpFactor
from .identity import EidTokens, IdentityRegistry
from .mail import Mailer, MailNotifier, mailer_from_config
from .passwords import PasswordHashing, PasswordPolicy
from .ratelimit import RateLimiter
from .responses import problem_response, wants_json
from .session import AccountLoginManager
from .state import KapuState, RefusalHandler, get_state
from .store import Account, Meta, Store
from .store.migrate import upgrade
from .views import error_page, register_views
from .views.common import security_headers

__all__ = ["Kapu"]

U = TypeVar("U")


class Kapu:
    """Ügyfélkapu accounts and Ügyfélkapu+ step-up for a Flask app.

    ``registry`` is the e-ID identity registry (``lookup(document_id,
    registration_code)``); ``mailer`` replaces the SMTP/outbox mailer.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        registry: IdentityRegistry | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        self.registry = registry
        self.mailer = mailer
        self.clock: Clock = utcnow
        self._handlers: dict[str, RefusalHandler] = {}
        self._factors: dict[str, Factor] = {}
        self._hooks: dict[str, Callable[[Account], Any]] = {}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        if "kapu" in app.extensions:
            raise KapuConfigError("app.extensions", "flask_kapu is already initialised on this app")
        config = load_config(app.config)
        config = _check_production_settings(app, config)
        secret_keys = _secret_keys(app.config)
        codes = CodeHasher(secret_keys)
        mailer = self.mailer or mailer_from_config(app.config)
        notifier = MailNotifier(app, mailer, config)
        catalogues = i18n.find_catalogues(app, config)
        deps = services.Deps(
            config=config,
            languages=catalogues.languages,
            store=Store(_database_url(app, config)),
            hashing=PasswordHashing(
                time_cost=config.argon2_time_cost,
                memory_cost=config.argon2_memory_cost,
                parallelism=config.argon2_parallelism,
            ),
            policy=PasswordPolicy(
                min_length=config.password_min_length,
                max_length=config.password_max_length,
                require_mixed_case=config.password_require_mixed_case,
                require_digit_or_symbol=config.password_require_digit_or_symbol,
            ),
            codes=codes,
            clock=lambda: self.clock(),
            notifier=notifier,
            sender=app,
            plusz=self._plusz_factors(config, secret_keys, codes),
        )
        _check_keys(app, deps)
        app.extensions["kapu"] = KapuState(
            config=config,
            deps=deps,
            limiter=RateLimiter(config.ratelimit_storage_uri),
            mailer=mailer,
            notifier=notifier,
            eid_tokens=EidTokens(secret_keys, config.eid_token_ttl),
            registry=self.registry,
            handlers=self._handlers,
            hooks=self._hooks,
        )
        _wire_login(app)
        i18n.install(app, config, catalogues)
        register_views(app, config)
        app.register_error_handler(KapuHTTPError, _render_error)
        app.after_request(_remember_language)
        app.after_request(_unrouted_headers)
        if config.session_cookie_defaults:
            if app.config.get("SESSION_COOKIE_SAMESITE") is None:
                app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
            if type(app.session_interface) is SecureCookieSessionInterface:
                app.session_interface = _SessionOverHttps()
        hops = config.trusted_proxies
        if hops and not _has_proxy_fix(app.wsgi_app):
            app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
                app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
            )
        app.cli.add_command(kapu_cli)

    def _plusz_factors(
        self, config: KapuConfig, secret_keys: list[str | bytes], codes: CodeHasher
    ) -> services.PluszFactors:
        box = SecretBox.from_settings(config.encryption_keys, secret_keys)
        return services.PluszFactors(
            totp=TotpFactor(box, issuer=config.totp_issuer),
            email=EmailCodeFactor(
                codes, purpose="email_login", max_attempts=config.code_max_attempts
            ),
            email_enrolment=EmailCodeFactor(
                codes, purpose="email_enrol", max_attempts=config.code_max_attempts
            ),
            recovery=RecoveryFactor(codes),
            extra=self._factors,
        )

    def add_factor(self, factor: Factor) -> Factor:
        """Offer a typed-code second factor of the host's own (see ``flask_kapu.factors``)."""
        self._factors[factor.method] = factor
        return factor

    def unauthorized_handler(self, handler: RefusalHandler) -> RefusalHandler:
        """Replace the answer to requests without a login (decorator; no arguments)."""
        self._handlers["unauthorized"] = handler
        return handler

    def user_for_account(self, hook: Callable[[Account], U]) -> Callable[[Account], U]:
        """Give the app's own user for an Ügyfélkapu account (decorator), in an app with a
        Flask-Login ``LoginManager`` of its own.

        Called at every sign-in and re-issue of a login with the account; returns the
        host's user object (Flask-Login's protocol), and may create it at a first sign-in.
        The host's ``current_user`` is then that user; ``current_account`` stays the account.
        """
        self._hooks["user_for_account"] = hook
        return hook

    def plusz_required_handler(self, handler: RefusalHandler) -> RefusalHandler:
        """Replace the answer when a view needs a step-up (gets the ``PluszRequired`` error)."""
        self._handlers["plusz_required"] = handler
        return handler

    def enrollment_required_handler(self, handler: RefusalHandler) -> RefusalHandler:
        """Replace the answer when the account must enrol first (gets ``EnrollmentRequired``)."""
        self._handlers["enrollment_required"] = handler
        return handler

    def register(
        self,
        username: str,
        email: str,
        *,
        person: Mapping[str, Any] | None = None,
        language: str = "hu",
    ) -> Account:
        """Office registration: a pending account whose activation code is mailed.

        Runs inside an app context. Raises a :class:`~flask_kapu.errors.KapuError`
        subclass on bad input or a taken username.
        """
        state = get_state()
        if "office" not in state.config.registration_methods:
            raise KapuConfigError(
                "KAPU_REGISTRATION_METHODS", "office registration is turned off: add 'office'"
            )
        result = services.register(
            state.deps,
            services.Context(),
            username=username,
            email=email,
            person=person,
            via="office",
            language=language,
        )
        return result.account

    def import_account(
        self, username: str, email: str, *, password_hash: str, email_verified: bool = False
    ) -> Account:
        """Bring over one of the host's users with the password hash it already stores.

        The hash (werkzeug ``pbkdf2:``/``scrypt:``, bcrypt, passlib/libpass argon2,
        bcrypt or pbkdf2) is checked at the first login and replaced by argon2id.
        ``email_verified=True`` makes the account active at once, with no mail; otherwise
        it is pending and its activation code is mailed. Importing the same user again
        changes nothing. Runs inside an app context; raises
        :class:`~flask_kapu.errors.ImportRefused` naming the reason.
        """
        return services.import_account(
            get_state().deps,
            services.Context(user_agent="import"),
            username=username,
            email=email,
            password_hash=password_hash,
            email_verified=email_verified,
        ).account

    def resend_activation(self, username: str) -> bool:
        """Office use: mail a new activation code to a pending account (inside an app context).

        ``False`` when ``username`` is no pending account or the mail could not be sent.
        """
        return services.resend_activation(get_state().deps, services.Context(), username=username)

    def upgrade_database(self) -> None:
        """Create or migrate flask_kapu's tables (what ``flask kapu db upgrade`` does)."""
        deps = get_state().deps
        upgrade(deps.store.engine)
        services.check_key_fingerprints(deps)

    @staticmethod
    def config() -> KapuConfig:
        """The current app's parsed settings."""
        return get_state().config


#: The keys by which a host chooses passkeys; with none of them set, it has not.
_PASSKEY_KEYS = ("KAPU_SECOND_FACTORS", "KAPU_WEBAUTHN_RP_ID", "KAPU_WEBAUTHN_ORIGINS")


def _check_production_settings(app: Flask, config: KapuConfig) -> KapuConfig:
    """Passkeys are bound to a domain: outside debug and testing it must be configured.

    An app that says nothing about passkeys starts without them (and a warning), so the
    smallest app runs as written; one that names any passkey setting must complete them.
    """
    if "webauthn" not in config.second_factors or app.debug or app.testing:
        return config
    if not any(key in app.config for key in _PASSKEY_KEYS):
        app.logger.warning(
            "flask_kapu: passkeys are off until KAPU_WEBAUTHN_RP_ID and KAPU_WEBAUTHN_ORIGINS "
            "are set (they are bound to your domain)"
        )
        methods = tuple(m for m in config.second_factors if m != "webauthn")
        return dataclasses.replace(config, second_factors=methods)
    for key, value in (
        ("KAPU_WEBAUTHN_RP_ID", config.webauthn_rp_id),
        ("KAPU_WEBAUTHN_ORIGINS", config.webauthn_origins),
    ):
        if value is None:
            raise KapuConfigError(
                key,
                "must be set outside debug and testing (passkeys are bound to your domain), "
                "or leave 'webauthn' out of KAPU_SECOND_FACTORS",
            )
    return config


def _check_keys(app: Flask, deps: services.Deps) -> None:
    """Refuse a start whose keys cannot open the stored secrets (see ``services.keys``).

    Before the tables exist there is nothing to check; a database that cannot be
    reached is logged, so an outage at boot does not keep the app down.
    """
    try:
        services.check_key_fingerprints(deps)
    except KapuConfigError:
        deps.store.dispose()
        raise
    except DBAPIError:
        try:
            migrated = inspect(deps.store.engine).has_table(Meta.__tablename__)
        except DBAPIError:
            migrated = True
        if migrated:
            app.logger.warning(
                "flask_kapu could not check its keys: database unavailable", exc_info=True
            )


def _has_proxy_fix(wsgi_app: object) -> bool:
    """Whether the host wrapped its app in ProxyFix itself (under any other middleware)."""
    while wsgi_app is not None:
        if isinstance(wsgi_app, ProxyFix):
            return True
        wsgi_app = getattr(wsgi_app, "app", None)
    return False


def _secret_keys(config: Mapping[str, Any]) -> list[str | bytes]:
    key = config.get("SECRET_KEY")
    if not key:
        raise KapuConfigError("SECRET_KEY", "flask_kapu needs the app's SECRET_KEY to be set")
    return [key, *(config.get("SECRET_KEY_FALLBACKS") or [])]


def _database_url(app: Flask, config: KapuConfig) -> str:
    """``KAPU_DATABASE_URL``; else the app's Flask-SQLAlchemy database; else a SQLite file
    in the instance folder.

    The app's database is reached by its URL (read from the config, so Flask-SQLAlchemy
    may be set up before or after flask_kapu) through an engine of flask_kapu's own,
    whose SQLite transaction and pool settings stay off the app's engine.
    """
    if config.database_url:
        return config.database_url
    own_file = os.path.join(app.instance_path, "kapu.sqlite3")
    host_url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if host_url:
        if os.path.exists(own_file):
            raise KapuConfigError(
                "KAPU_DATABASE_URL",
                f"flask_kapu's accounts are in {own_file}: set KAPU_DATABASE_URL to "
                f"'sqlite:///{own_file}' to keep them there, or move them into the app's "
                "database (SQLALCHEMY_DATABASE_URI)",
            )
        return _host_database_url(app, host_url)
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + own_file


def _host_database_url(app: Flask, value: str | URL) -> str:
    """The app's Flask-SQLAlchemy URL, resolved as Flask-SQLAlchemy resolves it: a relative
    SQLite path is in the instance folder."""
    url = make_url(value)
    if url.get_backend_name() != "sqlite":
        return url.render_as_string(hide_password=False)
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise KapuConfigError(
            "KAPU_DATABASE_URL",
            "the app's database is SQLite in memory, which a second engine cannot share: "
            "set KAPU_DATABASE_URL",
        )
    prefix = "file:" if url.query.get("uri") and database.startswith("file:") else ""
    path = database[len(prefix) :]
    if not os.path.isabs(path):
        os.makedirs(app.instance_path, exist_ok=True)
        url = url.set(database=prefix + os.path.join(app.instance_path, path))
    return url.render_as_string(hide_password=False)


def _wire_login(app: Flask) -> None:
    """Bring Flask-Login's LoginManager, unless the app has its own, which it keeps."""
    if getattr(app, "login_manager", None) is None:
        manager = AccountLoginManager(app)
        manager.user_loader(load_account)
        manager.unauthorized_handler(lambda: get_state().handler("unauthorized", refuse_login)())
    # Connected either way: a LoginManager the app sets up after flask_kapu is its own too.
    user_accessed.connect(end_host_login_if_stale, app)


def _render_error(error: KapuHTTPError) -> ResponseReturnValue:
    """Errors raised in host views: problem+json for JSON clients and API-only apps, else a
    page."""
    if wants_json() or not get_state().config.pages:
        return problem_response(error)
    return error_page(error)


class _SessionOverHttps(SecureCookieSessionInterface):
    """Flask's own session cookie, marked ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))


def _unrouted_headers(response: Response) -> Response:
    """A path under flask_kapu's prefix that matched no route (404, 405) never reached the
    blueprints' hooks; it gets their headers too."""
    if request.url_rule is None and request.path.startswith(get_state().config.url_prefix + "/"):
        return security_headers(response)
    return response


def _remember_language(response: Response) -> Response:
    lang = request.args.get("lang")
    if lang in i18n.languages() and request.cookies.get(i18n.COOKIE) != lang:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
    return response
