"""The portal's own tables: forum posts, tax returns and mandates (Flask-SQLAlchemy).

They live in the same database as flask_kapu's and point at the Ügyfélkapu
account by a foreign key to ``kapu_account.id``, the way any host table does.
flask_kapu's migrations own ``kapu_account``; ``db.create_all()`` makes only
the tables below, so it runs after ``kapu.upgrade_database()``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

#: flask_kapu's account table, named only so that foreign keys can point at it. It sits
#: in a metadata of its own: ``db.create_all()`` never makes it, flask_kapu's migrations do.
kapu_account = Table("kapu_account", MetaData(), Column("id", Integer, primary_key=True))


def now() -> datetime:
    return datetime.now(timezone.utc)


class Post(db.Model):  # type: ignore[name-defined,misc]
    """A forum post. It outlives its author's account: the name stays, the link goes."""

    __tablename__ = "portal_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(  # None: a post of the town hall
        ForeignKey(kapu_account.c.id, ondelete="SET NULL"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class TaxReturn(db.Model):  # type: ignore[name-defined,misc]
    """A submitted personal income tax return; it goes with the account."""

    __tablename__ = "portal_tax_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey(kapu_account.c.id, ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    income: Mapped[int] = mapped_column(Integer)
    withheld: Mapped[int] = mapped_column(Integer)
    donation: Mapped[str | None] = mapped_column(String(40))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Mandate(db.Model):  # type: ignore[name-defined,misc]
    """Someone the citizen authorised to act for them; it goes with the account."""

    __tablename__ = "portal_mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey(kapu_account.c.id, ondelete="CASCADE"), index=True
    )
    agent: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(20))
    valid_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
