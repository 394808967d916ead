"""``flask init-db`` and ``flask demo``: set up the database, seed the demo, serve."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from flask_kapu import KapuError

from . import db
from .extensions import kapu

DEMO_USERNAME = "Mintapolgar"
DEMO_EMAIL = "minta.polgar@example.hu"
DEMO_PERSON = {
    "family_name": "Minta",
    "given_name": "Polgár",
    "birth_date": "1980-06-15",
    "birth_place": "Mintaváros",
}

TOWN_HALL = "Mintaváros Town Hall"  # the author of the town's own forum posts
WELCOME_POSTS = [
    (
        "Üdvözöljük a lakossági fórumon!",
        "Itt kérdezhet, javasolhat és hozzászólhat a város ügyeihez. Olvasni bárki tud, "
        "írni Ügyfélkapus belépéssel lehet. Kérjük, maradjon a tárgynál, és ne írjon ide "
        "személyes adatokat.",
    ),
    (
        "Lomtalanítás: április 14–18.",
        "A lomokat az ürítés napján reggel 6 óráig tegye ki. Veszélyes hulladékot, "
        "gumiabroncsot és építési törmeléket nem viszünk el.",
    ),
]


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(demo_command)


def create_all() -> None:
    """flask_kapu's tables, then the portal's own (their foreign keys need kapu_account)."""
    kapu.upgrade_database()
    db.create_tables()


def seed_demo_account() -> None:
    """Register the demo citizen at the 'office'; on a later run, mail a fresh code."""
    try:
        kapu.register(DEMO_USERNAME, DEMO_EMAIL, person=DEMO_PERSON)
    except KapuError as error:
        if getattr(error, "problem", None) != "username_taken":
            raise
        if not kapu.resend_activation(DEMO_USERNAME):
            click.echo(
                f"{DEMO_USERNAME} is active already: log in with the password you chose, "
                "or ask for a new one under 'Forgot password'."
            )


def seed_forum() -> None:
    if not db.recent_posts(limit=1):
        for title, body in WELCOME_POSTS:
            db.add_post(account_id=None, author=TOWN_HALL, title=title, body=body)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create (or upgrade) flask_kapu's tables and the portal's own."""
    create_all()
    click.echo("The portal's tables are ready.")


@click.command("demo")
@click.option("--host", default="localhost", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@with_appcontext
def demo_command(host: str, port: int) -> None:
    """Create the database, seed the demo citizen and serve in debug mode."""
    create_all()
    seed_demo_account()
    seed_forum()
    base = f"http://{host}:{port}"
    click.echo(f"\nMintaváros e-services on {base}/")
    if current_app.config.get("MAIL_SERVER"):
        click.echo(f"  {DEMO_USERNAME}'s activation code went to {DEMO_EMAIL}")
    else:
        click.echo(f"  {DEMO_USERNAME}'s activation mail waits in {base}/kapu/outbox")
    click.echo(f"  Invented e-ID cards to register with: {base}/dev/cards\n")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.debug = True
    run_simple(host, port, app, use_debugger=True, threaded=True)
