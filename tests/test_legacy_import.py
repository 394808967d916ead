"""The reference host (``tests/legacy_app``) brings its users over with the hashes it stores.

The host writes a small function that yields its ``users`` table as rows;
``flask kapu import-users --from-host`` imports them into the same database. A
user then logs in through flask_kapu with the password they already had, the
old hash is gone from ``kapu_account`` afterwards, and the host's
``current_user`` is their own ``User`` row. Importing twice leaves the same rows.
"""

from __future__ import annotations

import sys
import types

import bcrypt
import pytest
from legacy_app import User, db
from passlib.hash import argon2 as passlib_argon2
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from flask_kapu.store import Account

PASSWORDS = {"KisAnna": "Regi-Jelszo-2019", "NagyBela": "Bela-Titka-77", "john.doe": "Johnny-5"}


def legacy_users():
    """What the host writes: its users as ``flask kapu import-users`` reads them. The
    host has always sent mail to these addresses, so it vouches for them."""
    for user in db.session.scalars(select(User).order_by(User.id)):
        yield {
            "username": user.username,
            "email": user.email,
            "password_hash": user.password_hash,
            "email_verified": True,
        }


@pytest.fixture
def host_module(monkeypatch):
    """The module of the host's that holds ``legacy_users``."""
    module = types.ModuleType("legacy_import")
    module.legacy_users = legacy_users
    monkeypatch.setitem(sys.modules, "legacy_import", module)
    return "legacy_import:legacy_users"


@pytest.fixture
def host_users(legacy_app):
    """The host's users from before flask_kapu: a werkzeug, a bcrypt and a libpass argon2
    hash, and a username that breaks the Hungarian rules."""
    hashes = {
        "KisAnna": generate_password_hash(PASSWORDS["KisAnna"]),
        "NagyBela": bcrypt.hashpw(PASSWORDS["NagyBela"].encode(), bcrypt.gensalt(4)).decode(),
        "john.doe": passlib_argon2.using(rounds=1, memory_cost=1024).hash(PASSWORDS["john.doe"]),
    }
    with legacy_app.app_context():
        for name, hashed in hashes.items():
            db.session.add(
                User(username=name, email=f"{name.lower()}@example.hu", password_hash=hashed)
            )
        db.session.commit()
    return hashes


def import_users(app, source):
    return app.test_cli_runner().invoke(args=["kapu", "import-users", "--from-host", source])


def kapu_rows(app):
    with app.app_context():
        deps = app.extensions["kapu"].deps
        with deps.store.reading() as repo:
            return {
                a.username: {c.name: getattr(a, c.key) for c in Account.__table__.columns}
                for a in repo.session.scalars(select(Account))
            }


def host_rows(app):
    with app.app_context():
        return [
            (u.id, u.username, u.email, u.password_hash, u.kapu_account_id)
            for u in db.session.scalars(select(User).order_by(User.id))
        ]


def test_the_host_users_are_imported_from_its_table(legacy_app, host_users, host_module):
    result = import_users(legacy_app, host_module)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "row 1: created KisAnna",
        "row 2: created NagyBela",
        "row 3: created john.doe (the user chooses a valid username at the first login)",
        "3 created, 0 unchanged, 0 refused",
    ]
    rows = kapu_rows(legacy_app)
    assert {name: row["password_hash"] for name, row in rows.items()} == host_users
    assert {row["status"] for row in rows.values()} == {"active"}


@pytest.mark.parametrize("username", ["KisAnna", "NagyBela"])
def test_a_user_logs_in_with_the_old_password_and_the_old_hash_is_gone(
    legacy_app, legacy_api, legacy_client, host_users, host_module, username
):
    import_users(legacy_app, host_module)

    response = legacy_api.post("/login", {"username": username, "password": PASSWORDS[username]})

    assert response.status_code == 200, response.get_json()
    stored = kapu_rows(legacy_app)[username]["password_hash"]
    assert stored.startswith("$argon2id$")
    assert stored != host_users[username]
    assert host_users[username] not in {
        row["password_hash"] for row in kapu_rows(legacy_app).values()
    }
    profile = legacy_client.get("/profile").get_json()
    (host_id,) = [row[0] for row in host_rows(legacy_app) if row[1] == username]
    assert profile == {"user_id": host_id, "username": username, "account": username}


def test_a_user_with_a_name_that_breaks_the_rules_chooses_one_then_is_the_host_user(
    legacy_app, legacy_api, legacy_client, host_users, host_module
):
    import_users(legacy_app, host_module)

    waiting = legacy_api.post("/login", {"username": "john.doe", "password": PASSWORDS["john.doe"]})
    assert waiting.get_json()["pending"] == "username"
    refused = legacy_client.get("/tax-return")  # the host's own login_required refuses
    assert refused.status_code == 302
    assert refused.location.startswith("/kapu/login")
    chosen = legacy_api.post("/username", {"username": "JanosDoe"})

    assert chosen.status_code == 200, chosen.get_json()
    assert kapu_rows(legacy_app)["JanosDoe"]["password_hash"].startswith("$argon2id$")
    profile = legacy_client.get("/profile").get_json()
    (host_id,) = [row[0] for row in host_rows(legacy_app) if row[1] == "john.doe"]
    assert profile == {"user_id": host_id, "username": "john.doe", "account": "JanosDoe"}


def test_importing_twice_leaves_the_same_rows(legacy_app, legacy_api, host_users, host_module):
    import_users(legacy_app, host_module)
    legacy_api.post("/login", {"username": "KisAnna", "password": PASSWORDS["KisAnna"]})
    before = (kapu_rows(legacy_app), host_rows(legacy_app))

    again = import_users(legacy_app, host_module)

    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "0 created, 3 unchanged, 0 refused"
    assert (kapu_rows(legacy_app), host_rows(legacy_app)) == before
