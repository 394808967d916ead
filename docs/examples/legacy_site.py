"""An app that had users before flask_kapu: Flask-SQLAlchemy, Flask-Login, Flask-Migrate."""

from flask import Flask
from flask_login import LoginManager, UserMixin, current_user, login_required
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, String, Text, event, func, select
from sqlalchemy.orm import Mapped, mapped_column

from flask_kapu import Kapu, current_account, requires_plusz
from flask_kapu.store import Account

db = SQLAlchemy()
login_manager = LoginManager()
migrate = Migrate()
kapu = Kapu()


class User(db.Model, UserMixin):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # New: the Ügyfélkapu account this user signs in with.
    kapu_account_id: Mapped[int | None] = mapped_column(
        ForeignKey(Account.id, ondelete="SET NULL"), unique=True
    )


class Note(db.Model):
    """The app's own data, kept per Ügyfélkapu account."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


@kapu.user_for_account
def user_for_account(account):
    """The app's user for an account: linked before, the same e-mail, or a new one."""
    user = db.session.scalar(select(User).where(User.kapu_account_id == account.id))
    if user is None:
        user = db.session.scalar(
            select(User).where(
                func.lower(User.email) == account.email.lower(),
                User.kapu_account_id.is_(None),
            )
        )
    if user is None:
        user = User(email=account.email, username=account.username)
        db.session.add(user)
    user.kapu_account_id = account.id
    db.session.commit()
    return user


def enforce_foreign_keys(app):
    """SQLite checks foreign keys only on a connection that asks for it."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(
                db.engine,
                "connect",
                lambda dbapi_connection, _record: dbapi_connection.execute(
                    "PRAGMA foreign_keys=ON"
                ),
            )


def create_app(config=None):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "change me"
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.sqlite3"
    app.config.update(config or {})
    db.init_app(app)
    migrate.init_app(app, db)
    login_manager.init_app(app)
    login_manager.login_view = "kapu.login"
    kapu.init_app(app)
    enforce_foreign_keys(app)

    @app.get("/profile")
    @login_required  # Flask-Login's, unchanged
    def profile():
        return {"user": current_user.username, "account": current_account.username}

    @app.get("/notes")
    @login_required
    def notes():
        mine = db.session.scalars(select(Note).where(Note.account_id == current_account.id))
        return {"notes": [note.body for note in mine]}

    @app.get("/tax-return")
    @login_required
    @requires_plusz
    def tax_return():
        return f"The tax return of {current_user.username}"

    return app
