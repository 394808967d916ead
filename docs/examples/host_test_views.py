"""Tests of the portal's own views, with flask_kapu's pytest plugin."""

import re

API = "/kapu/api"


def test_my_data_needs_a_login(client):
    response = client.get("/my-data")
    assert response.status_code == 302
    assert response.location.startswith("/kapu/login?next=")


def test_tax_return_needs_plusz(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(), level="plusz")
    assert client.get("/tax-return").status_code == 200


def test_a_password_alone_is_sent_to_step_up(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account())  # level "ugyfelkapu"
    response = client.get("/tax-return")
    assert response.status_code == 302
    assert response.location.startswith("/kapu/plusz?next=")


def test_bank_account_does_not_take_an_email_code(client, kapu_account, kapu_login):
    who = kapu_account(methods=("email",))
    kapu_login(client, who, level="plusz", methods=("email",))
    response = client.get("/bank-account", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json["code"] == "enrollment_required"
    assert response.json["enroll_methods"] == ["totp", "webauthn"]


def test_login_with_the_authenticator_app(client, kapu_account, kapu_totp_code):
    who = kapu_account()  # with an authenticator app unless methods= says otherwise
    token = client.get(f"{API}/session").json["csrf_token"]
    credentials = {"username": who.username, "password": who.password}
    body = client.post(f"{API}/login", json=credentials, headers={"X-CSRFToken": token}).json
    assert body["pending"] == "second_factor"
    code = {"code": kapu_totp_code(who)}
    token = body["csrf_token"]
    body = client.post(f"{API}/plusz/totp/verify", json=code, headers={"X-CSRFToken": token}).json
    assert body["level"] == "plusz"


def test_self_service_registration_mails_the_code(client, kapu_outbox):
    token = client.get(f"{API}/session").json["csrf_token"]
    person = {"family_name": "Kis", "given_name": "Anna", "birth_date": "1990-03-15"}
    data = {"username": "KisAnna", "email": "anna@example.hu", "accept_terms": True}
    response = client.post(
        f"{API}/register", json={**data, "person": person}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
    (mail,) = kapu_outbox.to("anna@example.hu")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert re.search(r"^\s+[0-9A-Z]{5}-[0-9A-Z]{5}$", text, re.MULTILINE)  # the code
