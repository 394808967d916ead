"""Passkeys through the JSON API: enrolment, the login second step, step-up, and bad answers.

A software authenticator (tests/softauthn.py) plays the browser and the passkey.
In tests the relying party is the request's host and origin: RP ID
``localhost``, origin ``http://localhost``. Every answer that does not verify is
400 ``webauthn_failed`` (never a 5xx) and leaves the stored passkey as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from conftest import STRONG_PASSWORD, Api, plain_text
from softauthn import FLAG_AT, FLAG_UP, SoftAuthenticator, b64url, unb64url
from sqlalchemy import select

from flask_kapu import requires_plusz
from flask_kapu.store import AuditEvent, Factor

ORIGIN = "http://localhost"
PASSKEY_ACR = "urn:flask-kapu:1.0:azonositas:kau:3:dap:webauthn"
JSON = {"Accept": "application/json"}


@pytest.fixture
def app(app):
    """The host app, with a view only a passkey opens."""

    @app.get("/passkey-only")
    @requires_plusz(methods={"webauthn"})
    def passkey_only():
        return "passkey only"

    return app


# --- helpers ----------------------------------------------------------------------------


def login(api, username="KisAnna", password=STRONG_PASSWORD):
    return api.post("/login", {"username": username, "password": password})


def creation_options(api) -> dict[str, Any]:
    response = api.post("/factors/webauthn/options")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def enrol(api, authenticator, label="Telefon", origin=ORIGIN):
    credential = authenticator.create(creation_options(api), origin)
    return api.post("/factors/webauthn", {"credential": credential, "label": label})


def request_options(api) -> dict[str, Any]:
    response = api.post("/plusz/webauthn/options")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def verify(api, credential):
    return api.post("/plusz/webauthn/verify", {"credential": credential})


def passkeys(state) -> list[Factor]:
    with state.deps.store.transaction() as repo:
        return list(
            repo.session.scalars(
                select(Factor).where(Factor.method == "webauthn").order_by(Factor.id)
            )
        )


def passkey_of(state, authenticator) -> Factor:
    found = [f for f in passkeys(state) if f.credential_id == authenticator.credential_id]
    assert len(found) == 1
    return found[0]


def stored_state(factor: Factor) -> tuple[Any, ...]:
    """Everything a failed answer must leave as it was."""
    return (
        factor.credential_id,
        factor.public_key,
        factor.sign_count,
        factor.aaguid,
        factor.transports,
        factor.label,
        factor.last_used_at,
    )


def events(state, name: str) -> list[AuditEvent]:
    with state.deps.store.transaction() as repo:
        return list(repo.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def failed(response, code="webauthn_failed", status=400) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["code"] == code
    return body


def account_named(state, username):
    with state.deps.store.transaction() as repo:
        account = repo.account_by_username(username)
    assert account is not None
    return account


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def phone() -> SoftAuthenticator:
    """KisAnna's phone, whose passkey she enrols."""
    return SoftAuthenticator()


@pytest.fixture
def logged_in(api, active):
    """KisAnna, logged in with her password and no second factor yet."""
    assert login(api).get_json()["level"] == "ugyfelkapu"
    return api


@pytest.fixture
def enrolled(logged_in, phone, state):
    """KisAnna has enrolled her phone's passkey and logged out; returns the stored passkey."""
    response = enrol(logged_in, phone)
    assert response.status_code == 201, response.get_json()
    logged_in.post("/logout")
    return passkey_of(state, phone)


@pytest.fixture
def pending(api, enrolled):
    """KisAnna's login, waiting for her passkey."""
    assert login(api).get_json()["pending"] == "second_factor"
    return api


@pytest.fixture
def stranger(app, kapu_account, kapu_login):
    """Another account (TesztElek) with a passkey of its own: its authenticator."""
    who = kapu_account("TesztElek", methods=())
    other = Api(app.test_client())
    kapu_login(other.client, who)
    authenticator = SoftAuthenticator()
    assert enrol(other, authenticator, label="Elek telefonja").status_code == 201
    return authenticator


