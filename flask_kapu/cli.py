"""``flask kapu ...``: office registration and operator commands.

Bad input exits non-zero with a one-line message, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from email.message import EmailMessage
from typing import IO, Any

import click
from flask.cli import AppGroup
from werkzeug.utils import ImportStringError, import_string

from . import services
from .errors import ImportRefused, KapuHTTPError
from .i18n import field_messages, problem_detail
from .mail import OutboxMailer
from .state import get_state
from .store import AccountStatus
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
@click.option(
    "--language",
    default="hu",
    show_default=True,
    help="The language of the account's mails: hu, en or one the app added a catalogue for.",
)
@click.option("--family-name", default=None, help="Family name, as on the ID.")
@click.option("--given-name", default=None, help="Given name, as on the ID.")
def register(
    username: str, email: str, language: str, family_name: str | None, given_name: str | None
) -> None:
    """Office registration: create a pending account and mail its activation code."""
    if "office" not in get_state().config.registration_methods:
        raise click.ClickException("office registration is off (KAPU_REGISTRATION_METHODS)")
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
    outbox = get_state().mailer
    if result.mail_sent and isinstance(outbox, OutboxMailer):
        click.echo(f"Registered {result.account.username}.")
        _show_outbox(outbox)
    elif result.mail_sent:
        account = result.account
        click.echo(f"Registered {account.username}; activation code mailed to {account.email}.")
    else:
        click.echo(
            f"Registered {result.account.username}, but the activation mail could not be sent; "
            "ask for a new code with forgot-password once mail works.",
            err=True,
        )


def _show_outbox(outbox: OutboxMailer) -> None:
    """Without ``MAIL_SERVER`` mail waits in an in-memory outbox that ends with this
    command: show it here, where the one who ran the command can pass it on."""
    click.echo("MAIL_SERVER is not set, so the activation mail was not sent; here it is:")
    for message in outbox.messages:
        body = message.get_body(("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        click.echo(f"\nTo: {message['To']}\nSubject: {message['Subject']}\n\n{text}")


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


_IMPORT_FIELDS = ("username", "email", "password_hash", "email_verified")


@kapu_cli.command("import-users")
@click.argument("file", type=click.File("r", encoding="utf-8"), required=False)
@click.option(
    "--from-host",
    "source",
    metavar="MODULE:FUNCTION",
    help="A function of the app's that returns or yields the users, each a mapping "
    "with the keys of a JSON line.",
)
def import_users(file: IO[str] | None, source: str | None) -> None:
    """Bring the app's existing users over with their password hashes, one per line of FILE.

    Each line of FILE (``-`` for standard input) is a JSON object with ``username``,
    ``email``, ``password_hash`` and optionally ``email_verified`` (default false).
    One line per user says whether it was created, unchanged or refused (and why);
    each user is one transaction; the exit status is 1 when any was refused.
    """
    if (file is None) == (source is None):
        raise click.UsageError("give either FILE or --from-host MODULE:FUNCTION")
    label, rows = ("line", _json_lines(file)) if file is not None else ("row", _host_rows(source))
    deps = get_state().deps
    ctx = services.Context(user_agent="flask kapu import-users")
    counts = dict.fromkeys(("created", "unchanged", "refused"), 0)
    for number, row in rows:
        try:
            imported = services.import_account(deps, ctx, **_import_fields(row))
        except ImportRefused as refused:
            counts["refused"] += 1
            click.echo(f"{label} {number}: refused: {refused}")
            continue
        counts[imported.outcome] += 1
        click.echo(
            f"{label} {number}: {imported.outcome} {imported.account.username}"
            + _created_notes(imported)
        )
    click.echo(", ".join(f"{count} {outcome}" for outcome, count in counts.items()))
    if counts["refused"]:
        raise click.exceptions.Exit(1)


def _json_lines(file: IO[str]) -> Iterator[tuple[int, object]]:
    """Each non-blank line of ``file``, parsed (a line that is no JSON gives ``None``)."""
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (ValueError, RecursionError):
            yield number, None


def _host_rows(source: str | None) -> Iterator[tuple[int, object]]:
    """The rows a host function gives, numbered from 1."""
    try:
        function = import_string(str(source))
    except ImportStringError:
        raise click.ClickException(f"cannot import {source} (give module:function)") from None
    rows = function() if callable(function) else None
    if not isinstance(rows, Iterable) or isinstance(rows, (str, bytes, Mapping)):
        raise click.ClickException(f"{source} did not return an iterable of rows")
    try:
        yield from enumerate(rows, start=1)
    except Exception as error:  # the host's own code, reported in one line like any bad input
        raise click.ClickException(f"{source} failed while giving rows: {error!r}") from None


def _import_fields(row: object) -> dict[str, Any]:
    """The keyword arguments of ``services.import_account`` in ``row``, or a refusal."""
    if not isinstance(row, Mapping):
        raise ImportRefused("invalid_row", "not a JSON object with the user's fields")
    unknown = sorted(str(key) for key in row if key not in _IMPORT_FIELDS)
    if unknown:
        raise ImportRefused("invalid_row", f"unknown field {', '.join(unknown)}")
    missing = [key for key in _IMPORT_FIELDS[:3] if key not in row]
    if missing:
        raise ImportRefused("invalid_row", f"missing {', '.join(missing)}")
    return {key: row[key] for key in _IMPORT_FIELDS if key in row}


def _created_notes(imported: services.Imported) -> str:
    """What an operator should know about a user just created."""
    if imported.outcome != "created":
        return ""
    account = imported.account
    notes = []
    if account.status == AccountStatus.PENDING.value:
        notes.append(
            f"activation code mailed to {account.email}"
            if imported.mail_sent
            else "the activation mail could not be sent: ask for a new code with forgot-password"
        )
    if account.must_choose_username:
        notes.append("the user chooses a valid username at the first login")
    return f" ({'; '.join(notes)})" if notes else ""


@kapu_cli.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Clear the failed-attempt lock of USERNAME."""
    if not services.unlock(
        get_state().deps, services.Context(user_agent="flask kapu unlock"), username=username
    ):
        raise click.ClickException(f"No account named {username!r} (usernames are case-sensitive).")
    click.echo(f"Unlocked {username}.")


