"""``flask kapu ...``: office registration and operator commands.

Bad input exits non-zero with a one-line message, never a traceback.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from . import services
from .errors import KapuHTTPError
from .i18n import field_messages, problem_detail
from .state import get_state
from .store.migrate import upgrade

__all__ = ["kapu_cli"]

kapu_cli = AppGroup("kapu", help="Ügyfélkapu accounts: registration, unlocking, housekeeping.")
db_cli = AppGroup("db", help="The flask_kapu database schema.")
kapu_cli.add_command(db_cli)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate flask_kapu's tables to the latest revision."""
    deps = get_state().deps
    upgrade(deps.store.engine)
    services.check_key_fingerprints(deps)
    click.echo("flask_kapu database is up to date.")


@kapu_cli.command("register")
@click.argument("username")
@click.argument("email")
@click.option("--language", type=click.Choice(services.LANGUAGES), default="hu", show_default=True)
@click.option("--family-name", default=None, help="Family name, as on the ID.")
@click.option("--given-name", default=None, help="Given name, as on the ID.")
def register(
    username: str, email: str, language: str, family_name: str | None, given_name: str | None
) -> None:
    """Office registration: create a pending account and mail its activation code."""
    person = {k: v for k, v in {"family_name": family_name, "given_name": given_name}.items() if v}
    try:
        result = services.register(
            get_state().deps,
            services.Context(user_agent="flask kapu register"),
            username=username,
            email=email,
            person=person or None,
            via="office",
            language=language,
        )
    except KapuHTTPError as error:
        raise click.ClickException(_describe(error)) from None
    if result.mail_sent:
        account = result.account
        click.echo(f"Registered {account.username}; activation code mailed to {account.email}.")
    else:
        click.echo(
            f"Registered {result.account.username}, but the activation mail could not be sent; "
            "ask for a new code with forgot-password once mail works.",
            err=True,
        )


@kapu_cli.command("resend-activation")
@click.argument("username")
def resend_activation(username: str) -> None:
    """Mail a new activation code to the pending account USERNAME."""
    ctx = services.Context(user_agent="flask kapu resend-activation")
    if not services.resend_activation(get_state().deps, ctx, username=username):
        raise click.ClickException(
            f"No activation mail sent: {username!r} is no pending account, or mail failed."
        )
    click.echo(f"A new activation code was mailed to {username}.")


@kapu_cli.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Clear the failed-attempt lock of USERNAME."""
    if not services.unlock(
        get_state().deps, services.Context(user_agent="flask kapu unlock"), username=username
    ):
        raise click.ClickException(f"No account named {username!r} (usernames are case-sensitive).")
    click.echo(f"Unlocked {username}.")


@kapu_cli.command("reset-factors")
@click.argument("username")
def reset_factors(username: str) -> None:
    """Remove every second factor of USERNAME (a lost phone); their sessions end."""
    ctx = services.Context(user_agent="flask kapu reset-factors")
    if not services.enrolment.reset_factors(get_state().deps, ctx, username=username):
        raise click.ClickException(f"No account named {username!r} (usernames are case-sensitive).")
    click.echo(f"Removed the second factors of {username}; they can enrol again after logging in.")


@kapu_cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-seal stored authenticator keys under the newest key and record the new keys.

    Codes already hashed (mailed codes, recovery codes) still need the previous
    SECRET_KEY in SECRET_KEY_FALLBACKS to be accepted.
    """
    count = services.rotate_secrets(get_state().deps)
    click.echo(f"Re-sealed {count} authenticator keys.")


@kapu_cli.command("purge")
def purge() -> None:
    """Remove expired codes, idle counters and never-activated accounts past their time."""
    result = services.purge(get_state().deps)
    click.echo(
        f"Removed {result.codes} codes, {result.accounts} never-activated accounts, "
        f"{result.counters} attempt counters and {result.stale} stale second-factor rows."
    )


def _describe(error: KapuHTTPError) -> str:
    parts = [problem_detail(error.problem)]
    for field, messages in field_messages(error.errors).items():
        parts.append(f"{field}: {' '.join(messages)}")
    return " ".join(parts)
