"""The Flask apps under test: a bare one, and one per library and database.

Each app is configured as its library's documentation shows, outside debug and
testing mode. ``/_bench/login/<id>`` (benchmark only) logs the calling client
in through the library's own login function, so every session is one the
library issued itself (Flask-Login's ``_id`` included).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import flask_security
from flask import Flask, request
from flask_login import LoginManager, login_required, login_user
from flask_security import Security, SQLAlchemyUserDatastore, auth_required

from flask_kapu import Kapu, requires_plusz
from flask_kapu import login_required as kapu_login_required
from flask_kapu import session as kapu_session
from flask_kapu.services import sessions
from flask_kapu.state import KapuState, request_context

from .data import Database
from .models import FlUser, Role, User, fl_db, fs_db
from .settings import SECRET_KEY

__all__ = [
    "FST_WITHIN_MINUTES",
    "BenchClock",
    "KapuApp",
    "bare_app",
    "flask_login_app",
    "fst_app",
    "kapu_app",
    "kapu_config",
]

#: ``@auth_required(within=...)``: the session must have logged in this recently.
FST_WITHIN_MINUTES = 60


class BenchClock:
    """flask_kapu's clock: real time plus an offset the TOTP case moves forward.

    Moving it 30 s per TOTP verify gives each request a fresh time step, so
    replay protection is exercised and never trips.
    """

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def _ok() -> str:
    return "ok"


def bare_app() -> Flask:
    """A plain Flask app: the floor every other figure stands on."""
    app = Flask("bench_bare")
    app.config["SECRET_KEY"] = SECRET_KEY
    app.add_url_rule("/bare", "bare", _ok)
    return app


# --- Flask-Login ------------------------------------------------------------------------


def flask_login_app(database: Database) -> Flask:
    """Flask-Login with a SQLAlchemy user loader over flask_kapu's ``kapu_account`` rows."""
    app = Flask(f"bench_flask_login_{database.backend}_{database.size}")
    app.config.update(SECRET_KEY=SECRET_KEY, SQLALCHEMY_DATABASE_URI=database.url)
    fl_db.init_app(app)
    manager = LoginManager(app)

    @manager.user_loader  # type: ignore[untyped-decorator]
    def load_user(user_id: str) -> FlUser | None:
        user: FlUser | None = fl_db.session.get(FlUser, int(user_id))
        return user

    @app.get("/protected")
    @login_required  # type: ignore[untyped-decorator]
    def protected() -> str:
        return "ok"

    @app.get("/_bench/login/<int:user_id>")
    def bench_login(user_id: int) -> tuple[str, int]:
        user = fl_db.session.get(FlUser, user_id)
        if user is None or not login_user(user):
            return "no such user", 404
        return "ok", 200

    return app


# --- flask_kapu ---------------------------------------------------------------------------


@dataclasses.dataclass
class KapuApp:
    app: Flask
    kapu: Kapu
    clock: BenchClock

    @property
    def state(self) -> KapuState:
        state: KapuState = self.app.extensions["kapu"]
        return state


def kapu_config(database_url: str) -> dict[str, Any]:
    """Production settings (argon2id and the rest at their defaults).

    Rate limits stay on, counted on every request, but far above what the
    benchmark sends from one address.
    """
    return {
        "SECRET_KEY": SECRET_KEY,
        "KAPU_DATABASE_URL": database_url,
        "KAPU_RATELIMIT_SECRETS": "1000000 per minute",
        "KAPU_RATELIMIT_MAIL": "1000000 per minute",
        "KAPU_WEBAUTHN_RP_ID": "localhost",
        "KAPU_WEBAUTHN_ORIGINS": "http://localhost",
    }


def kapu_app(database_url: str, *, name: str = "bench_kapu") -> KapuApp:
    """flask_kapu with a bare page, a ``@login_required`` one and a ``@requires_plusz`` one."""
    app = Flask(name)
    app.config.update(kapu_config(database_url))
    kapu = Kapu(app)
    clock = BenchClock()
    kapu.clock = clock
    app.add_url_rule("/bare", "bare", _ok)

    @app.get("/protected")
    @kapu_login_required
    def protected() -> str:
        return "ok"

    @app.get("/plusz")
    @requires_plusz
    def plusz() -> str:
        return "ok"

    @app.get("/_bench/login/<int:account_id>")
    def bench_login(account_id: int) -> tuple[str, int]:
        state: KapuState = app.extensions["kapu"]
        now = state.deps.clock()
        with state.deps.store.transaction() as repo:
            account = repo.account(account_id)
        if account is None:
            return "no such account", 404
        methods = {"password": now}
        level = "ugyfelkapu"
        if request.args.get("level") == "plusz":
            methods["totp"] = now
            level = "plusz"
        _row, token = sessions.open_session(
            state.deps, request_context(), account, level=level, methods=methods, now=now
        )
        kapu_session.start(account, methods=methods, auth_time=now, token=token)
        return "ok", 200

    return KapuApp(app, kapu, clock)


# --- Flask-Security-Too -------------------------------------------------------------------


def fst_app(database: Database) -> Flask:
    """Flask-Security-Too with its fsqla_v3 models in the same database."""
    app = Flask(f"bench_fst_{database.backend}_{database.size}")
    app.config.update(
        SECRET_KEY=SECRET_KEY,
        SECURITY_PASSWORD_SALT="kapu-bench-salt",  # noqa: S106 - a benchmark app
        SQLALCHEMY_DATABASE_URI=database.url,
    )
    fs_db.init_app(app)
    Security(app, SQLAlchemyUserDatastore(fs_db, User, Role))

    @app.get("/protected")
    @auth_required()
    def protected() -> str:
        return "ok"

    @app.get("/fresh")
    @auth_required(within=FST_WITHIN_MINUTES)
    def fresh() -> str:
        return "ok"

    @app.get("/_bench/login/<int:user_id>")
    def bench_login(user_id: int) -> tuple[str, int]:
        user = fs_db.session.get(User, user_id)
        if user is None or not flask_security.login_user(user, authn_via=["password"]):
            return "no such user", 404
        fs_db.session.commit()
        return "ok", 200

    return app
