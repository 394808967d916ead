"""Forgot password: the same answer in the same time for anyone, and no mail flooding.

DESIGN.md: forgot-password answers the same status, body and (within noise)
time whether or not the account exists. Mails a stranger can ask for are
limited per account (``KAPU_RESET_MAIL_LIMIT``, in the database so that every
instance keeps it); a request over the limit is answered like any other and
sends nothing. API.md: a code that a newer one replaced answers ``invalid_code``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import STRONG_PASSWORD, Api, code_in, csrf_from, make_app, register
from flask import Flask

ANNA = {"username": "KisAnna", "email": "anna@example.hu"}
ASKED = {
    "matching": ANNA,
    "wrong e-mail": {"username": "KisAnna", "email": "masik@example.hu"},
    "unknown user": {"username": "NincsIlyen", "email": "anna@example.hu"},
}
ROUNDS = 40
Medians = dict[str, float]
NEW_PASSWORD = "Uj-Jelszo-2026"
NO_IP_LIMIT = {"KAPU_RATELIMIT_MAIL": "10000 per minute"}


def use_code(api: Api, code: str) -> Any:
    response = api.post(
        "/password/reset", {"username": "KisAnna", "code": code, "new_password": NEW_PASSWORD}
    )
    api.post("/logout")
    return response


def from_address(number: int) -> dict[str, Any]:
    """Requests from many addresses, as a distributed attacker sends them (no per-IP limit)."""
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{number}"}}


# --- same time for every answer -----------------------------------------------------------


def medians(ask: Callable[[dict[str, str]], Any], settle: Callable[[str], None]) -> Medians:
    """Median seconds each kind of request takes to be answered.

    The kinds come in a new order each round, and what a request set going is
    let finish (``settle``) before the next one starts, so that it does not
    land on that one's clock.
    """
    order = random.Random(2026)
    timings: dict[str, list[float]] = {kind: [] for kind in ASKED}
    for _ in range(ROUNDS):
        for kind in order.sample(list(ASKED), len(ASKED)):
            started = time.perf_counter()
            response = ask(ASKED[kind])
            timings[kind].append(time.perf_counter() - started)
            assert response.status_code == 202
            settle(kind)
    return {kind: statistics.median(seconds) for kind, seconds in timings.items()}


def alike(found: Medians) -> bool:
    """Within noise: a leak (the mail composed and the code written in the request)
    makes the matching request several times slower, not a few tenths."""
    fastest, slowest = min(found.values()), max(found.values())
    return slowest < fastest * 1.5 + 0.001


def assert_same_time(measure: Callable[[], Medians]) -> None:
    """The medians are alike in one of three measurements.

    Other processes on the machine can slow a whole stretch of one
    measurement; a difference the code makes shows in every one.
    """
    measured = [measure()]
    while not alike(measured[-1]) and len(measured) < 3:
        measured.append(measure())
    assert alike(measured[-1]), measured


@pytest.fixture
def settle(app, state, clock, mailbox) -> Callable[[str], None]:
    """After a request: background work done, its mail received, and two hours later,
    so that the next matching request mails a code again."""
    register(app)
    mails = mailbox.wait_for("anna@example.hu")

    def wait(kind: str) -> None:
        nonlocal mails
        state.notifier.wait()
        if kind == "matching":
            expected = len(mails) + 1
            mails = mailbox.wait_for("anna@example.hu", expected)
            assert len(mails) == expected  # every matching request mails a code
        clock.advance(hours=2)

    return wait


@pytest.mark.parametrize("app_config", [NO_IP_LIMIT], indirect=True)
def test_the_api_answers_forgot_password_in_the_same_time_whoever_asks(api, settle):
    api.session()
    assert_same_time(lambda: medians(lambda body: api.post("/password/forgot", body), settle))


@pytest.mark.parametrize("app_config", [NO_IP_LIMIT], indirect=True)
def test_the_forgot_password_page_answers_in_the_same_time_whoever_asks(client, settle):
    token = csrf_from(client.get("/kapu/password/forgot").get_data(as_text=True))

    def ask(body: dict[str, str]) -> Any:
        return client.post("/kapu/password/forgot", data={"csrf_token": token, **body})

    assert_same_time(lambda: medians(ask, settle))


# --- no mail flooding ----------------------------------------------------------------------


def test_a_burst_of_requests_mails_one_code_and_every_answer_is_alike(api, active, state, mailbox):
    answers = [api.post("/password/forgot", ANNA, **from_address(n)) for n in range(12)]
    unknown = api.post("/password/forgot", ASKED["unknown user"], **from_address(99))
    state.notifier.wait()

    assert {(r.status_code, r.get_data(as_text=True)) for r in [*answers, unknown]} == {
        (unknown.status_code, unknown.get_data(as_text=True))
    }
    assert (unknown.status_code, unknown.get_json()) == (202, {})
    assert len(mailbox.wait_for("anna@example.hu", 2, timeout=0.5)) == 1


def test_the_requests_of_a_burst_that_sent_nothing_leave_the_mailed_code_working(
    api, active, state, mailbox
):
    for n in range(12):
        api.post("/password/forgot", ANNA, **from_address(n))
    state.notifier.wait()
    (mail,) = mailbox.wait_for("anna@example.hu")

    assert use_code(api, code_in(mail)).status_code == 200


def test_after_the_interval_a_new_code_goes_out_and_replaces_the_old_one(
    api, active, state, clock, mailbox
):
    api.post("/password/forgot", ANNA)
    old = code_in(mailbox.wait_for("anna@example.hu")[0])
    clock.advance(seconds=30)
    api.post("/password/forgot", ANNA)
    state.notifier.wait()
    assert len(mailbox.wait_for("anna@example.hu", 2, timeout=0.5)) == 1

    clock.advance(seconds=31)
    api.post("/password/forgot", ANNA)
    new = code_in(mailbox.wait_for("anna@example.hu", 2)[1])

    refused = use_code(api, old)
    assert (refused.status_code, refused.get_json()["code"]) == (400, "invalid_code")
    assert use_code(api, new).status_code == 200


def test_at_most_five_reset_mails_go_out_in_an_hour(api, active, state, clock, mailbox):
    for n in range(8):
        api.post("/password/forgot", ANNA, **from_address(n))
        state.notifier.wait()
        clock.advance(minutes=2)
    assert len(mailbox.wait_for("anna@example.hu", 6, timeout=0.5)) == 5

    clock.advance(minutes=45)  # the first mail is more than an hour old now
    api.post("/password/forgot", ANNA)
    assert len(mailbox.wait_for("anna@example.hu", 6)) == 6


@pytest.mark.parametrize("app_config", [{"KAPU_RESET_MAIL_LIMIT": "2 per day"}], indirect=True)
def test_the_limit_is_a_setting(api, active, state, clock, mailbox):
    for n in range(4):
        api.post("/password/forgot", ANNA, **from_address(n))
        state.notifier.wait()
        clock.advance(hours=1)
    assert len(mailbox.wait_for("anna@example.hu", 3, timeout=0.5)) == 2


def test_a_never_activated_account_gets_one_new_code_from_a_burst(app, api, state, mailbox):
    register(app)  # the office's mail: no stranger asked for it, so it is not counted
    first = code_in(mailbox.wait_for("anna@example.hu")[0])
    for n in range(12):
        api.post("/password/forgot", ANNA, **from_address(n))
    state.notifier.wait()
    mails = mailbox.wait_for("anna@example.hu", 3, timeout=0.5)
    assert len(mails) == 2

    def activate(code: str) -> Any:
        body = {"username": "KisAnna", "code": code, "new_password": STRONG_PASSWORD}
        return api.post("/activate", body)

    assert activate(first).get_json()["code"] == "invalid_code"
    assert activate(code_in(mails[1])).status_code == 200


@pytest.fixture
def two_instances(database_url, smtp_server, clock) -> Iterator[list[Flask]]:
    """Two more apps on the test's database, as behind a load balancer, on the same clock."""
    apps = []
    for _ in range(2):
        instance, kapu = make_app(database_url, smtp_server[1])
        kapu.clock = clock
        apps.append(instance)
    yield apps
    for instance in apps:
        instance.extensions["kapu"].notifier.wait()
        instance.extensions["kapu"].deps.store.dispose()


def test_the_limit_holds_across_instances(app, active, two_instances, mailbox):
    apis = [Api(instance.test_client()) for instance in two_instances]
    answers = [apis[n % 2].post("/password/forgot", ANNA, **from_address(n)) for n in range(12)]
    for instance in two_instances:
        instance.extensions["kapu"].notifier.wait()

    assert {r.status_code for r in answers} == {202}
    assert len(mailbox.wait_for("anna@example.hu", 2, timeout=0.5)) == 1
