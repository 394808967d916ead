"""``KAPU_PAGES = False``: the JSON API only, for a single-page app or a host with its own
templates. Every flask_kapu page answers 404; the API, its mails and the host's protected
views work, and refusals are problem+json instead of redirects to pages that do not exist."""

from __future__ import annotations

import pytest
from conftest import STRONG_PASSWORD, code_in

from flask_kapu.errors import PluszRequired

HTML = {"Accept": "text/html"}
PAGES = [
    "/kapu/login",
    "/kapu/logout",
    "/kapu/register",
    "/kapu/register/eid",
    "/kapu/activate",
    "/kapu/password/forgot",
    "/kapu/password/reset",
    "/kapu/security",
    "/kapu/plusz",
]

api_only = pytest.mark.parametrize("app_config", [{"KAPU_PAGES": False}], indirect=True)


@api_only
@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_404(client, path):
    assert client.get(path, headers=HTML).status_code == 404


@api_only
def test_a_posted_page_form_answers_404(client):
    assert client.post("/kapu/login", data={"username": "KisAnna"}).status_code == 404


@api_only
def test_the_api_registers_mails_and_activates(api, mailbox):
    person = {"family_name": "Kiss", "given_name": "Anna", "birth_date": "1990-01-02"}
    body = {"username": "KisAnna", "email": "anna@example.hu", "accept_terms": True}
    assert api.post("/register", {**body, "person": person}).status_code == 201

    code = code_in(mailbox.wait_for("anna@example.hu")[0])
    response = api.post(
        "/activate", {"username": "KisAnna", "code": code, "new_password": STRONG_PASSWORD}
    )

    assert response.status_code == 200
    assert response.get_json()["username"] == "KisAnna"


@api_only
def test_the_openapi_document_is_served_in_full(client):
    paths = client.get("/kapu/api/openapi.json").get_json()["paths"]

    assert {"/kapu/api/login", "/kapu/api/register", "/kapu/api/factors"} <= set(paths)


@api_only
def test_a_browser_refused_by_a_host_view_gets_401_problem_not_a_redirect(client):
    response = client.get("/protected", headers=HTML)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "login_required"


@api_only
def test_a_kapu_error_raised_in_a_host_view_is_problem_json_for_a_browser(app, client):
    @app.get("/raises")
    def raises():
        raise PluszRequired(methods=["totp"])

    response = client.get("/raises", headers=HTML)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", ["/kapu/login", "/kapu/register", "/kapu/activate"])
def test_by_default_the_pages_are_served(client, path):
    assert client.get(path, headers=HTML).status_code == 200


def test_by_default_a_browser_is_sent_to_the_login_page(client):
    response = client.get("/protected", headers=HTML)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kapu/login")
