"""A citizen portal made by an app factory and configured from the environment."""

import os
from datetime import timedelta

from flask import Flask

from flask_kapu import Kapu

from portal_views import bp

kapu = Kapu()


def _list(name):
    """A comma-separated environment variable as a list (empty when unset)."""
    return [item for item in os.environ.get(name, "").split(",") if item]


def create_app(test_config=None):
    env = os.environ
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=env.get("SECRET_KEY"),  # the same on every instance
        SECRET_KEY_FALLBACKS=_list("SECRET_KEY_FALLBACKS"),  # older keys, while rotating
        KAPU_DATABASE_URL=env.get("KAPU_DATABASE_URL"),  # postgresql+psycopg://...
        KAPU_RATELIMIT_STORAGE_URI=env.get("KAPU_RATELIMIT_STORAGE_URI", "memory://"),
        KAPU_ENCRYPTION_KEYS=_list("KAPU_ENCRYPTION_KEYS"),  # newest first; empty: from SECRET_KEY
        KAPU_WEBAUTHN_RP_ID=env.get("KAPU_WEBAUTHN_RP_ID"),  # ugyfelkapu.example.hu
        KAPU_WEBAUTHN_ORIGINS=env.get("KAPU_WEBAUTHN_ORIGINS"),  # https://ugyfelkapu.example.hu
        KAPU_HELP_TEXT=env.get("KAPU_HELP_TEXT", ""),
        # One proxy in front: believe its X-Forwarded-For, -Proto and -Host, and nobody else's.
        KAPU_TRUSTED_PROXIES=int(env.get("KAPU_TRUSTED_PROXIES", "1")),
        SESSION_COOKIE_SECURE=True,  # the session cookie travels over HTTPS only
        SESSION_COOKIE_HTTPONLY=True,  # and is out of reach of scripts
        SESSION_COOKIE_SAMESITE="Lax",  # and of other sites' forms
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),  # a copied cookie dies 8 h after reissue
        MAIL_SERVER=env.get("MAIL_SERVER"),  # unset: mail stays in the in-memory outbox
        MAIL_PORT=int(env.get("MAIL_PORT", "587")),
        MAIL_USE_TLS=env.get("MAIL_USE_TLS", "1") == "1",
        MAIL_USERNAME=env.get("MAIL_USERNAME"),
        MAIL_PASSWORD=env.get("MAIL_PASSWORD"),
        MAIL_DEFAULT_SENDER=env.get("MAIL_DEFAULT_SENDER", "ugyfelkapu@example.hu"),
    )
    app.config.update(test_config or {})
    kapu.init_app(app)
    app.register_blueprint(bp)
    return app
