"""Every flask_kapu page and API answer carries the security headers; cookies are locked down."""

from __future__ import annotations

import pytest
from conftest import STRONG_PASSWORD, submit
from sqlalchemy.exc import OperationalError

PAGES = ["/kapu/login", "/kapu/register", "/kapu/password/forgot", "/kapu/api/session"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_forbid_inline_scripts_framing_and_sniffing(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers


def test_errors_carry_the_headers_too(client):
    response = client.post("/kapu/api/login", json={})
    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_https_adds_hsts_and_secure_cookies(client):
    response = client.get("/kapu/login?lang=en", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    assert all("Secure" in cookie for cookie in cookies)


def test_the_session_cookie_is_http_only_and_same_site_lax(client):
    response = client.get("/kapu/login")
    session_cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")
    )
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # plain http in development


def test_static_files_may_be_cached(client):
    response = client.get("/kapu/static/kapu/kapu.css")
    assert response.headers.get("Cache-Control") != "no-store"


# --- every answer, errors included, is kept out of caches ------------------------------------

ERRORS = [
    ("GET", "/kapu/nincs-ilyen-oldal", 404),
    ("GET", "/kapu/api/nincs-ilyen", 404),
    ("GET", "/kapu/api/login", 405),
    ("POST", "/kapu/login", 400),  # no CSRF token
    ("POST", "/kapu/api/login", 400),
]


@pytest.mark.parametrize(("method", "path", "status"), ERRORS)
def test_error_answers_are_not_cached(client, method, path, status):
    response = client.open(path, method=method)

    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("app_config", [{"KAPU_RATELIMIT_SECRETS": "1 per minute"}], indirect=True)
def test_too_many_requests_is_not_cached(client, api):
    for _ in range(2):
        answer = api.post("/login", {"username": "Senki", "password": "Rossz-Jelszo-1"})
        page = submit(client, "/kapu/login", {"username": "Senki", "password": "Rossz-Jelszo-1"})

    assert (answer.status_code, page.status_code) == (429, 429)
    assert answer.headers["Cache-Control"] == page.headers["Cache-Control"] == "no-store"


def test_service_unavailable_is_not_cached(client, state, active, monkeypatch):
    submit(client, "/kapu/login", {"username": active, "password": STRONG_PASSWORD})

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    for name in ("reading", "transaction", "load_account", "load_login"):
        monkeypatch.setattr(state.deps.store, name, down)
    page = client.get("/kapu/security")
    answer = client.get("/kapu/api/factors")

    assert (page.status_code, answer.status_code) == (503, 503)
    assert answer.headers["Cache-Control"] == page.headers["Cache-Control"] == "no-store"