# --- enrolment --------------------------------------------------------------------------


def test_a_logged_in_account_enrols_a_passkey_as_its_first_factor(logged_in, phone):
    response = enrol(logged_in, phone, label="Telefon")
    assert response.status_code == 201
    body = response.get_json()
    assert body["factor"]["method"] == "webauthn"
    assert body["factor"]["label"] == "Telefon"
    assert len(body["recovery_codes"]) == 10
    assert len(set(body["recovery_codes"])) == 10
    session = logged_in.session()
    assert session["level"] == "plusz"
    assert session["acr"] == PASSKEY_ACR
    assert session["methods_used"] == ["password", "webauthn"]
    assert session["enrolled_methods"] == ["webauthn"]


def test_the_stored_passkey_keeps_its_id_key_counter_aaguid_and_transports(logged_in, phone, state):
    enrol(logged_in, phone)
    factor = passkey_of(state, phone)
    assert factor.credential_id == phone.credential_id
    assert factor.public_key == phone.cose_public_key()
    assert factor.sign_count == 0
    assert factor.aaguid == "00000000-0000-0000-0000-000000000000"
    assert factor.transports == ["internal"]
    assert factor.confirmed_at is not None
    assert factor.secret is None


def test_creation_options_require_user_verification_and_carry_a_fresh_challenge(logged_in):
    first = creation_options(logged_in)
    second = creation_options(logged_in)
    assert first["rp"]["id"] == "localhost"
    assert first["authenticatorSelection"]["userVerification"] == "required"
    assert first["authenticatorSelection"]["residentKey"] == "preferred"
    assert first["excludeCredentials"] == []
    assert len(unb64url(first["challenge"])) >= 16
    assert first["challenge"] != second["challenge"]
    assert b"KisAnna" not in unb64url(first["user"]["id"])  # an opaque user handle


def test_creation_options_for_a_second_passkey_exclude_the_first(logged_in, phone):
    enrol(logged_in, phone)
    options = creation_options(logged_in)
    assert options["excludeCredentials"] == [
        {"id": phone.id, "type": "public-key", "transports": ["internal"]}
    ]


def test_a_second_passkey_comes_without_recovery_codes(logged_in, phone, state):
    enrol(logged_in, phone)
    laptop = SoftAuthenticator()
    response = enrol(logged_in, laptop, label="Laptop")
    assert response.status_code == 201
    assert response.get_json()["recovery_codes"] == []
    assert [f.label for f in passkeys(state)] == ["Telefon", "Laptop"]


def test_a_passkey_cannot_be_enrolled_twice(logged_in, phone, state):
    enrol(logged_in, phone)
    failed(enrol(logged_in, phone, label="Megint"))
    assert [f.label for f in passkeys(state)] == ["Telefon"]


def test_another_accounts_passkey_cannot_be_enrolled(logged_in, stranger, state):
    failed(enrol(logged_in, stranger))
    assert [f.label for f in passkeys(state)] == ["Elek telefonja"]


def test_enrolment_needs_the_options_call_first(logged_in, phone, state):
    credential = phone.create({"challenge": b64url(b"x" * 32), "rp": {"id": "localhost"}}, ORIGIN)
    failed(logged_in.post("/factors/webauthn", {"credential": credential}))
    assert passkeys(state) == []


@pytest.mark.parametrize(
    "forgery",
    [{"origin": "http://evil.example"}, {"rp_id": "evil.example"}, {"flags": FLAG_UP | FLAG_AT}],
    ids=["wrong origin", "wrong RP ID", "no user verification"],
)
def test_a_forged_registration_enrols_nothing(logged_in, phone, state, forgery):
    forgery = dict(forgery)
    origin = forgery.pop("origin", ORIGIN)
    credential = phone.create(creation_options(logged_in), origin, **forgery)
    failed(logged_in.post("/factors/webauthn", {"credential": credential}))
    assert passkeys(state) == []
    assert logged_in.session()["level"] == "ugyfelkapu"


