"""flask_kapu.factors.webauthn: options, and verification of what a browser answers.

No Flask here: the functions are fed a software authenticator's answers. Every
answer that does not verify, however it is broken, raises ``VerificationFailed``
(a ``CloneSuspected`` for a counter that did not grow) and nothing else.
"""

from __future__ import annotations

import copy
import hashlib
import json
import struct
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from softauthn import FLAG_AT, FLAG_UP, FLAG_UV, SoftAuthenticator, b64url, unb64url

from flask_kapu.factors.webauthn import (
    CloneSuspected,
    NewCredential,
    Relying,
    VerificationFailed,
    authentication_options,
    credential_id_of,
    registration_options,
    verify_authentication,
    verify_registration,
)
from flask_kapu.store import Factor

ORIGIN = "https://ugyfelkapu.example.hu"
RELYING = Relying(rp_id="ugyfelkapu.example.hu", rp_name="Ügyfélkapu", origins=(ORIGIN,))
CHALLENGE = hashlib.sha256(b"the challenge the server issued").digest()
USER_ID = hashlib.sha256(b"an opaque user handle").digest()


def stored(new: NewCredential, **changes: Any) -> Factor:
    """The factor the store would keep for a verified registration."""
    values: dict[str, Any] = {
        "method": "webauthn",
        "label": "Telefon",
        "credential_id": new.credential_id,
        "public_key": new.public_key,
        "sign_count": new.sign_count,
        "transports": new.transports,
        "aaguid": new.aaguid,
        **changes,
    }
    return Factor(**values)


def creation_options(existing: list[Factor] | None = None) -> dict[str, Any]:
    options = registration_options(
        RELYING,
        user_id=USER_ID,
        username="KisAnna",
        display_name="KisAnna",
        existing=existing or [],
        challenge=CHALLENGE,
    )
    return dict(json.loads(options))


def request_options(allowed: list[Factor]) -> dict[str, Any]:
    return dict(json.loads(authentication_options(RELYING, allowed=allowed, challenge=CHALLENGE)))


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator()


@pytest.fixture
def passkey(authenticator: SoftAuthenticator) -> Factor:
    """The authenticator's credential, registered and stored."""
    answer = authenticator.create(creation_options(), ORIGIN)
    return stored(verify_registration(RELYING, answer, challenge=CHALLENGE))


# --- options ----------------------------------------------------------------------------


def test_creation_options_exclude_the_accounts_existing_passkeys(authenticator, passkey):
    other = stored(
        NewCredential(b"\x01" * 16, passkey.public_key or b"", 0, "", ["usb", "nfc", "warp"])
    )
    options = creation_options([passkey, other])
    assert options["excludeCredentials"] == [
        {"id": authenticator.id, "type": "public-key", "transports": ["internal"]},
        {"id": b64url(b"\x01" * 16), "type": "public-key", "transports": ["usb", "nfc"]},
    ]


def test_creation_options_require_user_verification_and_prefer_a_resident_key():
    selection = creation_options()["authenticatorSelection"]
    assert selection["userVerification"] == "required"
    assert selection["residentKey"] == "preferred"
    assert selection["requireResidentKey"] is False


def test_creation_options_name_the_relying_party_the_challenge_and_an_opaque_user():
    options = creation_options()
    assert options["rp"] == {"id": "ugyfelkapu.example.hu", "name": "Ügyfélkapu"}
    assert options["challenge"] == b64url(CHALLENGE)
    assert options["user"] == {"id": b64url(USER_ID), "name": "KisAnna", "displayName": "KisAnna"}
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    assert options["excludeCredentials"] == []


def test_request_options_allow_only_the_given_passkeys_and_require_user_verification(
    authenticator, passkey
):
    options = request_options([passkey])
    assert options["rpId"] == "ugyfelkapu.example.hu"
    assert options["challenge"] == b64url(CHALLENGE)
    assert options["userVerification"] == "required"
    assert options["allowCredentials"] == [
        {"id": authenticator.id, "type": "public-key", "transports": ["internal"]}
    ]


# --- verification that succeeds ---------------------------------------------------------


