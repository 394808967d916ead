"""A small citizen portal that uses flask_kapu the way any host app would."""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask, render_template
from werkzeug.serving import run_simple

from flask_kapu import DemoRegistry, Kapu, current_account, login_required, requires_plusz, services
from flask_kapu.errors import UsernameTaken
from flask_kapu.state import get_state
from flask_kapu.store.migrate import upgrade

kapu = Kapu(registry=DemoRegistry())

DEMO_USERNAME = "Mintapolgar"
DEMO_EMAIL = "minta.polgar@example.hu"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev only: set SECRET_KEY in production"),
        KAPU_HELP_TEXT="Segítség / help: +36 1 555 0100 (demo)",
        KAPU_WEBAUTHN_RP_ID=os.environ.get("KAPU_WEBAUTHN_RP_ID", "localhost"),
        KAPU_WEBAUTHN_ORIGINS=os.environ.get("KAPU_WEBAUTHN_ORIGINS", "http://localhost:5000"),
    )
    for key in ("KAPU_DATABASE_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_DEFAULT_SENDER"):
        if key in os.environ:
            app.config[key] = os.environ[key]
    app.config.update(config or {})
    kapu.init_app(app)

    @app.get("/")
    def home() -> str:
        return render_template("home.html")

    @app.get("/my-data")
    @login_required
    def my_data() -> str:
        return render_template("my_data.html", account=current_account)

    @app.get("/tax-return")
    @requires_plusz
    def tax_return() -> str:
        return render_template("tax_return.html", account=current_account)

    @app.cli.command("demo")
    @click.option("--host", default="localhost")
    @click.option("--port", default=5000, type=int)
    def demo(host: str, port: int) -> None:
        """Create the database, seed an office-registered account, and serve in debug mode."""
        upgrade(app.extensions["kapu"].deps.store.engine)
        with app.app_context():
            seed_demo_account()
        click.echo(f"Demo on http://{host}:{port}/ - the activation mail is at /kapu/outbox")
        app.debug = True
        run_simple(host, port, app, use_debugger=True, threaded=True)

    return app


def seed_demo_account() -> None:
    """Register the demo citizen at the 'office' unless it exists already."""
    try:
        kapu.register(
            DEMO_USERNAME, DEMO_EMAIL, person={"family_name": "Minta", "given_name": "Polgár"}
        )
    except UsernameTaken:  # from an earlier run: mail a fresh code, the outbox is new
        services.resend_activation(get_state().deps, services.Context(), username=DEMO_USERNAME)