def test_enrolment_needs_a_login(api, active):
    response = api.post("/factors/webauthn/options")
    failed(response, "login_required", 401)


# --- a first passkey needs the password, or a login minutes old ---------------------------


@pytest.fixture
def stale(logged_in, clock):
    """KisAnna's password-level session, six minutes after its login (a stolen cookie, say)."""
    clock.advance(minutes=6)
    return logged_in


def enrol_with_password(api, authenticator, password=STRONG_PASSWORD):
    options = api.post("/factors/webauthn/options", {"password": password})
    assert options.status_code == 200, options.get_json()
    credential = authenticator.create(options.get_json(), ORIGIN)
    return api.post("/factors/webauthn", {"credential": credential, "password": password})


def test_a_stale_session_gets_no_creation_options_without_the_password(stale, state):
    body = failed(stale.post("/factors/webauthn/options"), "invalid_input", 422)
    assert list(body["errors"]) == ["password"]
    assert passkeys(state) == []


def test_a_stale_session_cannot_register_a_passkey_without_the_password(logged_in, phone, clock):
    credential = phone.create(creation_options(logged_in), ORIGIN)
    clock.advance(minutes=6)
    failed(logged_in.post("/factors/webauthn", {"credential": credential}), "invalid_input", 422)
    session = logged_in.session()
    assert session["level"] == "ugyfelkapu"
    assert session["enrolled_methods"] == []


def test_a_stale_session_enrols_a_passkey_with_the_password(stale, phone, state):
    response = enrol_with_password(stale, phone)
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["recovery_codes"]) == 10
    assert [f.label for f in passkeys(state)] == ["Passkey"]


def test_a_wrong_password_gets_no_options_and_speaks_of_the_password_only(stale, state):
    response = stale.post(
        "/factors/webauthn/options",
        {"password": "Rossz-Jelszo-99"},
        headers={"Accept-Language": "en"},
    )
    body = failed(response, "invalid_credentials", 401)
    assert body["detail"] == "The password is not correct. Type your current password."
    assert len(events(state, "password_check_failed")) == 1


def test_a_wrong_password_at_registration_stores_nothing(stale, phone, state):
    options = stale.post("/factors/webauthn/options", {"password": STRONG_PASSWORD}).get_json()
    credential = phone.create(options, ORIGIN)
    response = stale.post(
        "/factors/webauthn", {"credential": credential, "password": "Rossz-Jelszo-99"}
    )
    failed(response, "invalid_credentials", 401)
    assert passkeys(state) == []


def test_wrong_passwords_count_against_the_login_attempts(stale, state):
    for _ in range(state.config.max_failed_attempts):
        stale.post("/factors/webauthn/options", {"password": "Rossz-Jelszo-99"})
    locked = stale.post("/factors/webauthn/options", {"password": STRONG_PASSWORD})
    failed(locked, "too_many_attempts", 429)
    assert len(events(state, "locked")) == 1


@pytest.mark.parametrize("app_config", [{"KAPU_FRESH_LOGIN_MAX_AGE": 60}], indirect=True)
def test_how_fresh_a_login_must_be_is_a_setting(logged_in, clock):
    clock.advance(seconds=59)
    assert logged_in.post("/factors/webauthn/options").status_code == 200
    clock.advance(seconds=2)
    failed(logged_in.post("/factors/webauthn/options"), "invalid_input", 422)