def test_a_new_passkey_verifies_and_gives_what_to_store(authenticator):
    answer = authenticator.create(creation_options(), ORIGIN)
    new = verify_registration(RELYING, answer, challenge=CHALLENGE)
    assert new.credential_id == authenticator.credential_id
    assert new.public_key == authenticator.cose_public_key()
    assert new.sign_count == 0
    assert new.aaguid == "00000000-0000-0000-0000-000000000000"
    assert new.transports == ["internal"]


def test_any_configured_origin_is_accepted(authenticator):
    relying = Relying(RELYING.rp_id, RELYING.rp_name, ("https://masik.example.hu", ORIGIN))
    answer = authenticator.create(creation_options(), ORIGIN)
    assert verify_registration(relying, answer, challenge=CHALLENGE).sign_count == 0


def test_members_a_browser_may_add_are_ignored(authenticator):
    answer = authenticator.create(creation_options(), ORIGIN)
    answer["clientExtensionResults"] = {"credProps": {"rk": True}}
    answer["response"]["publicKeyAlgorithm"] = -7
    assert verify_registration(RELYING, answer, challenge=CHALLENGE).sign_count == 0


def test_a_credential_id_of_up_to_1023_bytes_is_accepted():
    authenticator = SoftAuthenticator(credential_id=b"\x07" * 1023)
    answer = authenticator.create(creation_options(), ORIGIN)
    assert verify_registration(RELYING, answer, challenge=CHALLENGE).credential_id == b"\x07" * 1023


def test_a_credential_id_over_1023_bytes_is_refused():
    authenticator = SoftAuthenticator(credential_id=b"\x07" * 1024)
    answer = authenticator.create(creation_options(), ORIGIN)
    with pytest.raises(VerificationFailed):
        verify_registration(RELYING, answer, challenge=CHALLENGE)


def test_each_assertion_verifies_and_gives_the_new_sign_count(authenticator, passkey):
    first = authenticator.get(request_options([passkey]), ORIGIN)
    assert verify_authentication(RELYING, first, challenge=CHALLENGE, factor=passkey) == 1
    passkey.sign_count = 1
    second = authenticator.get(request_options([passkey]), ORIGIN)
    assert verify_authentication(RELYING, second, challenge=CHALLENGE, factor=passkey) == 2


def test_an_authenticator_without_a_counter_is_accepted(authenticator, passkey):
    authenticator.counter_step = 0
    answer = authenticator.get(request_options([passkey]), ORIGIN)
    assert verify_authentication(RELYING, answer, challenge=CHALLENGE, factor=passkey) == 0


# --- forged answers ---------------------------------------------------------------------

