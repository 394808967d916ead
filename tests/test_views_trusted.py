""" "Remember this browser" through the pages and the JSON API.

A citizen who completes the second factor at login may ask this browser to be
remembered for ``KAPU_REMEMBER_BROWSER_DAYS``: the browser gets a random token
in the HttpOnly ``kapu_trusted`` cookie, the database only its keyed hash. Her
next password login from it skips the second factor, but only that: the login
is at password level, so every view that needs Ügyfélkapu+ (with or without
``max_age`` and ``methods=``) still asks for a step-up.

NagyBela has an authenticator app (``kapu_account``), so every login asks for it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from conftest import Api, csrf_from, plain_text, submit
from softauthn import SoftAuthenticator
from sqlalchemy import select

from flask_kapu import requires_plusz
from flask_kapu.store import AuditEvent, TrustedBrowser

JSON = {"Accept": "application/json"}
COOKIE = "kapu_trusted"
DAY = 24 * 60 * 60
TOTP_STEP = 30
ORIGIN = "http://localhost"  # the test client's origin, the relying party in development


@pytest.fixture
def app(app):
    """The host app, with views that need Ügyfélkapu+ in each of its forms."""

    @app.get("/tax")
    @requires_plusz
    def tax():
        return "tax"

    @app.get("/fresh")
    @requires_plusz(max_age=timedelta(minutes=5))
    def fresh():
        return "fresh"

    @app.get("/app-only")
    @requires_plusz(methods={"totp"})
    def app_only():
        return "app only"

    return app


@pytest.fixture
def bela(kapu_account):
    return kapu_account("NagyBela", email="bela@example.hu", methods=("totp", "email"))


@pytest.fixture
def cili(kapu_account):
    return kapu_account("SzaboCili", email="cili@example.hu", methods=("totp",))


# --- helpers ----------------------------------------------------------------------------


def code_now(who, clock) -> str:
    """The authenticator's code of the next time step (a step is accepted only once)."""
    clock.advance(seconds=TOTP_STEP)
    return pyotp.TOTP(who.totp_secret).at(clock())


def api_login(api: Api, who) -> dict[str, Any]:
    response = api.post("/login", {"username": who.username, "password": who.password})
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def api_remembered_login(api: Api, who, clock) -> Any:
    """Password, then the authenticator code with "remember this browser"."""
    assert api_login(api, who)["pending"] == "second_factor"
    return api.post("/plusz/totp/verify", {"code": code_now(who, clock), "remember_browser": True})