def test_the_notice_of_a_new_passkey_names_the_browser_and_the_address(logged_in, phone, mailbox):
    credential = phone.create(creation_options(logged_in), ORIGIN)
    logged_in.post(
        "/factors/webauthn",
        {"credential": credential, "label": "Telefon"},
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux) Tolvaj/1.0"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    notice = [m for m in mailbox.wait_for("anna@example.hu", 2) if "Telefon" in plain_text(m)]
    assert len(notice) == 1
    text = plain_text(notice[0])
    assert "Mozilla/5.0 (X11; Linux) Tolvaj/1.0" in text
    assert "203.0.113.9" in text


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "KAPU_WEBAUTHN_RP_ID": "kapu.example.hu",
            "KAPU_WEBAUTHN_ORIGINS": ["https://kapu.example.hu"],
        }
    ],
    indirect=True,
)
def test_a_configured_relying_party_replaces_the_request_host(logged_in, state):
    options = creation_options(logged_in)
    assert options["rp"]["id"] == "kapu.example.hu"
    from_the_request_origin = SoftAuthenticator().create(options, ORIGIN)
    failed(logged_in.post("/factors/webauthn", {"credential": from_the_request_origin}))
    configured = SoftAuthenticator()
    response = enrol(logged_in, configured, origin="https://kapu.example.hu")
    assert response.status_code == 201


# --- the login second step --------------------------------------------------------------


def test_an_account_with_a_passkey_is_asked_for_it_at_login(api, enrolled):
    body = login(api).get_json()
    assert body["authenticated"] is False
    assert body["level"] == "none"
    assert body["pending"] == "second_factor"
    assert "webauthn" in body["methods"]


def test_request_options_list_only_the_accounts_own_passkey(pending, phone, stranger):
    options = request_options(pending)
    assert options["rpId"] == "localhost"
    assert options["userVerification"] == "required"
    assert options["allowCredentials"] == [
        {"id": phone.id, "type": "public-key", "transports": ["internal"]}
    ]


def test_request_options_need_a_login_or_a_pending_one(api, enrolled):
    failed(api.post("/plusz/webauthn/options"), "login_required", 401)


def test_the_passkey_completes_the_login(pending, phone, state, clock):
    response = verify(pending, phone.get(request_options(pending), ORIGIN))
    assert response.status_code == 200
    body = response.get_json()
    assert body["authenticated"] is True
    assert body["level"] == "plusz"
    assert body["acr"] == PASSKEY_ACR
    assert body["methods_used"] == ["password", "webauthn"]
    factor = passkey_of(state, phone)
    assert factor.sign_count == 1
    assert factor.last_used_at == clock()
    assert [e.detail["method"] for e in events(state, "login")][-1] == "webauthn"


def test_the_stored_sign_count_follows_each_login(pending, phone, state):
    for count in (1, 2, 3):
        assert verify(pending, phone.get(request_options(pending), ORIGIN)).status_code == 200
        assert passkey_of(state, phone).sign_count == count
        pending.post("/logout")
        login(pending)


def test_an_authenticator_without_a_counter_signs_in_again_and_again(pending, phone, state):
    phone.counter_step = 0
    for _ in range(3):
        assert verify(pending, phone.get(request_options(pending), ORIGIN)).status_code == 200
        pending.post("/logout")
        login(pending)
    assert passkey_of(state, phone).sign_count == 0


def test_a_counter_beyond_two_to_the_31st_is_stored(pending, phone, state):
    """WebAuthn signature counters are unsigned 32-bit numbers (§6.1)."""
    phone.sign_count = 2**31 + 7
    response = verify(pending, phone.get(request_options(pending), ORIGIN))
    assert response.status_code == 200
    assert passkey_of(state, phone).sign_count == 2**31 + 8


# --- views that want a passkey ----------------------------------------------------------


def test_a_passkey_step_up_opens_a_view_that_wants_a_passkey(
    api, enrolled, phone, state, kapu_login
):
    kapu_login(api.client, account_named(state, "KisAnna"), level="ugyfelkapu")
    api.csrf = None
    refused = api.client.get("/passkey-only", headers=JSON)
    assert failed(refused, "plusz_required", 401)["methods"] == ["webauthn"]
    response = verify(api, phone.get(request_options(api), ORIGIN))
    assert response.status_code == 200
    assert response.get_json()["methods_used"] == ["password", "webauthn"]
    assert api.client.get("/passkey-only", headers=JSON).status_code == 200


