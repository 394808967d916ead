"""Every account event sends its blinker signal, with the app as sender."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from blinker import NamedSignal
from conftest import STRONG_PASSWORD, code_in

from flask_kapu import signals


@contextmanager
def captured(signal: NamedSignal) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []

    def receiver(sender: Any, **data: Any) -> None:
        calls.append((sender, data))

    signal.connect(receiver)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def test_registration_sends_account_registered(app, api):
    with captured(signals.account_registered) as calls:
        api.post(
            "/register",
            {
                "username": "KisAnna",
                "email": "anna@example.hu",
                "accept_terms": True,
                "person": {"family_name": "Kiss", "given_name": "Anna", "birth_date": "1990-01-01"},
            },
        )
    [(sender, data)] = calls
    assert sender is app
    assert data["account"].username == "KisAnna"
    assert data["via"] == "self"


def test_activation_sends_account_activated(api, registered):
    username, code = registered
    with captured(signals.account_activated) as calls:
        api.post("/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD})
    assert [data["account"].username for _sender, data in calls] == ["KisAnna"]


def test_login_success_and_failure_send_their_signals(api, active):
    with captured(signals.login_succeeded) as ok, captured(signals.login_failed) as failed:
        api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"})
        api.post("/login", {"username": "NincsIlyen", "password": "Rossz-Jelszo-1"})
        api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    assert [data["account"].username for _s, data in ok] == ["KisAnna"]
    assert [data["account"] and data["account"].username for _s, data in failed] == [
        "KisAnna",
        None,
    ]


def test_the_fifth_failure_sends_account_locked(api, active):
    with captured(signals.account_locked) as calls:
        for _ in range(5):
            api.post("/login", {"username": active, "password": "Rossz-Jelszo-1"})
    [(_sender, data)] = calls
    assert data["account"].username == "KisAnna"
    assert data["until"] is not None


def test_reset_sends_reset_requested_then_password_reset(api, active, mailbox):
    with captured(signals.reset_requested) as asked, captured(signals.password_reset) as reset:
        api.post("/password/forgot", {"username": active, "email": "anna@example.hu"})
        code = code_in(mailbox.wait_for("anna@example.hu")[0])
        api.post(
            "/password/reset", {"username": active, "code": code, "new_password": "Uj-Jelszo-2026"}
        )
    assert len(asked) == 1
    assert len(reset) == 1


def test_password_change_sends_password_changed(api, active):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    with captured(signals.password_changed) as calls:
        api.post(
            "/password/change",
            {"current_password": STRONG_PASSWORD, "new_password": "Uj-Jelszo-2026"},
        )
    assert len(calls) == 1


def test_logout_sends_logged_out_and_is_audited(api, active, state):
    api.post("/login", {"username": active, "password": STRONG_PASSWORD})
    with captured(signals.logged_out) as calls:
        api.post("/logout")
    assert [data["account"].username for _s, data in calls] == ["KisAnna"]
    with state.deps.store.transaction() as repo:
        latest = repo.recent_events(calls[0][1]["account"].id, limit=1)
    assert [e.event for e in latest] == ["logout"]


def test_activation_that_logs_in_sends_login_succeeded(api, registered):
    username, code = registered
    with captured(signals.login_succeeded) as calls:
        api.post("/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD})
    assert len(calls) == 1
