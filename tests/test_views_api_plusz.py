"""Ügyfélkapu+ through the JSON API: enrolment, login second step, step-up, factors."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pyotp
import pytest
from conftest import STRONG_PASSWORD, Api, code_in, plain_text
from sqlalchemy import select

from flask_kapu.store import AuditEvent, Factor, RecoveryCode


def six_digit_code(message) -> str:
    found = re.findall(r"^\s+(\d{6})\s*$", plain_text(message), re.MULTILINE)
    assert len(found) == 1
    return found[0]


def login(api, username="KisAnna", password=STRONG_PASSWORD):
    return api.post("/login", {"username": username, "password": password})


@pytest.fixture
def logged_in(api, active):
    assert login(api).status_code == 200
    return api


def enrol_totp(api, clock, password=STRONG_PASSWORD, label=None):
    started = api.post("/factors/totp", {"label": label} if label else {}).get_json()
    code = pyotp.TOTP(started["secret"]).at(clock())
    return started, api.post("/factors/totp/confirm", {"password": password, "code": code})


def enrol_email(api, mailbox):
    sent = api.post("/factors/email")
    assert sent.status_code == 202, sent.get_json()
    mail = mailbox.wait_for("anna@example.hu")[-1]
    return sent, api.post("/factors/email/confirm", {"code": six_digit_code(mail)}), mail


# --- enrolment --------------------------------------------------------------------------


def test_totp_enrolment_shows_a_key_and_a_qr_code(logged_in):
    body = logged_in.post("/factors/totp").get_json()
    assert len(body["secret"]) == 32
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert "KisAnna" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg")


def test_confirming_totp_needs_the_password_and_a_current_code(logged_in, clock):
    started = logged_in.post("/factors/totp").get_json()
    code = pyotp.TOTP(started["secret"]).at(clock())
    wrong_password = logged_in.post(
        "/factors/totp/confirm", {"password": "Rossz-1-Jelszo", "code": code}
    )
    assert wrong_password.status_code == 401
    assert wrong_password.get_json()["code"] == "invalid_credentials"
    old_code = pyotp.TOTP(started["secret"]).at(clock() - timedelta(minutes=5))
    stale = logged_in.post("/factors/totp/confirm", {"password": STRONG_PASSWORD, "code": old_code})
    assert stale.status_code == 400
    ok = logged_in.post("/factors/totp/confirm", {"password": STRONG_PASSWORD, "code": code})
    assert ok.status_code == 201


def test_the_first_factor_comes_with_ten_recovery_codes_and_raises_the_session(logged_in, clock):
    _started, response = enrol_totp(logged_in, clock, label="Telefon")
    body = response.get_json()
    assert body["factor"]["method"] == "totp"
    assert body["factor"]["label"] == "Telefon"
    assert len(body["recovery_codes"]) == 10
    assert len(set(body["recovery_codes"])) == 10
    session = logged_in.session()
    assert session["level"] == "plusz"
    assert session["acr"] == "urn:eksz.gov.hu:1.0:azonositas:kau:2:uk:totp"
    assert session["enrolled_methods"] == ["totp"]


def test_the_totp_key_is_stored_sealed(logged_in, clock, state):
    started, _ = enrol_totp(logged_in, clock)
    with state.deps.store.transaction() as repo:
        factor = repo.session.scalars(select(Factor)).one()
    assert started["secret"] not in factor.secret
    assert state.deps.plusz.totp.box.open(factor.secret) == started["secret"]


def test_recovery_codes_are_stored_hashed(logged_in, clock, state):
    _started, response = enrol_totp(logged_in, clock)
    codes = response.get_json()["recovery_codes"]
    with state.deps.store.transaction() as repo:
        stored = [r.code_hash for r in repo.session.scalars(select(RecoveryCode))]
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & set(stored)


def test_email_enrolment_confirms_a_mailed_code(logged_in, mailbox):
    sent, confirmed, mail = enrol_email(logged_in, mailbox)
    body = sent.get_json()
    assert len(body["session_hint"]) == 3
    assert body["expires_in"] == 600
    assert body["session_hint"] in plain_text(mail)
    assert confirmed.status_code == 201
    assert confirmed.get_json()["factor"]["method"] == "email"
    assert logged_in.session()["methods_used"] == ["email", "password"]


def test_a_second_factor_after_the_first_comes_without_recovery_codes(logged_in, clock, mailbox):
    enrol_totp(logged_in, clock)
    _sent, confirmed, _mail = enrol_email(logged_in, mailbox)
    assert confirmed.get_json()["recovery_codes"] == []


def test_adding_another_factor_needs_a_fresh_step_up(logged_in, clock):
    enrol_totp(logged_in, clock)
    clock.advance(minutes=11)
    response = logged_in.post("/factors/totp")
    assert response.status_code == 401
    assert response.get_json()["code"] == "plusz_required"


def test_factor_changes_are_mailed_and_audited(logged_in, clock, mailbox, state):
    enrol_totp(logged_in, clock)
    subjects = [m["Subject"] for m in mailbox.wait_for("anna@example.hu")]
    assert any("második" in s or "second factor" in s for s in subjects)
    with state.deps.store.transaction() as repo:
        events = [e.event for e in repo.session.scalars(select(AuditEvent))]
    assert "factor_added" in events


def test_a_stale_session_confirms_a_first_email_factor_only_with_the_password(
    logged_in, clock, mailbox, state
):
    logged_in.post("/factors/email")
    code = six_digit_code(mailbox.wait_for("anna@example.hu")[-1])
    clock.advance(minutes=6)

    without = logged_in.post("/factors/email/confirm", {"code": code})
    wrong = logged_in.post("/factors/email/confirm", {"code": code, "password": "Rossz-1-Jelszo"})
    right = logged_in.post("/factors/email/confirm", {"code": code, "password": STRONG_PASSWORD})

    assert (without.status_code, list(without.get_json()["errors"])) == (422, ["password"])
    assert (wrong.status_code, wrong.get_json()["code"]) == (401, "invalid_credentials")
    assert right.status_code == 201, right.get_json()
    assert len(right.get_json()["recovery_codes"]) == 10


def test_a_login_minutes_old_confirms_a_first_email_factor_without_the_password(
    logged_in, clock, mailbox
):
    clock.advance(minutes=4)
    _sent, confirmed, _mail = enrol_email(logged_in, mailbox)
    assert confirmed.status_code == 201, confirmed.get_json()


def test_new_recovery_codes_are_mailed_with_the_browser_and_address(logged_in, clock, mailbox):
    enrol_totp(logged_in, clock)
    logged_in.post(
        "/factors/recovery-codes",
        headers={"User-Agent": "Tolvaj-Bongeszo/2.0"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    mails = mailbox.wait_for("anna@example.hu", 3)
    text = plain_text(mails[-1])
    assert "Tolvaj-Bongeszo/2.0" in text
    assert "198.51.100.7" in text


def test_factors_are_listed_with_their_use(logged_in, clock):
    enrol_totp(logged_in, clock, label="Telefon")
    factors = logged_in.client.get("/kapu/api/factors").get_json()["factors"]
    assert [(f["method"], f["label"]) for f in factors] == [("totp", "Telefon")]
    assert set(factors[0]) == {"id", "method", "label", "created_at", "last_used_at"}


# --- the login second step --------------------------------------------------------------


@pytest.fixture
def with_totp(logged_in, clock, mailbox):
    started, _ = enrol_totp(logged_in, clock)
    logged_in.post("/logout")
    mailbox.wait_for("anna@example.hu")
    mailbox.clear()
    clock.advance(seconds=31)
    return pyotp.TOTP(started["secret"])


def test_an_account_with_an_authenticator_is_asked_for_it_at_login(api, with_totp):
    body = login(api).get_json()
    assert body["authenticated"] is False
    assert body["level"] == "none"
    assert body["pending"] == "second_factor"
    assert "totp" in body["methods"]


def test_a_pending_login_reaches_no_protected_view(api, app, with_totp):
    login(api)
    response = api.client.get("/kapu/api/factors")
    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"


def test_the_authenticator_code_completes_the_login(api, with_totp, clock, state):
    login(api)
    response = api.post("/plusz/totp/verify", {"code": with_totp.at(clock())})
    assert response.status_code == 200
    body = response.get_json()
    assert body["authenticated"] is True
    assert body["level"] == "plusz"
    assert body["methods_used"] == ["password", "totp"]
    with state.deps.store.transaction() as repo:
        logins = repo.session.scalars(select(AuditEvent).where(AuditEvent.event == "login")).all()
    assert [e.detail["method"] for e in logins][-1] == "totp"


def test_a_totp_code_is_accepted_only_once(app, api, with_totp, clock):
    login(api)
    code = with_totp.at(clock())
    assert api.post("/plusz/totp/verify", {"code": code}).status_code == 200
    other = Api(app.test_client())
    login(other)
    replay = other.post("/plusz/totp/verify", {"code": code})
    assert replay.status_code == 400
    assert replay.get_json()["code"] == "invalid_code"


def test_codes_one_step_either_side_are_accepted(api, with_totp, clock):
    clock.advance(minutes=2)  # away from the step used at enrolment
    login(api)
    previous = with_totp.at(clock() - timedelta(seconds=30))
    following = with_totp.at(clock() + timedelta(seconds=30))
    assert api.post("/plusz/totp/verify", {"code": previous}).status_code == 200
    api.post("/logout")
    login(api)  # after the previous step only a later one (RFC 6238 §5.2)
    assert api.post("/plusz/totp/verify", {"code": following}).status_code == 200


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "١٢٣٤٥٦", ""])
def test_malformed_codes_are_invalid(api, with_totp, code):
    login(api)
    response = api.post("/plusz/totp/verify", {"code": code})
    assert response.status_code in {400, 422}


def test_guessing_totp_codes_stops_at_the_limit(api, with_totp, clock, mailbox):
    login(api)
    statuses = [api.post("/plusz/totp/verify", {"code": "000000"}).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    right = api.post("/plusz/totp/verify", {"code": with_totp.at(clock())})
    assert right.status_code == 429
    assert any("Ügyfélkapu+" in m["Subject"] for m in mailbox.wait_for("anna@example.hu"))


def test_a_password_reset_does_not_skip_the_second_factor(api, with_totp, mailbox):
    api.post("/password/forgot", {"username": "KisAnna", "email": "anna@example.hu"})
    code = code_in(mailbox.wait_for("anna@example.hu")[-1])
    body = api.post(
        "/password/reset", {"username": "KisAnna", "code": code, "new_password": "Uj-Jelszo-2026"}
    ).get_json()
    assert body["pending"] == "second_factor"
    assert body["authenticated"] is False


def test_a_recovery_code_completes_the_login_once_and_is_mailed(app, api, active, clock, mailbox):
    login(api)
    _started, enrolled = enrol_totp(api, clock)
    recovery = enrolled.get_json()["recovery_codes"][0]
    api.post("/logout")
    login(api)
    assert api.post("/plusz/recovery/verify", {"code": recovery.lower()}).status_code == 200
    assert api.session()["methods_used"] == ["password", "recovery"]
    api.post("/logout")
    login(api)
    assert api.post("/plusz/recovery/verify", {"code": recovery}).status_code == 400
    assert any(
        "recovery" in m["Subject"].lower()
        or "törlő" in m["Subject"].lower()
        or "helyreáll" in m["Subject"].lower()
        for m in mailbox.wait_for("anna@example.hu", 3)
    )


# --- e-mail step-up -------------------------------------------------------------------


@pytest.fixture
def with_email(logged_in, mailbox, clock):
    enrol_email(logged_in, mailbox)
    logged_in.post("/logout")
    mailbox.clear()
    clock.advance(minutes=2)
    assert login(logged_in).get_json()["level"] == "ugyfelkapu"  # e-mail alone asks at need
    return logged_in


def test_email_step_up_mails_a_code_with_the_session_hint(with_email, mailbox):
    sent = with_email.post("/plusz/email").get_json()
    mail = mailbox.wait_for("anna@example.hu")[0]
    assert sent["session_hint"] in plain_text(mail)
    response = with_email.post("/plusz/email/verify", {"code": six_digit_code(mail)})
    assert response.status_code == 200
    assert response.get_json()["acr"] == "urn:eksz.gov.hu:1.0:azonositas:kau:2:uk:email"


def test_email_codes_expire(with_email, mailbox, clock):
    with_email.post("/plusz/email")
    code = six_digit_code(mailbox.wait_for("anna@example.hu")[0])
    clock.advance(minutes=10, seconds=1)
    response = with_email.post("/plusz/email/verify", {"code": code})
    assert response.get_json()["code"] == "code_expired"


def test_a_new_email_code_replaces_the_old_and_resend_is_throttled(with_email, mailbox, clock):
    with_email.post("/plusz/email")
    too_soon = with_email.post("/plusz/email")
    assert too_soon.status_code == 429
    assert int(too_soon.headers["Retry-After"]) <= 60
    clock.advance(seconds=61)
    with_email.post("/plusz/email")
    first, second = (six_digit_code(m) for m in mailbox.wait_for("anna@example.hu", 2))
    if first != second:
        assert with_email.post("/plusz/email/verify", {"code": first}).status_code == 400
    assert with_email.post("/plusz/email/verify", {"code": second}).status_code == 200


@pytest.mark.parametrize("app_config", [{"KAPU_MAX_FAILED_ATTEMPTS": 20}], indirect=True)
def test_an_email_code_dies_after_five_wrong_guesses(with_email, mailbox):
    with_email.post("/plusz/email")
    code = six_digit_code(mailbox.wait_for("anna@example.hu")[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert with_email.post("/plusz/email/verify", {"code": wrong}).status_code == 400
    assert with_email.post("/plusz/email/verify", {"code": code}).status_code == 400


def test_email_step_up_needs_an_enrolled_address(logged_in):
    response = logged_in.post("/plusz/email")
    assert response.status_code == 403
    assert response.get_json()["code"] == "enrollment_required"


def test_twenty_concurrent_verifications_of_one_email_code_succeed_once(app, with_email, mailbox):
    with_email.post("/plusz/email")
    code = six_digit_code(mailbox.wait_for("anna@example.hu")[0])
    cookie = with_email.client.get_cookie("session").value
    csrf = with_email.csrf
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def verify() -> None:
        client = app.test_client()
        client.set_cookie("session", cookie)
        barrier.wait()
        response = client.post(
            "/kapu/api/plusz/email/verify", json={"code": code}, headers={"X-CSRFToken": csrf}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=verify) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(200) == 1
    assert all(s in {400, 429} for s in statuses if s != 200)


# --- removal and recovery codes ---------------------------------------------------------


def test_removing_a_factor_needs_a_fresh_plusz(logged_in, clock):
    enrol_totp(logged_in, clock)
    factor_id = logged_in.client.get("/kapu/api/factors").get_json()["factors"][0]["id"]
    clock.advance(minutes=11)
    stale = logged_in.client.delete(
        f"/kapu/api/factors/{factor_id}", headers={"X-CSRFToken": logged_in.csrf}
    )
    assert stale.status_code == 401
    assert stale.get_json()["code"] == "plusz_required"


def test_removing_a_factor(logged_in, clock):
    enrol_totp(logged_in, clock)
    factor_id = logged_in.client.get("/kapu/api/factors").get_json()["factors"][0]["id"]
    response = logged_in.client.delete(
        f"/kapu/api/factors/{factor_id}", headers={"X-CSRFToken": logged_in.csrf}
    )
    assert response.status_code == 204
    assert logged_in.client.get("/kapu/api/factors").get_json()["factors"] == []


def test_another_accounts_factor_is_not_found(app, logged_in, clock, kapu_account):
    other = kapu_account("MasikEmber")
    enrol_totp(logged_in, clock)
    with app.extensions["kapu"].deps.store.transaction() as repo:
        foreign = repo.factors(other.account.id)[0].id
    response = logged_in.client.delete(
        f"/kapu/api/factors/{foreign}", headers={"X-CSRFToken": logged_in.csrf}
    )
    assert response.status_code == 404


def test_new_recovery_codes_replace_the_old_set(logged_in, clock):
    _started, enrolled = enrol_totp(logged_in, clock)
    old = enrolled.get_json()["recovery_codes"]
    response = logged_in.post("/factors/recovery-codes")
    assert response.status_code == 201
    new = response.get_json()["recovery_codes"]
    assert len(new) == 10
    assert not set(old) & set(new)


def test_several_authenticators_each_with_a_label_all_work(logged_in, clock, api):
    first, _ = enrol_totp(logged_in, clock, label="Telefon")
    clock.advance(seconds=30)  # a time step counts once per account, whichever app shows it
    second, confirmed = enrol_totp(logged_in, clock, label="Tablet")
    assert confirmed.status_code == 201
    labels = [f["label"] for f in logged_in.client.get("/kapu/api/factors").get_json()["factors"]]
    assert labels == ["Telefon", "Tablet"]
    for key in (first, second):
        logged_in.post("/logout")
        clock.advance(seconds=30)
        login(logged_in)
        code = pyotp.TOTP(key["secret"]).at(clock())
        assert logged_in.post("/plusz/totp/verify", {"code": code}).status_code == 200


def test_an_email_verify_without_a_requested_code_is_invalid(with_email):
    response = with_email.post("/plusz/email/verify", {"code": "123456"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_code"


def test_step_up_keeps_the_account_and_rotates_the_session(app, with_email, mailbox):
    before = with_email.client.get_cookie("session").value
    with_email.post("/plusz/email")
    code = six_digit_code(mailbox.wait_for("anna@example.hu")[0])
    response = with_email.post("/plusz/email/verify", {"code": code})
    assert response.get_json()["username"] == "KisAnna"
    assert with_email.client.get_cookie("session").value != before


@pytest.mark.parametrize("app_config", [{"KAPU_SECOND_FACTORS": ("totp",)}], indirect=True)
def test_a_method_the_app_does_not_offer_cannot_be_enrolled(logged_in):
    assert logged_in.post("/factors/email").status_code == 404
    assert logged_in.post("/factors/webauthn/options").status_code == 404
    assert logged_in.post("/factors/totp").status_code == 200


def test_an_email_code_that_cannot_be_mailed_is_not_kept(app, with_email, state, smtp_server):
    notifier = state.notifier
    working = notifier.mailer

    class Down:
        def send(self, message):
            from flask_kapu.errors import MailDeliveryError

            raise MailDeliveryError("SMTP down")

    notifier.mailer = Down()
    try:
        failed = with_email.post("/plusz/email")
    finally:
        notifier.mailer = working
    assert failed.status_code == 503
    assert failed.get_json()["code"] == "mail_failed"
    assert with_email.post("/plusz/email").status_code == 202  # no resend wait for a lost mail