def test_a_passkey_login_opens_a_view_that_wants_a_passkey(pending, phone):
    verify(pending, phone.get(request_options(pending), ORIGIN))
    assert pending.client.get("/passkey-only", headers=JSON).get_data(as_text=True) == (
        "passkey only"
    )


@pytest.mark.parametrize("method", ["totp", "email"])
def test_another_step_up_does_not_open_a_view_that_wants_a_passkey(
    client, kapu_account, kapu_login, method
):
    who = kapu_account(methods=("totp", "email", "webauthn"))
    kapu_login(client, who, level="plusz", methods=(method,))
    response = client.get("/passkey-only", headers=JSON)
    body = failed(response, "plusz_required", 401)
    assert body["methods"] == ["webauthn"]
    assert response.headers["WWW-Authenticate"].startswith("Kapu ")


# --- answers that must fail -------------------------------------------------------------


@pytest.fixture
def unchanged(state, phone, enrolled):
    """Call to check that KisAnna's passkey is as it was before the test acted."""
    before = stored_state(passkey_of(state, phone))

    def check() -> None:
        assert stored_state(passkey_of(state, phone)) == before

    return check


def test_an_answer_from_another_origin_is_refused(pending, phone, unchanged):
    failed(verify(pending, phone.get(request_options(pending), "http://evil.example")))
    unchanged()
    assert pending.session()["pending"] == "second_factor"


def test_an_answer_for_another_rp_id_is_refused(pending, phone, unchanged):
    failed(verify(pending, phone.get(request_options(pending), ORIGIN, rp_id="evil.example")))
    unchanged()


def test_an_answer_without_user_verification_is_refused(pending, phone, unchanged):
    failed(verify(pending, phone.get(request_options(pending), ORIGIN, flags=FLAG_UP)))
    unchanged()


def test_an_answer_to_another_challenge_is_refused(pending, phone, unchanged):
    request_options(pending)
    forged = phone.get({"challenge": b64url(b"\x00" * 32), "rpId": "localhost"}, ORIGIN)
    failed(verify(pending, forged))
    unchanged()


def test_verify_without_an_options_call_is_refused(pending, phone, unchanged):
    failed(verify(pending, phone.get({"challenge": b64url(b"\x00" * 32)}, ORIGIN)))
    unchanged()


def test_an_answer_after_the_challenge_expired_is_refused(pending, phone, clock, unchanged):
    options = request_options(pending)
    clock.advance(minutes=5, seconds=1)
    failed(verify(pending, phone.get(options, ORIGIN)))
    unchanged()


def test_a_replayed_assertion_is_refused(pending, phone, state):
    answer = phone.get(request_options(pending), ORIGIN)
    assert verify(pending, answer).status_code == 200
    failed(verify(pending, answer))
    pending.post("/logout")
    login(pending)
    failed(verify(pending, answer))
    assert passkey_of(state, phone).sign_count == 1


def test_a_replayed_assertion_with_the_old_session_cookie_is_refused(pending, phone, state):
    answer = phone.get(request_options(pending), ORIGIN)
    cookie = pending.client.get_cookie("session").value
    assert verify(pending, answer).status_code == 200
    pending.post("/logout")
    pending.client.set_cookie("session", cookie)
    failed(verify(pending, answer))
    assert passkey_of(state, phone).sign_count == 1


def test_a_challenge_is_answered_once(pending, phone, state):
    options = request_options(pending)
    first, second = phone.get(options, ORIGIN), phone.get(options, ORIGIN)
    cookie = pending.client.get_cookie("session").value
    assert verify(pending, first).status_code == 200
    pending.post("/logout")
    pending.client.set_cookie("session", cookie)
    failed(verify(pending, second))
    factor = passkey_of(state, phone)
    assert factor.sign_count == 1


