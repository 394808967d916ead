"""Every login is a server-side session row; the cookie only refers to it.

A logout revokes the row, so a copy of the cookie opens nothing afterwards;
a cookie signed with the app's key but naming no live row opens nothing; a
session unused for ``KAPU_SESSION_IDLE_TIMEOUT`` or older than
``KAPU_SESSION_LIFETIME`` is over. A session that is over behaves as no login:
pages send the browser to the login page, the JSON API answers
``login_required``. The check reads the account and its session in one
statement, and marks the session seen at most once a minute.
"""

from __future__ import annotations

import pyotp
import pytest
from conftest import STRONG_PASSWORD, Api, submit
from sqlalchemy import event, select

from flask_kapu import services
from flask_kapu.services import sessions
from flask_kapu.store import LoginSession
from flask_kapu.testing import make_account

NEW_PASSWORD = "Nyari-Zapor-2026"


def json_login(api: Api, username: str, password: str = STRONG_PASSWORD) -> None:
    response = api.post("/login", {"username": username, "password": password})
    assert response.status_code == 200, response.get_json()


def session_cookie(api: Api) -> str:
    cookie = api.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def browser_with(app, cookie: str) -> Api:
    """Another browser holding a copy of a session cookie."""
    other = Api(app.test_client())
    other.client.set_cookie("session", cookie)
    return other


def refused_json(api: Api) -> bool:
    """The JSON API treats the browser as logged out."""
    protected = api.client.get("/protected", headers={"Accept": "application/json"})
    if protected.status_code != 401:
        return False
    return protected.get_json()["code"] == "login_required" and not api.session()["authenticated"]


def refused_html(api: Api) -> bool:
    """Pages treat the browser as logged out: sent to the login page."""
    page = api.client.get("/protected")
    return page.status_code == 302 and page.location.startswith("/kapu/login")


def rows(state, account_id: int) -> list[LoginSession]:
    """Every session row of the account, oldest first."""
    with state.deps.store.reading() as repo:
        found = repo.session.scalars(
            select(LoginSession)
            .where(LoginSession.account_id == account_id)
            .order_by(LoginSession.id)
        )
        return list(found)


def newest(state, account_id: int) -> LoginSession:
    return rows(state, account_id)[-1]


def account_id(state, username: str) -> int:
    return account_of(state, username).id


def account_of(state, username: str):
    with state.deps.store.reading() as repo:
        account = repo.account_by_username(username)
        assert account is not None
        return account


# --- logout ----------------------------------------------------------------------------


def test_a_cookie_replayed_after_a_json_logout_is_refused(app, api, active):
    json_login(api, active)
    copy = session_cookie(api)
    assert api.post("/logout").status_code == 204

    thief = browser_with(app, copy)

    assert refused_json(thief)
    assert refused_html(thief)


def test_a_cookie_replayed_after_an_html_logout_is_refused(app, client, active):
    page = submit(client, "/kapu/login", {"username": active, "password": STRONG_PASSWORD})
    assert page.status_code == 302
    owner = Api(client)
    copy = session_cookie(owner)
    assert client.get("/protected").status_code == 200
    assert submit(client, "/kapu/logout", {}).status_code == 302

    thief = browser_with(app, copy)

    assert refused_html(thief)
    assert refused_json(thief)


def test_logout_revokes_the_session_row(app, api, state, active):
    json_login(api, active)
    api.post("/logout")

    ended = rows(state, account_id(state, active))
    assert ended  # the activation's login and this one
    assert all(row.revoked_at is not None for row in ended)


# --- a forged cookie ---------------------------------------------------------------------


def forged_session(app, data: dict) -> str:
    """A session cookie signed with the app's own SECRET_KEY, as one who stole the key makes."""
    return app.session_interface.get_signing_serializer(app).dumps(data)


@pytest.mark.parametrize(
    "token", [None, "a-token-no-row-has"], ids=["without-token", "with-unknown-token"]
)
def test_a_cookie_signed_with_the_right_key_but_naming_no_live_session_is_refused(
    app, state, active, clock, token
):
    account = account_of(state, active)  # active, at its current epoch
    now = int(clock().timestamp())
    proof = {"a": account.id, "e": account.session_epoch, "m": {"password": now}, "t": now}
    if token is not None:
        proof["s"] = token
    cookie = forged_session(app, {"_kapu": proof, "_user_id": str(account.id)})
    forger = browser_with(app, cookie)

    assert refused_json(forger)
    assert refused_html(forger)


