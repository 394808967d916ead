"""The engine and unit of work of one app.

SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` for
transactions that may write, so concurrent writers queue instead of failing
(reads use a plain ``BEGIN`` and never wait for a writer); other databases get a pre-pinged
pool so a restarted server is reconnected to without restarting the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached, sessionmaker

from .models import Account
from .repository import Repository

__all__ = ["Store"]


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

    def dispose(self) -> None:
        self.engine.dispose()


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
