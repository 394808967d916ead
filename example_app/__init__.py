"""Mintaváros e-services: a small citizen portal that uses flask_kapu like any host app.

``flask --app example_app init-db`` creates the tables, ``flask --app example_app
--debug demo`` (what ``make demo`` runs) also seeds a demo citizen and serves on
http://localhost:5000, and ``flask --app example_app run --debug`` works too.
Outside debug mode the app needs a ``SECRET_KEY`` of its own.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from flask_kapu import KapuConfigError

from . import commands, db, i18n
from .commands import DEMO_EMAIL, DEMO_USERNAME, create_all, seed_demo_account
from .extensions import kapu, registry
from .views import portal

__all__ = [
    "DEMO_EMAIL",
    "DEMO_USERNAME",
    "create_all",
    "create_app",
    "kapu",
    "registry",
    "seed_demo_account",
]

DEV_SECRET_KEY = "dev only: set SECRET_KEY in production"  # noqa: S105 (public on purpose)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        # The one database: the portal's tables and, with no KAPU_DATABASE_URL, flask_kapu's.
        SQLALCHEMY_DATABASE_URI="sqlite:///" + os.path.join(app.instance_path, "portal.sqlite3"),
        KAPU_HELP_TEXT="Segítség / help: +36 1 555 0100 (demo)",
        KAPU_HOME_ENDPOINT="portal.home",
        KAPU_TOTP_ISSUER="Mintaváros",
        KAPU_WEBAUTHN_RP_NAME="Mintaváros e-ügyintézés",
        KAPU_WEBAUTHN_RP_ID=os.environ.get("KAPU_WEBAUTHN_RP_ID", "localhost"),
        KAPU_WEBAUTHN_ORIGINS=os.environ.get("KAPU_WEBAUTHN_ORIGINS", "http://localhost:5000"),
        BABEL_DEFAULT_TIMEZONE="Europe/Budapest",
    )
    for key in (
        "SQLALCHEMY_DATABASE_URI",
        "KAPU_RATELIMIT_STORAGE_URI",
        "KAPU_RATELIMIT_SECRETS",
        "KAPU_RATELIMIT_REGISTER",
        "KAPU_RATELIMIT_MAIL",
        "MAIL_SERVER",
        "MAIL_PORT",
        "MAIL_DEFAULT_SENDER",
    ):
        if key in os.environ:
            app.config[key] = os.environ[key]
    for key in (  # settings that are whole numbers (seconds, for the durations)
        "KAPU_ARGON2_TIME_COST",
        "KAPU_ARGON2_MEMORY_COST",
        "KAPU_ARGON2_PARALLELISM",
        "KAPU_EMAIL_RESEND_INTERVAL",
    ):
        if key in os.environ:
            app.config[key] = int(os.environ[key])
    app.config.update(config or {})
    if app.config["SECRET_KEY"] == DEV_SECRET_KEY and not (app.debug or app.testing):
        raise KapuConfigError(
            "SECRET_KEY",
            "the example app's built-in development key is public, so anyone could forge "
            "sessions with it; set a random one in the environment, e.g. "
            "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))'), "
            "or run the demo in debug mode (flask --app example_app --debug demo)",
        )

    db.init_app(app)  # Flask-SQLAlchemy: the portal's own tables
    kapu.init_app(app)  # Ügyfélkapu: accounts, /kapu/... pages, Ügyfélkapu+ step-up
    i18n.init_app(app)  # the portal's own texts (Flask-Babel domain "portal")
    app.register_blueprint(portal)
    commands.init_app(app)
    return app