FORGERIES: dict[str, dict[str, Any]] = {
    "wrong origin": {"origin": "https://ugyfelkapu.example.hu.evil.example"},
    "http instead of https": {"origin": "http://ugyfelkapu.example.hu"},
    "wrong RP ID": {"rp_id": "evil.example"},
    "parent domain as RP ID": {"rp_id": "example.hu"},
    "wrong challenge": {"challenge": b64url(b"\x00" * 32)},
    "no user verification": {"flags": FLAG_UP},
    "no user presence": {"flags": FLAG_UV},
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_registration_is_refused(authenticator, forgery):
    forgery = dict(forgery)
    origin = forgery.pop("origin", ORIGIN)
    if "flags" in forgery:
        forgery["flags"] |= FLAG_AT
    answer = authenticator.create(creation_options(), origin, **forgery)
    with pytest.raises(VerificationFailed):
        verify_registration(RELYING, answer, challenge=CHALLENGE)


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_assertion_is_refused(authenticator, passkey, forgery):
    forgery = dict(forgery)
    origin = forgery.pop("origin", ORIGIN)
    answer = authenticator.get(request_options([passkey]), origin, **forgery)
    with pytest.raises(VerificationFailed):
        verify_authentication(RELYING, answer, challenge=CHALLENGE, factor=passkey)


def test_an_assertion_of_the_wrong_ceremony_is_refused(authenticator, passkey):
    answer = authenticator.get(request_options([passkey]), ORIGIN, client_type="webauthn.create")
    with pytest.raises(VerificationFailed):
        verify_authentication(RELYING, answer, challenge=CHALLENGE, factor=passkey)


def test_a_registration_of_the_wrong_ceremony_is_refused(authenticator):
    answer = authenticator.create(creation_options(), ORIGIN, client_type="webauthn.get")
    with pytest.raises(VerificationFailed):
        verify_registration(RELYING, answer, challenge=CHALLENGE)


def test_an_assertion_signed_by_another_key_is_refused(passkey):
    impostor = SoftAuthenticator(credential_id=passkey.credential_id)
    answer = impostor.get(request_options([passkey]), ORIGIN)
    with pytest.raises(VerificationFailed):
        verify_authentication(RELYING, answer, challenge=CHALLENGE, factor=passkey)


def test_a_factor_without_a_public_key_verifies_nothing(authenticator, passkey):
    answer = authenticator.get(request_options([passkey]), ORIGIN)
    passkey.public_key = None
    with pytest.raises(VerificationFailed):
        verify_authentication(RELYING, answer, challenge=CHALLENGE, factor=passkey)


@pytest.mark.parametrize(
    ("stored_count", "next_count"),
    [(5, 5), (5, 3), (5, 0), (1, 1)],
    ids=["same", "lower", "counter stopped", "first use repeated"],
)
def test_a_counter_that_does_not_grow_is_a_suspected_clone(
    authenticator, passkey, stored_count, next_count
):
    passkey.sign_count = stored_count
    authenticator.sign_count = next_count - 1 if next_count else 0
    authenticator.counter_step = 1 if next_count else 0
    answer = authenticator.get(request_options([passkey]), ORIGIN)
    with pytest.raises(CloneSuspected):
        verify_authentication(RELYING, answer, challenge=CHALLENGE, factor=passkey)
    assert issubclass(CloneSuspected, VerificationFailed)


# --- malformed answers ------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


def truncated(text: str) -> str:
    """Cut base64url text to a length no encoding has (4k + 1 characters)."""
    return text[: len(text) // 2 // 4 * 4 + 1]


def set_response(key: str, value: Any) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        credential["response"][key] = value
        return credential

    return mutate


def drop_response(key: str) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        del credential["response"][key]
        return credential

    return mutate


def edit_response(key: str, edit: Callable[[str], Any]) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        credential["response"][key] = edit(credential["response"][key])
        return credential

    return mutate


def set_top(key: str, value: Any) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        credential[key] = value
        return credential

    return mutate


def drop_top(key: str) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        del credential[key]
        return credential

    return mutate


def client_data(**fields: Any) -> str:
    data = {"type": "webauthn.create", "challenge": b64url(CHALLENGE), "origin": ORIGIN}
    return b64url(json.dumps({**data, **fields}).encode())


def auth_data_of(credential: dict[str, Any]) -> bytes:
    return bytes(cbor2.loads(unb64url(credential["response"]["attestationObject"]))["authData"])


def with_auth_data(edit: Callable[[bytes], Any]) -> Mutation:
    def mutate(credential: dict[str, Any]) -> dict[str, Any]:
        attestation = {"fmt": "none", "attStmt": {}, "authData": edit(auth_data_of(credential))}
        credential["response"]["attestationObject"] = b64url(cbor2.dumps(attestation))
        return credential

    return mutate


HUGE = 700_000  # characters: the whole request stays under 1 MiB

COMMON: dict[str, Mutation] = {
    "a string": lambda c: json.dumps(c),
    "a list": lambda c: [c],
    "null": lambda c: None,
    "a number": lambda c: 42,
    "an empty object": lambda c: {},
    "no id": drop_top("id"),
    "no rawId": drop_top("rawId"),
    "id not a string": set_top("id", 7),
    "id unlike rawId": set_top("id", b64url(b"another id")),
    "rawId truncated": set_top("rawId", "AAAAA"),
    "rawId not ASCII": set_top("rawId", "kulcsazonosító"),
    "type missing": drop_top("type"),
    "type not public-key": set_top("type", "password"),
    "unknown attachment": set_top("authenticatorAttachment", "pocket"),
    "no response": drop_top("response"),
    "response a string": set_top("response", "response"),
    "response a list": set_top("response", []),
    "no clientDataJSON": drop_response("clientDataJSON"),
    "clientDataJSON null": set_response("clientDataJSON", None),
    "clientDataJSON an object": set_response("clientDataJSON", {"type": "webauthn.create"}),
    "clientDataJSON truncated": edit_response("clientDataJSON", truncated),
    "clientDataJSON cut short": edit_response("clientDataJSON", lambda v: v[:40]),
    "clientDataJSON garbage": set_response("clientDataJSON", "%%% ez nem base64 %%%"),
    "clientDataJSON not ASCII": set_response("clientDataJSON", "árvíztűrő tükörfúrógép"),
    "clientDataJSON not JSON": set_response("clientDataJSON", b64url(b"\xff\xfe\x00")),
    "clientDataJSON a JSON list": set_response("clientDataJSON", b64url(b"[]")),
    "clientDataJSON without challenge": set_response(
        "clientDataJSON", b64url(json.dumps({"type": "webauthn.create", "origin": ORIGIN}).encode())
    ),
    "challenge a number": set_response("clientDataJSON", client_data(challenge=7)),
    "challenge not base64": set_response("clientDataJSON", client_data(challenge="§§§")),
    "origin an object": set_response("clientDataJSON", client_data(origin={"o": ORIGIN})),
    "origin a list": set_response("clientDataJSON", client_data(origin=[ORIGIN])),
    "type a list": set_response("clientDataJSON", client_data(type=["webauthn.create"])),
    "huge clientDataJSON": set_response("clientDataJSON", "A" * HUGE),
}

REGISTRATION_ONLY: dict[str, Mutation] = {
    "no attestationObject": drop_response("attestationObject"),
    "attestationObject a number": set_response("attestationObject", 12),
    "attestationObject truncated": edit_response("attestationObject", truncated),
    "attestationObject cut short": edit_response("attestationObject", lambda v: v[:60]),
    "attestationObject garbage": set_response("attestationObject", "!!garbage!!"),
    "attestationObject not CBOR": set_response("attestationObject", b64url(b"\xff\xff\xff")),
    "attestationObject a CBOR list": set_response("attestationObject", b64url(cbor2.dumps([1]))),
    "attestationObject without authData": set_response(
        "attestationObject", b64url(cbor2.dumps({"fmt": "none", "attStmt": {}}))
    ),
    "attestationObject with a statement": edit_response(
        "attestationObject",
        lambda v: b64url(cbor2.dumps({**cbor2.loads(unb64url(v)), "attStmt": {"sig": b"x"}})),
    ),
    "authData too short": with_auth_data(lambda d: d[:36]),
    "authData cut in the credential": with_auth_data(lambda d: d[:60]),
    "authData cut in the public key": with_auth_data(lambda d: d[:-5]),
    "authData with trailing bytes": with_auth_data(lambda d: d + b"\x00"),
    "authData a text string": with_auth_data(lambda d: "authData"),
    "authData without attested data": with_auth_data(lambda d: d[:32] + bytes([0x05]) + d[33:37]),
    "huge attestationObject": set_response("attestationObject", "A" * HUGE),
}

ASSERTION_ONLY: dict[str, Mutation] = {
    "no authenticatorData": drop_response("authenticatorData"),
    "authenticatorData truncated": edit_response("authenticatorData", truncated),
    "authenticatorData of 36 bytes": edit_response(
        "authenticatorData", lambda v: b64url(unb64url(v)[:36])
    ),
    "authenticatorData with trailing bytes": edit_response(
        "authenticatorData", lambda v: b64url(unb64url(v) + b"\x00")
    ),
    "authenticatorData garbage": set_response("authenticatorData", "@@@@"),
    "authenticatorData a list": set_response("authenticatorData", [1, 2, 3]),
    "no signature": drop_response("signature"),
    "signature empty": set_response("signature", ""),
    "signature truncated": edit_response("signature", truncated),
    "signature cut short": edit_response("signature", lambda v: v[:20]),
    "signature garbage": set_response("signature", b64url(b"\x30\x00" * 40)),
    "signature not ASCII": set_response("signature", "aláírás"),
    "userHandle a number": set_response("userHandle", 7),
    "userHandle truncated": edit_response("userHandle", truncated),
    "huge authenticatorData": set_response("authenticatorData", "A" * HUGE),
    "huge signature": set_response("signature", "A" * HUGE),
}


@pytest.mark.parametrize(
    "mutate", [*COMMON.values(), *REGISTRATION_ONLY.values()], ids=[*COMMON, *REGISTRATION_ONLY]
)
def test_a_malformed_registration_fails_verification(authenticator, mutate):
    answer = mutate(copy.deepcopy(authenticator.create(creation_options(), ORIGIN)))
    with pytest.raises(VerificationFailed):
        verify_registration(RELYING, answer, challenge=CHALLENGE)


@pytest.mark.parametrize(
    "mutate", [*COMMON.values(), *ASSERTION_ONLY.values()], ids=[*COMMON, *ASSERTION_ONLY]
)
def test_a_malformed_assertion_fails_verification(authenticator, passkey, mutate):
    answer = mutate(copy.deepcopy(authenticator.get(request_options([passkey]), ORIGIN)))
    with pytest.raises(VerificationFailed):
        verify_authentication(RELYING, answer, challenge=CHALLENGE, factor=passkey)


# --- the credential public key at registration ------------------------------------------


def with_public_key(authenticator: SoftAuthenticator, cose_key: bytes) -> dict[str, Any]:
    """A registration answer whose attested credential data carries ``cose_key``."""
    answer = authenticator.create(creation_options(), ORIGIN)
    credential_id = authenticator.credential_id
    auth_data = (
        hashlib.sha256(RELYING.rp_id.encode()).digest()
        + struct.pack(">BI", FLAG_UP | FLAG_UV | FLAG_AT, 0)
        + bytes(16)
        + struct.pack(">H", len(credential_id))
        + credential_id
        + cose_key
    )
    attestation = {"fmt": "none", "attStmt": {}, "authData": auth_data}
    answer["response"]["attestationObject"] = b64url(cbor2.dumps(attestation))
    return answer


NOT_COSE_KEYS = {
    "a CBOR list": pytest.param(
        cbor2.dumps([2, -7]),
    ),
    "a CBOR text string": pytest.param(
        cbor2.dumps("ab"),
    ),
    "a map without kty": cbor2.dumps({3: -7, -1: 1}),
    "a map without alg": cbor2.dumps({1: 2, -1: 1}),
    "an EC2 key without y": cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32}),
    "an unknown key type": cbor2.dumps({1: 99, 3: -7}),
    "an unsupported algorithm": cbor2.dumps({1: 2, 3: -36, -1: 1, -2: b"x" * 32, -3: b"y" * 32}),
}

