"""The session registry service (``services/sessions.py``): rows, revocation, listing, purge.

The row keeps a keyed hash of the cookie's token, never the token; revoking
one, the others or all ends them at their next check; the list shows the live
ones newest first; ``flask kapu purge`` deletes those that are over.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from flask_kapu import services
from flask_kapu.services import sessions
from flask_kapu.store import LoginSession
from flask_kapu.testing import make_account
from flask_kapu.useragents import summary

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def deps(state):
    return state.deps


@pytest.fixture
def anna(deps):
    return make_account(deps, "KisAnna", email="anna@example.hu", methods=()).account


def login(deps, account, **ctx):
    return sessions.open_session(
        deps,
        services.Context(**ctx),
        account,
        level="ugyfelkapu",
        methods=["password"],
        now=deps.clock(),
    )


def live_ids(deps, account):
    return [row.id for row in sessions.list_sessions(deps, account.id, deps.clock())]


def check(deps, account, token):
    return sessions.live_session(
        deps, account_id=account.id, epoch=account.session_epoch, token=token
    )


def test_a_session_row_keeps_a_keyed_hash_of_its_token_never_the_token(deps, anna):
    row, token = login(deps, anna, ip="192.0.2.7", user_agent=FIREFOX)

    assert token not in row.token_hash
    assert row.token_hash == deps.codes.hash(sessions.TOKEN_PURPOSE, token)
    assert row.token_hash != deps.codes.hash("password", token)  # a purpose of its own
    assert (row.ip, row.browser) == ("192.0.2.7", "Firefox 128 on Windows 10")
    assert row.expires_at - row.created_at == timedelta(hours=12)


def test_each_login_gets_its_own_random_token(deps, anna):
    (_, first), (_, second) = login(deps, anna), login(deps, anna)

    assert first != second
    assert len(first) >= 43


def test_the_check_finds_the_account_and_its_live_row(deps, anna):
    row, token = login(deps, anna)

    found = check(deps, anna, token)

    assert found is not None
    assert (found.account.id, found.session_id) == (anna.id, row.id)


def test_the_check_refuses_a_wrong_token_another_account_or_a_stale_epoch(deps, anna):
    _, token = login(deps, anna)
    bela = make_account(deps, "NagyBela", email="bela@example.hu", methods=()).account

    assert check(deps, anna, token + "x") is None
    assert sessions.live_session(deps, account_id=bela.id, epoch=0, token=token) is None
    assert sessions.live_session(deps, account_id=anna.id, epoch=1, token=token) is None


def test_the_check_refuses_a_disabled_account(deps, anna):
    _, token = login(deps, anna)
    with deps.store.transaction() as repo:
        repo.account(anna.id).status = "disabled"

    assert check(deps, anna, token) is None


def test_revoking_one_session_ends_that_one_only(deps, anna):
    first, first_token = login(deps, anna)
    second, second_token = login(deps, anna)

    assert sessions.revoke(deps, services.Context(), anna, first.id)

    assert check(deps, anna, first_token) is None
    assert check(deps, anna, second_token) is not None
    assert live_ids(deps, anna) == [second.id]


def test_a_session_of_another_account_or_one_already_ended_is_not_revoked(deps, anna):
    row, _ = login(deps, anna)
    bela = make_account(deps, "NagyBela", email="bela@example.hu", methods=()).account

    assert not sessions.revoke(deps, services.Context(), bela, row.id)
    assert sessions.revoke(deps, services.Context(), anna, row.id)
    assert not sessions.revoke(deps, services.Context(), anna, row.id)


def test_revoking_the_others_keeps_the_callers_own(deps, anna):
    own, _ = login(deps, anna)
    login(deps, anna)
    login(deps, anna)

    assert sessions.revoke_others(deps, services.Context(), anna, own.id) == 2
    assert live_ids(deps, anna) == [own.id]


def test_revoking_all_ends_every_session_of_the_account_only(deps, anna):
    login(deps, anna)
    login(deps, anna)
    bela = make_account(deps, "NagyBela", email="bela@example.hu", methods=()).account
    login(deps, bela)

    assert sessions.revoke_all(deps, anna.id) == 2
    assert live_ids(deps, anna) == []
    assert len(live_ids(deps, bela)) == 1


def test_the_list_shows_live_sessions_newest_first(deps, anna, clock):
    old, _ = login(deps, anna)
    clock.advance(minutes=5)
    new, _ = login(deps, anna)

    assert live_ids(deps, anna) == [new.id, old.id]

    clock.advance(minutes=26)  # the first is now idle for 31 minutes
    assert live_ids(deps, anna) == [new.id]


def test_the_last_seen_time_moves_once_a_minute(deps, anna, clock):
    row, token = login(deps, anna)
    clock.advance(seconds=59)
    check(deps, anna, token)
    assert sessions.list_sessions(deps, anna.id, clock())[0].last_seen_at == row.created_at

    clock.advance(seconds=1)
    check(deps, anna, token)

    assert sessions.list_sessions(deps, anna.id, clock())[0].last_seen_at == clock()


def test_a_reissue_rotates_the_token_and_records_the_step_up_on_the_same_row(deps, anna, clock):
    row, token = login(deps, anna)

    reissued = sessions.reissue(
        deps, account_id=anna.id, token=token, level="plusz", methods=["password", "totp"]
    )

    assert reissued is not None
    row_id, new_token = reissued
    assert row_id == row.id
    assert check(deps, anna, token) is not None  # requests already on their way
    clock.advance(seconds=sessions.ROTATION_GRACE.total_seconds() + 1)
    assert check(deps, anna, token) is None
    (live,) = sessions.list_sessions(deps, anna.id, deps.clock())
    assert (live.level, live.methods) == ("plusz", ["password", "totp"])
    assert check(deps, anna, new_token) is not None


def test_a_revoked_session_cannot_be_reissued(deps, anna):
    _row, token = login(deps, anna)
    sessions.revoke_all(deps, anna.id)

    assert (
        sessions.reissue(deps, account_id=anna.id, token=token, level="plusz", methods=["totp"])
        is None
    )


def stored_sessions(deps) -> int:
    with deps.store.reading() as repo:
        return repo.count(LoginSession)


def test_purge_deletes_revoked_idle_and_expired_sessions_and_keeps_live_ones(deps, anna, clock):
    revoked, _ = login(deps, anna)
    sessions.revoke(deps, services.Context(), anna, revoked.id)
    _, idle_token = login(deps, anna)  # never used again
    _, busy_token = login(deps, anna)
    for _ in range(3):  # in use every 20 minutes
        clock.advance(minutes=20)
        assert check(deps, anna, busy_token) is not None
    _, fresh_token = login(deps, anna)

    result = services.purge(deps)

    assert result.sessions == 2
    assert stored_sessions(deps) == 2
    assert check(deps, anna, busy_token) is not None
    assert check(deps, anna, fresh_token) is not None
    assert check(deps, anna, idle_token) is None


def test_purge_deletes_sessions_past_their_absolute_limit(deps, anna, clock):
    _, token = login(deps, anna)
    for _ in range(36):  # twelve hours of use
        clock.advance(minutes=20)
        check(deps, anna, token)

    assert services.purge(deps).sessions == 1
    assert stored_sessions(deps) == 0


def test_the_purge_command_reports_the_sessions_it_removed(app, deps, anna):
    row, _ = login(deps, anna)
    sessions.revoke(deps, services.Context(), anna, row.id)

    result = app.test_cli_runner().invoke(args=["kapu", "purge"])

    assert "1 ended login sessions" in result.output


@pytest.mark.parametrize(
    ("user_agent", "words"),
    [
        (FIREFOX, "Firefox 128 on Windows 10"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17 on iOS 17",
        ),
        ("curl/8.5.0", "curl 8"),
        ("", None),
        (None, None),
        ("\x00" * 5000, None),
    ],
)
def test_the_browser_summary_is_readable(user_agent, words):
    assert summary(user_agent) == words
