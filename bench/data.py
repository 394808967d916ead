"""The benchmark databases: 1,000 or 1,000,000 accounts, bulk-inserted.

Rows are computed here, not made by flask_kapu's services: one argon2id hash
(flask_kapu's default parameters) is reused by every account, and the rows go
in with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL). Each account has
an e-mail factor; a sample of them also has an authenticator app. The same
number of Flask-Security-Too users lives in its own tables of the same
database, and Flask-Login reads flask_kapu's ``kapu_account`` rows.

A built SQLite file is cached under ``bench/.cache/`` and reused while its
layout key matches; each run first empties the tables the benchmark writes
to (audit events, codes, used TOTP steps, attempt counters).
PostgreSQL databases are created for one run and dropped after it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Table, create_engine, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

from flask_kapu.config import load_config
from flask_kapu.crypto import SecretBox
from flask_kapu.passwords import PasswordHashing
from flask_kapu.store import Account, Factor
from flask_kapu.store.migrate import upgrade

from .models import User, fs_db
from .settings import CACHE_DIR, LAYOUT_VERSION, PASSWORD, SAMPLE_SIZE, SECRET_KEY, TOTP_SECRET

__all__ = [
    "Database",
    "Sample",
    "postgres_database",
    "sample",
    "sqlite_database",
]

CHUNK = 50_000
_CREATED = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
#: The tables the benchmark writes to; emptied before each run.
#: Rows a run leaves behind, emptied before the next (the login sessions the clients open too).
_SCRATCH = ("kapu_audit_event", "kapu_one_time_code", "kapu_attempt_counter", "kapu_session")
#: A run's clock runs ahead (a TOTP step per verify); the next starts at real time again.
_FORGET_STEPS = "UPDATE kapu_factor SET last_step = NULL"
_ACCOUNT_COLUMNS = (
    "id",
    "username",
    "username_key",
    "email",
    "status",
    "password_hash",
    "person",
    "registered_via",
    "language",
    "session_epoch",
    "created_at",
    "activated_at",
    "password_changed_at",
)
_FACTOR_COLUMNS = (
    "id",
    "account_id",
    "method",
    "label",
    "secret",
    "credential_id",
    "public_key",
    "sign_count",
    "transports",
    "aaguid",
    "created_at",
    "confirmed_at",
    "last_used_at",
)
_FS_USER_COLUMNS = (
    "id",
    "email",
    "password",
    "active",
    "fs_uniquifier",
    "create_datetime",
    "update_datetime",
)


@dataclasses.dataclass(frozen=True)
class Sample:
    """Account ids the cases act as, spread evenly at random over ``1..size``."""

    size: int
    plain: tuple[int, ...]  # an e-mail factor only: a password login is a full login
    totp: tuple[int, ...]  # e-mail and an authenticator app


@dataclasses.dataclass(frozen=True)
class Database:
    """One built database: its SQLAlchemy URL, backend and size."""

    backend: str  # "sqlite" or "postgresql"
    size: int
    url: str
    sample: Sample

    @property
    def label(self) -> str:
        return f"{self.backend} {_short(self.size)}"


def _short(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def sample(size: int) -> Sample:
    """The same ids for the same size, on every run and every backend."""
    rng = random.Random(f"kapu-bench-{size}")  # noqa: S311 - a reproducible sample, not a secret
    ids = rng.sample(range(1, size + 1), 2 * SAMPLE_SIZE)
    return Sample(size, tuple(ids[:SAMPLE_SIZE]), tuple(ids[SAMPLE_SIZE:]))


def username(number: int) -> str:
    """A valid, unique Ügyfélkapu username for account ``number``: ``Polgar`` + letters."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[rest] + letters
    return "Polgar" + letters


def _hashing() -> PasswordHashing:
    """argon2id with flask_kapu's default parameters: the ones the bench apps use."""
    config = load_config({})
    return PasswordHashing(
        time_cost=config.argon2_time_cost,
        memory_cost=config.argon2_memory_cost,
        parallelism=config.argon2_parallelism,
    )


def _layout_key(size: int) -> str:
    config = load_config({})
    return (
        f"v{LAYOUT_VERSION}:n={size}:argon2={config.argon2_time_cost},"
        f"{config.argon2_memory_cost},{config.argon2_parallelism}"
    )


# --- rows --------------------------------------------------------------------------------


def _check_columns(table: Any, expected: Sequence[str]) -> None:
    """The generated tuples follow ``expected``; fail clearly if the model has moved on."""
    actual = [column.name for column in table.columns]
    missing = [name for name in expected if name not in actual]
    if missing:
        raise RuntimeError(f"{table.name} has no column(s) {missing}: update bench/data.py")


def _account_rows(size: int, password_hash: str) -> Iterator[tuple[Any, ...]]:
    for number in range(1, size + 1):
        name = username(number)
        yield (
            number,
            name,
            name.lower(),
            f"polgar{number}@example.hu",
            "active",
            password_hash,
            None,
            "office",
            "hu",
            0,
            _CREATED,
            _CREATED,
            _CREATED,
        )