def trusted_cookie(response) -> str | None:
    """The ``kapu_trusted`` Set-Cookie header of ``response``, if any."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    return found[0] if found else None


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def rows(state) -> list[TrustedBrowser]:
    with state.deps.store.transaction() as repo:
        return list(repo.session.scalars(select(TrustedBrowser).order_by(TrustedBrowser.id)))


def html_login(client, who, next_: str = "/") -> Any:
    path = f"/kapu/login?next={quote(next_, safe='')}"
    return submit(client, path, {"username": who.username, "password": who.password})


def plusz_page(client, next_: str = "/") -> str:
    page = client.get(f"/kapu/plusz?next={quote(next_, safe='')}")
    assert page.status_code == 200
    return str(page.get_data(as_text=True))


def html_confirm(client, who, clock, *, remember: bool, next_: str = "/") -> Any:
    """Type the authenticator code on the step-up page, ticking "remember" or not."""
    token = csrf_from(plusz_page(client, next_))
    data = {"totp-csrf_token": token, "totp-code": code_now(who, clock)}
    if remember:
        data["totp-remember_browser"] = "y"
    return client.post(f"/kapu/plusz/totp?next={quote(next_, safe='')}", data=data)


# --- opting in --------------------------------------------------------------------------


def test_opting_in_sets_an_http_only_cookie_and_stores_only_its_hash(api, bela, clock, state):
    response = api_remembered_login(api, bela, clock)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["authenticated"] is True
    header = trusted_cookie(response)
    assert header is not None
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "path", "max-age"} <= attributes
    assert "Path=/kapu;" in header + ";"
    assert f"Max-Age={30 * DAY}" in header
    assert "SameSite=Lax" in header
    token = cookie_value(header)
    [row] = rows(state)
    assert row.account_id == bela.account.id
    assert row.token_hash != token
    assert token not in row.token_hash
    assert row.expires_at == clock() + timedelta(days=30)
    assert row.revoked_at is None


def test_without_the_opt_in_nothing_is_remembered(api, bela, clock, state):
    api_login(api, bela)
    response = api.post("/plusz/totp/verify", {"code": code_now(bela, clock)})

    assert response.status_code == 200
    assert trusted_cookie(response) is None
    assert rows(state) == []


def test_a_step_up_does_not_remember_the_browser(api, bela, clock, state):
    api_login(api, bela)
    api.post("/plusz/totp/verify", {"code": code_now(bela, clock)})

    step_up = api.post(
        "/plusz/totp/verify", {"code": code_now(bela, clock), "remember_browser": True}
    )

    assert step_up.status_code == 200
    assert trusted_cookie(step_up) is None
    assert rows(state) == []


def test_a_passkey_login_can_remember_the_browser_too(api, kapu_account, state):
    dora = kapu_account("KovacsDora", methods=())
    api_login(api, dora)
    passkey = SoftAuthenticator()
    options = api.post("/factors/webauthn/options").get_json()
    enrolled = api.post("/factors/webauthn", {"credential": passkey.create(options, ORIGIN)})
    assert enrolled.status_code == 201, enrolled.get_json()
    api.post("/logout")
    assert api_login(api, dora)["pending"] == "second_factor"

    options = api.post("/plusz/webauthn/options").get_json()
    response = api.post(
        "/plusz/webauthn/verify",
        {"credential": passkey.get(options, ORIGIN), "remember_browser": True},
    )

    assert response.status_code == 200, response.get_json()
    assert trusted_cookie(response) is not None
    api.post("/logout")
    assert api_login(api, dora)["browser_remembered"] is True


@pytest.mark.parametrize("value", ["yes", 1, [], {}])
def test_a_remember_field_that_is_not_true_or_false_is_refused_before_the_code(
    api, bela, clock, value
):
    api_login(api, bela)
    code = code_now(bela, clock)

    refused = api.post("/plusz/totp/verify", {"code": code, "remember_browser": value})

    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["remember_browser"]
    assert api.post("/plusz/totp/verify", {"code": code}).status_code == 200  # code not spent


# --- the next login -----------------------------------------------------------------------


def test_the_next_login_from_the_remembered_browser_skips_the_second_factor(
    api, bela, clock, state
):
    api_remembered_login(api, bela, clock)
    api.post("/logout")
    clock.advance(days=3)

    session = api_login(api, bela)

    assert session["authenticated"] is True
    assert session["pending"] is None
    assert session["level"] == "ugyfelkapu"
    assert session["methods_used"] == ["password"]
    assert session["browser_remembered"] is True
    assert rows(state)[0].last_used_at == clock()
    with state.deps.store.transaction() as repo:
        logins = repo.session.scalars(select(AuditEvent).where(AuditEvent.event == "login"))
        assert {"method": "password", "remembered_browser": True} in [e.detail for e in logins]


def test_a_remembered_login_still_steps_up_for_each_plusz_view(api, bela, clock, mailbox):
    api_remembered_login(api, bela, clock)
    api.post("/logout")
    api_login(api, bela)

    for path in ("/tax", "/fresh", "/app-only"):
        refused = api.client.get(path, headers=JSON)
        assert refused.status_code == 401, path
        assert refused.get_json()["code"] == "plusz_required"

    # An e-mail code is a second factor, but not the one /app-only demands.
    assert api.post("/plusz/email").status_code == 202
    mail = mailbox.wait_for("bela@example.hu")[-1]
    [code] = re.findall(r"^\s+(\d{6})\s*$", plain_text(mail), re.MULTILINE)
    assert api.post("/plusz/email/verify", {"code": code}).status_code == 200
    assert api.client.get("/tax", headers=JSON).status_code == 200
    assert api.client.get("/app-only", headers=JSON).status_code == 401

    assert api.post("/plusz/totp/verify", {"code": code_now(bela, clock)}).status_code == 200
    for path in ("/tax", "/fresh", "/app-only"):
        assert api.client.get(path, headers=JSON).status_code == 200, path

    clock.advance(minutes=6)
    assert api.client.get("/fresh", headers=JSON).status_code == 401  # max_age still holds
    assert api.client.get("/tax", headers=JSON).status_code == 200


def test_another_accounts_token_does_nothing(api, bela, cili, clock):
    api_remembered_login(api, bela, clock)
    api.post("/logout")

    assert api_login(api, cili)["pending"] == "second_factor"


def test_a_remembered_browser_is_forgotten_after_the_days(api, bela, clock):
    api_remembered_login(api, bela, clock)
    api.post("/logout")
    clock.advance(days=30)

    assert api_login(api, bela)["pending"] == "second_factor"


@pytest.mark.parametrize("app_config", [{"KAPU_REMEMBER_BROWSER_DAYS": 7}], indirect=True)
def test_the_days_are_a_setting(api, bela, clock):
    header = trusted_cookie(api_remembered_login(api, bela, clock))
    assert header is not None
    assert f"Max-Age={7 * DAY}" in header
    api.post("/logout")
    clock.advance(days=6)
    assert api_login(api, bela)["pending"] is None
    api.post("/logout")
    clock.advance(days=1)
    assert api_login(api, bela)["pending"] == "second_factor"


# --- forgetting ---------------------------------------------------------------------------


def test_the_citizen_forgets_a_browser_through_the_api(api, bela, clock, state):
    api_remembered_login(api, bela, clock)
    [row] = rows(state)

    response = api.client.delete(
        f"/kapu/api/browsers/{row.id}", headers={"X-CSRFToken": api.session()["csrf_token"]}
    )

    assert response.status_code == 204
    assert rows(state)[0].revoked_at == clock()
    api.post("/logout")
    assert api_login(api, bela)["pending"] == "second_factor"


def test_forgetting_needs_a_login_and_the_csrf_token(api, bela, clock, state):
    api_remembered_login(api, bela, clock)
    [row] = rows(state)

    no_token = api.client.delete(f"/kapu/api/browsers/{row.id}")
    assert no_token.status_code == 400
    assert no_token.get_json()["code"] == "csrf_failed"
    api.post("/logout")
    anonymous = api.client.delete(
        f"/kapu/api/browsers/{row.id}", headers={"X-CSRFToken": api.session()["csrf_token"]}
    )
    assert anonymous.status_code == 401
    assert rows(state)[0].revoked_at is None


@pytest.mark.parametrize("which", ["other", "unknown", "text", "huge"])
def test_only_the_accounts_own_browsers_can_be_forgotten(app, api, bela, cili, clock, state, which):
    api_remembered_login(api, bela, clock)
    [row] = rows(state)
    api.post("/logout")
    api_remembered_login(api, cili, clock)
    target = {"other": row.id, "unknown": 999, "text": "abc", "huge": 2**40}[which]

    response = api.client.delete(
        f"/kapu/api/browsers/{target}", headers={"X-CSRFToken": api.session()["csrf_token"]}
    )

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert rows(state)[0].revoked_at is None


def test_the_citizen_forgets_a_browser_on_the_security_page(client, bela, clock, state):
    html_login(client, bela)
    assert html_confirm(client, bela, clock, remember=True).status_code == 302
    [row] = rows(state)
    page = client.get("/kapu/security").get_data(as_text=True)

    response = client.post(
        f"/kapu/security/browsers/{row.id}/forget", data={"csrf_token": csrf_from(page)}
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kapu/security")
    assert rows(state)[0].revoked_at == clock()


def test_the_forget_button_needs_the_csrf_token_and_a_login(client, bela, clock, state):
    html_login(client, bela)
    html_confirm(client, bela, clock, remember=True)
    [row] = rows(state)

    assert client.post(f"/kapu/security/browsers/{row.id}/forget").status_code == 400
    submit(client, "/kapu/logout", {})
    anonymous = client.post(f"/kapu/security/browsers/{row.id}/forget")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/kapu/login")
    assert rows(state)[0].revoked_at is None


def test_a_password_change_forgets_every_remembered_browser(api, bela, clock, state):
    api_remembered_login(api, bela, clock)

    changed = api.post(
        "/password/change",
        {"current_password": bela.password, "new_password": "Uj-Tavaszi-Jelszo-7"},
    )

    assert changed.status_code == 200, changed.get_json()
    assert rows(state)[0].revoked_at == clock()


def test_removing_a_factor_forgets_every_remembered_browser(api, bela, clock, state):
    api_remembered_login(api, bela, clock)
    factors = api.client.get("/kapu/api/factors").get_json()["factors"]
    email_factor = next(f for f in factors if f["method"] == "email")

    removed = api.client.delete(
        f"/kapu/api/factors/{email_factor['id']}",
        headers={"X-CSRFToken": api.session()["csrf_token"]},
    )

    assert removed.status_code == 204
    assert rows(state)[0].revoked_at == clock()
    api.post("/logout")
    assert api_login(api, bela)["pending"] == "second_factor"


# --- the pages ----------------------------------------------------------------------------


def test_the_plusz_page_of_a_login_offers_to_remember_the_browser(client, bela):
    html_login(client, bela)

    page = plusz_page(client)

    assert re.search(
        r'<input type="checkbox" id="totp-remember_browser" name="totp-remember_browser"', page
    )
    assert re.search(r'<input[^>]*id="webauthn-remember_browser"', page) is None  # no passkey


def test_a_step_up_page_does_not_offer_it(client, bela, clock):
    html_login(client, bela)
    html_confirm(client, bela, clock, remember=False)

    assert "remember_browser" not in plusz_page(client)


def test_ticking_the_box_remembers_the_browser_and_the_next_login_skips_the_factor(
    client, bela, clock, state
):
    html_login(client, bela, next_="/tax")
    confirmed = html_confirm(client, bela, clock, remember=True, next_="/tax")
    assert confirmed.headers["Location"] == "/tax"
    assert trusted_cookie(confirmed) is not None
    assert len(rows(state)) == 1
    submit(client, "/kapu/logout", {})

    again = html_login(client, bela, next_="/protected")

    assert again.headers["Location"] == "/protected"
    assert client.get("/protected").status_code == 200
    tax = client.get("/tax")
    assert tax.status_code == 302
    assert tax.headers["Location"].startswith("/kapu/plusz")


def test_without_the_tick_the_next_login_asks_again(client, bela, clock, state):
    html_login(client, bela)
    assert trusted_cookie(html_confirm(client, bela, clock, remember=False)) is None
    submit(client, "/kapu/logout", {})

    assert html_login(client, bela).headers["Location"].startswith("/kapu/plusz")
    assert rows(state) == []


# --- the setting at 0 ---------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"KAPU_REMEMBER_BROWSER_DAYS": 0}], indirect=True)
def test_zero_days_turns_the_feature_off(client, api, bela, clock, state):
    html_login(client, bela)
    assert "remember_browser" not in plusz_page(client)
    assert trusted_cookie(html_confirm(client, bela, clock, remember=True)) is None

    response = api_remembered_login(api, bela, clock)

    assert response.status_code == 200  # the field is accepted and ignored
    assert trusted_cookie(response) is None
    assert rows(state) == []


def test_a_mistyped_code_keeps_the_tick(client, bela, clock):
    html_login(client, bela)
    token = csrf_from(plusz_page(client))
    data = {"totp-csrf_token": token, "totp-code": "000000", "totp-remember_browser": "y"}

    page = client.post("/kapu/plusz/totp?next=/", data=data).get_data(as_text=True)

    assert re.search(r'<input type="checkbox" id="totp-remember_browser"[^>]* checked', page)
