"""``flask kapu import-users``: a host's users from a JSON lines file or a function of its own.

One line per user says what happened (created, unchanged, refused and why);
each user is its own transaction; any refusal makes the exit status non-zero.
"""

from __future__ import annotations

import json
import sys
import types

import bcrypt
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from flask_kapu.store import Account, AccountStatus

OLD_PASSWORD = "Regi-Jelszo-7"
WERKZEUG = generate_password_hash(OLD_PASSWORD, "pbkdf2:sha256:1000")
BCRYPT = bcrypt.hashpw(OLD_PASSWORD.encode(), bcrypt.gensalt(4)).decode()

ANNA = {
    "username": "KisAnna",
    "email": "anna@example.hu",
    "password_hash": WERKZEUG,
    "email_verified": True,
}
BELA = {"username": "NagyBela", "email": "bela@example.hu", "password_hash": BCRYPT}


def flask(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def jsonl(tmp_path, *lines) -> str:
    path = tmp_path / "users.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return str(path)


def rows(state):
    with state.deps.store.reading() as repo:
        return {
            a.username: {c.name: getattr(a, c.key) for c in Account.__table__.columns}
            for a in repo.session.scalars(select(Account))
        }


def test_a_file_of_users_is_imported_one_line_per_user(app, state, api, mailbox, tmp_path):
    result = flask(app, "kapu", "import-users", jsonl(tmp_path, ANNA, BELA))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "line 1: created KisAnna",
        "line 2: created NagyBela (activation code mailed to bela@example.hu)",
        "2 created, 0 unchanged, 0 refused",
    ]
    found = rows(state)
    assert found["KisAnna"]["status"] == AccountStatus.ACTIVE.value
    assert found["NagyBela"]["status"] == AccountStatus.PENDING.value
    assert len(mailbox.wait_for("bela@example.hu")) == 1
    assert api.post("/login", {"username": "KisAnna", "password": OLD_PASSWORD}).status_code == 200


def test_importing_the_same_file_twice_changes_nothing(app, state, tmp_path, mailbox):
    path = jsonl(tmp_path, ANNA, BELA)
    assert flask(app, "kapu", "import-users", path).exit_code == 0
    before = rows(state)

    result = flask(app, "kapu", "import-users", path)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "line 1: unchanged KisAnna",
        "line 2: unchanged NagyBela",
        "0 created, 2 unchanged, 0 refused",
    ]
    assert rows(state) == before
    assert len(mailbox.wait_for("bela@example.hu", count=2, timeout=0.3)) == 1


def test_bad_rows_are_refused_with_a_line_each_and_the_good_ones_imported(app, state, tmp_path):
    path = jsonl(
        tmp_path,
        ANNA,
        "{not json",
        '["a", "list"]',
        {"username": "NagyBela", "email": "bela@example.hu"},
        {**BELA, "password_hash": "md5$x$y"},
        {**BELA, "colour": "blue"},
        {**ANNA, "email": "masik@example.hu"},
        "",
        BELA,
    )

    result = flask(app, "kapu", "import-users", path)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "line 1: created KisAnna"
    assert lines[1].startswith("line 2: refused: not a JSON object")
    assert lines[2].startswith("line 3: refused: not a JSON object")
    assert lines[3] == "line 4: refused: missing password_hash"
    assert lines[4].startswith("line 5: refused: password hash format not recognised")
    assert lines[5] == "line 6: refused: unknown field colour"
    assert lines[6].startswith("line 7: refused: 'KisAnna' was imported already with other data")
    assert lines[7].startswith("line 9: created NagyBela")
    assert lines[8] == "2 created, 0 unchanged, 6 refused"
    assert WERKZEUG not in result.output  # hashes are never shown
    assert BCRYPT not in result.output
    assert set(rows(state)) == {"KisAnna", "NagyBela"}
    assert rows(state)["KisAnna"]["email"] == "anna@example.hu"


def test_a_missing_file_is_refused_in_one_line(app, tmp_path):
    result = flask(app, "kapu", "import-users", str(tmp_path / "nincs.jsonl"))

    assert result.exit_code != 0
    assert "Traceback" not in result.output


@pytest.fixture
def host_module(monkeypatch):
    """A module of the host's with the function that yields its users."""
    module = types.ModuleType("host_users")
    module.users = lambda: iter([ANNA, BELA, {**BELA, "username": "Kis Béla"}])
    module.broken = lambda: 42
    monkeypatch.setitem(sys.modules, "host_users", module)
    return module


def test_from_host_imports_the_rows_a_host_function_yields(app, state, host_module, mailbox):
    result = flask(app, "kapu", "import-users", "--from-host", "host_users:users")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "row 1: created KisAnna",
        "row 2: created NagyBela (activation code mailed to bela@example.hu)",
        "row 3: created Kis Béla (activation code mailed to bela@example.hu; "
        "the user chooses a valid username at the first login)",
        "3 created, 0 unchanged, 0 refused",
    ]
    assert set(rows(state)) == {"KisAnna", "NagyBela", "Kis Béla"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("host_users:nincs", "cannot import host_users:nincs"),
        ("nincs_ilyen_modul:users", "cannot import nincs_ilyen_modul:users"),
        ("host_users:broken", "did not return an iterable of rows"),
    ],
)
def test_a_host_function_that_cannot_be_used_is_refused_in_one_line(
    app, state, host_module, source, message
):
    result = flask(app, "kapu", "import-users", "--from-host", source)

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert message in result.output
    assert rows(state) == {}


def test_a_file_and_a_host_function_together_are_refused(app, host_module, tmp_path):
    result = flask(
        app, "kapu", "import-users", jsonl(tmp_path, ANNA), "--from-host", "host_users:users"
    )

    assert result.exit_code == 2
    assert "either FILE or --from-host" in result.output
