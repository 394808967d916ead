"""``flask kapu disable USERNAME --reason ...`` and ``flask kapu enable USERNAME``.

A disabled account cannot log in, and nothing in the answer, its status or
the attempt counting tells it apart from a wrong password.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import STRONG_PASSWORD, Api
from sqlalchemy import select
from test_cli import assert_refused_in_one_line, flask

from flask_kapu.store import AccountStatus, AuditEvent

WRONG_PASSWORD = "Rossz-Jelszo-1"
NO_IP_LIMIT = {"KAPU_RATELIMIT_SECRETS": "10000 per minute"}


@pytest.fixture
def accounts(kapu_account):
    """KisAnna, to be disabled, and NagyBela, who only types a wrong password."""
    kapu_account("KisAnna", password=STRONG_PASSWORD, methods=())
    kapu_account("NagyBela", password=STRONG_PASSWORD, methods=())


def login(api: Api, username: str, password: str) -> Any:
    return api.post("/login", {"username": username, "password": password})


def status_of(state, username: str) -> tuple[str, str | None]:
    with state.deps.store.reading() as repo:
        account = repo.account_by_username(username)
        assert account is not None
        return account.status, account.disabled_reason


def events(state, event: str) -> list[dict[str, Any] | None]:
    with state.deps.store.reading() as repo:
        return [
            e.detail
            for e in repo.session.scalars(select(AuditEvent).where(AuditEvent.event == event))
        ]


def test_disable_records_the_reason_and_ends_the_sessions(app, state, api, accounts):
    assert login(api, "KisAnna", STRONG_PASSWORD).status_code == 200
    assert api.client.get("/protected").status_code == 200

    result = flask(app, "kapu", "disable", "KisAnna", "--reason", "csalás gyanúja")

    assert result.exit_code == 0, result.output
    assert status_of(state, "KisAnna") == (AccountStatus.DISABLED.value, "csalás gyanúja")
    assert events(state, "account_disabled") == [{"reason": "csalás gyanúja"}]
    assert api.client.get("/protected").status_code != 200
    assert api.session()["authenticated"] is False


def test_a_disabled_account_answers_exactly_like_a_wrong_password(app, api, accounts):
    flask(app, "kapu", "disable", "KisAnna", "--reason", "csalás gyanúja")

    disabled = login(api, "KisAnna", STRONG_PASSWORD)
    wrong = login(api, "NagyBela", WRONG_PASSWORD)

    assert disabled.status_code == wrong.status_code == 401
    assert disabled.get_json() == wrong.get_json()
    assert disabled.headers.get("Retry-After") == wrong.headers.get("Retry-After")


@pytest.mark.parametrize("app_config", [NO_IP_LIMIT], indirect=True)
def test_a_disabled_account_locks_exactly_like_a_wrong_password(app, state, api, accounts):
    flask(app, "kapu", "disable", "KisAnna", "--reason", "csalás gyanúja")
    answers: dict[str, list[tuple[int, Any]]] = {"KisAnna": [], "NagyBela": []}

    for _ in range(state.config.max_failed_attempts + 1):
        for username, password in (("KisAnna", STRONG_PASSWORD), ("NagyBela", WRONG_PASSWORD)):
            response = login(api, username, password)
            answers[username].append((response.status_code, response.get_json()))

    assert answers["KisAnna"] == answers["NagyBela"]
    assert answers["KisAnna"][-1][0] == 429


def test_enable_lets_the_account_log_in_again(app, state, api, accounts):
    flask(app, "kapu", "disable", "KisAnna", "--reason", "csalás gyanúja")

    result = flask(app, "kapu", "enable", "KisAnna", "--reason", "tisztázva")

    assert result.exit_code == 0, result.output
    assert status_of(state, "KisAnna") == (AccountStatus.ACTIVE.value, None)
    assert events(state, "account_enabled") == [{"reason": "tisztázva"}]
    assert login(api, "KisAnna", STRONG_PASSWORD).status_code == 200


def test_forgot_password_mails_nothing_to_a_disabled_account(
    app, state, api, kapu_account, mailbox
):
    kapu_account("KisAnna", email="anna@example.hu", password=STRONG_PASSWORD, methods=())
    flask(app, "kapu", "disable", "KisAnna", "--reason", "csalás gyanúja")

    answer = api.post("/password/forgot", {"username": "KisAnna", "email": "anna@example.hu"})
    state.notifier.wait()

    assert answer.status_code == 202
    assert mailbox.wait_for("anna@example.hu", timeout=0.3) == []


@pytest.mark.parametrize(
    "args",
    [
        ("disable", "Senki", "--reason", "nincs ilyen"),
        ("disable", "KisAnna", "--reason", "   "),
        ("disable", "KisAnna", "--reason", "x" * 256),
        ("enable", "KisAnna"),
        ("enable", "Senki"),
    ],
    ids=["unknown", "blank reason", "long reason", "not disabled", "unknown enable"],
)
def test_bad_operator_input_is_refused_in_one_line(app, state, accounts, args):
    assert_refused_in_one_line(flask(app, "kapu", *args))
    assert status_of(state, "KisAnna") == (AccountStatus.ACTIVE.value, None)


def test_disable_needs_a_reason(app, state, accounts):
    result = flask(app, "kapu", "disable", "KisAnna")

    assert result.exit_code != 0
    assert "--reason" in result.output
    assert status_of(state, "KisAnna") == (AccountStatus.ACTIVE.value, None)
