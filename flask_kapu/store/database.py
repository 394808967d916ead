"""The engine and unit of work of one app.

SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` for
transactions that may write, so concurrent writers queue instead of failing
(reads use a plain ``BEGIN`` and never wait for a writer); other databases get a pre-pinged
pool so a restarted server is reconnected to without restarting the app.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached, sessionmaker

from .models import Account, LoginSession, UTCDateTime
from .repository import Repository

__all__ = ["LiveLogin", "Store"]


class Store:
    """Owns the engine; hands out one :class:`Repository` per transaction."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.engine = _make_engine(url, **engine_options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = sessionmaker(
            self.engine.execution_options(kapu_read_only=True), expire_on_commit=False
        )
        single: dict[str, Any] = {"kapu_single_read": True}
        if self.engine.dialect.name != "sqlite":
            single["isolation_level"] = "AUTOCOMMIT"  # one SELECT needs no BEGIN/COMMIT
        self._single_reads = self.engine.execution_options(**single)

    @contextmanager
    def transaction(self) -> Iterator[Repository]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield Repository(session)

    @contextmanager
    def reading(self) -> Iterator[Repository]:
        """A transaction that only reads: on SQLite it does not take the write lock."""
        with self._reads() as session, session.begin():
            yield Repository(session)

    def load_account(self, account_id: int) -> Account | None:
        """One account by id in a single statement: the per-request lookup of a login.

        A lone SELECT is consistent by itself, so it runs without a transaction
        around it; the account comes back detached, like any loaded outside a unit of work.
        """
        table = Account.__table__
        with self._single_reads.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == account_id)).first()
        if row is None:
            return None
        account = Account(**row._asdict())
        make_transient_to_detached(account)
        return account

    def load_login(
        self,
        account_id: int,
        token_hashes: Sequence[str],
        *,
        now: datetime,
        idle_since: datetime,
        rotated_since: datetime,
    ) -> LiveLogin | None:
        """An account and its live session of one of ``token_hashes`` in a single statement:
        the per-request lookup of a login, so that checking the session costs no extra query.

        Live means not revoked, before its absolute limit and seen after
        ``idle_since``; the token a step-up replaced after ``rotated_since`` still finds
        it, for requests that were already on their way with the older cookie. Like
        :meth:`load_account` it runs without a transaction around it; the account comes
        back detached. The caller judges its status and epoch.
        """
        parameters: dict[str, Any] = {
            "account_id": account_id,
            "now": now,
            "idle_since": idle_since,
            "rotated_since": rotated_since,
        }
        if len(token_hashes) == 1:
            statement, parameters["hash"] = _LOGIN, token_hashes[0]
        else:
            statement, parameters["hashes"] = _LOGIN_FALLBACKS, list(token_hashes)
        with self._single_reads.connect() as connection:
            row = connection.execute(statement, parameters).first()
        if row is None:
            return None
        *values, session_id, last_seen_at = tuple(row)
        account = Account(**dict(zip(_ACCOUNT_COLUMNS, values, strict=True)))
        make_transient_to_detached(account)
        return LiveLogin(account, session_id, last_seen_at)

    def dispose(self) -> None:
        self.engine.dispose()


class LiveLogin(NamedTuple):
    """A login found live: its account (detached) and which session row, last seen when."""

    account: Account
    session_id: int
    last_seen_at: datetime


_ACCOUNTS, _SESSIONS = Account.__table__, LoginSession.__table__
_ACCOUNT_COLUMNS = tuple(column.name for column in _ACCOUNTS.c)


def _login_statement(*, fallbacks: bool) -> Select[Any]:
    """The per-request statement: the account joined to its live session of a token hash
    (of one of them when fallback keys give several: an expanding ``IN`` costs more)."""
    token_hash, previous = _SESSIONS.c.token_hash, _SESSIONS.c.previous_token_hash
    hashes = bindparam("hashes", expanding=True) if fallbacks else [bindparam("hash")]
    return (
        select(*_ACCOUNTS.c, _SESSIONS.c.id, _SESSIONS.c.last_seen_at)
        .join_from(_ACCOUNTS, _SESSIONS, _SESSIONS.c.account_id == _ACCOUNTS.c.id)
        .where(
            _ACCOUNTS.c.id == bindparam("account_id"),
            token_hash.in_(hashes)
            | (
                previous.in_(hashes)
                & (_SESSIONS.c.rotated_at > bindparam("rotated_since", type_=UTCDateTime()))
            ),
            _SESSIONS.c.revoked_at.is_(None),
            _SESSIONS.c.expires_at > bindparam("now", type_=UTCDateTime()),
            _SESSIONS.c.last_seen_at > bindparam("idle_since", type_=UTCDateTime()),
        )
    )


_LOGIN = _login_statement(fallbacks=False)  # built once
_LOGIN_FALLBACKS = _login_statement(fallbacks=True)


def _make_engine(url: str, **options: Any) -> Engine:
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    options = connection.get_execution_options()
    if options.get("kapu_single_read"):
        return  # autocommit: a single statement
    if options.get("kapu_read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
