"""The JSON API of API.md, flow by flow, through the test client."""

from __future__ import annotations

import pytest
from conftest import STRONG_PASSWORD, code_in, register
from sqlalchemy import select

from flask_kapu.store import Account, AuditEvent, OneTimeCode

PERSON = {"family_name": "Kiss", "given_name": "Anna", "birth_date": "1988-04-12"}


def accounts(state):
    with state.deps.store.transaction() as repo:
        return {a.username: a for a in repo.session.scalars(select(Account))}


def events(state):
    with state.deps.store.transaction() as repo:
        return [e.event for e in repo.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


# --- session -------------------------------------------------------------------------


def test_anonymous_session_has_every_field_and_a_csrf_token(api):
    body = api.session()
    assert body == {
        "authenticated": False,
        "username": None,
        "level": "none",
        "acr": None,
        "methods_used": [],
        "auth_time": None,
        "plusz_time": None,
        "enrolled_methods": [],
        "pending": None,
        "last_login": None,
        "failed_since": None,
        "csrf_token": body["csrf_token"],
    }
    assert body["csrf_token"]


def test_a_post_without_the_csrf_header_is_refused(client):
    response = client.post("/kapu/api/login", json={"username": "KisAnna", "password": "x"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "csrf_failed"


# --- self-service registration -----------------------------------------------------------


def test_self_service_registration_creates_a_pending_account_and_mails_the_code(
    api, state, mailbox
):
    response = api.post(
        "/register",
        {"username": "KisAnna", "email": "anna@example.hu", "accept_terms": True, "person": PERSON},
    )
    assert response.status_code == 201
    assert response.get_json() == {"status": "pending_activation", "mail_sent": True}
    account = accounts(state)["KisAnna"]
    assert account.status == "pending"
    assert account.registered_via == "self"
    assert account.person == PERSON
    assert account.password_hash is None
    assert code_in(mailbox.wait_for("anna@example.hu")[0])
    assert events(state) == ["registered"]


@pytest.mark.parametrize(
    ("username", "problem"),
    [("Anna", "distinct"), ("Kis Anna", "alphabet"), ("Kis", "length"), ("KisAnna1", "alphabet")],
)
def test_registration_refuses_usernames_against_the_rules(api, state, username, problem):
    response = api.post(
        "/register",
        {"username": username, "email": "anna@example.hu", "accept_terms": True, "person": PERSON},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid_input"
    assert body["errors"]["username"]
    assert accounts(state) == {}


@pytest.mark.parametrize("variant", ["KisAnna", "kisanna", "KISANNA", "Kisanna"])
def test_a_case_only_variant_of_a_taken_username_is_taken(api, app, variant):
    register(app, "KisAnna")
    response = api.post(
        "/register",
        {"username": variant, "email": "other@example.hu", "accept_terms": True, "person": PERSON},
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "username_taken"


def test_an_nfc_equal_spelling_of_a_taken_username_is_taken(api, app):
    register(app, "Bálint")
    decomposed = "Ba\u0301lint"
    response = api.post(
        "/register",
        {"username": decomposed, "email": "b@example.hu", "accept_terms": True, "person": PERSON},
    )
    assert response.status_code == 409


def test_registration_needs_the_terms_accepted(api, state):
    response = api.post(
        "/register",
        {
            "username": "KisAnna",
            "email": "anna@example.hu",
            "accept_terms": False,
            "person": PERSON,
        },
    )
    assert response.status_code == 422
    assert "accept_terms" in response.get_json()["errors"]
    assert accounts(state) == {}


@pytest.mark.parametrize("missing", ["family_name", "given_name", "birth_date"])
def test_self_service_registration_needs_name_and_birth_date(api, state, missing):
    person = {k: v for k, v in PERSON.items() if k != missing}
    response = api.post(
        "/register",
        {"username": "KisAnna", "email": "anna@example.hu", "accept_terms": True, "person": person},
    )
    assert response.status_code == 422
    assert f"person.{missing}" in response.get_json()["errors"]


def test_an_invalid_email_address_is_refused(api):
    response = api.post(
        "/register",
        {"username": "KisAnna", "email": "anna@@example", "accept_terms": True, "person": PERSON},
    )
    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]


# --- e-ID registration -----------------------------------------------------------------


def test_eid_check_returns_the_registry_person_and_a_token(api):
    response = api.post(
        "/register/eid/check", {"document_id": "123456ab", "registration_code": "k7p2m9q4t1x"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["person"]["family_name"] == "Kiss"
    assert body["person"]["birth_place"] == "Szeged"
    assert body["token"]


def test_eid_registration_stores_the_registry_data_unchanged(api, state, mailbox):
    check = api.post(
        "/register/eid/check", {"document_id": "654321CD", "registration_code": "R4N8W2Z6H3V"}
    ).get_json()
    response = api.post(
        "/register/eid",
        {
            "token": check["token"],
            "username": "SzaboBence",
            "email": "bence@example.hu",
            "accept_terms": True,
            "person": {"family_name": "Forged"},
        },
    )
    assert response.status_code == 201, response.get_json()
    account = accounts(state)["SzaboBence"]
    assert account.registered_via == "eid"
    assert account.person == check["person"]
    assert mailbox.wait_for("bence@example.hu")


def test_a_tampered_eid_token_is_refused(api, state):
    check = api.post(
        "/register/eid/check", {"document_id": "123456AB", "registration_code": "K7P2M9Q4T1X"}
    ).get_json()
    response = api.post(
        "/register/eid",
        {
            "token": check["token"][:-2] + "xx",
            "username": "KisAnna",
            "email": "a@example.hu",
            "accept_terms": True,
        },
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "token_invalid"
    assert accounts(state) == {}


def test_an_unknown_card_is_not_recognised(api):
    response = api.post(
        "/register/eid/check", {"document_id": "123456AB", "registration_code": "AAAAAAAAAAA"}
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "eid_not_recognised"


@pytest.mark.parametrize(
    ("document_id", "registration_code", "field"),
    [("12345AB", "K7P2M9Q4T1X", "document_id"), ("123456AB", "K7P2M9Q4T1", "registration_code")],
)
def test_malformed_card_data_is_invalid_input(api, document_id, registration_code, field):
    response = api.post(
        "/register/eid/check", {"document_id": document_id, "registration_code": registration_code}
    )
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_eid_checks_of_one_document_are_limited(api):
    for _ in range(5):
        api.post(
            "/register/eid/check", {"document_id": "123456AB", "registration_code": "AAAAAAAAAAA"}
        )
    response = api.post(
        "/register/eid/check", {"document_id": "123456AB", "registration_code": "K7P2M9Q4T1X"}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


# --- activation -------------------------------------------------------------------------


def test_activation_sets_the_password_and_logs_in_at_ugyfelkapu(api, registered, state):
    username, code = registered
    response = api.post(
        "/activate",
        {
            "username": username,
            "code": code.lower().replace("-", " "),
            "new_password": STRONG_PASSWORD,
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["authenticated"] is True
    assert body["username"] == "KisAnna"
    assert body["level"] == "ugyfelkapu"
    assert body["acr"] == "urn:eksz.gov.hu:1.0:azonositas:kau:1:uk:uidpwd"
    assert body["methods_used"] == ["password"]
    account = accounts(state)["KisAnna"]
    assert account.status == "active"
    assert account.password_hash.startswith("$argon2id$")
    assert "activated" in events(state)


def test_an_activation_code_works_only_once(api, registered):
    username, code = registered
    api.post("/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD})
    api.post("/logout")
    response = api.post(
        "/activate", {"username": username, "code": code, "new_password": "Masik-Jelszo-77"}
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_code"


def test_an_activation_code_expires_after_five_days(api, registered, clock):
    username, code = registered
    clock.advance(days=5, seconds=1)
    response = api.post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "code_expired"


def test_an_activation_code_still_works_just_before_five_days(api, registered, clock):
    username, code = registered
    clock.advance(days=4, hours=23, minutes=59)
    response = api.post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 200


def test_the_activation_code_never_works_as_a_password(api, registered):
    username, code = registered
    response = api.post("/login", {"username": username, "password": code})
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"


def test_a_wrong_code_and_an_unknown_user_answer_the_same(api, registered):
    username, _code = registered
    wrong = api.post(
        "/activate", {"username": username, "code": "AAAAA-AAAAA", "new_password": STRONG_PASSWORD}
    )
    unknown = api.post(
        "/activate",
        {"username": "NincsIlyen", "code": "AAAAA-AAAAA", "new_password": STRONG_PASSWORD},
    )
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.get_json() == unknown.get_json()


def test_a_weak_new_password_is_refused_without_using_the_code(api, registered):
    username, code = registered
    response = api.post(
        "/activate", {"username": username, "code": code, "new_password": "kisanna1"}
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "weak_password"
    assert body["errors"]["new_password"]
    retry = api.post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )
    assert retry.status_code == 200


def test_a_newer_code_replaces_the_older_one(api, app, registered, mailbox):
    username, old = registered
    api.post("/password/forgot", {"username": username, "email": "anna@example.hu"})
    new = code_in(mailbox.wait_for("anna@example.hu", 2)[1])
    stale = api.post(
        "/activate", {"username": username, "code": old, "new_password": STRONG_PASSWORD}
    )
    assert stale.get_json()["code"] == "invalid_code"
    fresh = api.post(
        "/activate", {"username": username, "code": new, "new_password": STRONG_PASSWORD}
    )
    assert fresh.status_code == 200


def test_wrong_codes_lock_code_entry_for_the_username(api, registered):
    username, code = registered
    for _ in range(5):
        response = api.post(
            "/activate",
            {"username": username, "code": "AAAAAAAAAA", "new_password": STRONG_PASSWORD},
        )
        assert response.status_code == 400
    locked = api.post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1


def test_codes_are_stored_only_as_keyed_hashes(registered, state):
    _username, code = registered
    with state.deps.store.transaction() as repo:
        stored = repo.session.scalars(select(OneTimeCode)).one()
    assert code.replace("-", "") not in stored.code_hash
    assert len(stored.code_hash) == 64


# --- login and logout -------------------------------------------------------------------


def test_login_with_the_exact_username_and_password(api, active):
    response = api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert response.get_json()["level"] == "ugyfelkapu"
    assert api.session()["username"] == "KisAnna"


@pytest.mark.parametrize("variant", ["kisanna", "Kisanna", "KISANNA", " KisAnna", "KisAnna "])
def test_login_compares_the_username_exactly(api, active, variant):
    response = api.post("/login", {"username": variant, "password": STRONG_PASSWORD})
    assert response.status_code == 401


def test_unknown_user_wrong_password_and_pending_account_answer_alike(api, app, active):
    register(app, "NagyBela", "bela@example.hu")
    answers = [
        api.post("/login", {"username": "NincsIlyen", "password": STRONG_PASSWORD}),
        api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"}),
        api.post("/login", {"username": "NagyBela", "password": STRONG_PASSWORD}),
    ]
    assert {r.status_code for r in answers} == {401}
    assert all(r.get_json() == answers[0].get_json() for r in answers)
    assert answers[0].get_json()["code"] == "invalid_credentials"


def test_five_failures_lock_and_even_the_right_password_is_refused(api, active, clock, state):
    for _ in range(5):
        assert (
            api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"}).status_code
            == 401
        )
    locked = api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    assert locked.status_code == 429
    assert locked.get_json()["code"] == "too_many_attempts"
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "locked" in events(state)
    clock.advance(minutes=1, seconds=1)
    assert api.post("/login", {"username": active, "password": STRONG_PASSWORD}).status_code == 200


def test_each_further_lock_lasts_twice_as_long(api, active, clock):
    for lock in range(2):
        for _ in range(5):
            api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"})
        refused = api.post("/login", {"username": active, "password": STRONG_PASSWORD})
        assert int(refused.headers["Retry-After"]) == 60 * 2**lock
        clock.advance(seconds=60 * 2**lock + 1)


def test_unknown_usernames_lock_the_same_way(api):
    for _ in range(5):
        assert api.post("/login", {"username": "NincsIlyen", "password": "x"}).status_code == 401
    assert api.post("/login", {"username": "NincsIlyen", "password": "x"}).status_code == 429


def test_a_success_resets_the_failure_count(api, active):
    for _ in range(4):
        api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"})
    assert api.post("/login", {"username": active, "password": STRONG_PASSWORD}).status_code == 200
    api.post("/logout")
    for _ in range(4):
        assert (
            api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"}).status_code
            == 401
        )


def test_login_rotates_the_session(api, client, active):
    before = api.session()["csrf_token"]
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    after = api.session()["csrf_token"]
    assert before != after


def test_logout_ends_the_session(api, active):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    response = api.post("/logout")
    assert response.status_code == 204
    assert api.session()["authenticated"] is False


def test_login_rehashes_when_the_argon2_parameters_change(api, active, state, app):
    with state.deps.store.transaction() as repo:
        before = repo.account_by_username(active).password_hash
    from flask_kapu.passwords import PasswordHashing

    object.__setattr__(
        state.deps, "hashing", PasswordHashing(time_cost=2, memory_cost=16, parallelism=1)
    )
    assert api.post("/login", {"username": active, "password": STRONG_PASSWORD}).status_code == 200
    with state.deps.store.transaction() as repo:
        after = repo.account_by_username(active).password_hash
    assert before != after
    assert "t=2" in after


def test_successful_and_failed_logins_are_audited(api, active, state):
    api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"})
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    assert events(state)[-2:] == ["login_failed", "login"]


# --- forgot, reset, change ------------------------------------------------------------


def test_forgot_password_answers_the_same_whatever_the_input(api, active, mailbox):
    known = api.post("/password/forgot", {"username": active, "email": "anna@example.hu"})
    wrong_mail = api.post("/password/forgot", {"username": active, "email": "x@example.hu"})
    unknown = api.post("/password/forgot", {"username": "NincsIlyen", "email": "anna@example.hu"})
    assert [r.status_code for r in (known, wrong_mail, unknown)] == [202, 202, 202]
    assert known.get_json() == wrong_mail.get_json() == unknown.get_json() == {}
    assert len(mailbox.wait_for("anna@example.hu")) == 1


def test_reset_sets_a_new_password_and_the_old_one_stops_working(api, active, mailbox):
    api.post("/password/forgot", {"username": active, "email": "ANNA@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    response = api.post(
        "/password/reset", {"username": active, "code": code, "new_password": "Uj-Jelszo-2026"}
    )
    assert response.status_code == 200
    assert response.get_json()["level"] == "ugyfelkapu"
    api.post("/logout")
    assert api.post("/login", {"username": active, "password": STRONG_PASSWORD}).status_code == 401
    assert api.post("/login", {"username": active, "password": "Uj-Jelszo-2026"}).status_code == 200


def test_a_reset_code_activates_a_never_activated_account(api, registered, mailbox, state):
    username, _old = registered
    api.post("/password/forgot", {"username": username, "email": "anna@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu", 2)[1])
    response = api.post(
        "/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 200
    assert accounts(state)[username].status == "active"


def test_change_password_needs_a_login(api):
    response = api.post("/password/change", {"current_password": "a", "new_password": "b"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"


def test_change_password_checks_the_current_password(api, active):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    response = api.post(
        "/password/change", {"current_password": "Rossz-1-Jelszo", "new_password": "Uj-Jelszo-2026"}
    )
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"


def test_change_password_ends_other_sessions_but_keeps_this_one(app, api, active, mailbox):
    from conftest import Api

    other = Api(app.test_client())
    other.post("/login", {"username": active, "password": STRONG_PASSWORD})
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    response = api.post(
        "/password/change", {"current_password": STRONG_PASSWORD, "new_password": "Uj-Jelszo-2026"}
    )
    assert response.status_code == 200
    assert api.session()["authenticated"] is True
    assert other.session()["authenticated"] is False
    assert mailbox.wait_for("anna@example.hu")


def test_change_password_enforces_the_policy(api, active):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    response = api.post(
        "/password/change", {"current_password": STRONG_PASSWORD, "new_password": "short"}
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "weak_password"


def test_a_register_flood_from_one_address_is_rate_limited(api):
    statuses = [
        api.post(
            "/register",
            {
                "username": "KisAnna",
                "email": "a@example.hu",
                "accept_terms": True,
                "person": PERSON,
            },
        ).status_code
        for _ in range(11)
    ]
    assert statuses[-1] == 429