def _factor_rows(size: int, totp_ids: Iterable[int]) -> Iterator[tuple[Any, ...]]:
    stamps = (_CREATED, _CREATED, None)  # created_at, confirmed_at, last_used_at
    for number in range(1, size + 1):
        yield (number, number, "email", "E-mail", None, None, None, 0, None, None, *stamps)
    sealed = SecretBox.from_settings((), [SECRET_KEY]).seal(TOTP_SECRET)
    for offset, account_id in enumerate(sorted(totp_ids), start=1):
        yield (
            size + offset,
            account_id,
            "totp",
            "Telefon",
            sealed,
            None,
            None,
            0,
            None,
            None,
            *stamps,
        )


def _fs_user_rows(size: int, password_hash: str) -> Iterator[tuple[Any, ...]]:
    naive = _CREATED.replace(tzinfo=None)
    for number in range(1, size + 1):
        uniquifier = hashlib.sha256(f"fs-{number}".encode()).hexdigest()
        yield (number, f"polgar{number}@example.hu", password_hash, True, uniquifier, naive, naive)


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _schema(url: str) -> None:
    """flask_kapu's tables by its own Alembic migrations; Flask-Security-Too's by its models."""
    engine = create_engine(url)
    try:
        upgrade(engine)
        fs_db.metadata.create_all(engine)
    finally:
        engine.dispose()


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite dialect stores: naive UTC text for datetimes, 0/1 for bools."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def _sqlite_insert(
    connection: sqlite3.Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterator[tuple[Any, ...]],
) -> None:
    statement = str(table.insert().compile(dialect=sqlite.dialect(), column_keys=list(columns)))
    # compile() orders the columns as the table does; reorder our tuples to match.
    order = [columns.index(c.name) for c in table.columns if c.name in columns]
    for chunk in _chunks(rows):
        connection.executemany(
            statement, [tuple(_sqlite_value(row[i]) for i in order) for row in chunk]
        )


def _build_sqlite(path: str, size: int, key: str) -> None:
    partial = f"{path}.partial"
    for leftover in (partial, f"{partial}-wal", f"{partial}-shm"):
        if os.path.exists(leftover):
            os.remove(leftover)
    _schema(f"sqlite:///{partial}")
    password_hash = _hashing().hash(PASSWORD)
    picked = sample(size)
    connection = sqlite3.connect(partial, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")
        connection.execute("BEGIN")
        _sqlite_insert(
            connection,
            Account.__table__,  # type: ignore[arg-type]
            _ACCOUNT_COLUMNS,
            _account_rows(size, password_hash),
        )
        _sqlite_insert(
            connection,
            Factor.__table__,  # type: ignore[arg-type]
            _FACTOR_COLUMNS,
            _factor_rows(size, picked.totp),
        )
        _sqlite_insert(
            connection,
            User.__table__,
            _FS_USER_COLUMNS,
            _fs_user_rows(size, password_hash),
        )
        connection.execute("CREATE TABLE bench_meta (key TEXT NOT NULL)")
        connection.execute("INSERT INTO bench_meta (key) VALUES (?)", (key,))
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    os.replace(partial, path)


def _cached_key(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT key FROM bench_meta").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _empty_scratch_sqlite(path: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        for table in _SCRATCH:
            connection.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        connection.execute(_FORGET_STEPS)
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def sqlite_database(size: int, log: Any = print) -> Database:
    """A SQLite file of ``size`` accounts: from the cache, or built (and cached) now."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = str(CACHE_DIR / f"kapu-{size}.sqlite3")
    key = _layout_key(size)
    if _cached_key(path) != key:
        started = time.perf_counter()
        log(f"building {path} ({size:,} accounts) ...")
        _build_sqlite(path, size, key)
        mib = os.path.getsize(path) / 2**20
        log(f"  built in {time.perf_counter() - started:.1f} s, {mib:.0f} MiB")
    _empty_scratch_sqlite(path)
    return Database("sqlite", size, f"sqlite:///{path}", sample(size))


# --- PostgreSQL ---------------------------------------------------------------------------


def _psycopg_conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(tuple(_pg_value(v) for v in row))


def _pg_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _build_postgres(url: str, size: int) -> None:
    import psycopg

    _schema(url)
    password_hash = _hashing().hash(PASSWORD)
    picked = sample(size)
    with psycopg.connect(_psycopg_conninfo(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        _copy(cursor, "kapu_account", _ACCOUNT_COLUMNS, _account_rows(size, password_hash))
        _copy(cursor, "kapu_factor", _FACTOR_COLUMNS, _factor_rows(size, picked.totp))
        _copy(cursor, "fs_user", _FS_USER_COLUMNS, _fs_user_rows(size, password_hash))
        for table, total in (
            ("kapu_account", size),
            ("kapu_factor", size + len(picked.totp)),
            ("fs_user", size),
        ):
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, total))
        connection.commit()
    with psycopg.connect(_psycopg_conninfo(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


@contextmanager
def postgres_database(base_url: str, size: int, log: Any = print) -> Iterator[Database]:
    """A fresh PostgreSQL database of ``size`` accounts, dropped afterwards."""
    base = make_url(base_url)
    name = f"kapu_bench_{_short(size).lower()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        started = time.perf_counter()
        log(f"building PostgreSQL database {name} ({size:,} accounts) ...")
        _build_postgres(url, size)
        log(f"  built in {time.perf_counter() - started:.1f} s")
        yield Database("postgresql", size, url, sample(size))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
