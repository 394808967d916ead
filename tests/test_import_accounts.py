"""Bringing a host app's users over with the password hashes it already stores.

``kapu.import_account`` creates the account with the host's hash; the first
login checks that hash once and replaces it with argon2id in the same
transaction. An account whose e-mail the host vouches for starts active with no
mail; one it does not starts pending and gets the usual activation code. A
username that breaks the Hungarian rules is kept until the user chooses a
valid one (see ``test_views_username.py``).
"""

from __future__ import annotations

import contextlib

import bcrypt
import pytest
from conftest import STRONG_PASSWORD, code_in, empty_tables, forget_keys, make_app, register
from passlib.hash import argon2 as passlib_argon2
from passlib.hash import bcrypt as passlib_bcrypt
from passlib.hash import bcrypt_sha256, pbkdf2_sha256
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from flask_kapu import legacy_hashes, services
from flask_kapu.errors import ImportRefused, InvalidCredentials
from flask_kapu.store import Account, AccountStatus, AuditEvent

OLD_PASSWORD = "Regi-Jelszo-7"

#: One hash of OLD_PASSWORD per format a host may have stored (cheap parameters, for speed).
HASHES = {
    "werkzeug pbkdf2": lambda p: generate_password_hash(p, "pbkdf2:sha256:1000"),
    "werkzeug scrypt": lambda p: generate_password_hash(p, "scrypt:1024:8:1"),
    "bcrypt $2b$": lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode(),
    "bcrypt $2a$": lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(4, prefix=b"2a")).decode(),
    "passlib bcrypt": lambda p: passlib_bcrypt.using(rounds=4).hash(p),
    "libpass argon2": lambda p: passlib_argon2.using(rounds=1, memory_cost=1024).hash(p),
    "passlib pbkdf2-sha256": lambda p: pbkdf2_sha256.using(rounds=1000).hash(p),
    "passlib bcrypt-sha256": lambda p: bcrypt_sha256.using(rounds=4).hash(p),
}


@pytest.fixture
def host(database_url, smtp_server, clock, app_config):
    """The test app together with its ``Kapu`` object, which a host keeps to call it."""
    app, kapu = make_app(database_url, smtp_server[1], **app_config)
    kapu.clock = clock
    state = app.extensions["kapu"]
    empty_tables(state)
    state.limiter.reset()
    yield app, kapu
    state.notifier.wait()
    state.deps.store.dispose()
    forget_keys(database_url)


@pytest.fixture
def app(host):
    return host[0]


def import_account(host, username="KisAnna", email="anna@example.hu", **kwargs):
    """``kapu.import_account`` inside an app context, as a host's script calls it."""
    app, kapu = host
    kwargs.setdefault("password_hash", HASHES["werkzeug pbkdf2"](OLD_PASSWORD))
    with app.app_context():
        return kapu.import_account(username, email, **kwargs)


def stored(state, username):
    with state.deps.store.transaction() as repo:
        return repo.session.scalars(select(Account).where(Account.username == username)).first()


def row(state, username):
    """Every column of the account, to compare before and after."""
    account = stored(state, username)
    assert account is not None
    return {c.name: getattr(account, c.key) for c in Account.__table__.columns}


def login(api, username, password):
    return api.post("/login", {"username": username, "password": password})


# --- the old password logs in once, and is replaced ------------------------------------------


@pytest.mark.parametrize("kind", list(HASHES))
def test_an_imported_account_logs_in_with_its_old_password_and_the_old_hash_is_replaced(
    app, host, state, api, mailbox, kind
):
    old_hash = HASHES[kind](OLD_PASSWORD)
    account = import_account(host, password_hash=old_hash, email_verified=True)

    assert account.status == AccountStatus.ACTIVE.value
    assert stored(state, "KisAnna").password_hash == old_hash
    response = login(api, "KisAnna", OLD_PASSWORD)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["authenticated"] is True
    new_hash = stored(state, "KisAnna").password_hash
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$")
    assert not state.deps.hashing.needs_rehash(new_hash)
    assert mailbox.wait_for("anna@example.hu", timeout=0.2) == []
    api.post("/logout")
    assert login(api, "KisAnna", OLD_PASSWORD).status_code == 200  # now through argon2id