def test_a_live_token_of_one_account_opens_no_session_of_another(app, api, state, active):
    json_login(api, active)
    other = make_account(state.deps, "NagyBela", email="b@example.hu", methods=()).account
    stolen = app.session_interface.get_signing_serializer(app).loads(session_cookie(api))
    stolen["_kapu"].update(a=other.id, e=other.session_epoch)
    stolen["_user_id"] = str(other.id)

    assert refused_json(browser_with(app, forged_session(app, stolen)))


# --- timeouts ----------------------------------------------------------------------------


def test_a_session_unused_for_the_idle_timeout_is_over(app, api, active, clock):
    json_login(api, active)
    clock.advance(minutes=29)
    assert api.client.get("/protected").status_code == 200
    clock.advance(minutes=29)  # 29 minutes after its last use: still live
    assert api.client.get("/protected").status_code == 200

    clock.advance(minutes=30)

    assert refused_json(api)
    assert refused_html(api)


def test_a_session_in_use_ends_at_its_absolute_limit(app, api, active, clock):
    json_login(api, active)
    for _ in range(35):  # 11 h 40 min, a request every 20 minutes
        clock.advance(minutes=20)
        assert api.client.get("/protected").status_code == 200

    clock.advance(minutes=20)  # 12 hours after the login

    assert refused_json(api)
    assert refused_html(api)


@pytest.mark.parametrize(
    "app_config",
    [{"KAPU_SESSION_IDLE_TIMEOUT": 60, "KAPU_SESSION_LIFETIME": 600}],
    indirect=True,
)
def test_the_timeouts_are_settings(api, active, clock):
    json_login(api, active)
    clock.advance(seconds=61)
    assert refused_json(api)

    json_login(api, active)
    for _ in range(11):
        clock.advance(seconds=55)
        api.client.get("/protected")
    assert refused_json(api)


# --- the per-request cost ------------------------------------------------------------------


def statements_during(state, request):
    seen: list[str] = []
    engine = state.deps.store.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


def test_a_protected_request_reads_the_account_and_its_session_in_one_statement(
    api, state, active, clock
):
    json_login(api, active)
    clock.advance(seconds=30)

    seen = statements_during(state, lambda: api.client.get("/protected"))

    assert len(seen) == 1, seen
    assert "kapu_session" in seen[0]
    assert "kapu_account" in seen[0]


def test_last_seen_is_written_at_most_once_a_minute(api, state, active, clock):
    json_login(api, active)
    owner = account_id(state, active)
    logged_in = newest(state, owner).last_seen_at

    writes = []
    for seconds in (10, 20, 25):  # 55 seconds after the login
        clock.advance(seconds=seconds)
        seen = statements_during(state, lambda: api.client.get("/protected"))
        writes += [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
    assert writes == []
    assert newest(state, owner).last_seen_at == logged_in

    clock.advance(seconds=5)  # a minute after it was last written
    seen = statements_during(state, lambda: api.client.get("/protected"))

    assert len([s for s in seen if s.lstrip().upper().startswith("UPDATE")]) == 1
    assert newest(state, owner).last_seen_at == clock()


# --- what a login records -------------------------------------------------------------------


def test_a_login_records_who_from_where_with_what(app, state, active, clock):
    browser = Api(app.test_client())
    browser.client.environ_base.update(
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) "
        "Gecko/20100101 Firefox/128.0",
        REMOTE_ADDR="192.0.2.7",
    )

    json_login(browser, active)

    row = newest(state, account_id(state, active))
    assert (row.browser, row.ip, row.level, row.methods) == (
        "Firefox 128 on Windows 10",
        "192.0.2.7",
        "ugyfelkapu",
        ["password"],
    )
    assert row.created_at == row.last_seen_at == clock()
    assert row.expires_at == clock() + state.config.session_lifetime
    assert row.revoked_at is None


def test_a_login_waiting_for_its_second_factor_has_no_session_row(api, state, kapu_account):
    who = kapu_account()
    response = api.post("/login", {"username": who.username, "password": who.password})

    assert response.get_json()["pending"] == "second_factor"
    assert rows(state, who.account.id) == []