def test_a_passkey_of_another_account_is_refused(pending, phone, stranger, state, unchanged):
    strangers_before = stored_state(passkey_of(state, stranger))
    answer = stranger.get(request_options(pending), ORIGIN, check_allowed=False)
    failed(verify(pending, answer))
    unchanged()
    assert stored_state(passkey_of(state, stranger)) == strangers_before


def test_a_sign_count_going_backwards_is_refused_and_audited(pending, phone, state):
    assert verify(pending, phone.get(request_options(pending), ORIGIN)).status_code == 200
    pending.post("/logout")
    login(pending)
    before = stored_state(passkey_of(state, phone))
    phone.sign_count = 0  # a copy of the passkey taken before its last use
    failed(verify(pending, phone.get(request_options(pending), ORIGIN)))
    factor = passkey_of(state, phone)
    assert stored_state(factor) == before
    suspected = events(state, "webauthn_clone_suspected")
    assert len(suspected) == 1
    assert suspected[0].account_id == factor.account_id
    assert suspected[0].detail == {"factor": factor.id}


def test_a_failed_answer_keeps_the_login_pending(pending, phone):
    failed(verify(pending, phone.get(request_options(pending), "http://evil.example")))
    body = pending.session()
    assert body["authenticated"] is False
    assert pending.client.get("/passkey-only", headers=JSON).status_code == 401


# --- malformed answers ------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