@pytest.mark.parametrize("kind", ["werkzeug scrypt", "bcrypt $2b$", "libpass argon2"])
def test_a_wrong_password_leaves_the_imported_hash_in_place(app, host, state, api, kind):
    old_hash = HASHES[kind](OLD_PASSWORD)
    import_account(host, password_hash=old_hash, email_verified=True)

    response = login(api, "KisAnna", "Masik-Jelszo-8")

    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"
    assert stored(state, "KisAnna").password_hash == old_hash


def test_a_bcrypt_password_longer_than_72_bytes_logs_in_as_bcrypt_checked_it(app, host, api):
    """bcrypt only ever looked at the first 72 bytes; the host's users typed the whole one."""
    long_password = "Hosszu-Jelszo-" + "x" * 80
    import_account(
        host,
        password_hash=bcrypt.hashpw(long_password[:72].encode(), bcrypt.gensalt(4)).decode(),
        email_verified=True,
    )

    assert login(api, "KisAnna", long_password).status_code == 200


# --- the same work whoever logs in ----------------------------------------------------------


@pytest.fixture
def verifications(state, monkeypatch):
    """Every stored hash ``verify`` was asked to check (None: the dummy)."""
    seen = []
    original = state.deps.hashing.verify

    def spy(stored, password):
        seen.append(stored)
        return original(stored, password)

    monkeypatch.setattr(state.deps.hashing, "verify", spy)
    return seen


@pytest.mark.parametrize("password", [OLD_PASSWORD, "Masik-Jelszo-8"])
def test_a_login_checks_the_imported_hash_once(app, host, state, verifications, password):
    old_hash = HASHES["bcrypt $2b$"](OLD_PASSWORD)
    import_account(host, password_hash=old_hash, email_verified=True)

    with app.test_request_context(), contextlib.suppress(InvalidCredentials):
        services.login(state.deps, services.Context(), username="KisAnna", password=password)

    assert verifications == [old_hash]


def test_a_cheaper_legacy_check_takes_as_long_as_an_argon2_check(monkeypatch):
    """A legacy hash that costs less than argon2id is padded to argon2id's time, so that an
    imported account that has not logged in yet does not answer faster than anyone else."""
    from flask_kapu.passwords import PasswordHashing

    hashing = PasswordHashing(time_cost=1, memory_cost=8, parallelism=1)
    slept = []
    monkeypatch.setattr(hashing, "_argon2_seconds", 0.25)
    monkeypatch.setattr("flask_kapu.passwords.time.sleep", slept.append)

    assert hashing.verify(generate_password_hash(OLD_PASSWORD, "pbkdf2:sha256:1"), OLD_PASSWORD)
    assert len(slept) == 1
    assert 0.2 < slept[0] <= 0.25


# --- active or pending ------------------------------------------------------------------------


def test_an_unverified_e_mail_makes_a_pending_account_that_activates_with_the_mailed_code(
    app, host, state, api, mailbox
):
    account = import_account(host, email_verified=False)

    assert account.status == AccountStatus.PENDING.value
    assert stored(state, "KisAnna").password_hash is None  # the old hash is never used
    assert login(api, "KisAnna", OLD_PASSWORD).status_code == 401  # a pending account
    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    response = api.post(
        "/activate", {"username": "KisAnna", "code": code, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 200
    assert stored(state, "KisAnna").status == AccountStatus.ACTIVE.value


def test_a_verified_import_is_active_at_once_and_mails_nothing(app, host, state, mailbox):
    account = import_account(host, email_verified=True)

    assert account.status == AccountStatus.ACTIVE.value
    assert account.activated_at is not None
    assert account.registered_via == "import"
    assert mailbox.wait_for("anna@example.hu", timeout=0.3) == []
    with state.deps.store.reading() as repo:
        assert [e.event for e in repo.session.scalars(select(AuditEvent))] == ["imported"]


# --- idempotent, refused with a reason ----------------------------------------------------------


@pytest.mark.parametrize("verified", [True, False])
def test_importing_the_same_user_twice_changes_nothing(app, host, state, mailbox, verified):
    old_hash = HASHES["werkzeug scrypt"](OLD_PASSWORD)
    with app.app_context():
        first = services.import_account(
            state.deps,
            services.Context(),
            username="KisAnna",
            email="anna@example.hu",
            password_hash=old_hash,
            email_verified=verified,
        )
        before = row(state, "KisAnna")
        again = services.import_account(
            state.deps,
            services.Context(),
            username="KisAnna",
            email="anna@example.hu",
            password_hash=old_hash,
            email_verified=verified,
        )

    assert (first.outcome, again.outcome) == ("created", "unchanged")
    assert again.account.id == first.account.id
    assert row(state, "KisAnna") == before
    assert len(mailbox.wait_for("anna@example.hu", count=2, timeout=0.3)) == (0 if verified else 1)


def test_after_the_first_login_importing_the_user_again_is_unchanged(app, host, state, api):
    old_hash = HASHES["bcrypt $2b$"](OLD_PASSWORD)
    import_account(host, password_hash=old_hash, email_verified=True)
    assert login(api, "KisAnna", OLD_PASSWORD).status_code == 200
    migrated = row(state, "KisAnna")

    again = import_account(host, password_hash=old_hash, email_verified=True)

    assert again.id == migrated["id"]
    assert row(state, "KisAnna") == migrated  # the old hash does not come back


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email": "masik@example.hu"}, "different_data"),
        ({"password_hash": HASHES["werkzeug pbkdf2"]("Masik-Jelszo-8")}, "different_data"),
    ],
)
def test_the_same_username_with_other_data_is_refused(app, host, state, change, reason):
    import_account(host, email_verified=True)
    before = row(state, "KisAnna")

    with pytest.raises(ImportRefused) as refused:
        import_account(host, **{"email_verified": True, **change})

    assert refused.value.reason == reason
    assert row(state, "KisAnna") == before


