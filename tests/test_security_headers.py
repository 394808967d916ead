"""Every flask_kapu page and API answer carries the security headers; cookies are locked down."""

from __future__ import annotations

import pytest

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