def test_completing_the_second_factor_opens_a_plusz_session(api, state, kapu_account, clock):
    who = kapu_account()
    api.post("/login", {"username": who.username, "password": who.password})

    code = pyotp.TOTP(who.totp_secret).at(clock())
    assert api.post("/plusz/totp/verify", {"code": code}).status_code == 200

    (row,) = rows(state, who.account.id)
    assert (row.level, row.methods) == ("plusz", ["password", "totp"])


def test_a_step_up_updates_the_same_row_and_retires_the_old_cookie(
    app, api, state, kapu_account, clock
):
    who = kapu_account(methods=("totp", "email"))
    api.post("/login", {"username": who.username, "password": who.password})
    api.post("/plusz/totp/verify", {"code": pyotp.TOTP(who.totp_secret).at(clock())})
    before = session_cookie(api)
    clock.advance(seconds=31)  # the next time step

    api.post("/plusz/totp/verify", {"code": pyotp.TOTP(who.totp_secret).at(clock())})

    (row,) = rows(state, who.account.id)
    assert (row.level, row.methods) == ("plusz", ["password", "totp"])
    assert api.client.get("/protected").status_code == 200
    in_flight = browser_with(app, before)  # a request sent before the answer arrived
    assert not refused_json(in_flight)
    clock.advance(seconds=sessions.ROTATION_GRACE.total_seconds() + 1)
    assert refused_json(browser_with(app, before))
    assert api.client.get("/protected").status_code == 200


# --- password change and factor removal end the other sessions -----------------------------


def test_a_password_change_revokes_the_other_sessions_and_keeps_this_one(app, api, state, active):
    json_login(api, active)
    other = Api(app.test_client())
    json_login(other, active)

    response = api.post(
        "/password/change", {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200, response.get_json()
    owner = account_id(state, active)
    (live,) = sessions.list_sessions(state.deps, owner, state.deps.clock())
    assert live.id == rows(state, owner)[-2].id  # this browser's login, the older of the two
    assert newest(state, owner).revoked_at is not None
    assert api.client.get("/protected").status_code == 200
    assert refused_json(other)


def test_removing_a_factor_revokes_the_other_sessions_and_keeps_this_one(
    app, state, kapu_account, kapu_login
):
    who = kapu_account(methods=("totp", "email"))
    this, other = Api(app.test_client()), Api(app.test_client())
    kapu_login(this.client, who, level="plusz")
    kapu_login(other.client, who, level="plusz")
    (totp,) = services.enrolment.factors(state.deps, who.account)[:1]

    response = this.client.delete(
        f"/kapu/api/factors/{totp.id}", headers={"X-CSRFToken": this.session()["csrf_token"]}
    )

    assert response.status_code == 204, response.get_json()
    live = sessions.list_sessions(state.deps, who.account.id, state.deps.clock())
    assert len(live) == 1
    assert this.client.get("/protected").status_code == 200
    assert refused_json(other)


# --- an app with its own LoginManager --------------------------------------------------------


def test_a_revoked_session_ends_the_hosts_login_too(legacy_app, legacy_api):
    deps = legacy_app.extensions["kapu"].deps
    anna = make_account(deps, "KisAnna", email="anna@example.hu", methods=())
    response = legacy_api.post("/login", {"username": anna.username, "password": anna.password})
    assert response.status_code == 200
    assert legacy_api.client.get("/profile").status_code == 200

    with legacy_app.app_context():
        assert sessions.revoke_all(deps, anna.account.id) == 1

    assert legacy_api.client.get("/profile").status_code == 302
    assert legacy_api.client.get("/").get_data(as_text=True) == "Hello, guest"


def test_an_idle_session_ends_the_hosts_login_too(legacy_app, legacy_api, clock):
    deps = legacy_app.extensions["kapu"].deps
    anna = make_account(deps, "KisAnna", email="anna@example.hu", methods=())
    legacy_api.post("/login", {"username": anna.username, "password": anna.password})

    clock.advance(minutes=31)

    assert legacy_api.client.get("/profile").status_code == 302
    assert legacy_api.client.get("/").get_data(as_text=True) == "Hello, guest"
