""" "Download my data" (GDPR Art. 15/20): everything stored about the account but its secrets,
as JSON from the API and as a file from the security page."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from conftest import STRONG_PASSWORD, Api
from sqlalchemy import select

from flask_kapu import services
from flask_kapu.store import Factor, LoginSession, OneTimeCode, RecoveryCode

PERSON = {"family_name": "Kis", "given_name": "Anna"}


@pytest.fixture
def anna(app, kapu_account, clock):
    """An account with an authenticator, e-mail codes, recovery codes, a live mailed code,
    a session elsewhere and a login in its history."""
    who = kapu_account(
        "KisAnna",
        email="anna@example.hu",
        password=STRONG_PASSWORD,
        methods=("totp", "email"),
        person=PERSON,
    )
    deps = app.extensions["kapu"].deps
    with deps.store.transaction() as repo:
        repo.replace_recovery_codes(who.account.id, ["a1" * 32, "b2" * 32, "c3" * 32], clock())
        repo.replace_codes(
            account_id=who.account.id,
            purposes=("email_login",),
            purpose="email_login",
            code_hash="d4" * 32,
            now=clock(),
            ttl=timedelta(minutes=10),
        )
        repo.session.add(
            LoginSession(
                account_id=who.account.id,
                token_hash="e5" * 32,
                created_at=clock(),
                last_seen_at=clock(),
                expires_at=clock() + timedelta(hours=12),
                ip="203.0.113.7",
                browser="Firefox 128 on Linux",
                level="plusz",
                methods=["password", "totp"],
            )
        )
    with app.app_context():
        services.login(
            deps,
            services.Context(ip="203.0.113.7", user_agent="Firefox/128"),
            username="KisAnna",
            password=STRONG_PASSWORD,
        )
    return who


def secrets_of(state, account_id: int) -> list[str]:
    """Every secret, hash or credential stored for the account, as text could show it."""
    with state.deps.store.reading() as repo:
        account = repo.account(account_id)
        assert account is not None
        assert account.password_hash
        found = [account.password_hash]
        for factor in repo.session.scalars(select(Factor).where(Factor.account_id == account_id)):
            found += [v for v in (factor.secret,) if v]
            found += [
                base64.urlsafe_b64encode(v).decode().rstrip("=")
                for v in (factor.credential_id, factor.public_key)
                if v
            ]
        for model in (RecoveryCode, OneTimeCode):
            found += [c.code_hash for c in repo.session.scalars(select(model))]
        found += [s.token_hash for s in repo.session.scalars(select(LoginSession))]
        return found


def exported(api: Api) -> dict:
    response = api.client.get("/kapu/api/account/export")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- JSON -------------------------------------------------------------------------------------


def test_the_export_needs_a_login(client, anna):
    response = client.get("/kapu/api/account/export")

    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"


def test_the_export_needs_a_fresh_plusz_when_the_account_has_a_factor(
    client, anna, kapu_login, clock
):
    kapu_login(client, anna)
    assert client.get("/kapu/api/account/export").get_json()["code"] == "plusz_required"

    kapu_login(client, anna, level="plusz")
    clock.advance(minutes=11)

    assert client.get("/kapu/api/account/export").get_json()["code"] == "plusz_required"


def test_the_export_holds_the_account_person_factors_and_history(api, client, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    data = exported(api)

    assert data["account"]["username"] == "KisAnna"
    assert data["account"]["email"] == "anna@example.hu"
    assert data["account"]["status"] == "active"
    assert data["person"] == PERSON
    assert sorted(f["method"] for f in data["factors"]) == ["email", "totp"]
    assert set(data["factors"][0]) == {
        "method",
        "label",
        "created_at",
        "confirmed_at",
        "last_used_at",
    }
    assert data["recovery_codes_left"] == 3
    elsewhere = [s for s in data["sessions"] if s["browser"] == "Firefox 128 on Linux"]
    assert elsewhere == [
        {
            "created_at": "2026-03-02T09:00:00+00:00",
            "last_seen_at": "2026-03-02T09:00:00+00:00",
            "expires_at": "2026-03-02T21:00:00+00:00",
            "revoked_at": None,
            "ip": "203.0.113.7",
            "browser": "Firefox 128 on Linux",
            "level": "plusz",
            "methods": ["password", "totp"],
        }
    ]
    assert data["trusted_browsers"] == []
    login = [e for e in data["events"] if e["event"] == "password_verified"]
    assert login[0]["ip"] == "203.0.113.7"
    assert login[0]["user_agent"] == "Firefox/128"


def test_the_export_holds_no_secret(api, client, state, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    response = client.get("/kapu/api/account/export")
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "KisAnna" in text
    assert "password_hash" not in text
    secrets = secrets_of(state, anna.account.id)
    assert len(secrets) >= 7  # password, authenticator key, 3 recovery codes, 2 hashes more
    assert anna.totp_secret is not None
    for secret in [*secrets, anna.totp_secret]:
        assert secret not in text


def test_an_account_without_a_factor_exports_with_its_login(client, kapu_account, kapu_login):
    bela = kapu_account("NagyBela", password=STRONG_PASSWORD, methods=())
    kapu_login(client, bela)

    response = client.get("/kapu/api/account/export")

    assert response.status_code == 200
    assert response.get_json()["factors"] == []


# --- HTML -------------------------------------------------------------------------------------


def test_the_page_download_is_the_same_json_as_a_file(api, client, anna, kapu_login):
    kapu_login(client, anna, level="plusz")

    response = client.get("/kapu/security/export")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=ugyfelkapu-KisAnna.json"
    )
    assert json.loads(response.get_data(as_text=True)) == exported(api)


def test_the_page_download_asks_for_a_fresh_plusz_first(client, anna, kapu_login):
    kapu_login(client, anna)

    response = client.get("/kapu/security/export")

    assert response.status_code == 302
    assert response.location.startswith("/kapu/plusz?next=")
    assert "security/export" in response.location


def test_the_page_download_needs_a_login(client, anna):
    response = client.get("/kapu/security/export")

    assert response.status_code == 302
    assert response.location.startswith("/kapu/login")