def test_a_username_registered_here_is_not_taken_over(app, host, state):
    register(app, "KisAnna", "anna@example.hu")

    with pytest.raises(ImportRefused) as refused:
        import_account(host, email_verified=True)

    assert refused.value.reason == "username_taken"
    assert stored(state, "KisAnna").registered_via == "office"


def test_a_case_variant_of_an_existing_username_is_refused(app, host, state):
    import_account(host, email_verified=True)

    with pytest.raises(ImportRefused) as refused:
        import_account(host, "kisanna", email_verified=True)

    assert refused.value.reason == "username_taken"
    assert stored(state, "kisanna") is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"password_hash": "md5$abc$def"}, "unknown_hash"),
        ({"password_hash": "plain text password"}, "unknown_hash"),
        ({"password_hash": ""}, "unknown_hash"),
        ({"password_hash": "pbkdf2:sha256:1000$onlysalt"}, "unknown_hash"),
        ({"email": "not-an-address"}, "invalid_email"),
        ({"username": ""}, "invalid_username"),
        ({"username": "x" * 65}, "invalid_username"),
        ({"username": "Kis\x00Anna"}, "invalid_username"),
        ({"username": 42}, "invalid_username"),
        ({"email_verified": "yes"}, "invalid_email_verified"),
    ],
)
def test_a_bad_row_is_refused_and_writes_nothing(app, host, state, fields, reason):
    values = {
        "username": "KisAnna",
        "email": "anna@example.hu",
        "password_hash": HASHES["werkzeug pbkdf2"](OLD_PASSWORD),
        "email_verified": True,
        **fields,
    }
    with app.app_context(), pytest.raises(ImportRefused) as refused:
        services.import_account(state.deps, services.Context(), **values)

    assert refused.value.reason == reason
    assert str(refused.value)  # a line a person can read
    with state.deps.store.reading() as repo:
        assert repo.count(Account) == 0
        assert repo.count(AuditEvent) == 0


def test_a_bcrypt_hash_without_the_legacy_extra_is_refused_naming_the_extra(
    app, host, state, monkeypatch
):
    monkeypatch.setattr(legacy_hashes, "bcrypt", None)

    with pytest.raises(ImportRefused) as refused:
        import_account(host, password_hash=HASHES["bcrypt $2b$"](OLD_PASSWORD))

    assert refused.value.reason == "needs_legacy_extra"
    assert "flask-kapu[legacy]" in str(refused.value)
    assert stored(state, "KisAnna") is None


def test_an_invalid_username_is_imported_as_it_was_and_must_be_replaced(app, host, state):
    account = import_account(host, "john.doe", email_verified=True)

    assert account.username == "john.doe"
    assert account.must_choose_username
    valid = import_account(host, "KisAnna", "b@example.hu", email_verified=True)
    assert not valid.must_choose_username
