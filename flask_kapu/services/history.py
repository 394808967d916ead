"""Login history from the audit trail: the login before this one, the failures since, the
account's recent activity, and the mail about a login from a browser not seen before.

The audit trail is the one record of logins and failures on every instance,
so nothing here keeps state of its own. A failure names an account only when
the username existed; failures of unknown usernames are nobody's.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from ..store import Account, AuditEvent, Repository
from ..useragents import summary
from .base import Context, Deps

__all__ = [
    "FAILURE_EVENTS",
    "LOGIN_EVENTS",
    "Activity",
    "LastLogin",
    "LoginHistory",
    "login_history",
    "notify_new_device",
    "purge_events",
    "recent_activity",
]

#: Events that end with the account logged in: a login, or a code that set the password.
LOGIN_EVENTS = ("login", "activated", "password_reset")
#: Typed secrets that were wrong, on this account.
FAILURE_EVENTS = ("login_failed", "plusz_failed", "code_failed", "password_change_failed")
#: A session's login time is stored in whole seconds; its audit row may be a moment later.
_SAME_LOGIN = timedelta(seconds=1)
#: Audit rows read to build the activity list, so that bursts of failures still leave
#: ``limit`` entries.
_ACTIVITY_WINDOW = 200


@dataclasses.dataclass(frozen=True)
class LastLogin:
    """When and from where a login happened."""

    at: datetime
    ip: str | None
    browser: str | None


@dataclasses.dataclass(frozen=True)
class LoginHistory:
    """What the owner should see after logging in: the login before this one (``None`` for
    the first) and the wrong secrets typed on the account since it."""

    last_login: LastLogin | None
    failed_since: int


@dataclasses.dataclass(frozen=True)
class Activity:
    """One line of the activity list: an event, or a burst of the same failure in a row.

    ``at`` is the first of a burst and ``last_at`` its last; ``ip`` and
    ``browser`` are those of the last.
    """

    event: str
    at: datetime
    last_at: datetime
    count: int
    ip: str | None
    browser: str | None
    detail: dict[str, Any] | None


def _where(event: AuditEvent) -> LastLogin:
    return LastLogin(at=event.at, ip=event.ip, browser=summary(event.user_agent))


def login_history(deps: Deps, account_id: int, *, login_at: datetime) -> LoginHistory:
    """The login before the one made at ``login_at``, and the failures between the two."""
    with deps.store.reading() as repo:
        logins = repo.latest_events(
            account_id, LOGIN_EVENTS, before=login_at + _SAME_LOGIN, limit=2
        )
        current = logins[0].at if logins else login_at
        previous = logins[1] if len(logins) > 1 else None
        failed = repo.count_events(
            account_id,
            FAILURE_EVENTS,
            after=previous.at if previous is not None else None,
            before=current,
        )
    return LoginHistory(
        last_login=_where(previous) if previous is not None else None, failed_since=failed
    )


def recent_activity(deps: Deps, account_id: int, *, limit: int = 20) -> list[Activity]:
    """The account's last ``limit`` activities, newest first; a run of the same failure is
    one entry, so that a burst of guesses reads as one line with its count."""
    with deps.store.reading() as repo:
        events = repo.recent_events(account_id, limit=_ACTIVITY_WINDOW)
    items: list[Activity] = []
    for event in events:  # newest first
        last = items[-1] if items else None
        if last is not None and event.event in FAILURE_EVENTS and event.event == last.event:
            items[-1] = dataclasses.replace(last, at=event.at, count=last.count + 1)
            continue
        if len(items) == limit:
            break
        items.append(
            Activity(
                event=event.event,
                at=event.at,
                last_at=event.at,
                count=1,
                ip=event.ip,
                browser=summary(event.user_agent),
                detail=event.detail,
            )
        )
    return items


def notify_new_device(deps: Deps, ctx: Context, account: Account, *, security_url: str) -> bool:
    """Mail the owner that a login just succeeded from a browser not known for the account,
    with where to end that session; ``False`` when nothing was sent.

    Not sent when ``KAPU_NEW_DEVICE_NOTICE`` is off, nor for the account's very
    first login (its activation, or the first of an imported account): there
    is no browser yet that it could be new beside.
    """
    if not deps.config.new_device_notice:
        return False
    now = deps.clock()
    with deps.store.reading() as repo:
        logins = repo.latest_events(account.id, LOGIN_EVENTS, before=now + _SAME_LOGIN, limit=2)
    if len(logins) < 2:
        return False
    return deps.notifier.deliver(
        account,
        "new_device",
        at=now,
        ip=ctx.ip,
        browser=summary(ctx.user_agent),
        security_url=security_url,
    )


def purge_events(deps: Deps, repo: Repository, now: datetime) -> int:
    """Delete audit events past ``KAPU_AUDIT_RETENTION``; none when it is ``None``."""
    retention = deps.config.audit_retention
    return 0 if retention is None else repo.purge_events(before=now - retention)