def truncated(text: str) -> str:
    """Cut base64url text to a length no encoding has (4k + 1 characters)."""
    return text[: len(text) // 2 // 4 * 4 + 1]


def in_response(key: str, edit: Callable[[Any], Any]) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        credential["response"][key] = edit(credential["response"].get(key))
        return credential

    return mutate


def top(key: str, value: Any) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        credential[key] = value
        return credential

    return mutate


def without(key: str) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        del credential[key]
        return credential

    return mutate


HUGE = 900_000  # characters: the request stays under 1 MiB


def in_auth_data(edit: Callable[[bytes], bytes]) -> Mutation:
    """Edit the authenticator data inside a registration's attestation object."""

    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        attestation = cbor2.loads(unb64url(credential["response"]["attestationObject"]))
        attestation["authData"] = edit(attestation["authData"])
        credential["response"]["attestationObject"] = b64url(cbor2.dumps(attestation))
        return credential

    return mutate


def with_public_key(cose_key: bytes) -> Mutation:
    """Put ``cose_key`` in place of the public key the attested credential data carries."""

    def replace(auth_data: bytes) -> bytes:
        key_starts = 55 + int.from_bytes(auth_data[53:55], "big")
        return auth_data[:key_starts] + cose_key

    return in_auth_data(replace)


MALFORMED: dict[str, Any] = {
    "an empty object": lambda c: {},
    "no response": without("response"),
    "response not an object": top("response", "response"),
    "response a list": top("response", []),
    "no id and rawId": lambda c: {k: v for k, v in c.items() if k not in {"id", "rawId"}},
    "id and rawId null": lambda c: {**c, "id": None, "rawId": None},
    "rawId truncated": lambda c: {**c, "rawId": truncated(c["rawId"])},
    "rawId garbage": lambda c: {**c, "rawId": "§§ nem azonosító §§"},
    "rawId a number": lambda c: {**c, "rawId": 12345},
    "type not public-key": top("type", "password"),
    "clientDataJSON truncated": in_response("clientDataJSON", truncated),
    "clientDataJSON cut short": in_response("clientDataJSON", lambda v: v[:30]),
    "clientDataJSON garbage": in_response("clientDataJSON", lambda v: "!!! szemét !!!"),
    "clientDataJSON null": in_response("clientDataJSON", lambda v: None),
    "clientDataJSON an object": in_response("clientDataJSON", lambda v: {"type": "webauthn"}),
    "huge clientDataJSON": in_response("clientDataJSON", lambda v: "A" * HUGE),
    "huge number": top("id", 10**4000),
}

MALFORMED_ASSERTIONS: dict[str, Any] = {
    "rawId empty": lambda c: {**c, "id": "", "rawId": ""},
    "rawId empty and no id": pytest.param(
        lambda c: {k: v for k, v in c.items() if k != "id"} | {"rawId": ""},
    ),
    "authenticatorData truncated": in_response("authenticatorData", truncated),
    "authenticatorData of 36 bytes": in_response(
        "authenticatorData", lambda v: b64url(unb64url(v)[:36])
    ),
    "authenticatorData empty": in_response("authenticatorData", lambda v: ""),
    "authenticatorData garbage": in_response("authenticatorData", lambda v: "@@@@@@@@"),
    "signature truncated": in_response("signature", truncated),
    "signature garbage": in_response("signature", lambda v: b64url(b"\x30\x02\x00\x00")),
    "signature a list": in_response("signature", lambda v: [v]),
    "userHandle a number": in_response("userHandle", lambda v: 42),
    "huge authenticatorData": in_response("authenticatorData", lambda v: "A" * HUGE),
    "huge signature": in_response("signature", lambda v: "A" * HUGE),
    "huge id": lambda c: {**c, "id": "A" * (HUGE // 2), "rawId": "A" * (HUGE // 2)},
}

MALFORMED_REGISTRATIONS: dict[str, Any] = {
    "attestationObject truncated": in_response("attestationObject", truncated),
    "attestationObject garbage": in_response("attestationObject", lambda v: "§ szemét §"),
    "attestationObject not CBOR": in_response("attestationObject", lambda v: b64url(b"\xff\xff")),
    "authData of 36 bytes": in_auth_data(lambda d: d[:36]),
    "authData cut in the credential id": in_auth_data(lambda d: d[:60]),
    "authData with trailing bytes": in_auth_data(lambda d: d + b"\x00"),
    "public key cut short": with_public_key(b"\xa5\x01\x02"),
    "public key a CBOR list": pytest.param(
        with_public_key(cbor2.dumps([2, -7])),
    ),
    "public key the CBOR integer 4": pytest.param(
        with_public_key(cbor2.dumps(4)),
    ),
    "huge attestationObject": in_response("attestationObject", lambda v: "A" * HUGE),
}


def params(mutations: dict[str, Any]) -> list[Any]:
    """Parameters named by their keys (keeping the marks of ``pytest.param`` values)."""
    return [
        pytest.param(*v.values, marks=v.marks, id=k)
        if hasattr(v, "marks")
        else pytest.param(v, id=k)
        for k, v in mutations.items()
    ]


@pytest.mark.parametrize("mutate", params({**MALFORMED, **MALFORMED_ASSERTIONS}))
def test_a_malformed_answer_is_refused(pending, phone, mutate, unchanged):
    answer = mutate(copy.deepcopy(phone.get(request_options(pending), ORIGIN)))
    failed(verify(pending, answer))
    unchanged()


@pytest.mark.parametrize("mutate", params({**MALFORMED, **MALFORMED_REGISTRATIONS}))
def test_a_malformed_registration_enrols_nothing(logged_in, phone, mutate, state):
    answer = mutate(copy.deepcopy(phone.create(creation_options(logged_in), ORIGIN)))
    failed(logged_in.post("/factors/webauthn", {"credential": answer}))
    assert passkeys(state) == []
    assert logged_in.session()["level"] == "ugyfelkapu"


@pytest.mark.parametrize("credential", ["credential", ["credential"], 42, None, True])
def test_a_credential_that_is_not_an_object_is_invalid_input(pending, credential, unchanged):
    request_options(pending)
    body = failed(verify(pending, credential), "invalid_input", 422)
    assert "credential" in body["errors"]
    unchanged()


def test_a_deeply_nested_answer_is_refused(pending, unchanged):
    request_options(pending)
    depth = 100_000
    response = pending.client.post(
        "/kapu/api/plusz/webauthn/verify",
        data='{"credential": {"response": ' + "[" * depth + "]" * depth + "}}",
        content_type="application/json",
        headers={"X-CSRFToken": pending.csrf},
    )
    assert response.status_code == 400
    unchanged()


def test_a_body_that_is_not_json_is_invalid_json(pending, unchanged):
    request_options(pending)
    response = pending.client.post(
        "/kapu/api/plusz/webauthn/verify",
        data='{"credential": {"id": ',
        content_type="application/json",
        headers={"X-CSRFToken": pending.csrf},
    )
    failed(response, "invalid_json", 400)
    unchanged()


# --- the per-username limit -------------------------------------------------------------


def test_five_wrong_answers_lock_the_username(pending, phone, unchanged):
    statuses = []
    for _ in range(5):
        answer = phone.get(request_options(pending), "http://evil.example")
        statuses.append(verify(pending, answer).status_code)
    assert statuses == [400] * 5
    right = phone.get(request_options(pending), ORIGIN)
    locked = verify(pending, right)
    failed(locked, "too_many_attempts", 429)
    assert int(locked.headers["Retry-After"]) > 0
    unchanged()


def test_a_right_answer_clears_the_failures(pending, phone):
    for _ in range(4):
        failed(verify(pending, phone.get(request_options(pending), "http://evil.example")))
    assert verify(pending, phone.get(request_options(pending), ORIGIN)).status_code == 200
    pending.post("/logout")
    login(pending)
    for _ in range(4):
        failed(verify(pending, phone.get(request_options(pending), "http://evil.example")))
    assert verify(pending, phone.get(request_options(pending), ORIGIN)).status_code == 200


# --- managing passkeys ------------------------------------------------------------------


def patch(api, path, body):
    return api.client.patch(f"/kapu/api{path}", json=body, headers={"X-CSRFToken": api.csrf})


def delete(api, path):
    return api.client.delete(f"/kapu/api{path}", headers={"X-CSRFToken": api.csrf})


def test_a_passkey_can_be_renamed(logged_in, phone, state):
    factor = enrol(logged_in, phone).get_json()["factor"]
    response = patch(logged_in, f"/factors/{factor['id']}", {"label": "Munkahelyi telefon"})
    assert response.status_code == 200
    assert response.get_json()["label"] == "Munkahelyi telefon"
    listed = logged_in.client.get("/kapu/api/factors").get_json()["factors"]
    assert [(f["method"], f["label"]) for f in listed] == [("webauthn", "Munkahelyi telefon")]
    assert passkey_of(state, phone).public_key == phone.cose_public_key()


@pytest.mark.parametrize("label", ["", "   ", "x" * 65, 7])
def test_a_passkey_keeps_its_name_when_the_new_one_is_unusable(logged_in, phone, state, label):
    factor = enrol(logged_in, phone).get_json()["factor"]
    response = patch(logged_in, f"/factors/{factor['id']}", {"label": label})
    failed(response, "invalid_input", 422)
    assert passkey_of(state, phone).label == "Telefon"


def test_removing_a_passkey_needs_a_fresh_plusz(logged_in, phone, state, clock):
    factor = enrol(logged_in, phone).get_json()["factor"]
    clock.advance(minutes=11)
    failed(delete(logged_in, f"/factors/{factor['id']}"), "plusz_required", 401)
    assert len(passkeys(state)) == 1
    verify(logged_in, phone.get(request_options(logged_in), ORIGIN))
    assert delete(logged_in, f"/factors/{factor['id']}").status_code == 204
    assert passkeys(state) == []
    assert logged_in.session()["enrolled_methods"] == []
