"""The portal's data: Flask-SQLAlchemy on the one database it shares with flask_kapu.

``SQLALCHEMY_DATABASE_URI`` names it (SQLite by default, PostgreSQL just as well);
with no ``KAPU_DATABASE_URL`` set, flask_kapu keeps its accounts there too, so
the portal's tables can point at them by foreign key (see ``models.py``).

``flask init-db`` (and ``flask demo``) create the tables; should a page find
them missing (a database set up with ``flask kapu db upgrade`` only), it
creates them first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from flask import Flask, current_app
from flask_sqlalchemy.session import Session
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import scoped_session

from .models import Mandate, Post, TaxReturn, db


@dataclass
class Tables:
    """Whether this process has seen the portal's tables in place."""

    ready: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask) -> None:
    """Flask-SQLAlchemy on ``SQLALCHEMY_DATABASE_URI``, with engine settings for several
    threads and processes unless the app chose its own."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    sqlite = url.get_backend_name() == "sqlite"
    options = {"connect_args": {"timeout": 30}} if sqlite else {"pool_pre_ping": True}
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    db.init_app(app)
    if sqlite:  # SQLite checks foreign keys only when asked, per connection
        with app.app_context():
            event.listen(db.engine, "connect", _enforce_foreign_keys)
    app.extensions["portal_tables"] = Tables()


def _enforce_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_tables() -> None:
    """The portal's tables that are missing (flask_kapu's must be there already)."""
    try:
        db.create_all()
    except DBAPIError:  # another process created them in the meantime
        db.create_all()
    current_app.extensions["portal_tables"].ready = True


def _session() -> scoped_session[Session]:
    """Flask-SQLAlchemy's session, once the portal's tables exist."""
    tables: Tables = current_app.extensions["portal_tables"]
    if not tables.ready:
        with tables.lock:
            if not tables.ready:
                create_tables()
    return db.session


def dispose(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


# --- forum ---------------------------------------------------------------------------


def recent_posts(limit: int = 30) -> list[Post]:
    query = select(Post).order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)
    return list(_session().scalars(query))


def add_post(*, account_id: int | None, author: str, title: str, body: str) -> None:
    _add(Post(account_id=account_id, author=author, title=title, body=body))


def count_posts(account_id: int) -> int:
    query = select(func.count()).select_from(Post).where(Post.account_id == account_id)
    return int(_session().scalar(query) or 0)


# --- tax returns ---------------------------------------------------------------------


def reference(row: TaxReturn) -> str:
    """The filing number printed on the receipt, e.g. ``SZJA-2025-000042``."""
    return f"SZJA-{row.year}-{row.id:06d}"


def add_tax_return(
    *, account_id: int, year: int, income: int, withheld: int, donation: str | None
) -> str:
    row = TaxReturn(
        account_id=account_id, year=year, income=income, withheld=withheld, donation=donation
    )
    _add(row)
    return reference(row)


def tax_returns_of(account_id: int) -> list[TaxReturn]:
    query = (
        select(TaxReturn).where(TaxReturn.account_id == account_id).order_by(TaxReturn.id.desc())
    )
    return list(_session().scalars(query))


def tax_return(account_id: int, ref: str) -> TaxReturn | None:
    """The account's return with this filing number (another account's is not found)."""
    parts = ref.split("-")
    if len(parts) != 3 or parts[0] != "SZJA" or not all(p.isdigit() for p in parts[1:]):
        return None
    query = select(TaxReturn).where(
        TaxReturn.id == int(parts[2]),
        TaxReturn.year == int(parts[1]),
        TaxReturn.account_id == account_id,
    )
    return _session().scalars(query).first()


# --- mandates ------------------------------------------------------------------------


def mandates_of(account_id: int) -> list[Mandate]:
    query = select(Mandate).where(Mandate.account_id == account_id).order_by(Mandate.id.desc())
    return list(_session().scalars(query))


def add_mandate(*, account_id: int, agent: str, scope: str, valid_until: date) -> None:
    _add(Mandate(account_id=account_id, agent=agent, scope=scope, valid_until=valid_until))


def revoke_mandate(account_id: int, mandate_id: int) -> bool:
    query = delete(Mandate).where(Mandate.id == mandate_id, Mandate.account_id == account_id)
    result = cast("CursorResult[Any]", _session().execute(query))
    _commit()
    return bool(result.rowcount)


def _add(row: Post | TaxReturn | Mandate) -> None:
    _session().add(row)
    _commit()


def _commit() -> None:
    """Commit, or roll back what a refused write (an unknown account, say) left behind."""
    try:
        db.session.commit()
    except DBAPIError:
        db.session.rollback()
        raise
