"""``Kapu``: the extension object a host app creates (Flask-Login style).

``init_app`` reads and checks every ``KAPU_*`` key, builds the store, mailer
and services, wires Flask-Login, Flask-Babel and the blueprints, and keeps
all of it in ``app.extensions["kapu"]`` so one ``Kapu`` serves an app factory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_login import LoginManager
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from . import i18n, services
from .auth import load_account
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
from .state import KapuState, RefusalHandler, get_state
from .store import Account, Meta, Store
from .store.migrate import upgrade
from .views import error_page, register_views
from .views.common import security_headers

__all__ = ["Kapu"]


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
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        if "kapu" in app.extensions:
            raise KapuConfigError("app.extensions", "flask_kapu is already initialised on this app")
        if getattr(app, "login_manager", None) is not None:
            raise KapuConfigError(
                "login_manager",
                "flask_kapu brings Flask-Login's LoginManager; remove the app's own",
            )
        config = load_config(app.config)
        _check_production_settings(app, config)
        secret_keys = _secret_keys(app.config)
        codes = CodeHasher(secret_keys)
        mailer = self.mailer or mailer_from_config(app.config)
        notifier = MailNotifier(app, mailer, config)
        deps = services.Deps(
            config=config,
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
        )
        _wire_login(app)
        i18n.install(app)
        register_views(app, config)
        app.register_error_handler(KapuHTTPError, _render_error)
        app.after_request(_remember_language)
        app.after_request(_unrouted_headers)
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


def _check_production_settings(app: Flask, config: KapuConfig) -> None:
    """Passkeys are bound to a domain: outside debug and testing it must be configured."""
    if "webauthn" not in config.second_factors or app.debug or app.testing:
        return
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
    if config.database_url:
        return config.database_url
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "kapu.sqlite3")


def _wire_login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.user_loader(load_account)
    manager.unauthorized_handler(lambda: get_state().handler("unauthorized", refuse_login)())


def _render_error(error: KapuHTTPError) -> ResponseReturnValue:
    """Errors raised in host views: problem+json for JSON clients, else a page."""
    if wants_json():
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
    if lang in i18n.LANGUAGES and request.cookies.get(i18n.COOKIE) != lang:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
    return response
