"""Operator commands for second factors: removing them all, rotating the sealing key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from flask_kapu.store import Factor

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def test_reset_factors_removes_every_factor_and_ends_sessions(app, state, kapu_account, mailbox):
    citizen = kapu_account(
        "ElvesztettTelefon", email="telefon@example.hu", methods=("totp", "email")
    )
    result = app.test_cli_runner().invoke(args=["kapu", "reset-factors", "ElvesztettTelefon"])
    assert result.exit_code == 0, result.output
    with state.deps.store.transaction() as repo:
        assert repo.factors(citizen.account.id) == []
        assert repo.account(citizen.account.id).session_epoch == citizen.account.session_epoch + 1
    assert mailbox.wait_for("telefon@example.hu")


def test_reset_factors_of_an_unknown_user_fails_in_one_line(app):
    result = app.test_cli_runner().invoke(args=["kapu", "reset-factors", "NincsIlyen"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("app_config", [{"KAPU_ENCRYPTION_KEYS": [OLD_KEY]}], indirect=True)
def test_rotate_keys_reseals_authenticator_keys_under_the_newest_key(
    app, state, database_url, smtp_server, kapu_account
):
    from conftest import make_app

    citizen = kapu_account("KulcsCsere", methods=("totp",))
    rotated, _ = make_app(database_url, smtp_server[1], KAPU_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY])
    result = rotated.test_cli_runner().invoke(args=["kapu", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    only_new, _ = make_app(database_url, smtp_server[1], KAPU_ENCRYPTION_KEYS=[NEW_KEY])
    box = only_new.extensions["kapu"].deps.plusz.totp.box
    with only_new.extensions["kapu"].deps.store.transaction() as repo:
        sealed = repo.session.get(Factor, repo.factors(citizen.account.id)[0].id).secret
    assert box.open(sealed) == citizen.totp_secret
    for other in (rotated, only_new):
        other.extensions["kapu"].deps.store.dispose()
