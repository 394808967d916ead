"""What ``init_app`` changes in the host app, and the switch for each a host could object to
(the list is docs/host-changes.md)."""

from __future__ import annotations

import pytest
from flask.sessions import SecureCookieSessionInterface


def test_by_default_the_session_cookie_is_lax_and_secure_over_https(app):
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert type(app.session_interface) is not SecureCookieSessionInterface
    with app.test_request_context("/", base_url="https://kapu.example.hu"):
        assert app.session_interface.get_cookie_secure(app)


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SAMESITE": "Strict"}], indirect=True)
def test_a_samesite_the_host_chose_is_kept(app):
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"


@pytest.mark.parametrize("app_config", [{"KAPU_SESSION_COOKIE_DEFAULTS": False}], indirect=True)
def test_the_session_cookie_defaults_can_be_switched_off(app):
    assert app.config["SESSION_COOKIE_SAMESITE"] is None
    assert type(app.session_interface) is SecureCookieSessionInterface
