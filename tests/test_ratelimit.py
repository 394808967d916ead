"""Per-IP limits count the citizen's address: behind a configured proxy the forwarded one."""

from __future__ import annotations

import logging

import pytest
from conftest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_kapu import ratelimit

TWO_A_MINUTE = {"KAPU_RATELIMIT_SECRETS": "2 per minute"}
BEHIND_ONE_PROXY = {**TWO_A_MINUTE, "KAPU_TRUSTED_PROXIES": 1}


def login_statuses(app, forwarded_for: str, times: int) -> list[int]:
    """Wrong-password logins from one citizen, each under a different name (no account lock)."""
    api = Api(app.test_client())
    headers = {"X-Forwarded-For": forwarded_for}
    return [
        api.post(
            "/login", {"username": f"Senki{n}", "password": "Rossz-Jelszo-1"}, headers=headers
        ).status_code
        for n in range(times)
    ]


@pytest.fixture
def fresh_warning():
    ratelimit.warn_unconfigured_proxy.cache_clear()
    yield
    ratelimit.warn_unconfigured_proxy.cache_clear()


@pytest.mark.parametrize("app_config", [BEHIND_ONE_PROXY], indirect=True)
def test_behind_a_configured_proxy_each_forwarded_address_has_its_own_bucket(app):
    assert login_statuses(app, "203.0.113.7", 3) == [401, 401, 429]

    assert login_statuses(app, "198.51.100.20", 2) == [401, 401]


@pytest.mark.parametrize("app_config", [BEHIND_ONE_PROXY], indirect=True)
def test_only_the_hop_the_proxy_added_counts_not_what_the_client_claimed(app):
    assert login_statuses(app, "10.9.9.9, 203.0.113.7", 2) == [401, 401]

    assert login_statuses(app, "10.1.1.1, 203.0.113.7", 1) == [429]


@pytest.mark.parametrize("app_config", [TWO_A_MINUTE], indirect=True)
def test_without_a_configured_proxy_forwarded_for_is_ignored(app, fresh_warning):
    assert login_statuses(app, "203.0.113.7", 2) == [401, 401]

    assert login_statuses(app, "198.51.100.20", 1) == [429]


@pytest.mark.parametrize("app_config", [TWO_A_MINUTE], indirect=True)
def test_forwarded_requests_without_a_configured_proxy_are_warned_about_once(
    app, fresh_warning, caplog
):
    with caplog.at_level(logging.WARNING, logger="flask_kapu.ratelimit"):
        login_statuses(app, "203.0.113.7", 2)

    warnings = [r for r in caplog.records if "KAPU_TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize("app_config", [BEHIND_ONE_PROXY], indirect=True)
def test_a_configured_proxy_is_not_warned_about(app, fresh_warning, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_kapu.ratelimit"):
        login_statuses(app, "203.0.113.7", 1)

    assert "KAPU_TRUSTED_PROXIES" not in caplog.text


@pytest.mark.parametrize("app_config", [TWO_A_MINUTE], indirect=True)
def test_a_hosts_own_proxy_fix_counts_forwarded_addresses_without_a_warning(
    app, fresh_warning, caplog
):
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)

    with caplog.at_level(logging.WARNING, logger="flask_kapu.ratelimit"):
        assert login_statuses(app, "203.0.113.7", 3) == [401, 401, 429]
        assert login_statuses(app, "198.51.100.20", 1) == [401]

    assert "KAPU_TRUSTED_PROXIES" not in caplog.text