UNUSABLE_KEYS = {
    "the CBOR integer 4": cbor2.dumps(4),
    "a point off the curve": cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"x" * 32, -3: b"y" * 32}),
    "an EC2 key claiming RS256": cbor2.dumps({1: 2, 3: -257, -1: 1, -2: b"x" * 32, -3: b"y" * 32}),
}


@pytest.mark.parametrize("cose_key", NOT_COSE_KEYS.values(), ids=NOT_COSE_KEYS.keys())
def test_a_public_key_that_is_no_cose_key_fails_verification(authenticator, cose_key):
    answer = with_public_key(authenticator, cose_key)
    with pytest.raises(VerificationFailed):
        verify_registration(RELYING, answer, challenge=CHALLENGE)


@pytest.mark.parametrize("cose_key", UNUSABLE_KEYS.values(), ids=UNUSABLE_KEYS.keys())
def test_a_public_key_no_signature_could_verify_against_is_refused(authenticator, cose_key):
    answer = with_public_key(authenticator, cose_key)
    with pytest.raises(VerificationFailed):
        verify_registration(RELYING, answer, challenge=CHALLENGE)


def test_the_softauthn_key_itself_is_a_usable_cose_key(authenticator):
    answer = with_public_key(authenticator, authenticator.cose_public_key())
    assert verify_registration(RELYING, answer, challenge=CHALLENGE).public_key == (
        authenticator.cose_public_key()
    )


# --- the credential an answer names -----------------------------------------------------


def test_the_credential_an_answer_names_is_its_raw_id(authenticator):
    answer = authenticator.create(creation_options(), ORIGIN)
    assert credential_id_of(answer) == authenticator.credential_id
    assert credential_id_of({"id": authenticator.id}) == authenticator.credential_id


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "AAAA",
        [],
        {},
        {"id": 7},
        {"rawId": None},
        {"rawId": ["AAAA"]},
        {"rawId": "é"},
        {"rawId": "AAAAA"},
        pytest.param(
            {"rawId": ""},
            id="empty rawId and no id",
        ),
    ],
)
def test_an_answer_naming_no_credential_names_none(answer):
    assert credential_id_of(answer) is None
