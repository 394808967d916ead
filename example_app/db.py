"""The portal's own data: forum posts, tax returns and mandates (SQLAlchemy Core).

The tables live in the same database as flask_kapu's (``KAPU_DATABASE_URL``:
SQLite by default, PostgreSQL just as well) but belong to the portal: they
refer to an account by its id and never touch flask_kapu's tables.

``flask init-db`` (and ``flask demo``) create them; should a page find them
missing (a database set up with ``flask kapu db upgrade`` only), it creates
them first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
)
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import DBAPIError

metadata = MetaData()

posts = Table(
    "portal_post",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, index=True),  # None: a post of the town hall
    Column("author", String(64), nullable=False),
    Column("title", String(120), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tax_returns = Table(
    "portal_tax_return",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("income", Integer, nullable=False),
    Column("withheld", Integer, nullable=False),
    Column("donation", String(40)),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

mandates = Table(
    "portal_mandate",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, nullable=False, index=True),
    Column("agent", String(100), nullable=False),
    Column("scope", String(20), nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@dataclass
class PortalDatabase:
    """The engine, and whether this process has seen the tables in place."""

    engine: Engine
    ready: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask) -> None:
    """One engine on flask_kapu's database URL, kept in ``app.extensions``."""
    url = str(app.config["KAPU_DATABASE_URL"])
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    else:
        engine = create_engine(url, pool_pre_ping=True)
    app.extensions["portal_db"] = PortalDatabase(engine)


def engine() -> Engine:
    """The engine, once the portal's tables exist."""
    database: PortalDatabase = current_app.extensions["portal_db"]
    if not database.ready:
        with database.lock:
            if not database.ready:
                _create_tables(database.engine)
                database.ready = True
    return database.engine


def create_tables() -> None:
    database: PortalDatabase = current_app.extensions["portal_db"]
    _create_tables(database.engine)
    database.ready = True


def dispose(app: Flask) -> None:
    app.extensions["portal_db"].engine.dispose()


def _create_tables(engine: Engine) -> None:
    try:
        metadata.create_all(engine)  # only the tables that are missing
    except DBAPIError:  # another process created them in the meantime
        metadata.create_all(engine)


def now() -> datetime:
    return datetime.now(timezone.utc)


# --- forum ---------------------------------------------------------------------------


def recent_posts(limit: int = 30) -> list[RowMapping]:
    query = select(posts).order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(limit)
    with engine().connect() as connection:
        return list(connection.execute(query).mappings())


def add_post(*, account_id: int | None, author: str, title: str, body: str) -> None:
    with engine().begin() as connection:
        connection.execute(
            posts.insert().values(
                account_id=account_id, author=author, title=title, body=body, created_at=now()
            )
        )


def count_posts(account_id: int) -> int:
    query = select(func.count()).select_from(posts).where(posts.c.account_id == account_id)
    with engine().connect() as connection:
        return int(connection.execute(query).scalar_one())


# --- tax returns ---------------------------------------------------------------------


def reference(row: RowMapping | dict[str, Any]) -> str:
    """The filing number printed on the receipt, e.g. ``SZJA-2025-000042``."""
    return f"SZJA-{row['year']}-{row['id']:06d}"


def add_tax_return(
    *, account_id: int, year: int, income: int, withheld: int, donation: str | None
) -> str:
    values = {
        "account_id": account_id,
        "year": year,
        "income": income,
        "withheld": withheld,
        "donation": donation,
        "submitted_at": now(),
    }
    with engine().begin() as connection:
        new_id = connection.execute(tax_returns.insert().values(**values)).inserted_primary_key[0]
    return reference({"id": new_id, "year": year})


def tax_returns_of(account_id: int) -> list[RowMapping]:
    query = (
        select(tax_returns)
        .where(tax_returns.c.account_id == account_id)
        .order_by(tax_returns.c.id.desc())
    )
    with engine().connect() as connection:
        return list(connection.execute(query).mappings())


def tax_return(account_id: int, ref: str) -> RowMapping | None:
    """The account's return with this filing number (another account's is not found)."""
    parts = ref.split("-")
    if len(parts) != 3 or parts[0] != "SZJA" or not all(p.isdigit() for p in parts[1:]):
        return None
    query = select(tax_returns).where(
        tax_returns.c.id == int(parts[2]),
        tax_returns.c.year == int(parts[1]),
        tax_returns.c.account_id == account_id,
    )
    with engine().connect() as connection:
        return connection.execute(query).mappings().first()


# --- mandates ------------------------------------------------------------------------


def mandates_of(account_id: int) -> list[RowMapping]:
    query = (
        select(mandates).where(mandates.c.account_id == account_id).order_by(mandates.c.id.desc())
    )
    with engine().connect() as connection:
        return list(connection.execute(query).mappings())


def add_mandate(*, account_id: int, agent: str, scope: str, valid_until: date) -> None:
    with engine().begin() as connection:
        connection.execute(
            mandates.insert().values(
                account_id=account_id,
                agent=agent,
                scope=scope,
                valid_until=valid_until,
                created_at=now(),
            )
        )


def revoke_mandate(account_id: int, mandate_id: int) -> bool:
    query = mandates.delete().where(
        mandates.c.id == mandate_id, mandates.c.account_id == account_id
    )
    with engine().begin() as connection:
        return bool(connection.execute(query).rowcount)
