"""The reference host: a Flask app that had users before it added flask_kapu.

Flask-SQLAlchemy with a ``User`` model, a Flask-Login ``LoginManager`` with its
own ``user_loader``, views behind ``flask_login.login_required`` and
Flask-Migrate for its own tables. flask_kapu joins it without taking any of
that over: the host keeps its ``current_user`` (mapped from the Ügyfélkapu
account by ``user_for_account``), its database (flask_kapu's ``kapu_*`` tables
sit beside ``users`` and ``notes``) and its migrations (``flask db upgrade``
next to ``flask kapu db upgrade``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, abort, request
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String, Text, event, func, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash

from flask_kapu import DemoRegistry, Kapu, current_account, requires_plusz
from flask_kapu.store import Account

__all__ = ["Note", "User", "create_app", "db", "kapu", "login_manager", "migrate"]

db = SQLAlchemy()
login_manager = LoginManager()
migrate = Migrate(directory=str(Path(__file__).with_name("migrations")))
kapu = Kapu(registry=DemoRegistry())


class User(db.Model, UserMixin):  # type: ignore[name-defined,misc]
    """The host's user, from before flask_kapu; linked to an account once its owner signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    kapu_account_id: Mapped[int | None] = mapped_column(
        ForeignKey(Account.id, ondelete="SET NULL"), unique=True
    )


class Note(db.Model):  # type: ignore[name-defined,misc]
    """The host's own data, owned by an Ügyfélkapu account: it goes when the account goes."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


@kapu.user_for_account
def user_for_account(account: Account) -> User:
    """The host's user for an account: linked before, the same e-mail, or a new one."""
    user = db.session.scalar(select(User).where(User.kapu_account_id == account.id))
    if user is None:
        user = db.session.scalar(
            select(User).where(
                func.lower(User.email) == account.email.lower(), User.kapu_account_id.is_(None)
            )
        )
    if user is None:
        user = User(email=account.email, username=account.username)
        db.session.add(user)
    user.kapu_account_id = account.id
    db.session.commit()
    return user


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="legacy development key",
        SQLALCHEMY_DATABASE_URI="sqlite:///legacy.sqlite3",
    )
    app.config.update(config or {})
    db.init_app(app)
    migrate.init_app(app, db)
    login_manager.init_app(app)
    login_manager.login_view = "kapu.login"
    kapu.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # SQLite checks foreign keys only when asked
            event.listen(db.engine, "connect", _sqlite_foreign_keys)

    @app.get("/")
    def home() -> str:
        return "Hello, " + (current_user.username if current_user.is_authenticated else "guest")

    @app.post("/legacy-login")
    def legacy_login() -> str:
        """The host's own login, from before flask_kapu."""
        user = db.session.scalar(select(User).where(User.username == request.form["username"]))
        hashed = user.password_hash if user is not None else None
        if hashed is None or not check_password_hash(hashed, request.form["password"]):
            abort(401)
        login_user(user)
        return "ok"

    @app.get("/profile")
    @login_required
    def profile() -> dict[str, Any]:
        return {
            "user_id": current_user.id,
            "username": current_user.username,
            "account": current_account.username if current_account.is_authenticated else None,
        }

    @app.route("/notes", methods=["GET", "POST"])
    @login_required
    def notes() -> dict[str, Any]:
        if request.method == "POST":
            db.session.add(Note(account_id=current_account.id, body=request.form["body"]))
            db.session.commit()
        owned = db.session.scalars(select(Note).where(Note.account_id == current_account.id))
        return {"notes": [note.body for note in owned]}

    @app.get("/tax-return")
    @login_required
    @requires_plusz
    def tax_return() -> str:
        return f"tax return of {current_user.username}"

    @app.get("/mandates")
    @requires_plusz
    @login_required
    def mandates() -> str:
        return f"mandates of {current_user.username}"

    return app