@kapu_cli.command("disable")
@click.argument("username")
@click.option("--reason", required=True, help="Why, for the audit trail (up to 255 characters).")
def disable(username: str, reason: str) -> None:
    """Stop USERNAME from logging in and end its sessions; login answers it like a wrong
    password."""
    why = _reason(reason)
    if why is None:
        raise click.ClickException("--reason must say why, in up to 255 printable characters")
    ctx = services.Context(user_agent="flask kapu disable")
    if not services.closing.disable_account(get_state().deps, ctx, username=username, reason=why):
        raise click.ClickException(f"No account named {username!r} (usernames are case-sensitive).")
    click.echo(f"Disabled {username}; its sessions have ended.")


@kapu_cli.command("enable")
@click.argument("username")
@click.option("--reason", default=None, help="Why, for the audit trail (optional).")
def enable(username: str, reason: str | None) -> None:
    """Let the disabled USERNAME log in again."""
    why = _reason(reason) if reason is not None else None
    if reason is not None and why is None:
        raise click.ClickException("--reason must be up to 255 printable characters")
    ctx = services.Context(user_agent="flask kapu enable")
    if not services.closing.enable_account(get_state().deps, ctx, username=username, reason=why):
        raise click.ClickException(
            f"No disabled account named {username!r} (usernames are case-sensitive)."
        )
    click.echo(f"Enabled {username}.")


def _reason(raw: str) -> str | None:
    """An operator's reason as stored: trimmed, printable, at most 255 characters."""
    text = raw.strip()
    return text if 0 < len(text) <= 255 and text.isprintable() else None


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
    """Remove expired codes, idle counters, never-activated accounts, audit events and
    login sessions past their time."""
    result = services.purge(get_state().deps)
    click.echo(
        f"Removed {result.codes} codes, {result.accounts} never-activated accounts, "
        f"{result.counters} attempt counters, {result.stale} stale second-factor rows, "
        f"{result.events} audit events, {result.sessions} ended login sessions and "
        f"{result.browsers} remembered browsers forgotten or expired."
    )


def _describe(error: KapuHTTPError) -> str:
    parts = [problem_detail(error.problem)]
    for field, messages in field_messages(error.errors).items():
        parts.append(f"{field}: {' '.join(messages)}")
    return " ".join(parts)
